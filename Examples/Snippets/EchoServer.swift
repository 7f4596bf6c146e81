import Shoal

#if canImport(Glibc)
import Glibc
#endif

/// README's TCP server: compiled, not run by shoal-snippets (it serves until a signal).
func echoServerExample() async throws {
    try await Reactor.run { reactor in
        let signals = try reactor.watchSignals([SIGINT, SIGTERM])  // first: counts from now
        let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:7000"), on: reactor)
        reactor.spawn {
            _ = try await signals.next()
            signals.close()  // a second Ctrl-C now ends the process
            listener.close()  // serve stops accepting and winds down
        }
        try await listener.serve(maxConnections: 10_000, gracePeriod: .seconds(5)) { connection in
            var buffer = IOBuffer(capacity: 16 * 1024)
            while try await connection.read(into: &buffer) > 0 {  // 0: the peer finished writing
                try await connection.write(buffer)  // all of it, or it throws
                buffer.count = 0
            }
        }
    }
}

/// README's full-duplex handler: one task reads while another writes.
func fullDuplexExample(_ listener: TCPListener) async throws {
    try await listener.serve { connection in
        let connection = connection  // a local: another task can capture it
        let writer = Task(executorPreference: connection.reactor) {
            try await connection.write(Array(repeating: UInt8(ascii: "x"), count: 1 << 20))
            try await connection.finishWriting()
        }
        var buffer = IOBuffer(capacity: 64 * 1024)
        while try await connection.read(into: &buffer) > 0 { buffer.count = 0 }
        try await writer.value
    }
}
