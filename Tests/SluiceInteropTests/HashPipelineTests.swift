import Crypto
import Testing
import SluiceRandom
@testable import SluiceDrivers

/// The applications' hashing thread: whatever the write sizes, the order of commits and the
/// number of streams, each stream's digest is the SHA-256 of its bytes in order, as if hashed
/// inline.
@Suite struct HashPipelineTests {
    /// Three streams interleaved through a 3-chunk pipeline of 4 KiB chunks (so chunks are
    /// reused many times while earlier ones are still being hashed, and one chunk holds bytes of
    /// several streams), with random write sizes, asked-for room and empty commits.
    @Test(arguments: [UInt64(1), 2, 3])
    func interleavedStreamsHashAsInline(seed: UInt64) {
        print("HashPipelineTests seed \(seed)")
        var random = Xoshiro256(seed: seed)
        var bytes = SeededBytes(seed: seed)
        let pipeline = HashPipeline(chunkSize: 4096, chunkCount: 3)
        let streams = (0..<3).map { _ in HashPipeline.Stream() }
        var inline = [SHA256](repeating: SHA256(), count: 3)
        for _ in 0..<2000 {
            let s = Int(random.next() % 3)
            let minimum = 1 + Int(random.next() % 4096)
            let space = pipeline.space(atLeast: minimum)
            #expect(space.count >= minimum && space.count <= 4096)
            let n = Int(random.next() % UInt64(space.count + 1))   // 0 (nothing committed) … all of it
            bytes.fill(UnsafeMutableRawBufferPointer(rebasing: space[..<n]))
            inline[s].update(bufferPointer: UnsafeRawBufferPointer(rebasing: space[..<n]))
            pipeline.commit(n, to: streams[s])
            if random.next() % 200 == 0 {
                #expect(pipeline.digest(of: streams[s]).map { Array($0) } == Array(inline[s].finalize()), "stream \(s) midway")
            }
        }
        for s in 0..<3 {
            #expect(pipeline.digest(of: streams[s]).map { Array($0) } == Array(inline[s].finalize()), "stream \(s)")
        }
    }

    /// `space()` is the same until a commit; a commit moves it on by what was committed; a chunk
    /// with too little room left for `atLeast` is handed over and the next one starts empty.
    @Test func spaceMovesWithCommits() {
        let pipeline = HashPipeline(chunkSize: 64, chunkCount: 2)
        let stream = HashPipeline.Stream()
        let a = pipeline.space()
        #expect(a.count == 64)
        #expect(pipeline.space().baseAddress == a.baseAddress)
        pipeline.commit(0, to: stream)
        #expect(pipeline.space().baseAddress == a.baseAddress, "an empty commit keeps the space")
        a.storeBytes(of: 7, toByteOffset: 0, as: UInt8.self)
        pipeline.commit(1, to: stream)
        let b = pipeline.space()
        #expect(b.baseAddress == a.baseAddress.map { $0 + 1 } && b.count == 63)
        let c = pipeline.space(atLeast: 64)
        #expect(c.count == 64 && c.baseAddress != a.baseAddress, "the other chunk")
        #expect(pipeline.digest(of: stream).map { Array($0) } == Array(SHA256.hash(data: [UInt8(7)])))
        // Released while holding a chunk: no trap (libdispatch checks its semaphore's count).
    }

    @Test func anEmptyStreamHasTheEmptyDigest() {
        let pipeline = HashPipeline(chunkSize: 16, chunkCount: 2)
        #expect(pipeline.digest(of: HashPipeline.Stream()).map { Array($0) } == Array(SHA256.hash(data: [UInt8]())))
    }

    /// `--no-digest`: the chunks are still the staging space, handed back at once (so a producer
    /// never waits on them, however many it fills), and there is no digest.
    @Test func countingOnlyReusesChunksAndHasNoDigest() {
        let pipeline = HashPipeline(chunkSize: 64, chunkCount: 2, hashing: false)
        let stream = HashPipeline.Stream()
        var seen: Set<UnsafeMutableRawPointer> = []
        for round in 0..<10 {
            let space = pipeline.space(atLeast: 64)
            #expect(space.count == 64, "round \(round)")
            if let base = space.baseAddress { seen.insert(base) }
            pipeline.commit(64, to: stream)   // a full chunk: handed back, not hashed
        }
        #expect(seen.count == 2, "the two chunks, in turn")
        #expect(pipeline.digest(of: stream) == nil)
    }
}
