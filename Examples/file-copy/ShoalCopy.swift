import ArgumentParser
import Shoal

#if canImport(Glibc)
import Glibc
#endif

/// `shoal-copy SRC DST`: copies a file with direct I/O on one reactor thread, durably.
@main
struct ShoalCopy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shoal-copy",
        abstract: "Copy a file with asynchronous direct I/O on one thread, durably.",
        discussion: """
            The copy is written to a temporary file next to the destination, flushed to \
            disk, and renamed into place, and the folder is flushed: the destination is \
            either the complete copy or untouched. On failure shoal-copy prints one line \
            naming the file and the cause, removes its temporary file, and exits with:

              0   the copy is complete and durable
              64  bad arguments
              65  --verify found the copy different from the source
              66  the source cannot be read (missing, a directory, a FIFO, a device, no permission)
              73  the destination cannot be created (folder missing, no permission, copy onto itself, a dangling link)
              74  an I/O error during the copy (disk full, read or write error)
              130 interrupted (SIGINT or SIGTERM)

            A second SIGINT or SIGTERM ends the copy at once, by the signal, after removing \
            the temporary file.
            """)

    @Argument(help: "The file to copy.")
    var source: String

    @Argument(help: "Where to copy it: a file path, or an existing folder to copy into.")
    var destination: String

    @Option(help: "Reads and writes in flight at once (1-64).")
    var depth: Int = CopyJob.defaultDepth

    @Option(help: "Bytes per read and write, a power of two from 4096 to 64 MiB (suffixes K and M work).")
    var blockSize: String = "\(CopyJob.defaultBlockSize >> 10)K"

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    @Flag(help: "Read both files back after the copy and compare them.")
    var verify = false

    func validate() throws {
        guard (1...64).contains(depth) else { throw ValidationError("--depth must be between 1 and 64, got \(depth)") }
        guard let size = CopyJob.parseSize(blockSize), size >= 4_096, size <= 64 << 20, size & (size - 1) == 0 else {
            throw ValidationError("--block-size must be a power of two from 4096 to 64M, got \(blockSize)")
        }
    }

    func run() async throws {
        let job = CopyJob(
            source: FilePath(source), destination: FilePath(destination), depth: depth,
            blockSize: CopyJob.parseSize(blockSize)!, verify: verify,
            progress: !quiet && isatty(STDERR_FILENO) == 1, destinationIsFolder: destination.hasSuffix("/"))
        let interrupted = Interruption.watch()
        let outcome = await job.run(interrupted: interrupted)
        switch outcome {
        case .success(let summary):
            if !quiet { print(summary) }
        case .failure(let failure):
            printError("shoal-copy: \(failure.message)\n")
            throw ExitCode(failure.exitCode)
        }
    }
}
