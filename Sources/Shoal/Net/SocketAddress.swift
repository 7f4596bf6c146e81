#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address and a TCP port.
///
/// Parse one from text with ``init(_:)`` (`"127.0.0.1:7000"`, `"[::1]:7000"`), or
/// build one from a numeric host and a port with ``init(host:port:)``. Host names are
/// not looked up here: ``resolve(_:port:on:)`` does that, off the reactor thread.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// The IP address.
    public enum Host: Sendable, Hashable {
        /// Four bytes, in network order.
        case ipv4(UInt8, UInt8, UInt8, UInt8)
        /// Sixteen bytes, in network order, and the scope (interface) id for link-local addresses.
        case ipv6([UInt8], scope: UInt32)
    }

    /// The IP address.
    public let host: Host
    /// The port; 0 asks ``TCPListener/bind(_:backlog:reusePort:options:on:)`` for any free one.
    public let port: UInt16

    /// An address of `host` and `port`. An IPv6 host must have exactly 16 bytes: any
    /// other count stops the program with a message saying so (a programming error, as
    /// an index out of range is).
    public init(_ host: Host, port: UInt16) {
        if case .ipv6(let bytes, _) = host {
            precondition(bytes.count == 16, "SocketAddress: an IPv6 host has 16 bytes, got \(bytes.count)")
        }
        self.host = host
        self.port = port
    }

    /// Parses `"a.b.c.d:port"` or `"[ipv6]:port"` (a scope may follow the IPv6 address:
    /// `"[fe80::1%2]:80"`).
    ///
    /// - Throws: ``ReactorError/invalidArgument(_:)`` quoting the text and saying what is
    ///   wrong: no port, a port out of `0...65535`, a host that is not a numeric address
    ///   (names need ``resolve(_:port:on:)``), an IPv6 address without brackets.
    public init(_ text: String) throws {
        let (hostText, portText) = try Self.split(text)
        let port = try Self.parsePort(portText, in: text)
        self.init(try Self.parseHost(hostText, in: text), port: port)
    }

    /// The address of a numeric `host` (`"10.0.0.7"`, `"::1"`, `"[::1]"`) and `port`.
    ///
    /// - Throws: ``ReactorError/invalidArgument(_:)`` for a host that is not a numeric
    ///   address or a port out of `0...65535`.
    public init(host: String, port: Int) throws {
        guard let port = UInt16(exactly: port) else {
            throw ReactorError.invalidArgument("port \(port) for \(host): a port is 0...65535")
        }
        var bare = Substring(host)
        if bare.hasPrefix("[") && bare.hasSuffix("]") { bare = bare.dropFirst().dropLast() }
        self.init(try Self.parseHost(bare, in: host), port: port)
    }

    /// `127.0.0.1` and `port`.
    public static func loopback(port: UInt16) -> SocketAddress { SocketAddress(.ipv4(127, 0, 0, 1), port: port) }

    /// Whether the host is IPv6.
    public var isIPv6: Bool {
        if case .ipv6 = host { return true }
        return false
    }

    /// The host as text: `"127.0.0.1"`, `"::1"`, `"fe80::1%2"`.
    public var hostText: String {
        switch host {
        case .ipv4(let a, let b, let c, let d):
            return "\(a).\(b).\(c).\(d)"
        case .ipv6(let bytes, let scope):
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            _ = inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
            let prefix = text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            let printed = String(decoding: prefix, as: UTF8.self)
            return scope == 0 ? printed : "\(printed)%\(scope)"
        }
    }

    /// `"127.0.0.1:7000"` or `"[::1]:7000"`: text that ``init(_:)`` parses back.
    public var description: String {
        isIPv6 ? "[\(hostText)]:\(port)" : "\(hostText):\(port)"
    }

    // MARK: Parsing

    private static func split(_ text: String) throws -> (host: Substring, port: Substring) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw ReactorError.invalidArgument("address \"\(text)\": an IPv6 address needs a closing \"]\"")
            }
            let host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw ReactorError.invalidArgument("address \"\(text)\": no port; write it as [host]:port")
            }
            return (host, rest.dropFirst())
        }
        guard let colon = text.lastIndex(of: ":") else {
            throw ReactorError.invalidArgument("address \"\(text)\": no port; write it as host:port")
        }
        let host = text[..<colon]
        if host.contains(":") {
            throw ReactorError.invalidArgument(
                "address \"\(text)\": an IPv6 address with a port needs brackets, as in [::1]:7000")
        }
        return (host, text[text.index(after: colon)...])
    }

    private static func parsePort(_ text: Substring, in whole: String) throws -> UInt16 {
        guard !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) else {
            throw ReactorError.invalidArgument("address \"\(whole)\": port \"\(text)\" is not a number")
        }
        guard let port = UInt16(text) else {
            throw ReactorError.invalidArgument("address \"\(whole)\": port \(text) is out of range 0...65535")
        }
        return port
    }

    static func parseHost(_ text: Substring, in whole: String) throws -> Host {
        if text.isEmpty {
            throw ReactorError.invalidArgument("address \"\(whole)\": no host; 0.0.0.0 or [::] listen on every interface")
        }
        var v4 = in_addr()
        if inet_pton(AF_INET, String(text), &v4) == 1 {
            let bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return .ipv4(bytes[0], bytes[1], bytes[2], bytes[3])
        }
        var addressText = text
        var scope: UInt32 = 0
        if let percent = text.firstIndex(of: "%") {
            addressText = text[..<percent]
            let scopeText = text[text.index(after: percent)...]
            if let number = UInt32(scopeText) {
                scope = number
            } else {
                let index = if_nametoindex(String(scopeText))
                guard index != 0 else {
                    throw ReactorError.invalidArgument("address \"\(whole)\": no network interface \"\(scopeText)\"")
                }
                scope = index
            }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, String(addressText), &v6) == 1 {
            return .ipv6(withUnsafeBytes(of: &v6) { Array($0) }, scope: scope)
        }
        throw ReactorError.invalidArgument(
            "address \"\(whole)\": \"\(text)\" is not a numeric IPv4 or IPv6 address"
                + (text.contains(where: \.isLetter) ? " (look names up with SocketAddress.resolve)" : ""))
    }
}
