import Shoal

// The code of the "Getting started" article in Shoal's documentation catalog.

/// A reactor, a task, a sleep, and a file read.
func gettingStarted() async throws -> String {
    let text = try await Reactor.run { reactor in
        // A task of its own, on the reactor's thread.
        let ticker = reactor.spawn {
            for _ in 0..<3 { try await reactor.sleep(for: .milliseconds(5)) }
        }
        let file = try await File.open("/etc/hostname", on: reactor)
        let bytes = try await file.read(at: 0, count: 4096)
        try await file.close()
        try await ticker.value
        return String(decoding: bytes.bytes, as: UTF8.self)
    }
    return text
}

/// A TCP echo server that answers one connection, then returns.
func gettingStartedEcho() async throws {
    try await Reactor.run { reactor in
        let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
        print("listening on \(listener.localAddress)")
        let connection = try await listener.accept()
        var buffer = IOBuffer(capacity: 4096)
        while try await connection.read(into: &buffer) > 0 {
            try await connection.write(buffer)
            buffer.count = 0
        }
    }
}
