#if canImport(Glibc)
import Glibc
#endif

/// Aligned memory that the kernel may read or write: the storage of an ``IOBuffer``.
///
/// A plain value with manual lifetime. Exactly one owner frees it: the ``IOBuffer``
/// that holds it, or, while a request is queued or in flight, the reactor's request
/// table, which frees it only once the kernel is done with it.
struct IOMemory: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let capacity: Int
    let alignment: Int

    /// Allocates `capacity` zeroed bytes aligned to `alignment`.
    init(capacity: Int, alignment: Int) {
        precondition(capacity >= 0, "IOBuffer capacity must not be negative, got \(capacity)")
        precondition(
            alignment > 0 && alignment & (alignment - 1) == 0,
            "IOBuffer alignment must be a power of two, got \(alignment)")
        var pointer: UnsafeMutableRawPointer?
        let result = posix_memalign(&pointer, max(alignment, MemoryLayout<Int>.alignment), max(capacity, 1))
        guard result == 0, let pointer else {
            fatalError("IOBuffer: cannot allocate \(capacity) bytes aligned to \(alignment) (error \(result))")
        }
        memset(pointer, 0, max(capacity, 1))
        self.base = pointer
        self.capacity = capacity
        self.alignment = alignment
    }

    func deallocate() {
        free(base)
    }
}
