import Foundation
import Testing
import SluiceCore
@testable import SluiceTrace

@Suite struct TraceAnalyzerTests {
    static func segment(_ frame: Int, ms: Int64, from: SocketAddress, to: SocketAddress, seq: UInt32, ack: UInt32 = 0,
                        flags: TCPFlags = .ack, window: UInt16 = 1000, length: UInt32 = 0) -> TraceSegment {
        TraceSegment(frame: frame, time: .milliseconds(ms), source: from, destination: to, seq: seq, ack: ack,
                     flags: flags, window: window, length: length)
    }
    static let client = SocketAddress(IPv4Address(10, 1, 0, 1), 40_000)
    static let server = SocketAddress(IPv4Address(10, 1, 0, 2), 80)

    // MARK: - Stream numbering (tshark tcp.stream)

    @Test func streamsAreNumberedByFirstAppearanceAndPortReuseStartsANewOne() {
        let other = SocketAddress(IPv4Address(10, 1, 0, 3), 40_001)
        let t = TraceAnalyzer()
        t.process(Self.segment(1, ms: 0, from: Self.client, to: Self.server, seq: 100, flags: .syn))
        t.process(Self.segment(2, ms: 1, from: other, to: Self.server, seq: 500, flags: .syn))
        t.process(Self.segment(3, ms: 2, from: Self.server, to: Self.client, seq: 900, ack: 101, flags: [.syn, .ack]))
        // Retransmitted SYN, same ISN: the same connection.
        t.process(Self.segment(4, ms: 3, from: Self.client, to: Self.server, seq: 100, flags: .syn))
        // A SYN with a new ISN on the same ports: a new connection (stream 2), as tshark.
        t.process(Self.segment(5, ms: 4, from: Self.client, to: Self.server, seq: 7_000, flags: .syn))
        let r = t.finish()
        #expect(r.connections.map(\.stream) == [0, 1, 2])
        #expect(r.connections.map(\.packets) == [3, 1, 1])
        #expect(r.connections.map(\.firstFrame) == [1, 2, 5])
        #expect(r.connections[0].a == Self.client && r.connections[0].b == Self.server)
    }

    // MARK: - Bounded memory

    /// Hostile input: a flood of distinct connections never closed. The live table stays at
    /// its limit; the rest are retired early and counted.
    @Test func liveConnectionsStayWithinTheirLimit() {
        var o = TraceOptions()
        o.maxLiveConnections = 50
        let t = TraceAnalyzer(options: o)
        for i in 0..<1_000 {
            let src = SocketAddress(IPv4Address(10, 2, UInt8(i / 250), UInt8(i % 250)), 1024)
            t.process(Self.segment(i + 1, ms: Int64(i), from: src, to: Self.server, seq: UInt32(i), flags: .syn))
            #expect(t.liveConnections <= 50)
        }
        let r = t.finish()
        #expect(r.retiredEarly == 950)
        #expect(r.connections.count == 1_000)
        #expect(r.connections.map(\.stream) == Array(0..<1_000))
    }

    /// Hostile input: data never acknowledged. Wireshark's bound of 10,000 unacknowledged
    /// segments per direction holds.
    @Test func unacknowledgedSegmentsAreBounded() {
        var conv = WiresharkConversation()
        for i in 0..<12_000 {
            let s = Self.segment(i + 1, ms: Int64(i), from: Self.client, to: Self.server, seq: UInt32(1 + i * 100), length: 100)
            _ = conv.analyze(s, forward: true)
        }
        #expect(conv.flow1.unacked.count == unackedSegmentLimit)
        // One ACK for everything empties it.
        _ = conv.analyze(Self.segment(12_001, ms: 20_000, from: Self.server, to: Self.client, seq: 5, ack: UInt32(1 + 12_000 * 100)), forward: false)
        #expect(conv.flow1.unacked.count == 0)
    }

    /// Closed connections are retired after the linger time, so a long capture of many short
    /// connections keeps few live.
    @Test func closedConnectionsAreRetiredAfterLinger() {
        var o = TraceOptions()
        o.closedLinger = .seconds(1)
        let t = TraceAnalyzer(options: o)
        var frame = 0
        for i in 0..<10_000 {
            let src = SocketAddress(IPv4Address(10, 3, UInt8(i / 250), UInt8(i % 250)), 2000)
            frame += 1
            t.process(Self.segment(frame, ms: Int64(i) * 10, from: src, to: Self.server, seq: 1, flags: .rst))
        }
        #expect(t.liveConnections < 2_000)
        #expect(t.finish().connections.count == 10_000)
    }

    // MARK: - Unacknowledged segment list

    @Test func ackProcessingMatchesTheCLoop() {
        // A monotone list, then a retransmission appended out of order: the same result either way.
        var u = UnackedSegments()
        for i in 0..<5 { u.append(.init(seq: UInt32(1000 + i * 100), nextSeq: UInt32(1100 + i * 100), frame: i + 1, time: Int64(i))) }
        #expect(u.applyAck(1250)?.frame == nil)        // trims the segment 1200..<1300 to 1250
        #expect(u.count == 3)
        u.append(.init(seq: 1250, nextSeq: 1300, frame: 9, time: 9))   // retransmission
        let m = u.applyAck(1300)
        #expect(m?.frame == 3)                          // the oldest match wins, as in packet-tcp.c
        #expect(u.count == 2)
        #expect(u.applyAck(1500)?.frame == 5)
        #expect(u.isEmpty)
    }

    // MARK: - Window histogram

    @Test func medianIsExactUntilTheLimitThenBoundedAndSaysSo() {
        var h = ValueHistogram(exactLimit: 100)
        for v in [5, 1, 9, 3, 7] as [UInt64] { h.add(v) }
        #expect(h.median == 5 && h.isExact && h.min == 1 && h.max == 9)
        var big = ValueHistogram(exactLimit: 100)
        for v in 0..<10_000 as Range<UInt64> { big.add(v * 37) }
        #expect(!big.isExact)
        let m = Double(big.median ?? 0)
        let truth = Double(4_999 * 37)
        #expect(m <= truth && m >= truth * (1 - big.relativeError))
        #expect(big.min == 0 && big.max == 9_999 * 37)
    }
}
