import ShoalTestSupport
import Testing

@testable import Shoal

@Suite("IOBuffer: aligned, sized, owned by one holder")
struct IOBufferTests {
    @Test("a new buffer is zero-filled, aligned as asked, with no valid bytes")
    func fresh() {
        for alignment in [1, 8, 512, 4_096, 65_536] {
            let buffer = IOBuffer(capacity: 10_000, alignment: alignment)
            let (capacity, actual, count, isEmpty) = (buffer.capacity, buffer.alignment, buffer.count, buffer.isEmpty)
            #expect(capacity == 10_000)
            #expect(actual == alignment)
            #expect(count == 0)
            #expect(isEmpty)
            let (aligned, zero) = buffer.withUnsafeBytes { _ in
                (
                    Int(bitPattern: buffer.memory.base) % alignment == 0,
                    UnsafeRawBufferPointer(start: buffer.memory.base, count: buffer.capacity).allSatisfy { $0 == 0 }
                )
            }
            #expect(aligned)
            #expect(zero)
        }
        let empty = IOBuffer(capacity: 0)
        let (emptyCapacity, emptyBytes) = (empty.capacity, empty.bytes)
        #expect(emptyCapacity == 0 && emptyBytes == [])
    }

    @Test("bytes written through the mutable span are read back through the span and the copy")
    func spans() {
        var buffer = IOBuffer(capacity: 16)
        buffer.withMutableBytes { span in
            for index in 0..<span.byteCount { span.storeBytes(of: UInt8(index * 3), toByteOffset: index, as: UInt8.self) }
        }
        buffer.count = 8
        let sum = buffer.withBytes { span in
            (0..<span.byteCount).reduce(0) { $0 + Int(span.unsafeLoad(fromByteOffset: $1, as: UInt8.self)) }
        }
        #expect(sum == (0..<8).reduce(0) { $0 + $1 * 3 })
        #expect(buffer.bytes == (0..<8).map { UInt8($0 * 3) })
    }

    @Test("init(bytes:) and append(contentsOf:) copy in and grow the count")
    func copyIn() {
        var buffer = IOBuffer(bytes: Array("abc".utf8))
        let (count, capacity) = (buffer.count, buffer.capacity)
        #expect(count == 3 && capacity == 3)
        var bigger = IOBuffer(capacity: 10)
        bigger.append(contentsOf: Array("hello".utf8))
        bigger.append(contentsOf: " you".utf8)
        #expect(String(decoding: bigger.bytes, as: UTF8.self) == "hello you")
        buffer.count = 1
        #expect(buffer.bytes == [UInt8(ascii: "a")])
    }

    @Test("a buffer can be handed to another isolation domain and back")
    func sendable() async {
        let holder = BufferHolder()
        var buffer = IOBuffer(capacity: 8)
        buffer.append(contentsOf: [1, 2, 3])
        buffer = await holder.appendFour(to: buffer)
        #expect(buffer.bytes == [1, 2, 3, 4])
    }
}

/// An actor that takes a buffer, changes it and gives it back.
actor BufferHolder {
    func appendFour(to buffer: consuming IOBuffer) -> IOBuffer {
        buffer.append(contentsOf: [4])
        return buffer
    }

    @Test("removeFirst drops consumed bytes and moves the rest to the front, overlapping or not")
    func removeFirst() {
        var buffer = IOBuffer(capacity: 16)
        buffer.append(contentsOf: Array(0..<10))
        buffer.removeFirst(3)
        #expect(buffer.bytes == Array(3..<10))
        buffer.removeFirst(0)
        let count = buffer.count
        #expect(count == 7)
        buffer.removeFirst(7)
        let empty = buffer.isEmpty
        #expect(empty)
        buffer.append(contentsOf: Array(0..<16))
        buffer.removeFirst(1)
        #expect(buffer.bytes == Array(1..<16))
    }
}
