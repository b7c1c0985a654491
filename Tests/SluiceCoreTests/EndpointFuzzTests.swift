import Testing
@testable import SluiceCore
import SluiceRandom

/// Hostile peers: random segments near and far from the window, in every flag combination,
/// thrown at an established connection and at a listener. Nothing traps, every invariant holds
/// after every segment, and memory stays within the configured bounds.
enum EndpointFuzz {
    /// Plays `count` random segments at a connection made by `makeEstablished`; returns the
    /// invariant violations found (with the seed).
    static func run(seed: UInt64, count: Int) -> [String] {
        var rng = SplitMix64(seed: seed)
        let config = EngineTest.config {
            $0.connection.maxReassemblyRanges = 4
            $0.connection.sackEnabled = seed % 2 == 0
            $0.connection.timestampsEnabled = seed % 3 == 0
            $0.connection.windowScaleEnabled = seed % 5 == 0
            $0.connection.segmentationOffloadBytes = seed % 7 < 3 ? 65_535 : 0   // TSO on some seeds
            $0.maxConnections = 4
        }
        let (t, id) = EngineTest.makeEstablished(config: config)
        _ = t.write(id, streamBytes(0..<3000))
        var problems: [String] = []
        var now = Instant.milliseconds(20)
        let flagChoices: [TCPFlags] = [.ack, [.ack, .psh], [.ack, .fin], .rst, [.rst, .ack], .syn, [.syn, .ack], [.syn, .fin], [], .fin]
        for i in 0..<count {
            now += .microseconds(Int64(rng.next() % 20_000))
            let near = rng.next() % 4 != 0
            let seqBase = near ? peerISS &+ 1 : UInt32(truncatingIfNeeded: rng.next())
            let seq = seqBase &+ UInt32(truncatingIfNeeded: Int32(Int(rng.next() % 12_000) - 2000))
            let ack = near ? ourISS &+ UInt32(rng.next() % 3200) : UInt32(truncatingIfNeeded: rng.next())
            let length = rng.next() % 3 == 0 ? 0 : Int(rng.next() % 1500)
            var options = TCPOptions()
            if rng.next() % 4 == 0 { options.timestamps = TCPTimestamps(value: UInt32(truncatingIfNeeded: rng.next()), echoReply: 0) }
            if rng.next() % 4 == 0 {
                let left = SequenceNumber(ourISS &+ UInt32(rng.next() % 4000))
                options.sackBlocks = SACKBlocks([SACKBlock(left: left, right: left + Int(rng.next() % 3000))])
            }
            if rng.next() % 8 == 0 { options.maximumSegmentSize = UInt16(truncatingIfNeeded: rng.next()) }
            if rng.next() % 8 == 0 { options.windowScale = UInt8(truncatingIfNeeded: rng.next() % 20) }
            let flags = flagChoices[Int(rng.next() % UInt64(flagChoices.count))]
            let payload = streamBytes(Int(seq)..<Int(seq) + length)
            let from = rng.next() % 16 == 0 ? SocketAddress(EngineTest.peerAddress, UInt16(truncatingIfNeeded: rng.next() | 1)) : t.peer
            t.send(Seg(flags: flags, seq: seq, ack: ack, window: UInt16(truncatingIfNeeded: rng.next()), options: options, payload: payload),
                   at: now, from: from)
            if rng.next() % 3 == 0 { _ = t.read(id, max: Int(rng.next() % 3000)) }
            if rng.next() % 5 == 0 { _ = t.write(id, streamBytes(0..<Int(rng.next() % 2000))) }
            if let d = t.endpoint.nextDeadline, d <= now { t.endpoint.handleTimeout(at: now) }
            var sent = 0
            while t.transmit(at: now) != nil && sent < 1000 { sent += 1 }
            _ = t.events()
            for p in t.endpoint.checkInvariants() where problems.count < 10 {
                problems.append("seed \(seed) step \(i): \(p)")
            }
            if let stats = t.endpoint.stats(of: id) {
                if stats.sendBufferBytes > 4096 || stats.receiveBufferBytes > 4096 {
                    problems.append("seed \(seed) step \(i): buffers past their bounds")
                }
            }
            if t.endpoint.connectionCount > 4 { problems.append("seed \(seed) step \(i): table past its bound") }
            if problems.count >= 10 { break }
        }
        return problems
    }
}

@Suite struct EndpointFuzzTests {
    @Test(arguments: 0..<4)
    func randomSegmentsKeepInvariants(seed: Int) {
        let problems = EndpointFuzz.run(seed: UInt64(seed), count: 1500)
        #expect(problems.isEmpty, "\(problems)")
    }
}

@Suite struct EndpointFuzzHeavyTests {
    @Test(arguments: 100..<164)
    func randomSegmentsKeepInvariants(seed: Int) {
        let problems = EndpointFuzz.run(seed: UInt64(seed), count: 50_000)
        #expect(problems.isEmpty, "\(problems)")
    }
}
