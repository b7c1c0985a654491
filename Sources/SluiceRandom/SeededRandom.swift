/// The package's seeded randomness, in one place: every deterministic stream of bytes or decisions
/// (the harness's links and byte streams, `sluice-send --bytes --seed`, the randomized tests)
/// comes from these two generators, so a seed printed by a failing test or given on a command
/// line reproduces the same run anywhere. No clock, no system entropy, no Foundation.
///
/// Their outputs are pinned by `SeededRandomTests`: the bytes `--seed` produces and the harness
/// digests depend on them and must not change.

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny generator used to expand one seed into many
/// independent seeds, and to derive deterministic values (initial sequence numbers, streams).
/// The seeded generator for tests: `var rng = SplitMix64(seed: seed)`, and print the seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    @inlinable public init(seed: UInt64) { state = seed }

    @inlinable public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// The SplitMix64 finalizer: a bijective 64-bit hash.
    @inlinable public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman, Vigna 2018): the harness's random stream. Each link owns one,
/// seeded from the harness seed and the link's endpoints, so that adding a link or changing one
/// link's impairments does not shift the random decisions of another.
public struct Xoshiro256: RandomNumberGenerator, Sendable {
    @usableFromInline var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
    }

    @inlinable public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform `Double` in [0, 1) from the top 53 bits.
    @inlinable public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// `true` with probability `p`. Draws nothing when `p <= 0`, so a link without an impairment
    /// consumes no randomness for it.
    @inlinable public mutating func chance(_ p: Double) -> Bool {
        guard p > 0 else { return false }
        return nextUnit() < p
    }

    /// A uniform integer in `0..<bound` (`bound > 0`), by Lemire's multiply-shift (bias ≤ 2^-64·bound).
    @inlinable public mutating func below(_ bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }
}

/// The bytes of a `SplitMix64` stream: the little-endian bytes of successive outputs, read in
/// pieces of any size (`sluice-send --bytes N --seed S` sends exactly these, so any program can
/// reproduce them).
package struct SeededBytes: Sendable {
    private var generator: SplitMix64
    private var word: UInt64 = 0
    private var wordBytesLeft = 0

    package init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    /// Fills `buffer` with the next `buffer.count` bytes.
    ///
    /// Word-wide: whole outputs are stored eight bytes at a time (unaligned stores are allowed
    /// for `storeBytes`, SE-0349); only the rest of a word split by the previous fill and a tail
    /// shorter than a word go byte by byte, the tail's unused bytes kept for the next fill. So
    /// the stream is the same however it is cut (SeededRandomTests, PayloadTests pin it); this is
    /// sluice-send's `--seed` payload generator, 8× fewer steps than a byte loop.
    package mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        let n = buffer.count
        guard n > 0, let base = buffer.baseAddress else { return }
        var i = 0
        while i < n, wordBytesLeft > 0 {
            base.storeBytes(of: UInt8(truncatingIfNeeded: word), toByteOffset: i, as: UInt8.self)
            word >>= 8
            wordBytesLeft -= 1
            i += 1
        }
        var g = generator
        // Four words a turn from four states computed apart (state + k·γ), so the four
        // multiply chains run side by side instead of one after another, and the loop's own
        // checks are paid once per 32 bytes: the same outputs in the same order, about twice
        // as fast (this loop was 44% of sluice-send's samples in the TUN offload mode).
        let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15
        var state = g.state
        while n &- i >= 32 {
            let w0 = SplitMix64.mix(state &+ gamma)
            let w1 = SplitMix64.mix(state &+ gamma &* 2)
            let w2 = SplitMix64.mix(state &+ gamma &* 3)
            state = state &+ gamma &* 4
            let w3 = SplitMix64.mix(state)
            base.storeBytes(of: w0.littleEndian, toByteOffset: i, as: UInt64.self)
            base.storeBytes(of: w1.littleEndian, toByteOffset: i &+ 8, as: UInt64.self)
            base.storeBytes(of: w2.littleEndian, toByteOffset: i &+ 16, as: UInt64.self)
            base.storeBytes(of: w3.littleEndian, toByteOffset: i &+ 24, as: UInt64.self)
            i &+= 32
        }
        g.state = state
        while n - i >= 8 {
            base.storeBytes(of: g.next().littleEndian, toByteOffset: i, as: UInt64.self)
            i += 8
        }
        if i < n {
            var w = g.next()
            wordBytesLeft = 8
            while i < n {
                base.storeBytes(of: UInt8(truncatingIfNeeded: w), toByteOffset: i, as: UInt8.self)
                w >>= 8
                wordBytesLeft -= 1
                i += 1
            }
            word = w
        }
        generator = g
    }

    /// The next `count` bytes.
    package mutating func next(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { fill($0) }
        return out
    }
}
