import Crypto
import Dispatch

/// SHA-256 of the application's byte streams, computed on a thread of its own so that hashing
/// (about 1.4 GB/s on this machine: a third of a core at 4 Gbit/s) runs beside the packet loop
/// instead of inside it.
///
/// The producer (the run loop's thread) fills one chunk at a time: `chunk()` gives the chunk to
/// fill next, `submit(_:to:)` hands its first bytes to the hashing thread and moves on. Chunks are
/// used round-robin and hashed in submission order on one serial queue, so the chunk after the
/// last one submitted is always the oldest in flight; `chunk()` waits until the hashing thread has
/// released it. That wait is the pipeline's backpressure: memory stays at `chunkCount ×
/// chunkSize`, and a producer faster than the hash waits as long as it would have spent hashing
/// inline. `digest(of:)` waits for everything submitted, then finalizes that stream.
///
/// Thread discipline (hence `@unchecked Sendable`): one producer thread calls `chunk`, `submit`
/// and `digest`; the serial queue alone touches a stream's hash state between a submit and the
/// next `digest`, and reads a chunk only between its submit and the matching semaphore signal.
package final class HashPipeline: @unchecked Sendable {
    /// One stream's running SHA-256, owned by the hashing queue while chunks of it are in flight.
    package final class Stream: @unchecked Sendable {
        fileprivate var state = SHA256()
        package init() {}
    }

    package let chunkSize: Int
    private let chunks: [UnsafeMutableRawBufferPointer]
    private let queue = DispatchQueue(label: "sluice.hash")
    private let free: DispatchSemaphore
    private var next = 0
    private var holding = false

    package init(chunkSize: Int = 256 * 1024, chunkCount: Int = 4) {
        self.chunkSize = max(1, chunkSize)
        let count = max(2, chunkCount)
        chunks = (0..<count).map { _ in
            UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, chunkSize), alignment: 64)
        }
        free = DispatchSemaphore(value: count)
    }

    deinit {
        queue.sync {}
        // libdispatch traps on disposing a semaphore below its initial value.
        if holding { free.signal() }
        for chunk in chunks { chunk.deallocate() }
    }

    /// The chunk to fill next; waits until the hashing thread is done with it. The same chunk
    /// until `submit`.
    package func chunk() -> UnsafeMutableRawBufferPointer {
        if !holding {
            free.wait()
            holding = true
        }
        return chunks[next]
    }

    /// Hands the first `count` bytes of the current chunk to the hashing thread for `stream`.
    /// With `count` 0 the chunk stays the current one.
    package func submit(_ count: Int, to stream: Stream) {
        guard holding, count > 0 else { return }
        let index = next
        let length = min(count, chunkSize)
        queue.async { [self] in
            stream.state.update(bufferPointer: UnsafeRawBufferPointer(rebasing: chunks[index][..<length]))
            free.signal()
        }
        holding = false
        next = (next + 1) % chunks.count
    }

    /// The SHA-256 of everything submitted for `stream`, once the hashing thread has caught up.
    /// The stream's state is finalized (a copy), so it may go on.
    package func digest(of stream: Stream) -> SHA256.Digest {
        queue.sync { stream.state.finalize() }
    }
}
