/// A fixed-capacity ring of bytes: the send buffer and the receive buffer of a connection.
///
/// The storage never grows: `capacity` is the bound (ARCHITECTURE.md, "Every bound is
/// explicit"). The ring holds `count` *readable* bytes starting at its head; past them lie
/// `freeSpace` bytes of room.
///
/// How the connection uses it:
/// - **Send side**: the application's `write` appends with `write(_:)` (it accepts what fits and
///   returns the count: backpressure). Readable offset 0 is SND.UNA. Outgoing segments copy their
///   payload with `peek(at:into:)` at `seq - SND.UNA` (retransmissions peek at old offsets), and a
///   cumulative ACK releases bytes with `discard(_:)`.
/// - **Receive side**: a segment's payload is stored with `write(at:_:)` at `seq - RCV.NXT`
///   (offset 0 = the first byte past the readable data), *without* becoming readable; when the
///   `Assembler` reports that bytes became contiguous, `commit(_:)` makes them readable and the
///   application drains them with `read(into:)`. Stored bytes that never get committed (a segment
///   the assembler rejected) are simply overwritten later.
///
/// **Memory only while it holds data.** The ring takes its `capacity` bytes of storage when it
/// first stores a byte, and `releaseStorage()` hands them back once the connection finds it
/// empty (a send ring whose bytes are all acknowledged; a drained receive ring with no
/// out-of-order bytes past its readable ones): an idle connection holds no ring memory. The
/// storage comes from and goes back to a `RingStoragePool` when the ring has one (the endpoint's,
/// so a ring that empties and fills again every window allocates nothing), else straight from
/// and to the allocator.
///
/// Copies are `copyMemory` (memcpy) in at most two pieces, one on each side of the wrap.
///
/// **Arguments are clipped, never trapped on.** Offsets and lengths may come from the network
/// (`seq - RCV.NXT`, an ACK's advance), so every method clips out-of-range arguments to what is
/// possible and returns the number of bytes it actually handled; negative values handle nothing.
///
/// Not thread-safe: a ring belongs to one connection, which is driven from one thread. Its
/// stored properties skip Swift's run-time exclusivity checks, for the reason `Connection` gives.
package final class ByteRing {
    /// The fixed number of bytes the ring can hold.
    package let capacity: Int
    /// Readable bytes (written with `write(_:)` or made readable with `commit(_:)`).
    @exclusivity(unchecked) package private(set) var count: Int = 0
    /// Index in `storage` of readable offset 0.
    @exclusivity(unchecked) private var head: Int = 0
    /// `capacity` bytes while the ring holds (or may hold) data; `nil` before the first stored
    /// byte and after `releaseStorage()`.
    @exclusivity(unchecked) private var storage: UnsafeMutableRawBufferPointer?
    /// Where the storage comes from and goes back to; `nil`: the allocator itself.
    private let pool: RingStoragePool?

    /// Creates a ring of `capacity` bytes (a negative capacity is taken as 0). No memory is
    /// taken until the first byte is stored.
    package init(capacity: Int, pool: RingStoragePool? = nil) {
        self.capacity = Swift.max(0, capacity)
        self.pool = pool
    }

    deinit {
        if let storage { giveBack(storage) }
    }

    /// Whether the ring holds storage now (memory accounting and tests; an idle ring holds none).
    package var holdsStorage: Bool { storage != nil }

    /// Hands the storage back if the ring is empty (nothing readable). The caller knows that no
    /// bytes stored with `write(at:_:)` wait past the readable ones (on the receive side: the
    /// assembler is empty), since those are lost. The next stored byte takes storage again.
    package func releaseStorage() {
        guard count == 0, let s = storage else { return }
        storage = nil
        // Nothing is addressed relative to the head any more (see `discard`).
        head = 0
        giveBack(s)
    }

    private func giveBack(_ s: UnsafeMutableRawBufferPointer) {
        if let pool { pool.give(s) } else { s.deallocate() }
    }

    /// The storage's base address, taking the storage first if the ring has none (`nil` only
    /// for a ring of capacity 0).
    @inline(__always)
    private func storageBase() -> UnsafeMutableRawPointer? {
        if let s = storage { return s.baseAddress }
        return takeStorage()
    }

    @inline(never)
    private func takeStorage() -> UnsafeMutableRawPointer? {
        guard capacity > 0 else { return nil }
        let s = pool?.take(byteCount: capacity) ?? UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        storage = s
        return s.baseAddress
    }

    /// Room past the readable bytes: `capacity - count`.
    package var freeSpace: Int { capacity - count }
    package var isEmpty: Bool { count == 0 }
    package var isFull: Bool { count == capacity }

    // MARK: - Writing

    /// Appends as much of `bytes` as fits after the readable bytes and makes it readable.
    /// - Returns: the number of bytes appended (0 when the ring is full).
    @discardableResult
    package func write(_ bytes: UnsafeRawBufferPointer) -> Int {
        let n = Swift.min(bytes.count, freeSpace)
        guard n > 0 else { return 0 }
        copyIn(at: count, from: bytes, byteCount: n)
        count += n
        return n
    }

    /// Stores `bytes` at `offset` past the end of the readable bytes, without making them
    /// readable (out-of-order data: `offset` = `seq - RCV.NXT`). The part that does not fit in
    /// `freeSpace` is not stored. Whatever was stored there before is overwritten.
    /// - Returns: the number of bytes stored, `min(bytes.count, freeSpace - offset)`; 0 when
    ///   `offset` is negative or at/after the end of the free space.
    @discardableResult
    package func write(at offset: Int, _ bytes: UnsafeRawBufferPointer) -> Int {
        guard offset >= 0, offset < freeSpace else { return 0 }
        let n = Swift.min(bytes.count, freeSpace - offset)
        guard n > 0 else { return 0 }
        copyIn(at: count + offset, from: bytes, byteCount: n)
        return n
    }

    /// Makes the next `n` bytes past the readable ones (stored earlier with `write(at:_:)`)
    /// readable. `n` is clipped to `0...freeSpace`.
    /// - Returns: the number of bytes that became readable.
    @discardableResult
    package func commit(_ n: Int) -> Int {
        let n = Swift.max(0, Swift.min(n, freeSpace))
        guard n > 0, storageBase() != nil else { return 0 }   // readable bytes have storage behind them
        count += n
        return n
    }

    // MARK: - Reading

    /// Copies up to `buffer.count` readable bytes out and consumes them.
    /// - Returns: the number of bytes copied (0 when the ring is empty).
    @discardableResult
    package func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let n = peek(at: 0, into: buffer)
        discard(n)
        return n
    }

    /// Copies readable bytes starting at `offset` into `buffer` without consuming them.
    /// - Returns: the number of bytes copied, `min(buffer.count, count - offset)`; 0 when
    ///   `offset` is negative or not before `count`.
    @discardableResult
    package func peek(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard offset >= 0, offset < count else { return 0 }
        let n = Swift.min(buffer.count, count - offset)
        guard n > 0, let dst = buffer.baseAddress, let base = storage?.baseAddress else { return 0 }
        let start = index(offset)
        let first = Swift.min(n, capacity - start)
        dst.copyMemory(from: base + start, byteCount: first)
        if first < n {
            (dst + first).copyMemory(from: base, byteCount: n - first)
        }
        return n
    }

    /// Consumes `n` readable bytes without copying them (acknowledged bytes on the send side).
    /// `n` is clipped to `0...count`.
    /// - Returns: the number of bytes consumed.
    @discardableResult
    package func discard(_ n: Int) -> Int {
        let n = Swift.max(0, Swift.min(n, count))
        guard n > 0 else { return 0 }
        head = index(n)
        count -= n
        // The head is deliberately not reset to 0 when the ring empties: bytes stored past the
        // end with `write(at:_:)` are addressed relative to it.
        return n
    }

    // MARK: - Internals

    /// The storage index of readable offset `offset` (`0...capacity`).
    @inline(__always)
    private func index(_ offset: Int) -> Int {
        let i = head + offset
        return i >= capacity ? i - capacity : i
    }

    /// Copies `byteCount` bytes of `src` to readable offset `offset` (`offset + byteCount` must
    /// not exceed `capacity`; callers have clipped).
    @inline(__always)
    private func copyIn(at offset: Int, from src: UnsafeRawBufferPointer, byteCount n: Int) {
        guard n > 0, let s = src.baseAddress, let base = storageBase() else { return }
        let start = index(offset)
        let first = Swift.min(n, capacity - start)
        (base + start).copyMemory(from: s, byteCount: first)
        if first < n {
            base.copyMemory(from: s + first, byteCount: n - first)
        }
    }
}

@available(*, unavailable)
extension ByteRing: Sendable {}

// MARK: - [UInt8] conveniences (tests, examples; they allocate)

extension ByteRing {
    /// Appends as much of `bytes` as fits; returns the count.
    @discardableResult
    package func write(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Stores `bytes` at `offset` past the readable bytes without making them readable.
    @discardableResult
    package func write(at offset: Int, _ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { write(at: offset, $0) }
    }

    /// Reads and consumes up to `maxCount` bytes.
    package func read(maxCount: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Swift.max(0, Swift.min(maxCount, count)))
        let n = out.withUnsafeMutableBytes { read(into: $0) }
        out.removeLast(out.count - n)
        return out
    }

    /// Copies up to `maxCount` readable bytes from `offset` without consuming them.
    package func peek(at offset: Int, maxCount: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Swift.max(0, Swift.min(maxCount, count)))
        let n = out.withUnsafeMutableBytes { peek(at: offset, into: $0) }
        out.removeLast(out.count - n)
        return out
    }
}
