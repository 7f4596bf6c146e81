// swift-tools-version:6.1
import PackageDescription

// Shoal's peer benchmarks: a package of its own, so that building and testing Shoal
// never compiles SwiftNIO or Hummingbird. Run from the repository root:
//   swift run -c release --package-path Benchmarks echo-bench
//   swift run -c release --package-path Benchmarks queue-bench
// and build hb-files, the peer that `shoal-bench http` runs:
//   swift build -c release --package-path Benchmarks --product hb-files
// Both use the release build of Shoal's own executables (shoal-echo, shoal-bench) from
// the repository's .build/release, and build it first when it is missing.
let package = Package(
    name: "ShoalBenchmarks",
    products: [
        .executable(name: "echo-bench", targets: ["EchoBench"]),
        .executable(name: "queue-bench", targets: ["QueueBench"]),
        .executable(name: "nio-echo", targets: ["NIOEcho"]),
        .executable(name: "nio-queue", targets: ["NIOQueue"]),
        .executable(name: "c-echo", targets: ["CEcho"]),
        .executable(name: "echo-load", targets: ["EchoLoad"]),
        .executable(name: "hb-files", targets: ["HBFiles"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        // The SwiftNIO peer: an echo server on one event-loop thread.
        .executableTarget(
            name: "NIOEcho",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/NIOEcho"
        ),
        // The floor: a minimal C echo server on epoll.
        .executableTarget(name: "CEcho", path: "Sources/CEcho"),
        // The load generator: plain sockets and epoll, no Shoal, no NIO.
        .executableTarget(name: "EchoLoad", path: "Sources/EchoLoad"),
        // What the drivers share: locating programs, running them, summaries.
        .target(name: "BenchSupport", path: "Sources/BenchSupport"),
        // The driver: runs the servers and the load generator, alternating, and prints the table.
        .executableTarget(
            name: "EchoBench",
            dependencies: ["BenchSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/EchoBench"
        ),
        // SwiftNIO's run queue: closures through EventLoop.execute, task resumptions with
        // the event loop as task executor. queue-bench runs it against `shoal-bench tasks`.
        .executableTarget(
            name: "NIOQueue",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/NIOQueue"
        ),
        // The Swift peer of shoal-httpd: Hummingbird's FileMiddleware on one NIO event-loop
        // thread (file reads go to NIO's thread pool). `shoal-bench http` runs it.
        .executableTarget(
            name: "HBFiles",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/HBFiles"
        ),
        .executableTarget(
            name: "QueueBench",
            dependencies: ["BenchSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/QueueBench"
        ),
    ]
)
