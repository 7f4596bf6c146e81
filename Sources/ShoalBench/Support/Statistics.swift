/// Median and spread of repeated measurements.
struct Summary: Sendable {
    let median: Double
    let minimum: Double
    let maximum: Double

    init(_ samples: [Double]) {
        precondition(!samples.isEmpty, "a summary needs at least one sample")
        let sorted = samples.sorted()
        let middle = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        minimum = sorted.first!
        maximum = sorted.last!
    }

    /// Every value divided by `divisor`.
    func scaled(by divisor: Double) -> Summary {
        Summary([median / divisor, minimum / divisor, maximum / divisor])
    }

    /// `median [min-max]` with `digits` decimals (the median alone when all are equal).
    func formatted(_ digits: Int = 1) -> String {
        // One sample (or all equal): no range to show.
        guard minimum != maximum else { return format(median, digits) }
        return "\(format(median, digits)) [\(format(minimum, digits))-\(format(maximum, digits))]"
    }
}

/// `value` with `digits` decimals, without Foundation.
func format(_ value: Double, _ digits: Int = 1) -> String {
    guard value.isFinite else { return "n/a" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = String(rounded)
    if let dot = text.firstIndex(of: ".") {
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        if digits == 0 {
            text = String(text[..<dot])
        } else if decimals < digits {
            text += String(repeating: "0", count: digits - decimals)
        }
    } else if digits > 0 {
        text += "." + String(repeating: "0", count: digits)
    }
    return text
}

/// Pads `text` on the right (or left) to `width` characters.
func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return left ? fill + text : text + fill
}
