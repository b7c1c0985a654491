import Glibc
import SluiceCore
import SluicePcap
import Testing
import SluiceTestSupport
@testable import SluiceHarness

/// The harness's pcap captures: virtual timestamps, both capture points, readable by tshark.
@Suite struct CaptureTests {
    @Test func departureCaptureHoldsEveryPacketSentAtItsVirtualTime() throws {
        let path = temporaryPath("departures.pcap")
        defer { unlink(path) }
        let pair = RawPair(LinkConfig(latency: .milliseconds(5), mtu: 100))
        try pair.net.captureDepartures(to: path)
        pair.a.send(RawPair.packet(1), at: .microseconds(1500))
        pair.a.send(RawPair.packet(2, payload: 200), at: .milliseconds(2))  // dropped (MTU): still captured
        try pair.net.runUntilIdle()
        try pair.net.closeCaptures()
        let reader = try PcapReader(path: path)
        var got: [(Instant, [UInt8])] = []
        while let r = try reader.next() { got.append((r.timestamp, Array(r.packet))) }
        #expect(got.map(\.0) == [.microseconds(1500), .milliseconds(2)])
        #expect(got.map(\.1) == [RawPair.packet(1), RawPair.packet(2, payload: 200)])
    }

    @Test func arrivalCaptureShowsTheLinksEffects() throws {
        let path = temporaryPath("arrivals.pcap")
        defer { unlink(path) }
        let pair = RawPair(LinkConfig(latency: .milliseconds(5), duplicateProbability: 1))
        try pair.net.captureArrivals(to: path)
        pair.a.send(RawPair.packet(1), at: .zero)
        try pair.net.runUntilIdle()
        try pair.net.closeCaptures()
        let reader = try PcapReader(path: path)
        var got: [(Instant, [UInt8])] = []
        while let r = try reader.next() { got.append((r.timestamp, Array(r.packet))) }
        #expect(got.map(\.0) == [.milliseconds(5), .milliseconds(5)])
        #expect(got.map(\.1) == [RawPair.packet(1), RawPair.packet(1)])
    }
}

@Suite(Prerequisites.tshark.trait)
struct CaptureTsharkTests {
    /// Corrupted copies show in the arrival capture with a bad checksum, and only there.
    @Test func tsharkSeesGoodChecksumsAtDepartureAndTheCorruptedCopiesAtArrival() throws {
        let departures = temporaryPath("dep.pcap")
        let arrivals = temporaryPath("arr.pcap")
        defer { unlink(departures); unlink(arrivals) }
        let pair = RawPair(seed: 11, LinkConfig(latency: .milliseconds(1), corruptProbability: 0.5))
        try pair.net.captureDepartures(to: departures)
        try pair.net.captureArrivals(to: arrivals)
        for n in 1...40 { pair.a.send(RawPair.packet(n, payload: 64), at: .microseconds(Int64(n) * 10)) }
        try pair.net.runUntilIdle()
        try pair.net.closeCaptures()

        let fields = ["ip.checksum.status", "tcp.checksum.status", "_ws.malformed"]
        let sent = try Tshark.rows(departures, fields: fields)
        #expect(sent.count == 40)
        #expect(sent.allSatisfy { $0 == ["1", "1", ""] })
        let arrived = try Tshark.rows(arrivals, fields: ["frame.number"] + fields)
        #expect(arrived.count == 40)
        let bad = arrived.filter { $0[1] != "1" || $0[2] != "1" }
        #expect(bad.count == pair.link.counters.corrupted)
        #expect(pair.link.counters.corrupted > 10)
    }
}
