import HTTPTypes

/// A strict, incremental parser of HTTP/1.0 and HTTP/1.1 request heads (RFC 9112).
///
/// Feed it the bytes a connection has received so far, from the start of a request;
/// it answers `nil` until the head is complete (remembering how far it looked, so a
/// client that sends one byte at a time costs linear work), then the head and how many
/// bytes it took. What follows is the body (``HTTPRequestHead/contentLength`` bytes),
/// then the next pipelined request.
///
/// ```swift
/// var parser = HTTPRequestParser()
/// if let (head, used) = try parser.parse(received) { ... }
/// ```
///
/// Strict means: lines end with CRLF (a bare CR or LF is refused), no whitespace
/// between a field name and its colon, no folded lines, no control characters in
/// values, one `Host` in HTTP/1.1, one `Content-Length` value, and no
/// `Transfer-Encoding` (a request body must have a length). Each refusal is an
/// ``HTTPParseError`` with the status to answer.
public struct HTTPRequestParser: Sendable {
    /// The longest request line accepted; longer is 414 (URI Too Long).
    public var maximumRequestLine: Int
    /// The longest head (request line and fields) accepted; longer is 431.
    public var maximumHeadSize: Int
    /// The most header fields accepted; more is 431.
    public var maximumFieldCount: Int

    /// Bytes of the current request already checked for the end of its head.
    private var scanned = 0

    /// A parser with the given limits (defaults: an 8 KiB request line, a 16 KiB head,
    /// 100 fields).
    public init(maximumRequestLine: Int = 8 * 1024, maximumHeadSize: Int = 16 * 1024, maximumFieldCount: Int = 100) {
        self.maximumRequestLine = maximumRequestLine
        self.maximumHeadSize = maximumHeadSize
        self.maximumFieldCount = maximumFieldCount
    }

    /// Parses the request head at the start of `bytes`.
    ///
    /// - Returns: `nil` when more bytes are needed (call again with them appended);
    ///   otherwise the head and the number of bytes it used (empty lines before a
    ///   request included).
    /// - Throws: ``HTTPParseError`` for a malformed or refused head; as soon as the
    ///   bytes so far show it.
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> (HTTPRequestHead, Int)? {
        // Empty lines before a request line are skipped (RFC 9112, 2.2).
        var start = 0
        while start + 1 < bytes.count && bytes[start] == .cr && bytes[start + 1] == .lf { start += 2 }
        guard let end = try findEndOfHead(bytes, from: start) else {
            try checkIncomplete(bytes, from: start)
            return nil
        }
        scanned = 0
        if end - start > maximumHeadSize {
            throw HTTPParseError(
                status: .requestHeaderFieldsTooLarge, reason: "the request head is longer than \(maximumHeadSize) bytes")
        }
        let head = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        return (try HeadFields.parse(head, parser: self), end + 4)
    }

    /// Forgets the partial scan: the next `parse` starts a new request.
    public mutating func reset() {
        scanned = 0
    }

    /// The offset of the CRLFCRLF that ends the head, scanning on from where the last
    /// call stopped; refuses a bare CR or LF as soon as it is seen.
    private mutating func findEndOfHead(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(HTTPParseError) -> Int? {
        var index = max(start, scanned)
        while index < bytes.count {
            let byte = bytes[index]
            if byte == .lf {
                guard index > start, bytes[index - 1] == .cr else { throw .bad("a line ends with a bare LF; HTTP/1 lines end with CRLF") }
                if index - start >= 3 && bytes[index - 2] == .lf && bytes[index - 3] == .cr { return index - 3 }
            } else if index > start && bytes[index - 1] == .cr {
                throw .bad("a bare CR in the request head")
            }
            index += 1
        }
        // The last byte may be a CR whose LF has not arrived: look at it again next time.
        scanned = max(start, bytes.count - 1)
        return nil
    }

    /// Limits that an incomplete head already breaks.
    private func checkIncomplete(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(HTTPParseError) {
        let received = bytes.count - start
        // Looked at only once the request line could be too long: linear work per call.
        if received > maximumRequestLine && !(start..<(start + maximumRequestLine + 2)).contains(where: { bytes[$0] == .lf }) {
            throw HTTPParseError(status: .uriTooLong, reason: "the request line is longer than \(maximumRequestLine) bytes")
        }
        if received > maximumHeadSize {
            throw HTTPParseError(
                status: .requestHeaderFieldsTooLarge, reason: "the request head is longer than \(maximumHeadSize) bytes")
        }
    }
}

extension UInt8 {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let colon = UInt8(ascii: ":")
}
