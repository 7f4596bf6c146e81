import ShoalKernel
import ShoalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Whether every write end of `pipe` is closed: a read then sees end of file. (Checking
/// the descriptor number would race with other tests, which may be handed the same
/// number the moment it is freed.)
private func writersClosed(_ pipe: TestPipe) -> Bool {
    var byte: UInt8 = 0
    return read(pipe.read.rawValue, &byte, 1) == 0
}

@Suite("OwnedDescriptor: owned, closed exactly once")
struct OwnedDescriptorTests {
    @Test("going out of scope closes the descriptor")
    func closesOnDeinit() throws {
        let pipe = TestPipe()
        defer { close(pipe.read.rawValue) }
        do {
            let writer = OwnedDescriptor(takingOwnershipOf: pipe.write)
            #expect(!writersClosed(pipe))
            _ = writer
        }
        #expect(writersClosed(pipe))
    }

    @Test("close() closes now and reports nothing on success")
    func explicitClose() throws {
        let pipe = TestPipe()
        defer { close(pipe.read.rawValue) }
        let writer = OwnedDescriptor(takingOwnershipOf: pipe.write)
        try writer.close()
        #expect(writersClosed(pipe))
    }

    @Test("release() hands the descriptor back without closing")
    func release() throws {
        let pipe = TestPipe()
        defer { close(pipe.read.rawValue) }
        let released = OwnedDescriptor(takingOwnershipOf: pipe.write).release()
        #expect(released == pipe.write)
        #expect(!writersClosed(pipe))
        #expect(Glibc.close(released.rawValue) == 0)
        #expect(writersClosed(pipe))
    }
}

@Suite("SystemCallError: one shape for every failed system call")
struct SystemCallErrorTests {
    @Test("the message names the call, the path or address, the reason and the errno number")
    func description() {
        let open = SystemCallError(call: "open", errno: .noSuchFileOrDirectory, path: "/nowhere")
        #expect(open.description == "open /nowhere: No such file or directory (errno 2)")
        let connect = SystemCallError(call: "connect", errno: .connectionRefused, address: "127.0.0.1:9")
        #expect(connect.description == "connect 127.0.0.1:9: Connection refused (errno 111)")
        let submit = SystemCallError(call: "io_submit", errno: .badFileDescriptor, detail: "read of 1 bytes")
        #expect(submit.description == "io_submit: Bad file descriptor (errno 9); read of 1 bytes")
    }

    @Test("errors compare by every field")
    func equality() {
        let one = SystemCallError(call: "open", errno: .permissionDenied, path: "/a")
        #expect(one == SystemCallError(call: "open", errno: .permissionDenied, path: "/a"))
        #expect(one != SystemCallError(call: "open", errno: .permissionDenied, path: "/b"))
        #expect(one != SystemCallError(call: "stat", errno: .permissionDenied, path: "/a"))
    }
}
