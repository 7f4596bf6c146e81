import Synchronization

/// Buffers of one size and alignment kept for reuse, so a stream that reads or writes
/// chunk after chunk allocates (and zero-fills) only its first few.
///
/// ``take()`` returns a kept buffer (its bytes are whatever it last held, its count
/// zero) or a new one; ``give(_:)`` keeps a buffer for later, up to ``limit`` of them,
/// and frees the rest. A buffer of another size or alignment is freed. Safe from any
/// thread.
public final class IOBufferPool: Sendable {
    /// The capacity of the pool's buffers.
    public let capacity: Int
    /// The alignment of the pool's buffers.
    public let alignment: Int
    /// How many idle buffers the pool keeps at most.
    public let limit: Int
    private let idle = Mutex<[IOMemory]>([])

    /// A pool of buffers of `capacity` bytes aligned to `alignment`, keeping at most
    /// `limit` idle ones.
    public init(capacity: Int, alignment: Int = IOBuffer.defaultAlignment, limit: Int = 16) {
        self.capacity = capacity
        self.alignment = alignment
        self.limit = max(limit, 0)
    }

    deinit {
        for memory in idle.withLock({ $0 }) { memory.deallocate() }
    }

    /// A buffer with no valid bytes: a kept one, or a new zero-filled one.
    public func take() -> IOBuffer {
        if let memory = idle.withLock({ $0.popLast() }) { return IOBuffer(adopting: memory, count: 0) }
        return IOBuffer(capacity: capacity, alignment: alignment)
    }

    /// Keeps `buffer` for a later ``take()``, or frees it if the pool is full or the
    /// buffer does not fit the pool.
    public func give(_ buffer: consuming IOBuffer) {
        guard buffer.capacity == capacity, buffer.alignment == alignment else { return }
        let memory = buffer.takeMemory()
        let kept = idle.withLock { idle -> Bool in
            guard idle.count < limit else { return false }
            idle.append(memory)
            return true
        }
        if !kept { memory.deallocate() }
    }

    /// Idle buffers kept now.
    public var idleCount: Int { idle.withLock { $0.count } }
}
