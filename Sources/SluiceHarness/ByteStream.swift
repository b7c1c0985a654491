import SluiceRandom

/// A deterministic pseudo-random byte stream of unbounded length, named by a seed: what a bulk
/// sender offers and what a receiver checks against.
///
/// Byte `i` is `block[i % P] ^ UInt8(truncatingIfNeeded: i / P)`, where `block` is `P` random
/// bytes from the seed and `P` is the prime 65 521: any shift, duplication or loss of bytes
/// shows, the pattern repeats only every `P × 256` bytes (16 MiB), and filling a buffer is a copy
/// and an XOR (fast enough for the throughput benchmark).
public struct ByteStream: Sendable, Hashable {
    public let seed: UInt64
    private let block: [UInt8]

    public init(seed: UInt64) {
        self.seed = seed
        var bytes = SeededBytes(seed: seed)
        block = bytes.next(period)
    }

    /// Byte number `offset` of the stream.
    public func byte(at offset: Int) -> UInt8 {
        block[offset % period] ^ UInt8(truncatingIfNeeded: offset / period)
    }

    /// The bytes in `range`.
    public func bytes(_ range: Range<Int>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: range.count)
        out.withUnsafeMutableBytes { fill($0, from: range.lowerBound) }
        return out
    }

    /// Fills `buffer` with the stream's bytes starting at `offset`.
    public func fill(_ buffer: UnsafeMutableRawBufferPointer, from offset: Int) {
        block.withUnsafeBytes { src in
            _ = forEachRun(from: offset, count: buffer.count) { start, done, n, key -> Never? in
                var i = 0
                while i + 8 <= n {
                    let w = src.loadUnaligned(fromByteOffset: start + i, as: UInt64.self) ^ key
                    buffer.storeBytes(of: w, toByteOffset: done + i, as: UInt64.self)
                    i += 8
                }
                while i < n {
                    buffer[done + i] = src[start + i] ^ UInt8(truncatingIfNeeded: key)
                    i += 1
                }
                return nil
            }
        }
    }

    /// The offset in the stream of the first byte of `buffer` that differs from the stream
    /// (`buffer` holding the bytes from `offset` on), or `nil` when all match.
    public func firstMismatch(_ buffer: UnsafeRawBufferPointer, at offset: Int) -> Int? {
        block.withUnsafeBytes { src in
            forEachRun(from: offset, count: buffer.count) { start, done, n, key -> Int? in
                var i = 0
                while i + 8 <= n {
                    let want = src.loadUnaligned(fromByteOffset: start + i, as: UInt64.self) ^ key
                    if buffer.loadUnaligned(fromByteOffset: done + i, as: UInt64.self) != want { break }
                    i += 8
                }
                while i < n {
                    if buffer[done + i] != src[start + i] ^ UInt8(truncatingIfNeeded: key) { return offset + done + i }
                    i += 1
                }
                return nil
            }
        }
    }

    /// Walks `count` bytes of the stream from `offset` in runs that stay within one lap of the
    /// block: `body(start, done, n, key)` covers block bytes `start..<start + n`, which are
    /// stream bytes `offset + done ..< offset + done + n`, XORed with `key` (the lap number in
    /// every byte). Stops at the first run for which `body` returns a value, and returns it.
    @inline(__always)
    private func forEachRun<Result>(from offset: Int, count: Int,
                                    _ body: (_ start: Int, _ done: Int, _ n: Int, _ key: UInt64) -> Result?) -> Result? {
        var done = 0
        while done < count {
            let pos = offset + done
            let start = pos % period
            let n = min(period - start, count - done)
            let key = UInt64(UInt8(truncatingIfNeeded: pos / period)) &* 0x0101_0101_0101_0101
            if let result = body(start, done, n, key) { return result }
            done += n
        }
        return nil
    }
}

/// Stream period: the largest prime below 2^16.
private let period = 65_521
