import Foundation
import Glibc
import Testing
import SluiceTestSupport
import SluiceCore
@testable import SluicePcap

/// A Sluice-written pcap is a normal pcap: tshark decodes it as IPv4/TCP, verifies the checksums
/// and finds nothing malformed. Skipped where tshark is missing, except in CI.
@Suite(Prerequisites.tshark.trait)
struct PcapTsharkTests {
    @Test func tsharkDecodesSluiceWrittenPcapWithGoodChecksums() throws {
        let path = temporaryPath("tshark.pcap")
        defer { unlink(path) }
        let writer = try PcapWriter(path: path)
        for (i, p) in KnownPackets.all.enumerated() {
            writer.write(p, timestamp: Instant(nanoseconds: 1_795_000_000_000_000_000 + Int64(i) * 1_000_001))
        }
        try writer.close()

        let rows = try Tshark.rows(path, fields: [
            "frame.number", "frame.time_epoch", "ip.proto", "ip.checksum.status", "tcp.checksum.status",
            "tcp.len", "_ws.malformed",
        ])
        // checksum status 1 is "good" (0 bad, 2 unverified).
        #expect(rows == [
            ["1", "1795000000.000000000", "6", "1", "1", "0", ""],
            ["2", "1795000000.001000001", "6", "1", "1", "0", ""],
            ["3", "1795000000.002000002", "6", "1", "1", "0", ""],
            ["4", "1795000000.003000003", "6", "1", "1", "100", ""],
            ["5", "1795000000.004000004", "6", "1", "1", "0", ""],
        ])
    }

    /// Packets made by the wire encoder (every option Sluice emits) written by the writer:
    /// tshark decodes them with good checksums and the options Sluice put in.
    @Test func tsharkDecodesEncoderMadePackets() throws {
        let path = temporaryPath("encoded.pcap")
        defer { unlink(path) }
        let ip = IPv4Header(source: IPv4Address(10, 0, 0, 1), destination: IPv4Address(10, 0, 0, 2))
        let syn = TCPHeader(
            sourcePort: 40000, destinationPort: 5001, sequenceNumber: SequenceNumber(UInt32.max - 10),
            flags: .syn, window: 65535,
            options: TCPOptions(maximumSegmentSize: 1460, windowScale: 7, sackPermitted: true,
                                timestamps: TCPTimestamps(value: 1, echoReply: 0)))
        let sack = TCPHeader(
            sourcePort: 40000, destinationPort: 5001, sequenceNumber: SequenceNumber(5),
            acknowledgmentNumber: SequenceNumber(1000), flags: [.ack, .psh], window: 512,
            options: TCPOptions(sackBlocks: SACKBlocks([
                SACKBlock(left: SequenceNumber(2000), right: SequenceNumber(3000)),
                SACKBlock(left: SequenceNumber(4000), right: SequenceNumber(5000)),
                SACKBlock(left: SequenceNumber(6000), right: SequenceNumber(7000)),
            ]), timestamps: TCPTimestamps(value: 9, echoReply: 8)))
        let packets = [
            IPv4TCPPacket.encode(ip: ip, tcp: syn),
            IPv4TCPPacket.encode(ip: ip, tcp: sack, payload: (0..<1000).map { UInt8(truncatingIfNeeded: $0) }),
        ]
        #expect(packets.allSatisfy { !$0.isEmpty })
        let writer = try PcapWriter(path: path)
        for p in packets { writer.write(p, timestamp: .zero) }
        try writer.close()
        let rows = try Tshark.rows(path, fields: [
            "ip.checksum.status", "tcp.checksum.status", "tcp.options.mss_val", "tcp.options.wscale.shift",
            "tcp.options.sack_perm", "tcp.options.sack.count", "tcp.len", "_ws.malformed",
        ])
        #expect(rows == [
            ["1", "1", "1460", "7", "0402", "", "0", ""],   // sack_perm prints as the option bytes
            ["1", "1", "", "", "", "3", "1000", ""],
        ])
    }

    /// The check above can fail: a packet with a wrong TCP checksum is reported bad.
    @Test func tsharkReportsABadChecksum() throws {
        let path = temporaryPath("bad.pcap")
        defer { unlink(path) }
        var bad = KnownPackets.data
        bad[36] ^= 0xff                        // TCP checksum, high byte
        let writer = try PcapWriter(path: path)
        writer.write(KnownPackets.syn, timestamp: .zero)
        writer.write(bad, timestamp: .zero)
        try writer.close()
        let rows = try Tshark.rows(path, fields: ["ip.checksum.status", "tcp.checksum.status"])
        #expect(rows == [["1", "1"], ["1", "0"]])
    }

    @Test func tsharkSeesTheSnapLength() throws {
        let path = temporaryPath("snap-tshark.pcap")
        defer { unlink(path) }
        let writer = try PcapWriter(path: path, snapLength: 64)
        writer.write(KnownPackets.data, timestamp: .zero)
        try writer.close()
        let rows = try Tshark.rows(path, fields: ["frame.cap_len", "frame.len", "ip.len"])
        #expect(rows == [["64", "152", "152"]])
    }
}
