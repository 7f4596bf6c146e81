/// Memory for data the kernel reads or writes: aligned, sized, reusable, and owned by
/// exactly one holder at a time.
///
/// An `IOBuffer` is non-copyable. Passing it to a reactor I/O call (`consuming`) hands
/// it over for as long as the kernel may touch it; the call gives it back with the
/// result. If the call throws (the task was cancelled, the request failed), the buffer
/// is not given back: the reactor frees it once the kernel is done with it, so a
/// cancelled read can never write into memory its caller still holds.
///
/// ``capacity`` bytes are allocated (zero-filled) and ``count`` of them are valid:
/// a read sets ``count`` to the bytes it read, a write sends the first ``count`` bytes.
/// Read and write the bytes through ``withBytes(_:)`` and ``withMutableBytes(_:)``
/// (spans that cannot escape), or copy them with ``bytes``.
public struct IOBuffer: ~Copyable, @unchecked Sendable {
    /// The alignment of buffers made without one: 4096 bytes, enough for `O_DIRECT`
    /// on every common file system and device.
    public static let defaultAlignment = 4_096

    let memory: IOMemory
    private var validCount: Int

    /// Allocates a zero-filled buffer of `capacity` bytes whose address is a multiple
    /// of `alignment` (a power of two). ``count`` starts at zero.
    public init(capacity: Int, alignment: Int = IOBuffer.defaultAlignment) {
        memory = IOMemory(capacity: capacity, alignment: alignment)
        validCount = 0
    }

    /// A buffer holding a copy of `bytes` (``count`` is their number).
    public init(bytes: some Collection<UInt8>, alignment: Int = IOBuffer.defaultAlignment) {
        self.init(capacity: bytes.count, alignment: alignment)
        let destination = UnsafeMutableRawBufferPointer(start: memory.base, count: memory.capacity)
        destination.copyBytes(from: bytes)
        validCount = bytes.count
    }

    /// Takes ownership of `memory`, with `count` bytes valid.
    init(adopting memory: IOMemory, count: Int) {
        self.memory = memory
        self.validCount = count
    }

    deinit {
        memory.deallocate()
    }

    /// Gives up the memory without freeing it (the reactor holds it during a request).
    consuming func takeMemory() -> IOMemory {
        let memory = self.memory
        discard self
        return memory
    }

    /// The bytes allocated.
    public var capacity: Int { memory.capacity }

    /// The alignment of the buffer's address.
    public var alignment: Int { memory.alignment }

    /// The number of valid bytes, from the start: what a read filled, what a write sends.
    /// Setting it outside `0...capacity` traps.
    public var count: Int {
        get { validCount }
        set {
            precondition(
                newValue >= 0 && newValue <= memory.capacity,
                "IOBuffer count \(newValue) is outside 0...\(memory.capacity)")
            validCount = newValue
        }
    }

    /// Whether no byte is valid.
    public var isEmpty: Bool { validCount == 0 }

    /// Calls `body` with a read-only span over the ``count`` valid bytes.
    public func withBytes<Result, Failure: Error>(
        _ body: (RawSpan) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(UnsafeRawBufferPointer(start: memory.base, count: validCount).bytes)
    }

    /// Calls `body` with a mutable span over all ``capacity`` bytes. Set ``count``
    /// afterwards to say how many are valid.
    public mutating func withMutableBytes<Result, Failure: Error>(
        _ body: (inout MutableRawSpan) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        var span = UnsafeMutableRawBufferPointer(start: memory.base, count: memory.capacity).mutableBytes
        return try body(&span)
    }

    /// Calls `body` with a pointer to the ``count`` valid bytes, valid only during the call.
    public func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(UnsafeRawBufferPointer(start: memory.base, count: validCount))
    }

    /// Calls `body` with a pointer to all ``capacity`` bytes, valid only during the call.
    public mutating func withUnsafeMutableBytes<Result, Failure: Error>(
        _ body: (UnsafeMutableRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(UnsafeMutableRawBufferPointer(start: memory.base, count: memory.capacity))
    }

    /// A copy of the ``count`` valid bytes.
    public var bytes: [UInt8] {
        Array(UnsafeRawBufferPointer(start: memory.base, count: validCount))
    }

    /// Drops the first `count` valid bytes and moves the rest to the front: what a
    /// protocol does after it has consumed a message and the next one began in the same
    /// read. Traps if `count` is outside `0...count`.
    public mutating func removeFirst(_ count: Int) {
        precondition(count >= 0 && count <= validCount, "IOBuffer: cannot remove \(count) of \(validCount) valid bytes")
        if count == 0 { return }
        (memory.base).copyMemory(from: memory.base + count, byteCount: validCount - count)
        validCount -= count
    }

    /// Copies `bytes` in after the valid bytes and grows ``count``; traps if they do
    /// not fit in ``capacity``.
    public mutating func append(contentsOf bytes: some Collection<UInt8>) {
        precondition(
            bytes.count <= memory.capacity - validCount,
            "IOBuffer: \(bytes.count) bytes do not fit after \(validCount) of \(memory.capacity)")
        let destination = UnsafeMutableRawBufferPointer(start: memory.base + validCount, count: bytes.count)
        destination.copyBytes(from: bytes)
        validCount += bytes.count
    }
}
