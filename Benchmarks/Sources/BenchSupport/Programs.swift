public import Foundation

/// Where the programs of a benchmark run live: the repository, Shoal's release build,
/// and this package's own executables.
public struct Programs {
    /// The repository's root (the folder holding `Benchmarks/`).
    public let root: URL
    /// This package's executables (next to the running driver).
    public let siblings: URL

    /// Finds the repository from the driver's own path.
    public static func locate() throws -> Programs {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let siblings = executable.deletingLastPathComponent()
        var folder = siblings
        while folder.path != "/" {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Benchmarks/Package.swift").path) {
                return Programs(root: folder, siblings: siblings)
            }
            folder = folder.deletingLastPathComponent()
        }
        throw BenchError("cannot find the repository above \(siblings.path); run with swift run --package-path Benchmarks")
    }

    /// Builds every executable of this package (`swift run` builds only the one it
    /// runs); a no-op when they are up to date.
    public func buildSiblings() throws {
        print("building the benchmark's programs (release; the first build compiles SwiftNIO: minutes) ...")
        let build = try Run.capture(
            "/usr/bin/env", ["swift", "build", "-c", "release", "--package-path", root.appendingPathComponent("Benchmarks").path])
        guard build.status == 0 else { throw BenchError("building the benchmarks failed:\n\(build.output)\(build.error)") }
    }

    /// One of this package's executables (after ``buildSiblings()``).
    public func sibling(_ name: String) throws -> String {
        let path = siblings.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw BenchError("\(path) is missing: build with swift build -c release --package-path Benchmarks")
        }
        return path
    }

    /// Shoal's release executable `product`, built first (a no-op when up to date).
    public func shoal(_ product: String) throws -> String {
        print("building \(product) (release) ...")
        let build = try Run.capture(
            "/usr/bin/env", ["swift", "build", "-c", "release", "--product", product, "--package-path", root.path])
        guard build.status == 0 else { throw BenchError("building \(product) failed:\n\(build.output)\(build.error)") }
        let path = root.appendingPathComponent(".build/release/\(product)").path
        guard FileManager.default.isExecutableFile(atPath: path) else { throw BenchError("\(path) is missing after the build") }
        return path
    }
}

/// A benchmark cannot go on.
public struct BenchError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
