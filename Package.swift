// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Shoal",
    products: [
        .library(name: "Shoal", targets: ["Shoal"]),
        .executable(name: "shoal-bench", targets: ["ShoalBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // The C shim: kernel ABI that Swift cannot import or call directly
        // (variadic syscall(), the aio_ring header, acquire/release on ring memory).
        .target(
            name: "CShoal",
            linkerSettings: [.linkedLibrary("aio")]
        ),
        .target(
            name: "Shoal",
            dependencies: [
                "CShoal",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "ShoalBench",
            dependencies: [
                "Shoal",
                "CShoal",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "ShoalTests",
            dependencies: ["Shoal", "CShoal"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
