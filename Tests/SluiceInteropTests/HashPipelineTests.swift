import Crypto
import Testing
import SluiceRandom
@testable import SluiceDrivers

/// The applications' hashing thread: whatever the chunk sizes, the order of submits and the
/// number of streams, each stream's digest is the SHA-256 of its bytes in order, as if hashed
/// inline.
@Suite struct HashPipelineTests {
    /// Three streams interleaved through a 3-chunk pipeline of 4 KiB chunks (so chunks are
    /// reused many times while earlier ones are still being hashed), with random fill lengths,
    /// empty submits and a partially filled last chunk.
    @Test(arguments: [UInt64(1), 2, 3])
    func interleavedStreamsHashAsInline(seed: UInt64) {
        print("HashPipelineTests seed \(seed)")
        var random = Xoshiro256(seed: seed)
        var bytes = SeededBytes(seed: seed)
        let pipeline = HashPipeline(chunkSize: 4096, chunkCount: 3)
        let streams = (0..<3).map { _ in HashPipeline.Stream() }
        var inline = [SHA256](repeating: SHA256(), count: 3)
        for _ in 0..<500 {
            let s = Int(random.next() % 3)
            let chunk = pipeline.chunk()
            #expect(chunk.count == 4096)
            let n = Int(random.next() % 4097)   // 0 (nothing submitted) … a full chunk
            bytes.fill(UnsafeMutableRawBufferPointer(rebasing: chunk[..<n]))
            inline[s].update(bufferPointer: UnsafeRawBufferPointer(rebasing: chunk[..<n]))
            pipeline.submit(n, to: streams[s])
        }
        for s in 0..<3 {
            #expect(Array(pipeline.digest(of: streams[s])) == Array(inline[s].finalize()), "stream \(s)")
        }
        // A stream goes on after a digest: the next digest covers everything.
        let chunk = pipeline.chunk()
        bytes.fill(UnsafeMutableRawBufferPointer(rebasing: chunk[..<100]))
        inline[0].update(bufferPointer: UnsafeRawBufferPointer(rebasing: chunk[..<100]))
        pipeline.submit(100, to: streams[0])
        #expect(Array(pipeline.digest(of: streams[0])) == Array(inline[0].finalize()))
    }

    /// `chunk()` hands out the same chunk until it is submitted, and the next one after that.
    @Test func theCurrentChunkStaysUntilSubmitted() {
        let pipeline = HashPipeline(chunkSize: 64, chunkCount: 2)
        let stream = HashPipeline.Stream()
        let a = pipeline.chunk()
        #expect(pipeline.chunk().baseAddress == a.baseAddress)
        pipeline.submit(0, to: stream)
        #expect(pipeline.chunk().baseAddress == a.baseAddress, "an empty submit keeps the chunk")
        a.storeBytes(of: 7, toByteOffset: 0, as: UInt8.self)
        pipeline.submit(1, to: stream)
        let b = pipeline.chunk()
        #expect(b.baseAddress != a.baseAddress)
        pipeline.submit(0, to: stream)
        #expect(Array(pipeline.digest(of: stream)) == Array(SHA256.hash(data: [UInt8(7)])))
        // Released while holding a chunk: no trap (libdispatch checks its semaphore's count).
    }

    @Test func anEmptyStreamHasTheEmptyDigest() {
        let pipeline = HashPipeline(chunkSize: 16, chunkCount: 2)
        #expect(Array(pipeline.digest(of: HashPipeline.Stream())) == Array(SHA256.hash(data: [UInt8]())))
    }
}
