import Crypto
import Dispatch

/// SHA-256 of the application's byte streams, computed on a thread of its own so that hashing
/// (about 1.4 GB/s on this machine: a third of a core at 4 Gbit/s) runs beside the packet loop
/// instead of inside it.
///
/// The producer (the run loop's thread) writes into the free part of the current chunk
/// (`space()`) and commits what it wrote to a stream (`commit(_:to:)`); one chunk may hold the
/// bytes of several streams, in order. A chunk goes to the hashing thread as one task when it is
/// full, or when a digest is asked for, so a reader of a few segments per wake-up does not wake
/// the hashing thread each time. Chunks are used round-robin and hashed in order on one serial
/// queue, so the next chunk is always the oldest in flight; `space()` waits until the hashing
/// thread has released it. That wait is the pipeline's backpressure: memory stays at
/// `chunkCount × chunkSize`, and a producer faster than the hash waits as long as it would have
/// spent hashing inline. `digest(of:)` hands over what is committed, waits for it, and
/// finalizes that stream.
///
/// With `hashing: false` (`--no-digest`: a throughput run that only counts bytes, content being
/// checked in a run of its own) the chunks are the same staging and read buffers, handed back at
/// once instead of hashed, and `digest(of:)` is `nil`.
///
/// Thread discipline (hence `@unchecked Sendable`): one producer thread calls `space`, `commit`
/// and `digest`; between a chunk's hand-over and its semaphore signal only the serial queue
/// touches that chunk and the hash states of the streams in it.
package final class HashPipeline: @unchecked Sendable {
    /// One stream's running SHA-256, owned by the hashing queue while bytes of it are in flight.
    package final class Stream: @unchecked Sendable {
        fileprivate var state = SHA256()
        package init() {}
    }

    package let chunkSize: Int
    /// Whether committed bytes are hashed (`false`: counted only, `digest(of:)` is `nil`).
    package let hashing: Bool
    private let chunks: [UnsafeMutableRawBufferPointer]
    private let queue = DispatchQueue(label: "sluice.hash")
    private let free: DispatchSemaphore
    /// The current chunk, whether the producer holds it (waited for it), and how much of it is
    /// committed.
    private var current = 0
    private var holding = false
    private var filled = 0
    /// The committed ranges of the current chunk, in order, not yet handed over.
    private var pending: [(stream: Stream, range: Range<Int>)] = []

    package init(chunkSize: Int = 256 * 1024, chunkCount: Int = 4, hashing: Bool = true) {
        self.chunkSize = max(1, chunkSize)
        self.hashing = hashing
        let count = max(2, chunkCount)
        chunks = (0..<count).map { _ in
            UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, chunkSize), alignment: 64)
        }
        free = DispatchSemaphore(value: count)
        pending.reserveCapacity(64)
    }

    deinit {
        queue.sync {}
        // libdispatch traps on disposing a semaphore below its initial value.
        if holding { free.signal() }
        for chunk in chunks { chunk.deallocate() }
    }

    /// The free part of the current chunk, at least `minimum` bytes (at most a chunk): a chunk
    /// with less room left is handed over first. Waits until the hashing thread is done with the
    /// chunk when it is a new one. The same space until `commit`.
    package func space(atLeast minimum: Int = 1) -> UnsafeMutableRawBufferPointer {
        if holding, chunkSize - filled < max(1, min(minimum, chunkSize)) { handOver() }
        if !holding {
            free.wait()
            holding = true
            filled = 0
        }
        return UnsafeMutableRawBufferPointer(rebasing: chunks[current][filled...])
    }

    /// The first `count` bytes of `space()` belong to `stream`, after its earlier ones. A full
    /// chunk goes to the hashing thread.
    package func commit(_ count: Int, to stream: Stream) {
        guard holding, count > 0 else { return }
        let end = min(chunkSize, filled + count)
        if let last = pending.last, last.stream === stream, last.range.upperBound == filled {
            pending[pending.count - 1].range = last.range.lowerBound..<end
        } else {
            pending.append((stream, filled..<end))
        }
        filled = end
        if filled == chunkSize { handOver() }
    }

    /// The SHA-256 of everything committed for `stream`, once the hashing thread has caught up
    /// (`nil` when not `hashing`). The stream's state is finalized (a copy), so it may go on.
    package func digest(of stream: Stream) -> SHA256.Digest? {
        if !pending.isEmpty { handOver() }
        guard hashing else { return nil }
        return queue.sync { stream.state.finalize() }
    }

    /// Gives the current chunk's committed ranges to the hashing thread and moves to the next
    /// chunk (waited for by the next `space()`).
    private func handOver() {
        guard holding else { return }
        guard !pending.isEmpty else {
            filled = 0   // nothing committed: the chunk stays
            return
        }
        let chunk = chunks[current]
        holding = false
        current = (current + 1) % chunks.count
        guard hashing else {
            pending.removeAll(keepingCapacity: true)
            free.signal()   // counted only: the chunk is free at once
            return
        }
        let ranges = pending
        pending.removeAll(keepingCapacity: true)
        let box = Ranges(chunk: chunk, ranges: ranges)
        queue.async { [free] in
            for (stream, range) in box.ranges {
                stream.state.update(bufferPointer: UnsafeRawBufferPointer(rebasing: box.chunk[range]))
            }
            free.signal()
        }
    }

    /// A chunk and its ranges, handed to the hashing thread (which alone reads them until it
    /// signals the chunk free).
    private final class Ranges: @unchecked Sendable {
        let chunk: UnsafeMutableRawBufferPointer
        let ranges: [(stream: Stream, range: Range<Int>)]
        init(chunk: UnsafeMutableRawBufferPointer, ranges: [(stream: Stream, range: Range<Int>)]) {
            self.chunk = chunk
            self.ranges = ranges
        }
    }
}
