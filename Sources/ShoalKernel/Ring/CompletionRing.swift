import CShoal

#if canImport(Glibc)
import Glibc
#endif

/// A view of the completion ring the kernel maps at an AIO context's address.
///
/// Layout (kernel `fs/aio.c`, `struct aio_ring`): a 32-byte header of eight 32-bit
/// fields, `id nr head tail magic compat_features incompat_features header_length`,
/// followed by `nr` slots of `struct io_event` starting right after it (the kernel
/// sets `header_length` to 32 and writes events there whatever the field says).
/// The kernel writes events at `tail` and then publishes `tail`; the consumer reads
/// from `head` up to `tail` and then publishes `head`, which hands the slots back.
/// The ring is usable from user space only if the header checks out (see
/// ``validate(address:)``); otherwise reaping must go through `io_getevents`.
struct CompletionRing {
    /// The ring header (also the address of the whole mapping).
    let header: UnsafeMutablePointer<shoal_aio_ring>
    /// The first event slot: right after the 32-byte header, where the kernel writes
    /// events whatever `header_length` says.
    let events: UnsafeMutablePointer<AIOCompletion>
    /// The number of slots (`nr`), read once at validation and never again: the ring
    /// holds at most `slots - 1` events.
    let slots: UInt32
    /// The header's `head` field: the next slot to consume, written by the consumer.
    let headPointer: UnsafeMutablePointer<UInt32>
    /// The header's `tail` field: the next slot the kernel fills, written by the kernel.
    let tailPointer: UnsafeMutablePointer<UInt32>

    /// The size of the kernel's header, and the offset of the first event.
    static let headerSize = MemoryLayout<shoal_aio_ring>.size

    private init(header: UnsafeMutablePointer<shoal_aio_ring>, slots: UInt32) {
        let base = UnsafeMutableRawPointer(header)
        self.header = header
        self.events = (base + Self.headerSize).assumingMemoryBound(to: AIOCompletion.self)
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
        case badSize(slots: UInt32, requested: Int)
        case notMapped(slots: UInt32, bytes: Int)
        case mappingUnknown
        case slotsDisagreeWithMapping(slots: UInt32, mapping: Int)
        case indicesOutOfRange(head: UInt32, tail: UInt32, slots: UInt32)

        var description: String {
            switch self {
            case .noMapping: "the context id is not a ring address"
            case .badMagic(let magic): "ring magic is 0x\(String(magic, radix: 16)), expected 0xa10a10a1"
            case .incompatibleFeatures(let bits): "ring has incompatible features 0x\(String(bits, radix: 16))"
            case .badHeaderLength(let length):
                "ring header_length is \(length), expected \(CompletionRing.headerSize)"
            case .badSize(let slots, let requested):
                "ring has \(slots) slots; a kernel ring for \(requested) events has more than \(requested) "
                    + "and at most \(CompletionRing.maximumSlots)"
            case .notMapped(let slots, let bytes):
                "ring claims \(slots) slots, but its \(bytes) bytes are not all mapped"
            case .mappingUnknown:
                "the ring's mapping is not in /proc/self/maps, so its size cannot be checked"
            case .slotsDisagreeWithMapping(let slots, let mapping):
                "ring claims \(slots) slots, but its \(mapping)-byte mapping holds \((mapping - CompletionRing.headerSize) / MemoryLayout<AIOCompletion>.stride)"
            case .indicesOutOfRange(let head, let tail, let slots):
                "ring head \(head) or tail \(tail) is out of place (\(slots) slots): something other than "
                    + "the kernel and this reaper wrote the ring"
            }
        }
    }

    /// Checks the header at `address` and returns a view of the ring and its `head`, or
    /// why it is unusable.
    ///
    /// The ring is memory the process can write, so nothing in it is trusted for bounds:
    /// the slot count must be the one the kernel derives from the size of the ring's
    /// mapping (read from `/proc/self/maps`: the kernel fills whole pages with slots),
    /// and hold the `requested` events; `header_length` must be the 32 bytes the kernel
    /// uses; and `head` and `tail` (read with the same atomic loads as every reap) must
    /// lie below the slot count. The kernel has kept this layout since 2.6.19; the magic
    /// and feature checks guard against one that changes it.
    static func validate(address: UInt, requested: Int) -> Result<(CompletionRing, head: UInt32), Unusable> {
        guard let header = UnsafeMutablePointer<shoal_aio_ring>(bitPattern: address),
            address % UInt(pageSize) == 0, isMapped(UnsafeRawPointer(header), bytes: headerSize)
        else {
            return .failure(.noMapping)
        }
        let fields = UnsafeMutableRawPointer(header).assumingMemoryBound(to: UInt32.self)
        // id nr head tail magic compat_features incompat_features header_length
        let slots = shoal_load_relaxed_u32(fields + 1)
        let magic = shoal_load_relaxed_u32(fields + 4)
        let incompatible = shoal_load_relaxed_u32(fields + 6)
        let headerLength = shoal_load_relaxed_u32(fields + 7)
        guard magic == SHOAL_AIO_RING_MAGIC else { return .failure(.badMagic(magic)) }
        guard incompatible == 0 else { return .failure(.incompatibleFeatures(incompatible)) }
        guard headerLength == UInt32(headerSize) else { return .failure(.badHeaderLength(headerLength)) }
        // The kernel refuses io_setup beyond 0x10000000 bytes of events (fs/aio.c).
        guard slots >= 2, Int(slots) > requested, Int(slots) <= maximumSlots else {
            return .failure(.badSize(slots: slots, requested: requested))
        }
        guard let mapping = mappingSize(at: address) else { return .failure(.mappingUnknown) }
        guard Int(slots) == (mapping - headerSize) / MemoryLayout<AIOCompletion>.stride else {
            return .failure(.slotsDisagreeWithMapping(slots: slots, mapping: mapping))
        }
        let bytes = headerSize + Int(slots) * MemoryLayout<AIOCompletion>.stride
        guard isMapped(UnsafeRawPointer(header), bytes: bytes) else {
            return .failure(.notMapped(slots: slots, bytes: bytes))
        }
        let ring = CompletionRing(header: header, slots: slots)
        let head = shoal_load_relaxed_u32(ring.headPointer)
        let tail = shoal_load_acquire_u32(ring.tailPointer)
        guard head < slots, tail < slots else {
            return .failure(.indicesOutOfRange(head: head, tail: tail, slots: slots))
        }
        return .success((ring, head))
    }

    /// The size of the mapping that starts at `address`, from `/proc/self/maps`.
    static func mappingSize(at address: UInt) -> Int? {
        guard let file = fopen("/proc/self/maps", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 4_096)
        while fgets(&line, Int32(line.count), file) != nil {
            // "start-end perms offset dev inode path", addresses in hex.
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard let range = text.split(separator: " ", maxSplits: 1).first else { continue }
            let bounds = range.split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), start == address,
                let end = UInt(bounds[1], radix: 16), end > start
            else { continue }
            return Int(end - start)
        }
        return nil
    }

    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    /// The most slots any kernel ring has: `io_setup` refuses more than 0x10000000 bytes.
    static let maximumSlots = 0x1000_0000 / MemoryLayout<AIOCompletion>.stride

    /// Whether every page of `bytes` bytes from the page-aligned `start` is mapped:
    /// `mincore(2)` fails with `ENOMEM` on a range that includes an unmapped page.
    private static func isMapped(_ start: UnsafeRawPointer, bytes: Int) -> Bool {
        let pages = (bytes + pageSize - 1) / pageSize
        var residency = [UInt8](repeating: 0, count: pages)
        return mincore(UnsafeMutableRawPointer(mutating: start), bytes, &residency) == 0
    }
}

extension CompletionRing {
    /// Events from `head` up to (not including) `tail`, across the wrap. Both must be
    /// below ``slots`` (callers check); it cannot trap whatever they are.
    @inline(__always)
    func distance(from head: UInt32, to tail: UInt32) -> UInt32 {
        tail >= head ? tail &- head : slots &- head &+ tail
    }
}
