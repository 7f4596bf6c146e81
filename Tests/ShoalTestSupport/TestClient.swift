#if canImport(Glibc)
import Glibc
#endif

/// A plain blocking TCP client over POSIX sockets, for tests that talk to a server as
/// any program would. Every receive has a limit (`SO_RCVTIMEO`), so a test never hangs.
public final class TestClient: @unchecked Sendable {
    public let descriptor: Int32
    private var open = true

    /// Connects to 127.0.0.1:`port`; throws with `errno` if the connection fails.
    public init(port: UInt16, receiveTimeout: Int = 30) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw ClientError(call: "socket", errno: errno) }
        var limit = timeval(tv_sec: receiveTimeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 {
            let failure = errno
            Glibc.close(descriptor)
            open = false
            throw ClientError(call: "connect", errno: failure)
        }
    }

    deinit { close() }

    /// Sends all of `bytes`.
    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EINTR { continue }
                throw ClientError(call: "send", errno: errno)
            }
            offset += sent
        }
    }

    /// Receives exactly `count` bytes, or fewer if the stream ends first.
    public func receive(count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress! + filled, count - filled, 0) }
            if got < 0 {
                if errno == EINTR { continue }
                throw ClientError(call: "recv", errno: errno)
            }
            if got == 0 { break }
            filled += got
        }
        return Array(bytes[0..<filled])
    }

    /// Receives until the end of the stream (at most `limit` bytes).
    public func receiveAll(limit: Int = 64 << 20) throws -> [UInt8] {
        var all: [UInt8] = []
        while all.count < limit {
            let chunk = try receive(count: min(65_536, limit - all.count))
            if chunk.isEmpty { break }
            all += chunk
        }
        return all
    }

    /// Finishes writing (`shutdown(SHUT_WR)`): the server sees the end of the stream.
    public func finishWriting() {
        shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Closes with a reset (`SO_LINGER` 0): the server sees `ECONNRESET`.
    public func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close()
    }

    /// Closes the socket (once).
    public func close() {
        if open {
            Glibc.close(descriptor)
            open = false
        }
    }
}

/// A client call failed.
public struct ClientError: Error, CustomStringConvertible {
    public let call: String
    public let errno: Int32
    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }
    public var description: String { "\(call): \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// Raises this process's open-file limit to its hard limit (tests that open many sockets).
public func raiseDescriptorLimit() {
    var limit = rlimit()
    getrlimit(openFilesResource, &limit)
    limit.rlim_cur = limit.rlim_max
    setrlimit(openFilesResource, &limit)
}

#if canImport(Glibc)
private let openFilesResource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#endif
