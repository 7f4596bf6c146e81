/// The file a request target names, as path components below a document root.
public enum RequestPath {
    /// Why a target names no file below the root.
    public enum Refusal: Error, Sendable, Equatable {
        /// Bad percent-encoding, or an encoded `/`, `\` or NUL: 400.
        case malformed
        /// A `..` segment, or a segment starting with a dot (hidden files): 404, so the
        /// response says nothing about what exists outside.
        case outside
    }

    /// The decoded segments of the path of `target` (the query is dropped); empty for
    /// the root itself.
    ///
    /// Percent-decoding happens once, per segment, after splitting on `/`: `%2e%2e` is
    /// `..` and refused, `%2f` would hide a separator and is refused. Empty segments and
    /// `.` are skipped.
    public static func segments(of target: String) throws(Refusal) -> [String] {
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard path.hasPrefix("/") else { throw .malformed }
        var result: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: true) {
            let segment = try decode(raw)
            if segment == "." { continue }
            if segment.hasPrefix(".") { throw .outside }
            result.append(segment)
        }
        return result
    }

    private static func decode(_ raw: Substring) throws(Refusal) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(raw.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    throw .malformed
                }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        guard !bytes.contains(0), !bytes.contains(UInt8(ascii: "/")), !bytes.contains(UInt8(ascii: "\\")) else {
            throw .malformed
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .malformed }
        return text
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
