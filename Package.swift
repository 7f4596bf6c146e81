// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Shoal",
    products: [
        .library(name: "Shoal", targets: ["Shoal"]),
        .library(name: "ShoalKernel", targets: ["ShoalKernel"]),
        .library(name: "ShoalHTTP", targets: ["ShoalHTTP"]),
        .executable(name: "shoal-bench", targets: ["ShoalBench"]),
        .executable(name: "shoal-snippets", targets: ["ShoalSnippets"]),
        .executable(name: "shoal-copy", targets: ["ShoalCopy"]),
        .executable(name: "shoal-echo", targets: ["ShoalEcho"]),
        .executable(name: "shoal-httpd", targets: ["ShoalHTTPD"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-docc-plugin", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // The C shim: kernel ABI that Swift cannot import or call directly
        // (variadic syscall(), the aio_ring header, acquire/release on ring memory).
        .target(
            name: "CShoal",
            linkerSettings: [.linkedLibrary("aio")]
        ),
        // Typed system call wrappers and the user-space AIO completion reaper: usable
        // alone by a program that wants only the reaper.
        .target(
            name: "ShoalKernel",
            dependencies: [
                "CShoal",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The reactor and everything users touch.
        .target(
            name: "Shoal",
            dependencies: [
                "CShoal",
                "ShoalKernel",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: [.enableUpcomingFeature("InternalImportsByDefault")]
        ),
        // HTTP/1 on top: a strict request parser and the wire form of responses, in
        // swift-http-types' vocabulary. Independent of the reactor.
        .target(
            name: "ShoalHTTP",
            dependencies: [.product(name: "HTTPTypes", package: "swift-http-types")]
        ),
        // The examples of code in the README, docs/ and the DocC articles, compiled and runnable.
        .executableTarget(
            name: "ShoalSnippets",
            dependencies: ["Shoal", "ShoalKernel", "ShoalHTTP", .product(name: "HTTPTypes", package: "swift-http-types")],
            path: "Examples/Snippets"
        ),
        // shoal-copy SRC DST: a durable file copy with direct I/O on one reactor.
        .executableTarget(
            name: "ShoalCopy",
            dependencies: ["Shoal", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Examples/file-copy"
        ),
        // What the example servers share: launching, exit codes, durations from flags.
        .target(
            name: "ExampleSupport",
            dependencies: ["Shoal", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Examples/Support"
        ),
        // shoal-echo: a TCP echo server, one task per connection, graceful stop on signals.
        .executableTarget(
            name: "ShoalEcho",
            dependencies: ["Shoal", "ExampleSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Examples/echo"
        ),
        // shoal-httpd: an HTTP/1.1 file server; file bytes through Shoal's file reads.
        .executableTarget(
            name: "ShoalHTTPD",
            dependencies: [
                "Shoal", "ShoalHTTP", "ExampleSupport", .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Examples/httpd"
        ),
        .executableTarget(
            name: "ShoalBench",
            dependencies: [
                "Shoal",
                "ShoalKernel",
                "CShoal",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "ShoalTestSupport",
            dependencies: ["ShoalKernel", "CShoal"],
            path: "Tests/ShoalTestSupport"
        ),
        .testTarget(
            name: "ShoalKernelTests",
            dependencies: ["ShoalKernel", "CShoal", "ShoalTestSupport"]
        ),
        .testTarget(
            name: "ShoalTests",
            dependencies: [
                "Shoal", "ShoalKernel", "CShoal", "ShoalTestSupport", "ExampleSupport", "ShoalHTTPD",
                .product(name: "Metrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "ShoalHTTPTests",
            dependencies: ["ShoalHTTP", .product(name: "HTTPTypes", package: "swift-http-types")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
