import ArgumentParser
import Foundation
import Shoal
import ShoalKernel

/// `shoal-bench copy`: shoal-copy against cp and dd on one large file, alternately.
struct CopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy a large file: shoal-copy against cp and dd (O_DIRECT), alternately.",
        discussion: """
            Each round copies the source once with each tool, in an order that rotates from \
            round to round, to a fresh destination on the same disk. Fair on the cache: \
            before every copy the page cache is dropped (sync; echo 3 > \
            /proc/sys/vm/drop_caches, which needs root), so every tool reads from the disk, \
            and every copy ends durable on the disk (shoal-copy fsyncs; cp is followed by \
            sync of the file; dd uses conv=fsync). MB/s is the source size over the wall \
            time; CPU seconds are the child process's user+system time. shoal-copy is \
            taken from the folder this benchmark runs from (swift build -c release).
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "The source file (created with random bytes if missing).")
    var file = ".shoal-bench-copy"

    @Option(name: .customLong("size-mib"), help: "Size of the source in MiB.")
    var sizeMiB = 1_024

    @Option(help: "shoal-copy's --depth (default: its own).")
    var depth: Int?

    @Option(help: "shoal-copy's --block-size (default: its own).")
    var blockSize: String?

    func validate() throws {
        guard (1...65_536).contains(sizeMiB) else { throw ValidationError("--size-mib must be between 1 and 65536") }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        let shoalCopy = folder + "/shoal-copy"
        guard FileManager.default.isExecutableFile(atPath: shoalCopy) else {
            throw BenchError("\(shoalCopy) is missing: swift build -c release --product shoal-copy")
        }
        for tool in ["cp", "dd", "sync"] where findExecutable(tool) == nil { throw BenchError("\(tool) is missing") }
        let canDrop = access("/proc/sys/vm/drop_caches", W_OK) == 0
        try prepareSource()
        var shoalArguments: [String] = ["--quiet"]
        if let depth { shoalArguments += ["--depth", String(depth)] }
        if let blockSize { shoalArguments += ["--block-size", blockSize] }
        let destination = file + ".copy"
        let tools: [(name: String, key: String, command: [String])] = [
            ("shoal-copy", "shoal", [shoalCopy, file, destination] + shoalArguments),
            ("cp (+ sync of the file)", "cp", ["/bin/sh", "-c", "cp \"$0\" \"$1\" && sync \"$1\"", file, destination]),
            (
                "dd bs=1M iflag=direct oflag=direct conv=fsync", "dd",
                [
                    findExecutable("dd")!, "if=\(file)", "of=\(destination)", "bs=1M", "iflag=direct", "oflag=direct", "conv=fsync",
                    "status=none",
                ]
            ),
        ]
        var seconds = [[Double]](repeating: [], count: tools.count)
        var cpu = [[Double]](repeating: [], count: tools.count)
        for round in -1..<common.rounds {
            for step in 0..<tools.count {
                let which = (step + max(round, 0)) % tools.count
                unlink(destination)
                dropCaches(canDrop)
                let (wall, used) = try timeChild(tools[which].command)
                if round >= 0 {
                    seconds[which].append(wall)
                    cpu[which].append(used)
                }
            }
        }
        unlink(destination)
        let megabytes = Double(sizeMiB << 20) / 1e6
        print("shoal-bench copy: a \(sizeMiB) MiB file, median [min-max] of \(common.rounds) rounds")
        print(MachineInfo.current().line)
        print("cache: " + (canDrop ? "dropped before every copy" : "NOT dropped (not root): cp may read from the page cache"))
        print("\n" + pad("tool", 48) + pad("MB/s", 26) + pad("CPU s", 22) + "shoal-copy / tool")
        for index in tools.indices {
            let rates = seconds[index].map { megabytes / $0 }
            let ratios = zip(seconds[index], seconds[0]).map { $0 / $1 }
            print(
                pad(tools[index].name, 48) + pad(Summary(rates).formatted(0), 26) + pad(Summary(cpu[index]).formatted(2), 22)
                    + (index == 0 ? "" : Summary(ratios).formatted(2) + "x"))
        }
        if common.json {
            var members: [(String, JSONValue)] = [("benchmark", .string("copy")), ("size_mib", .integer(sizeMiB))]
            for index in tools.indices {
                members.append(("\(tools[index].key)_mbps", .number(Summary(seconds[index].map { megabytes / $0 }).median)))
                members.append(("\(tools[index].key)_cpu_s", .number(Summary(cpu[index]).median)))
            }
            members.append(("cache_dropped", .string(canDrop ? "yes" : "no")))
            print(JSONValue.object(members).text)
        }
    }

    /// Writes the source (random bytes) unless it exists with the right size.
    private func prepareSource() throws {
        let bytes = sizeMiB << 20
        if let status = try? Stat(FilePath(file)), status.size == Int64(bytes) { return }
        guard
            let handle = FileHandle(forWritingAtPath: file)
                ?? {
                    _ = FileManager.default.createFile(atPath: file, contents: nil)
                    return FileHandle(forWritingAtPath: file)
                }()
        else { throw BenchError("cannot create \(file)") }
        var generator = SystemRandomNumberGenerator()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        for _ in 0..<sizeMiB {
            for index in stride(from: 0, to: chunk.count, by: 8) {
                withUnsafeBytes(of: generator.next() as UInt64) { word in
                    for byte in 0..<8 { chunk[index + byte] = word[byte] }
                }
            }
            handle.write(Data(chunk))
        }
        try handle.synchronize()
        try handle.close()
    }

    private func dropCaches(_ canDrop: Bool) {
        sync()
        guard canDrop, let handle = FileHandle(forWritingAtPath: "/proc/sys/vm/drop_caches") else { return }
        handle.write(Data("3\n".utf8))
        try? handle.close()
    }

    /// Runs `command`; returns its wall time and its user+system CPU time, in seconds.
    private func timeChild(_ command: [String]) throws -> (Double, Double) {
        var before = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &before)
        let start = monotonicNanoseconds()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        try process.run()
        process.waitUntilExit()
        let wall = Double(monotonicNanoseconds() - start) / 1e9
        guard process.terminationStatus == 0 else {
            throw BenchError("\(command.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
        var after = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &after)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        let used = seconds(after.ru_utime) - seconds(before.ru_utime) + seconds(after.ru_stime) - seconds(before.ru_stime)
        return (wall, used)
    }
}
