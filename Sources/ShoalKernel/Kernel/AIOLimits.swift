import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The system-wide AIO limits (`fs.aio-max-nr`, `fs.aio-nr`) and the messages that
/// explain an `io_setup` refusal.
public enum AIOLimits {
    /// The system-wide maximum number of AIO events (`/proc/sys/fs/aio-max-nr`).
    public static var maximumEvents: Int? { readNumber("/proc/sys/fs/aio-max-nr") }

    /// The AIO events reserved by all contexts right now (`/proc/sys/fs/aio-nr`).
    public static var eventsInUse: Int? { readNumber("/proc/sys/fs/aio-nr") }

    static func explainSetupFailure(errno code: Errno, requested: Int) -> String {
        switch code {
        case .resourceTemporarilyUnavailable:
            let limit = maximumEvents.map(String.init) ?? "unknown"
            let used = eventsInUse.map(String.init) ?? "unknown"
            return "asked for \(requested) events, but the system-wide limit fs.aio-max-nr is \(limit) "
                + "with \(used) in use (fs.aio-nr); raise it with `sysctl -w fs.aio-max-nr=<larger>` "
                + "or ask for fewer events"
        case .invalidArgument:
            return "asked for \(requested) events, more than the kernel allows for one context"
        case .noFunction:
            return "this kernel has no Linux AIO support (CONFIG_AIO)"
        default:
            return "asked for \(requested) events"
        }
    }

    private static func readNumber(_ path: String) -> Int? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 64)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Int(text.trimmingCharacters(in: " \n"))
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
