import Shoal

func errorsExample() async throws {
    try await Reactor.run { reactor in
        do {
            _ = try await reactor.read(from: FileDescriptor(rawValue: 9999), at: 0, into: IOBuffer(capacity: 512))
        } catch let error as SystemCallError {
            // io_submit: Bad file descriptor (errno 9); first of 1 request(s): read of 512 bytes ...
            print(error.call, error.errno == .badFileDescriptor, error)
        }
    }
}
