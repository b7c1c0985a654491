/// Ring storage handed back by one endpoint's connections, kept for reuse: a ring that empties
/// and fills again (a receive ring the application drains every window, a send ring whose bytes
/// are all acknowledged between bursts) takes a buffer back from here, without a heap
/// allocation, instead of from the allocator.
///
/// **Bound.** At most `maxCached` buffers are kept (so at most `maxCached` × the larger of the
/// send and receive buffer sizes); a buffer handed back beyond that is freed at once. A bound of
/// 0 keeps nothing: every ring that drains returns its memory to the allocator.
///
/// Not thread-safe: it belongs to one endpoint, driven from one thread.
package final class RingStoragePool {
    /// The most buffers kept for reuse.
    package let maxCached: Int
    /// The kept buffers, most recently handed back last.
    @exclusivity(unchecked) private var cached: [UnsafeMutableRawBufferPointer] = []

    /// - Parameter maxCached: the most buffers kept (negative is 0).
    package init(maxCached: Int) {
        self.maxCached = Swift.max(0, maxCached)
        cached.reserveCapacity(self.maxCached)
    }

    deinit {
        for b in cached { b.deallocate() }
    }

    /// Buffers kept for reuse now.
    package var cachedCount: Int { cached.count }

    /// Bytes kept for reuse now.
    package var cachedBytes: Int {
        var total = 0
        for b in cached { total += b.count }
        return total
    }

    /// A buffer of exactly `byteCount` bytes (at least 1): the most recently kept one of that
    /// size if there is one, else a new one from the allocator.
    package func take(byteCount: Int) -> UnsafeMutableRawBufferPointer {
        if let i = cached.lastIndex(where: { $0.count == byteCount }) {
            return cached.remove(at: i)
        }
        return UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: 16)
    }

    /// Takes a buffer back (one that `take` returned): kept while fewer than `maxCached` are,
    /// else freed.
    package func give(_ buffer: UnsafeMutableRawBufferPointer) {
        if cached.count < maxCached {
            cached.append(buffer)
        } else {
            buffer.deallocate()
        }
    }
}

@available(*, unavailable)
extension RingStoragePool: Sendable {}
