import SluiceCore
import SluiceRandom

/// Draws the storage tests make from the package's seeded generator.
extension SplitMix64 {
    mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func chance(_ percent: Int) -> Bool { int(0..<100) < percent }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &self) } }
}

// MARK: - ByteRing model

/// The obviously-correct model of a `ByteRing`: the readable bytes as a plain array, and the
/// bytes stored past them (`nil` where unknown: never written, or freed by a read).
struct RingModel {
    let capacity: Int
    var readable: [UInt8?] = []
    var beyond: [UInt8?]

    init(capacity: Int) {
        self.capacity = max(0, capacity)
        beyond = Array(repeating: nil, count: self.capacity)
    }
    var count: Int { readable.count }
    var freeSpace: Int { capacity - readable.count }

    mutating func write(_ bytes: [UInt8]) -> Int {
        let n = min(bytes.count, freeSpace)
        readable += bytes[..<n].map { Optional($0) }
        beyond.removeFirst(n)
        return n
    }
    mutating func write(at offset: Int, _ bytes: [UInt8]) -> Int {
        guard offset >= 0, offset < freeSpace else { return 0 }
        let n = min(bytes.count, freeSpace - offset)
        for i in 0..<n { beyond[offset + i] = bytes[i] }
        return n
    }
    mutating func commit(_ n: Int) -> Int {
        let n = max(0, min(n, freeSpace))
        readable += beyond[..<n]
        beyond.removeFirst(n)
        return n
    }
    func peek(at offset: Int, maxCount: Int) -> [UInt8?] {
        guard offset >= 0, offset < count, maxCount > 0 else { return [] }
        return Array(readable[offset ..< min(count, offset + maxCount)])
    }
    mutating func discard(_ n: Int) -> Int {
        let n = max(0, min(n, count))
        readable.removeFirst(n)
        beyond += Array(repeating: nil, count: n)
        return n
    }
    /// `ByteRing.releaseStorage()`: when nothing is readable, the bytes stored past are gone.
    mutating func releaseStorage() {
        if count == 0 { beyond = Array(repeating: nil, count: capacity) }
    }
}

/// True when `actual` matches `expected` wherever the model knows the byte.
func storageBytesMatch(_ actual: [UInt8], _ expected: [UInt8?]) -> Bool {
    actual.count == expected.count && zip(actual, expected).allSatisfy { $1 == nil || $0 == $1 }
}

/// Runs `steps` random ring operations against the model; returns the first mismatch, if any.
/// The ring's storage is handed back now and then (`releaseStorage`) to a pool it shares with
/// a second ring, which reuses it meanwhile: reacquired storage (holding the other ring's old
/// bytes) must give the same answers as fresh storage.
func runByteRingModel(seed: UInt64, steps: Int) -> String? {
    var rng = SplitMix64(seed: seed)
    let capacity = rng.chance(10) ? rng.int(0...3) : rng.int(1...300)
    let pool = RingStoragePool(maxCached: rng.int(0...2))
    let ring = ByteRing(capacity: capacity, pool: pool)
    let neighbour = ByteRing(capacity: capacity, pool: pool)
    var model = RingModel(capacity: capacity)
    func size() -> Int {
        switch rng.int(0..<10) {
        case 0: return rng.int(-5...0)                  // hostile: negative or empty
        case 1: return rng.int(capacity...capacity + 50) // larger than the ring
        default: return rng.int(0...max(1, capacity / 2))
        }
    }
    for step in 0..<steps {
        let what = rng.int(0..<7)
        var got = 0, want = 0
        var op = ""
        switch what {
        case 0:
            let b = rng.bytes(max(0, size()))
            op = "write(\(b.count))"
            got = ring.write(b); want = model.write(b)
        case 1:
            let offset = rng.chance(10) ? rng.int(-10...capacity + 10) : rng.int(0...max(0, model.freeSpace))
            let b = rng.bytes(max(0, size()))
            op = "write(at: \(offset), \(b.count))"
            got = ring.write(at: offset, b); want = model.write(at: offset, b)
        case 2:
            let n = size()
            op = "commit(\(n))"
            got = ring.commit(n); want = model.commit(n)
        case 3:
            let n = size()
            op = "read(\(n))"
            let out = ring.read(maxCount: n)
            let expected = model.peek(at: 0, maxCount: n)
            _ = model.discard(expected.count)
            if !storageBytesMatch(out, expected) { return "seed \(seed) step \(step): \(op) returned wrong bytes" }
            got = out.count; want = expected.count
        case 4:
            let offset = rng.chance(10) ? rng.int(-10...capacity + 10) : rng.int(0...max(0, model.count))
            let n = size()
            op = "peek(at: \(offset), \(n))"
            let out = ring.peek(at: offset, maxCount: n)
            let expected = model.peek(at: offset, maxCount: n)
            if !storageBytesMatch(out, expected) { return "seed \(seed) step \(step): \(op) returned wrong bytes" }
            got = out.count; want = expected.count
        case 5:
            let n = size()
            op = "discard(\(n))"
            got = ring.discard(n); want = model.discard(n)
        default:
            op = "releaseStorage() with count \(ring.count)"
            ring.releaseStorage(); model.releaseStorage()
            if ring.count == 0 && ring.holdsStorage { return "seed \(seed) step \(step): \(op) kept the storage" }
            // The neighbour takes a buffer (the released one, if kept), scribbles on it and hands it back.
            neighbour.write(rng.bytes(capacity))
            neighbour.releaseStorage()
            neighbour.discard(capacity)
            neighbour.releaseStorage()
        }
        if got != want { return "seed \(seed) step \(step): \(op) returned \(got), model \(want)" }
        if ring.count > 0 && !ring.holdsStorage { return "seed \(seed) step \(step): after \(op) readable bytes without storage" }
        if pool.cachedCount > pool.maxCached { return "seed \(seed) step \(step): pool holds \(pool.cachedCount) > \(pool.maxCached)" }
        if ring.count != model.count || ring.freeSpace != model.freeSpace || ring.capacity != capacity {
            return "seed \(seed) step \(step): after \(op) count \(ring.count) free \(ring.freeSpace), model \(model.count) \(model.freeSpace)"
        }
    }
    return nil
}

// MARK: - Assembler model

/// The obviously-correct model of an `Assembler` (as smoltcp tests its assembler): one flag per
/// byte past RCV.NXT, with the same policy for the range limit.
struct AssemblerBitmapModel {
    let maxRanges: Int
    var bits: [Bool] = []

    var ranges: [Range<Int>] {
        var out: [Range<Int>] = []
        var i = 0
        while i < bits.count {
            if bits[i] {
                var j = i
                while j < bits.count && bits[j] { j += 1 }
                out.append(i..<j)
                i = j
            } else {
                i += 1
            }
        }
        return out
    }

    mutating func add(offset: Int, length: Int) -> AssemblerOutcome {
        let end = offset + length
        guard length > 0, end > 0 else { return .duplicate }
        let start = max(0, offset)
        if bits.count < end + 1 { bits += Array(repeating: false, count: end + 1 - bits.count) }
        if (start..<end).allSatisfy({ bits[$0] }) { return .duplicate }
        let touches = (max(0, start - 1)...end).contains { bits[$0] }
        if start > 0 && !touches && ranges.count >= maxRanges { return .rejected(.rangeLimit) }
        for i in start..<end { bits[i] = true }
        var k = 0
        while k < bits.count && bits[k] { k += 1 }
        guard k > 0 else { return .stored }
        bits.removeFirst(k)
        return .advanced(k)
    }
}

/// Runs `steps` random inserts into an assembler and the bitmap model; returns the first
/// mismatch, if any.
func runAssemblerModel(seed: UInt64, steps: Int) -> String? {
    var rng = SplitMix64(seed: seed)
    let window = rng.int(8...256)
    let maxRanges = rng.chance(20) ? rng.int(0...2) : rng.int(1...12)
    let segment = rng.int(1...max(1, window / 4))
    var assembler = Assembler(maxRanges: maxRanges)
    var model = AssemblerBitmapModel(maxRanges: maxRanges)
    for step in 0..<steps {
        let offset: Int
        switch rng.int(0..<10) {
        case 0: offset = 0                       // the next expected segment
        case 1: offset = rng.int(-segment...0)   // partly old data
        default: offset = rng.int(0..<window)
        }
        let length = min(rng.int(0...segment), window - offset)   // clipped to the window
        let got = assembler.add(offset: offset, length: length)
        let want = model.add(offset: offset, length: length)
        let op = "add(offset: \(offset), length: \(length)) window \(window) maxRanges \(maxRanges)"
        if got != want { return "seed \(seed) step \(step): \(op) -> \(got), model \(want)" }
        if assembler.ranges != model.ranges {
            return "seed \(seed) step \(step): \(op) ranges \(assembler.ranges), model \(model.ranges)"
        }
        let problems = assembler.checkInvariants(window: window)
        if !problems.isEmpty { return "seed \(seed) step \(step): \(op) invariants: \(problems)" }
    }
    return nil
}

/// Delivers a random byte stream through a receive ring and an assembler, segments arriving out
/// of order, duplicated and overlapping (as the connection will); returns a mismatch, if any.
/// As the connection does, the ring hands its storage back whenever it is empty with nothing
/// held out of order, to a pool of one buffer (taken back by the next segment).
func runReassembly(seed: UInt64, streamLength: Int) -> String? {
    var rng = SplitMix64(seed: seed)
    let stream = rng.bytes(streamLength)
    let capacity = rng.int(64...4096)
    let ring = ByteRing(capacity: capacity, pool: RingStoragePool(maxCached: 1))
    var assembler = Assembler(maxRanges: rng.int(1...8))
    let mss = rng.int(1...max(1, capacity / 4))
    var received: [UInt8] = []
    var rcvNxt = 0   // stream position of RCV.NXT
    var guardSteps = 0
    while received.count < streamLength {
        guardSteps += 1
        if guardSteps > 50 * streamLength + 1000 { return "seed \(seed): no progress at \(received.count)" }
        // The window is the ring's free space (RFC 9293 §3.8.6: RCV.WND = buffer room).
        let window = ring.freeSpace
        if window > 0 {
            // A segment somewhere in [RCV.NXT - mss, RCV.NXT + window), like a sender in recovery.
            let seq = rng.chance(25) ? rcvNxt : rcvNxt + rng.int(-mss ..< window)
            let len = rng.int(1...mss)
            let lo = max(seq, rcvNxt), hi = min(seq + len, rcvNxt + window, streamLength)
            if lo < hi {
                let stored = Array(stream[lo..<hi]).withUnsafeBytes { ring.write(at: lo - rcvNxt, $0) }
                if stored != hi - lo { return "seed \(seed): stored \(stored) of \(hi - lo)" }
                switch assembler.add(offset: lo - rcvNxt, length: hi - lo) {
                case .advanced(let n):
                    if ring.commit(n) != n { return "seed \(seed): commit \(n) failed" }
                    rcvNxt += n
                case .stored, .duplicate, .rejected(.rangeLimit): break
                case .rejected(.invalidRange): return "seed \(seed): invalid range"
                }
            }
        }
        if rng.chance(30) || ring.freeSpace == 0 {
            received += ring.read(maxCount: rng.int(1...capacity))
            if ring.isEmpty && assembler.isEmpty {
                ring.releaseStorage()
                if ring.holdsStorage { return "seed \(seed): an empty ring kept its storage" }
            }
        }
        let problems = assembler.checkInvariants(window: ring.freeSpace)
        if !problems.isEmpty { return "seed \(seed): invariants \(problems)" }
    }
    return received == stream ? nil : "seed \(seed): received bytes differ from the stream"
}
