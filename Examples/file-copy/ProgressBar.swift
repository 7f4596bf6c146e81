import Shoal

#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on standard error, with the rate and the time left; drawn
/// only when standard error is a terminal, at most ten times a second.
final class ProgressBar {
    private let total: Int64
    private let start = Reactor.Instant.now
    private var lastDrawn = Reactor.Instant(nanoseconds: 0)

    init(total: Int64) { self.total = max(total, 1) }

    func update(_ done: Int64) {
        let now = Reactor.Instant.now
        guard lastDrawn.duration(to: now) >= .milliseconds(100) || done >= total else { return }
        lastDrawn = now
        let elapsed =
            Double(start.duration(to: now).components.seconds)
            + Double(start.duration(to: now).components.attoseconds) / 1e18
        let fraction = min(1, Double(done) / Double(total))
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let left = rate > 0 ? Double(total - done) / rate : 0
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = "\r[\(bar)] \(Int(fraction * 100))%  \(CopyJob.format(rate / 1_048_576)) MiB/s  ETA \(Self.clock(left))  "
        printError(line)
    }

    func clear() {
        printError("\r" + String(repeating: " ", count: 72) + "\r")
    }

    private static func clock(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        return "\(whole / 60):\(String(whole % 60).leftPadded(2))"
    }
}
