import HTTPTypes

/// `method SP request-target SP HTTP-version`.
enum RequestLine {
    /// The request target: origin-form (`/path?query`), absolute-form
    /// (`http://host/path`), or `*` (asterisk-form, for OPTIONS).
    struct Target {
        var path: String
        var authority: String?
    }

    static func parse(_ line: UnsafeRawBufferPointer) throws(HTTPParseError) -> (HTTPRequest.Method, Target, HTTPVersion) {
        let parts = line.split(separator: .space, omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw .bad("a request line is METHOD SP TARGET SP VERSION, separated by single spaces")
        }
        guard !parts[0].isEmpty, parts[0].allSatisfy(Token.isTokenByte),
            let method = HTTPRequest.Method(String(decoding: parts[0], as: UTF8.self))
        else { throw .bad("an invalid method") }
        let version = try parseVersion(parts[2])
        let target = try parseTarget(parts[1], method: method)
        return (method, target, version)
    }

    private static func parseVersion(_ bytes: Slice<UnsafeRawBufferPointer>) throws(HTTPParseError) -> HTTPVersion {
        let text = Array(bytes)
        let digit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        guard text.count == 8, text[0..<5].elementsEqual("HTTP/".utf8), digit(text[5]), text[6] == UInt8(ascii: "."), digit(text[7])
        else { throw .bad("an invalid HTTP version \"\(String(decoding: text.prefix(16), as: UTF8.self))\"") }
        let major = Int(text[5] - UInt8(ascii: "0"))
        let minor = Int(text[7] - UInt8(ascii: "0"))
        guard major == 1 else {
            throw HTTPParseError(status: .httpVersionNotSupported, reason: "HTTP/\(major).\(minor) is not supported; speak HTTP/1.1")
        }
        // A later 1.x is answered as 1.1 (RFC 9110, 2.5).
        return minor == 0 ? .http1_0 : .http1_1
    }

    private static func parseTarget(_ bytes: Slice<UnsafeRawBufferPointer>, method: HTTPRequest.Method) throws(HTTPParseError) -> Target {
        guard !bytes.isEmpty, bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .bad("an empty request target, or one with spaces or control characters")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        if text.hasPrefix("/") { return Target(path: text, authority: nil) }
        if text == "*" {
            guard method == .options else { throw .bad("the target * is for OPTIONS only") }
            return Target(path: "*", authority: nil)
        }
        for scheme in ["http://", "https://"] where text.lowercased().hasPrefix(scheme) {
            let rest = text.dropFirst(scheme.count)
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            let authority = String(rest[..<slash])
            guard !authority.isEmpty, Token.isHost(authority) else { throw .bad("an invalid authority in the request target") }
            return Target(path: slash == rest.endIndex ? "/" : String(rest[slash...]), authority: authority)
        }
        throw .bad("a request target must start with / or be an absolute http URL")
    }
}

/// Character classes of RFC 9110.
enum Token {
    /// `tchar`: what a token (a method, a field name) is made of.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// A plausible `host[:port]`: letters, digits, `-._~%`, and the `[]:` of IPv6 and
    /// ports; nothing that could change where a path points (`/`, `\`, `@`).
    static func isHost(_ text: String) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"):
                    return true
                default:
                    return "-._~%[]:".utf8.contains(byte)
                }
            }
    }
}
