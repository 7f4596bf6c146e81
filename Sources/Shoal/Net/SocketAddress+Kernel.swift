#if canImport(Glibc)
import Glibc
#endif

extension SocketAddress {
    /// `AF_INET` or `AF_INET6`.
    var family: Int32 { isIPv6 ? AF_INET6 : AF_INET }

    /// Calls `body` with the address as a `sockaddr` and its length.
    func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> Result) rethrows -> Result {
        switch host {
        case .ipv4(let a, let b, let c, let d):
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: [a, b, c, d]) }
            return try withUnsafePointer(to: &address) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .ipv6(let bytes, let scope):
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            address.sin6_scope_id = scope
            withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: bytes) }
            return try withUnsafePointer(to: &address) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }

    /// The address in `storage` (as `accept`, `getsockname` and `getaddrinfo` fill it),
    /// or `nil` for a family other than IPv4 and IPv6.
    init?(_ storage: UnsafePointer<sockaddr>) {
        switch Int32(storage.pointee.sa_family) {
        case AF_INET:
            let address = UnsafeRawPointer(storage).loadUnaligned(as: sockaddr_in.self)
            let bytes = withUnsafeBytes(of: address.sin_addr) { Array($0) }
            self.init(.ipv4(bytes[0], bytes[1], bytes[2], bytes[3]), port: UInt16(bigEndian: address.sin_port))
        case AF_INET6:
            let address = UnsafeRawPointer(storage).loadUnaligned(as: sockaddr_in6.self)
            let bytes = withUnsafeBytes(of: address.sin6_addr) { Array($0) }
            self.init(.ipv6(bytes, scope: address.sin6_scope_id), port: UInt16(bigEndian: address.sin6_port))
        default:
            return nil
        }
    }

    /// Looks up `host` (a name such as `"localhost"`, or a numeric address) and returns
    /// its TCP addresses with `port`, in the order the resolver gives them.
    ///
    /// `getaddrinfo` can block on the network, so it runs on the reactor's blocking-call
    /// thread (``Reactor/performBlocking(_:)``); the reactor thread never waits on it.
    ///
    /// - Throws: ``ReactorError/invalidArgument(_:)`` for a port out of `0...65535` or a
    ///   name that does not resolve (with the resolver's reason); ``ReactorError/stopped(_:)``.
    public static func resolve(_ host: String, port: Int, on reactor: Reactor) async throws -> [SocketAddress] {
        guard let port = UInt16(exactly: port) else {
            throw ReactorError.invalidArgument("port \(port) for \(host): a port is 0...65535")
        }
        if let numeric = try? SocketAddress(host: host, port: Int(port)) { return [numeric] }
        return try await reactor.performBlocking { try lookUp(host, port: port) }
    }

    private static func lookUp(_ host: String, port: UInt16) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else {
            let reason = String(cString: gai_strerror(status))
            throw ReactorError.invalidArgument("host \"\(host)\" does not resolve: \(reason)")
        }
        defer { freeaddrinfo(list) }
        var found: [SocketAddress] = []
        var entry = list
        while let current = entry {
            if let address = current.pointee.ai_addr, let parsed = SocketAddress(address) {
                let withPort = SocketAddress(parsed.host, port: port)
                if !found.contains(withPort) { found.append(withPort) }
            }
            entry = current.pointee.ai_next
        }
        if found.isEmpty {
            throw ReactorError.invalidArgument("host \"\(host)\" has no IPv4 or IPv6 address")
        }
        return found
    }
}
