import Testing
import SluiceCore
@testable import SluiceTrace

/// `sluice-bench pacing`'s measurement: 10 ms bins of the sender's payload bytes, from one round
/// trip after its first data segment to its last whole bin, against rate × 10 ms.
@Suite struct PacingBinsTests {
    static let sender = SocketAddress(IPv4Address(10, 0, 0, 1), 40_000)
    static let peer = SocketAddress(IPv4Address(10, 0, 0, 2), 5001)

    static func segment(_ frame: Int, us: Int64, from: SocketAddress, length: UInt32 = 0, flags: TCPFlags = .ack) -> TraceSegment {
        TraceSegment(frame: frame, time: .microseconds(us), source: from, destination: from == sender ? peer : sender,
                     seq: 0, ack: 0, flags: flags, window: 1000, length: length)
    }

    /// SYN at 0, SYN-ACK at 2 ms (round trip 2 ms); 1000-byte segments every 1 ms from 5 ms to
    /// 44 ms, one 1448-byte one at 30 ms, and one missing at 20 ms. The bins start at 7 ms:
    /// [7, 17) holds 10 segments, [17, 27) 9 (20 ms missing), [27, 37) 9 + 1448; [37, 47) is
    /// not whole (the last segment is at 44 ms) and is left out. At 1,000,000 B/s a bin expects
    /// 10,000 bytes.
    @Test func binsStartOneRoundTripAfterTheFirstDataSegment() throws {
        var bins = PacingBins(sender: Self.sender.address)
        var frame = 0
        func add(_ us: Int64, _ from: SocketAddress, _ length: UInt32 = 0, _ flags: TCPFlags = .ack) {
            frame += 1
            bins.add(Self.segment(frame, us: us, from: from, length: length, flags: flags))
        }
        add(0, Self.sender, 0, .syn)
        add(2_000, Self.peer, 0, [.syn, .ack])
        add(2_100, Self.sender)
        for ms in Int64(5)...44 where ms != 20 {
            add(ms * 1000, Self.sender, ms == 30 ? 1448 : 1000)
            add(ms * 1000 + 100, Self.peer)          // ACKs do not count
        }
        let result = try #require(bins.result(rateBytesPerSecond: 1_000_000))
        #expect(result.bins == [10_000, 9_000, 10_448])
        #expect(result.expectedBytes == 10_000)
        #expect(result.segmentBytes == 1448)
        #expect(result.maxDeviationBytes == 1000)
        #expect(abs(result.maxDeviationFraction - 0.1) < 1e-12)
        #expect(result.binsOff(byMoreThan: 448) == 1)
        #expect(result.binsOff(byMoreThan: 1000) == 0)
        #expect(abs(result.achievedBytesPerSecond - 29_448 / 0.030) < 1e-6)
    }

    /// A segment exactly on a boundary belongs to the later bin.
    @Test func aSegmentOnABoundaryGoesToTheLaterBin() throws {
        var bins = PacingBins(sender: Self.sender.address)
        bins.add(Self.segment(1, us: 0, from: Self.sender, flags: .syn))
        bins.add(Self.segment(2, us: 0, from: Self.peer, flags: [.syn, .ack]))   // round trip 0
        bins.add(Self.segment(3, us: 0, from: Self.sender, length: 100))
        bins.add(Self.segment(4, us: 10_000, from: Self.sender, length: 200))
        bins.add(Self.segment(5, us: 20_000, from: Self.sender, length: 300))
        let result = try #require(bins.result(rateBytesPerSecond: 10_000))
        #expect(result.bins == [100, 200])
    }

    @Test func noHandshakeOrLessThanABinGivesNoResult() {
        var bins = PacingBins(sender: Self.sender.address)
        bins.add(Self.segment(1, us: 0, from: Self.sender, length: 100))
        #expect(bins.result(rateBytesPerSecond: 1000) == nil, "nothing heard from the peer")
        bins.add(Self.segment(2, us: 1000, from: Self.peer))
        bins.add(Self.segment(3, us: 5000, from: Self.sender, length: 100))
        #expect(bins.result(rateBytesPerSecond: 1000) == nil, "less than one whole bin")
        #expect(bins.result(rateBytesPerSecond: 0) == nil)
    }
}
