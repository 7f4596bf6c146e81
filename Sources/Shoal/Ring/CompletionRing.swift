import CShoal

/// A view of the completion ring the kernel maps at an AIO context's address.
///
/// Layout (kernel `fs/aio.c`, `struct aio_ring`): a 32-byte header of eight 32-bit
/// fields, `id nr head tail magic compat_features incompat_features header_length`,
/// followed by `nr` slots of `struct io_event` starting `header_length` bytes in.
/// The kernel writes events at `tail` and then publishes `tail`; the consumer reads
/// from `head` up to `tail` and then publishes `head`, which hands the slots back.
/// The ring is usable from user space only if the header checks out (see
/// ``validate(address:)``); otherwise reaping must go through `io_getevents`.
struct CompletionRing {
    /// The ring header (also the address of the whole mapping).
    let header: UnsafeMutablePointer<shoal_aio_ring>
    /// The first event slot.
    let events: UnsafeMutablePointer<AIOCompletion>
    /// The number of slots (`nr`). The ring holds at most `slots - 1` events.
    let slots: UInt32
    /// The header's `head` field: the next slot to consume, written by the consumer.
    let headPointer: UnsafeMutablePointer<UInt32>
    /// The header's `tail` field: the next slot the kernel fills, written by the kernel.
    let tailPointer: UnsafeMutablePointer<UInt32>

    private init(header: UnsafeMutablePointer<shoal_aio_ring>, headerLength: UInt32, slots: UInt32) {
        let base = UnsafeMutableRawPointer(header)
        self.header = header
        self.events = (base + Int(headerLength)).assumingMemoryBound(to: AIOCompletion.self)
        self.slots = slots
        // Offsets of `head` and `tail` in the kernel's header: 8 and 12.
        self.headPointer = (base + MemoryLayout<shoal_aio_ring>.offset(of: \.head)!).assumingMemoryBound(to: UInt32.self)
        self.tailPointer = (base + MemoryLayout<shoal_aio_ring>.offset(of: \.tail)!).assumingMemoryBound(to: UInt32.self)
    }

    /// Why a ring cannot be read from user space.
    enum Unusable: Error, Equatable, CustomStringConvertible {
        case noMapping
        case badMagic(UInt32)
        case incompatibleFeatures(UInt32)
        case badHeaderLength(UInt32)
        case badSize(UInt32)
        case indicesOutOfRange(head: UInt32, tail: UInt32, slots: UInt32)

        var description: String {
            switch self {
            case .noMapping: "the context id is not a ring address"
            case .badMagic(let magic): "ring magic is 0x\(String(magic, radix: 16)), expected 0xa10a10a1"
            case .incompatibleFeatures(let bits): "ring has incompatible features 0x\(String(bits, radix: 16))"
            case .badHeaderLength(let length): "ring header_length is \(length), expected at least 32"
            case .badSize(let slots): "ring has \(slots) slots"
            case .indicesOutOfRange(let head, let tail, let slots):
                "ring head \(head) or tail \(tail) is not below its \(slots) slots"
            }
        }
    }

    /// Checks the header at `address` and returns a view of the ring, or why it is unusable.
    ///
    /// The kernel has kept this layout since 2.6.19; the checks guard against a future
    /// kernel that changes it (it would set `incompat_features` or another magic).
    static func validate(address: UInt) -> Result<CompletionRing, Unusable> {
        guard let header = UnsafeMutablePointer<shoal_aio_ring>(bitPattern: address) else {
            return .failure(.noMapping)
        }
        let ring = header.pointee
        guard ring.magic == SHOAL_AIO_RING_MAGIC else { return .failure(.badMagic(ring.magic)) }
        guard ring.incompat_features == 0 else { return .failure(.incompatibleFeatures(ring.incompat_features)) }
        guard ring.header_length >= UInt32(MemoryLayout<shoal_aio_ring>.size),
            ring.header_length % UInt32(MemoryLayout<AIOCompletion>.alignment) == 0
        else { return .failure(.badHeaderLength(ring.header_length)) }
        guard ring.nr >= 2 else { return .failure(.badSize(ring.nr)) }
        guard ring.head < ring.nr, ring.tail < ring.nr else {
            return .failure(.indicesOutOfRange(head: ring.head, tail: ring.tail, slots: ring.nr))
        }
        return .success(CompletionRing(header: header, headerLength: ring.header_length, slots: ring.nr))
    }
}

extension CompletionRing {
    /// Events from `head` up to (not including) `tail`, across the wrap.
    @inline(__always)
    func distance(from head: UInt32, to tail: UInt32) -> UInt32 {
        tail >= head ? tail - head : slots - head + tail
    }
}
