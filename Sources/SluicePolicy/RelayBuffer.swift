/// The bytes a relay holds between its two connections, one direction: a fixed-capacity FIFO
/// allocated once (no allocation while relaying). Filled from one connection's `read` and
/// drained into the other's `write`, each through the contiguous part at the ring's edge.
/// Not thread-safe.
final class RelayBuffer {
    let capacity: Int
    private let storage: UnsafeMutableRawBufferPointer
    private var head = 0
    private(set) var count = 0
    /// The most bytes it ever held.
    private(set) var peak = 0

    init(capacity: Int) {
        self.capacity = Swift.max(1, capacity)
        storage = .allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    var freeSpace: Int { capacity - count }
    var isEmpty: Bool { count == 0 }

    /// Fills the free space from `source` (called with a contiguous free region, returns the
    /// bytes it wrote there) until `source` returns 0 or the buffer is full; returns the total.
    func fill(_ source: (UnsafeMutableRawBufferPointer) -> Int) -> Int {
        var total = 0
        while count < capacity {
            let tail = (head + count) % capacity
            let length = Swift.min(capacity - count, capacity - tail)
            let n = Swift.max(0, Swift.min(length, source(UnsafeMutableRawBufferPointer(rebasing: storage[tail..<(tail + length)]))))
            if n == 0 { break }
            count += n
            total += n
        }
        peak = Swift.max(peak, count)
        return total
    }

    /// Offers the held bytes to `sink` (called with a contiguous region, returns the bytes it
    /// took) until it takes nothing or the buffer is empty; returns the total taken.
    func drain(_ sink: (UnsafeRawBufferPointer) -> Int) -> Int {
        var total = 0
        while count > 0 {
            let length = Swift.min(count, capacity - head)
            let n = Swift.max(0, Swift.min(length, sink(UnsafeRawBufferPointer(rebasing: storage[head..<(head + length)]))))
            if n == 0 { break }
            head = (head + n) % capacity
            count -= n
            total += n
        }
        if count == 0 { head = 0 }
        return total
    }
}

@available(*, unavailable)
extension RelayBuffer: Sendable {}
