import Foundation
import Glibc
import Testing
import SluiceTestSupport
import SluiceCore
@testable import SluicePcap

/// The reader takes the IPv4 packet out of each link type's framing and counts what it skips.
/// Files of each link type are written with libpcap (`pcap_open_dead` with that `DLT_*`).
@Suite struct PcapLinkTypeTests {
    static let ipv6: [UInt8] = [0x60, 0, 0, 0, 0, 0, 59, 64] + [UInt8](repeating: 0, count: 32)
    static let arp: [UInt8] = [0, 1, 8, 0, 6, 4, 0, 1] + [UInt8](repeating: 0, count: 20)

    /// Writes frames of one link type and reads them back.
    func readBack(linkType: Int32, frames: [[UInt8]]) throws -> (packets: [ReadPacket], reader: PcapReader) {
        let path = temporaryPath("link\(linkType).pcap")
        defer { unlink(path) }
        let writer = try PcapWriter(path: path, snapLength: 65535, linkType: linkType)
        for (i, f) in frames.enumerated() { writer.write(f, timestamp: Instant(nanoseconds: Int64(i))) }
        try writer.close()
        let reader = try PcapReader(path: path)
        return (try readAll(reader), reader)
    }

    func ethernet(_ etherType: UInt16, _ payload: [UInt8], vlans: [UInt16] = []) -> [UInt8] {
        var f: [UInt8] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]
        for tag in vlans { f += [UInt8(tag >> 8), UInt8(tag & 0xff), 0x00, 0x05] }
        f += [UInt8(etherType >> 8), UInt8(etherType & 0xff)] + payload
        if f.count < 60 { f += [UInt8](repeating: 0xee, count: 60 - f.count) }   // Ethernet padding
        return f
    }

    @Test func ethernetWithVLANTagsAndPadding() throws {
        let frames = [
            ethernet(0x0800, KnownPackets.syn),
            ethernet(0x0806, Self.arp),
            ethernet(0x0800, KnownPackets.ack),                          // 52 bytes: padded to 60
            ethernet(0x86dd, Self.ipv6),
            ethernet(0x0800, KnownPackets.data, vlans: [0x8100]),
            ethernet(0x0800, KnownPackets.fin, vlans: [0x88a8, 0x8100]),
            Array(ethernet(0x0800, KnownPackets.syn)[0..<10]),           // cut inside the header
        ]
        let (got, reader) = try readBack(linkType: 1, frames: frames)
        #expect(reader.linkTypeName == "EN10MB")
        #expect(got.map(\.frameNumber) == [1, 3, 5, 6])
        #expect(got.map(\.bytes) == [KnownPackets.syn, KnownPackets.ack, KnownPackets.data, KnownPackets.fin])
        #expect(got.map(\.originalLength) == [60, 52, 152, 52])
        #expect(got.map(\.timestamp.nanoseconds) == [0, 2, 4, 5])
        var want = PcapSkipCounts()
        want.notIPv4 = 2
        want.truncated = 1
        #expect(reader.skipped == want)
        #expect(reader.framesRead == 7)
    }

    @Test func linuxCookedSLL() throws {
        func sll(_ proto: UInt16, _ p: [UInt8]) -> [UInt8] {
            [0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, UInt8(proto >> 8), UInt8(proto & 0xff)] + p
        }
        let (got, reader) = try readBack(linkType: 113, frames: [
            sll(0x0800, KnownPackets.synAck), sll(0x86dd, Self.ipv6), sll(0x0800, KnownPackets.fin),
        ])
        #expect(reader.linkTypeName == "LINUX_SLL")
        #expect(got.map(\.bytes) == [KnownPackets.synAck, KnownPackets.fin])
        #expect(got.map(\.frameNumber) == [1, 3])
        #expect(reader.skipped.notIPv4 == 1)
    }

    @Test func linuxCookedSLL2() throws {
        func sll2(_ proto: UInt16, _ p: [UInt8]) -> [UInt8] {
            [UInt8(proto >> 8), UInt8(proto & 0xff), 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0] + p
        }
        let (got, reader) = try readBack(linkType: 276, frames: [
            sll2(0x0806, Self.arp), sll2(0x0800, KnownPackets.syn), sll2(0x0800, KnownPackets.data),
        ])
        #expect(reader.linkTypeName == "LINUX_SLL2")
        #expect(got.map(\.bytes) == [KnownPackets.syn, KnownPackets.data])
        #expect(got.map(\.frameNumber) == [2, 3])
        #expect(reader.skipped.notIPv4 == 1)
    }

    @Test func nullAndLoopAcceptEitherByteOrder() throws {
        for dlt: Int32 in [0, 108] {
            let (got, reader) = try readBack(linkType: dlt, frames: [
                [2, 0, 0, 0] + KnownPackets.syn,     // AF_INET, little-endian host
                [0, 0, 0, 2] + KnownPackets.ack,     // AF_INET, big-endian
                [0, 0, 0, 24] + Self.ipv6,           // AF_INET6 (BSD)
            ])
            #expect(got.map(\.bytes) == [KnownPackets.syn, KnownPackets.ack])
            #expect(reader.skipped.notIPv4 == 1)
        }
    }

    @Test func ipv4LinkTypeAndRawSkipNonTCPAndFragments() throws {
        var udp = KnownPackets.syn
        udp[9] = 17
        var laterFragment = KnownPackets.data
        laterFragment[6] = 0x00
        laterFragment[7] = 0x10                    // fragment offset 16 × 8 bytes
        for dlt: Int32 in [12, 228] {
            let (got, reader) = try readBack(linkType: dlt, frames: [
                KnownPackets.syn, udp, Self.ipv6, laterFragment, Array(KnownPackets.ack[0..<19]), [], KnownPackets.fin,
            ])
            #expect(got.map(\.frameNumber) == [1, 7])
            var want = PcapSkipCounts()
            want.notTCP = 1
            want.notIPv4 = 1
            want.nonFirstFragment = 1
            want.truncated = 2
            #expect(reader.skipped == want)
            #expect(reader.skipped.total == 5)
            #expect(reader.skipped.description == "not IPv4 1, not TCP 1, non-first fragment 1, truncated 2")
        }
    }

    @Test func lyingTotalLengthIsLeftForTheDecoder() throws {
        var lie = KnownPackets.ack
        lie[2] = 0x10                               // total length 4148, longer than the frame
        var short = KnownPackets.ack
        short[3] = 10                               // total length 10, shorter than a header
        let (got, _) = try readBack(linkType: 12, frames: [lie, short])
        #expect(got.map(\.bytes) == [lie, short])
        #expect(got.map(\.originalLength) == [52, 52])
    }
}
