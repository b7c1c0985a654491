import Foundation
import Testing
import SluiceTestSupport
import SluiceCore
@testable import SluicePcap

/// The reader on the real kernel traces in Fixtures/ (made by tools/make-fixtures): what it
/// returns and what it skips agree with tshark, and every packet decodes with good checksums
/// (the captures were made with offloads off).
@Suite struct PcapFixtureTests {
    static func path(_ name: String) -> String { TestEnvironment.fixturePath(name) }

    /// Fixture file and the link type libpcap reports for it.
    static let files: [(String, String)] = [
        ("plain-ethernet.pcap", "EN10MB"),
        ("plain-sll2.pcap", "LINUX_SLL2"),
        ("zero-window.pcap", "EN10MB"),
        ("zero-window.pcapng", "EN10MB"),
        ("loss.pcap", "LINUX_SLL2"),
    ]

    @Test(arguments: files)
    func everyPacketDecodesWithGoodChecksums(file: String, linkTypeName: String) throws {
        let reader = try PcapReader(path: Self.path(file))
        #expect(reader.linkTypeName == linkTypeName)
        var count = 0
        var previous = Instant(nanoseconds: .min)
        while let record = try reader.next() {
            count += 1
            #expect(!record.isTruncated, "frame \(record.frameNumber)")
            #expect(record.packet.count == record.originalLength, "frame \(record.frameNumber)")
            #expect(previous <= record.timestamp, "frame \(record.frameNumber) goes back in time")
            previous = record.timestamp
            do {
                let packet = try IPv4TCPPacket.parse(record.packet)
                #expect(packet.verifyChecksums(in: record.packet).isValid, "frame \(record.frameNumber)")
                #expect(packet.payloadRange.upperBound == record.packet.count, "frame \(record.frameNumber)")
            } catch {
                Issue.record("frame \(record.frameNumber) of \(file): \(error)")
            }
        }
        #expect(count > 100)
        #expect(reader.packetsReturned == count)
        #expect(reader.framesRead == count + reader.skipped.total)
    }

    /// The plain transfer captured on the veth (Ethernet) and with `-i any` (SLL2) at the same
    /// time: the same IPv4 packets behind different link headers.
    @Test func ethernetAndSLL2CapturesYieldTheSamePackets() throws {
        let ethernet = try readAll(PcapReader(path: Self.path("plain-ethernet.pcap")))
        let sll2 = try readAll(PcapReader(path: Self.path("plain-sll2.pcap")))
        #expect(ethernet.count == sll2.count)
        #expect(ethernet.map(\.bytes) == sll2.map(\.bytes))
    }

    @Test func pcapngReadsLikePcap() throws {
        let pcap = try readAll(PcapReader(path: Self.path("zero-window.pcap")))
        let pcapng = try readAll(PcapReader(path: Self.path("zero-window.pcapng")))
        #expect(pcap == pcapng)
    }

    /// The plain trace starts with ARP (not IPv4) and a UDP datagram answered by ICMP (not TCP).
    @Test func plainTraceSkipsARPAndNonTCP() throws {
        for file in ["plain-ethernet.pcap", "plain-sll2.pcap"] {
            let reader = try PcapReader(path: Self.path(file))
            _ = try readAll(reader)
            #expect(reader.skipped.notIPv4 >= 2, "\(file): \(reader.skipped)")
            #expect(reader.skipped.notTCP == 2, "\(file): \(reader.skipped)")
            #expect(reader.skipped.truncated == 0)
            #expect(reader.skipped.nonFirstFragment == 0)
        }
    }

    /// The zero-window trace holds zero-window advertisements from the slow receiver.
    @Test func zeroWindowTraceAdvertisesZero() throws {
        let reader = try PcapReader(path: Self.path("zero-window.pcap"))
        var zeroWindows = 0
        while let record = try reader.next() {
            let packet = try IPv4TCPPacket.parse(record.packet)
            if packet.tcp.window == 0, !packet.tcp.flags.contains(.rst) { zeroWindows += 1 }
        }
        #expect(zeroWindows >= 1)
    }
}

/// The same fixtures against tshark's own reading: frame numbers, timestamps, lengths and the
/// skip counts. Skipped where tshark is missing, except in CI.
@Suite(Prerequisites.tshark.trait)
struct PcapFixtureTsharkTests {
    @Test(arguments: PcapFixtureTests.files.map(\.0))
    func readerAgreesWithTshark(file: String) throws {
        let path = PcapFixtureTests.path(file)
        // One tshark run per file (each costs about a second): every frame, TCP ones marked by a port.
        let all = try Tshark.rows(path, fields: [
            "frame.number", "ip.version", "ip.proto", "tcp.srcport", "frame.time_epoch", "ip.len",
        ])
        let tcp = all.filter { $0.count == 6 && !$0[3].isEmpty }.map { [$0[0], $0[4], $0[5]] }
        let reader = try PcapReader(path: path)
        let got = try readAll(reader)

        // tshark's `tcp` frames are exactly the reader's packets, at the same times, whole.
        #expect(got.map { String($0.frameNumber) } == tcp.map { $0[0] })
        #expect(got.map { Self.epochString($0.timestamp) } == tcp.map { $0[1] })
        #expect(got.map { String($0.originalLength) } == tcp.map { $0[2] })

        // Skips: all frames are counted; non-IPv4 and IPv4-but-not-TCP agree with tshark.
        #expect(reader.framesRead == all.count)
        let notIPv4 = all.filter { $0[1] != "4" }.count
        let notTCP = all.filter { $0[1] == "4" && $0[2] != "6" }.count
        #expect(reader.skipped.notIPv4 == notIPv4)
        #expect(reader.skipped.notTCP == notTCP)
        #expect(reader.skipped.total == all.count - tcp.count)
    }

    /// `1795000000.001000001`: tshark's frame.time_epoch for a nanosecond capture.
    static func epochString(_ t: Instant) -> String {
        let s = t.nanoseconds / 1_000_000_000
        let ns = String(t.nanoseconds % 1_000_000_000)
        return "\(s)." + String(repeating: "0", count: 9 - ns.count) + ns
    }
}
