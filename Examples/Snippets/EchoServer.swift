import Shoal
#if canImport(Glibc)
import Glibc
#endif

/// README's TCP server: compiled, not run by shoal-snippets (it serves until a signal).
func echoServerExample() async throws {
    try await Reactor.run { reactor in
        let signals = try reactor.watchSignals([SIGINT, SIGTERM])   // first: counts from now
        let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:7000"), on: reactor)
        reactor.spawn {
            _ = try await signals.next()
            listener.close()                   // serve stops accepting and winds down
        }
        try await listener.serve(maxConnections: 10_000, gracePeriod: .seconds(5)) { connection in
            var buffer = IOBuffer(capacity: 16 * 1024)
            while try await connection.read(into: &buffer) > 0 {   // 0: the peer finished writing
                try await connection.write(buffer)                    // all of it, or it throws
                buffer.count = 0
            }
        }
    }
}
