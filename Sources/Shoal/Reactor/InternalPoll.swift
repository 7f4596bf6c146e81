import CShoal
import ShoalKernel

#if canImport(Glibc)
import Glibc
#endif

/// One of the reactor's own `IOCB_CMD_POLL` requests: on the epoll descriptor (socket
/// readiness) or on the wake-up eventfd (work from other threads).
///
/// The AIO context is created with ``reservedSlots`` more slots than user requests may
/// fill, and these polls go first in every submission, so a context full of user
/// requests can never keep them out of the kernel (which would leave the reactor
/// asleep with nothing watching sockets or other threads).
struct InternalPoll {
    /// Kernel slots kept for the reactor's own polls.
    static let reservedSlots = 2

    /// User data of the reactor's own requests (bit 63 set: never an ``IOTable`` token).
    enum Tag {
        static let epoll: UInt64 = 1 << 63 | 1
        static let wakeup: UInt64 = 1 << 63 | 2
    }

    enum State {
        /// Not armed: completed, withdrawn, or not yet armed.
        case idle
        /// Waiting for the next submission.
        case queued
        /// In the kernel: its completion will come through the ring.
        case inKernel
    }

    /// The request, at a stable address for the kernel.
    let request: UnsafeMutablePointer<AIORequest>
    var state = State.idle

    init(watching descriptor: FileDescriptor, tag: UInt64) {
        request = .allocate(capacity: 1)
        request.initialize(to: .poll(descriptor: descriptor, events: Int32(POLLIN), userData: tag))
    }

    func deallocate() {
        request.deallocate()
    }
}
