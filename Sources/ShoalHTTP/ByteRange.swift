/// A single byte range of a `Range: bytes=...` request field (RFC 9110, 14).
public enum ByteRange: Sendable, Equatable {
    /// `bytes=first-last` (`last` inclusive) or `bytes=first-` (`last` nil).
    case from(Int64, through: Int64?)
    /// `bytes=-count`: the last `count` bytes.
    case suffix(Int64)

    /// The one range of `value`; `nil` when the field is not a single, well-formed byte
    /// range (a server then ignores it and sends the whole representation).
    public init?(_ value: String) {
        // The unit is case-insensitive (RFC 9110, 14.1).
        guard value.lowercased().hasPrefix("bytes="), !value.contains(",") else { return nil }
        let spec = value.dropFirst("bytes=".count).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard spec.count == 2 else { return nil }
        let digits = { (text: Substring) in !text.isEmpty && text.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }
        // A position past what Int64 holds is past any file: the largest one does. Leading
        // zeros do not count.
        let number = { (text: Substring) -> Int64 in
            let significant = text.drop { $0 == "0" }
            return significant.isEmpty ? 0 : significant.count <= 18 ? Int64(significant)! : Int64.max
        }
        if spec[0].isEmpty {
            guard digits(spec[1]) else { return nil }
            self = .suffix(number(spec[1]))
        } else {
            guard digits(spec[0]) else { return nil }
            let first = number(spec[0])
            if spec[1].isEmpty {
                self = .from(first, through: nil)
            } else {
                guard digits(spec[1]) else { return nil }
                let last = number(spec[1])
                guard last >= first else { return nil }
                self = .from(first, through: last)
            }
        }
    }

    /// The offsets this range selects in a representation of `length` bytes, clipped to
    /// it; `nil` when it selects nothing (answer 416).
    public func resolved(length: Int64) -> Range<Int64>? {
        switch self {
        case .from(let first, let last):
            guard first < length else { return nil }
            return first..<(min(last ?? (length - 1), length - 1) + 1)
        case .suffix(let count):
            guard count > 0, length > 0 else { return nil }
            return max(length - count, 0)..<length
        }
    }
}
