import Foundation

/// Median and range of a measurement's samples.
public struct Summary: Sendable {
    public let median: Double
    public let min: Double
    public let max: Double

    public init(_ samples: [Double]) {
        let sorted = samples.sorted()
        precondition(!sorted.isEmpty, "a summary needs samples")
        let middle = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        min = sorted.first!
        max = sorted.last!
    }

    /// `median [min-max]` with `digits` decimals, after dividing by `scale`.
    public func formatted(_ digits: Int, scale: Double = 1) -> String {
        let format = "%.\(digits)f"
        return "\(String(format: format, median / scale)) [\(String(format: format, min / scale))-\(String(format: format, max / scale))]"
    }
}

/// `text` padded with spaces to `width`.
public func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}

/// The machine, for the table's header: kernel and CPUs.
public func machineLine() -> String {
    var name = utsname()
    uname(&name)
    let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    return "Linux \(release), \(ProcessInfo.processInfo.activeProcessorCount) CPUs"
}
