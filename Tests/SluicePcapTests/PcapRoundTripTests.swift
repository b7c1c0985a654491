import Foundation
import Glibc
import Testing
import SluiceTestSupport
import SluiceCore
@testable import SluicePcap

@Suite struct PcapRoundTripTests {
    /// Timestamps with every nanosecond digit set, around 0 and at a 2026 wall-clock time.
    static let times: [Instant] = [
        Instant(nanoseconds: 0),
        Instant(nanoseconds: 1),
        Instant(nanoseconds: 999_999_999),
        Instant(nanoseconds: 1_000_000_001),
        Instant(nanoseconds: 1_795_000_000_123_456_789),
    ]

    @Test func sluiceWrittenFileReadsBackIdentically() throws {
        let path = temporaryPath("roundtrip.pcap")
        defer { unlink(path) }
        let writer = try PcapWriter(path: path)
        for (i, p) in KnownPackets.all.enumerated() { writer.write(p, timestamp: Self.times[i]) }
        #expect(writer.packetsWritten == 5)
        try writer.close()

        let reader = try PcapReader(path: path)
        #expect(reader.linkType == 12)
        #expect(reader.linkTypeName == "RAW")
        #expect(reader.snapLength == 65535)
        let got = try readAll(reader)
        let want = KnownPackets.all.enumerated().map { i, p in
            ReadPacket(frameNumber: i + 1, timestamp: Self.times[i], bytes: p, originalLength: p.count)
        }
        #expect(got == want)
        #expect(reader.framesRead == 5)
        #expect(reader.packetsReturned == 5)
        #expect(reader.skipped == PcapSkipCounts())
        #expect(try reader.next() == nil)   // stays at the end
    }

    @Test func fileHasNanosecondMagicAndRawLinkType() throws {
        let path = temporaryPath("magic.pcap")
        defer { unlink(path) }
        let writer = try PcapWriter(path: path, snapLength: 200)
        writer.write(KnownPackets.syn, timestamp: Instant(nanoseconds: 5))
        try writer.close()
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes.count == 24 + 16 + KnownPackets.syn.count)
        #expect(Array(bytes[0..<4]) == [0x4d, 0x3c, 0xb2, 0xa1])            // 0xa1b23c4d, little-endian host
        #expect(Array(bytes[16..<20]) == [200, 0, 0, 0])                    // snap length
        #expect(Array(bytes[20..<24]) == [101, 0, 0, 0])                    // LINKTYPE_RAW
        #expect(Array(bytes[24..<32]) == [0, 0, 0, 0, 5, 0, 0, 0])          // 0 s, 5 ns
    }

    /// pcap stores 32-bit seconds (read back as signed): instants outside 0..<2^31 s are clamped,
    /// not wrapped.
    @Test func timestampsOutsideThePcapRangeAreClamped() throws {
        let path = temporaryPath("clamp.pcap")
        defer { unlink(path) }
        let writer = try PcapWriter(path: path)
        writer.write(KnownPackets.ack, timestamp: Instant(nanoseconds: -1))
        writer.write(KnownPackets.ack, timestamp: Instant(nanoseconds: -1_500_000_000))
        writer.write(KnownPackets.ack, timestamp: Instant(nanoseconds: 2_147_483_647_999_999_999))
        writer.write(KnownPackets.ack, timestamp: Instant(nanoseconds: 2_147_483_648_000_000_000))
        writer.write(KnownPackets.ack, timestamp: Instant(nanoseconds: .max))
        try writer.close()
        let got = try readAll(PcapReader(path: path)).map(\.timestamp.nanoseconds)
        #expect(got == [0, 0, 2_147_483_647_999_999_999, 2_147_483_647_999_999_999, 2_147_483_647_999_999_999])
    }

    @Test func snapLengthKeepsHeadersOnly() throws {
        let path = temporaryPath("snap.pcap")
        defer { unlink(path) }
        let writer = try PcapWriter(path: path, snapLength: 64)
        writer.write(KnownPackets.data, timestamp: Instant(nanoseconds: 10))   // 152 bytes
        writer.write(KnownPackets.ack, timestamp: Instant(nanoseconds: 20))    // 52 bytes: whole
        try writer.close()
        let reader = try PcapReader(path: path)
        #expect(reader.snapLength == 64)
        let got = try readAll(reader)
        #expect(got == [
            ReadPacket(frameNumber: 1, timestamp: Instant(nanoseconds: 10),
                       bytes: Array(KnownPackets.data[0..<64]), originalLength: 152),
            ReadPacket(frameNumber: 2, timestamp: Instant(nanoseconds: 20),
                       bytes: KnownPackets.ack, originalLength: 52),
        ])
    }

    @Test func snapLengthOutsideLibpcapBoundsIsRefused() {
        #expect(throws: PcapError.invalidSnapLength(0)) { try PcapWriter(path: temporaryPath("x"), snapLength: 0) }
        #expect(throws: PcapError.invalidSnapLength(262_145)) {
            try PcapWriter(path: temporaryPath("x"), snapLength: 262_145)
        }
    }

    @Test func writesAfterCloseAreIgnored() throws {
        let path = temporaryPath("closed.pcap")
        defer { unlink(path) }
        let writer = try PcapWriter(path: path)
        writer.write(KnownPackets.syn, timestamp: .zero)
        try writer.close()
        writer.write(KnownPackets.syn, timestamp: .zero)
        try writer.close()
        #expect(writer.packetsWritten == 1)
        #expect(try readAll(PcapReader(path: path)).count == 1)
    }

    /// `"-"` reads standard input: the test points file descriptor 0 at a capture for the
    /// duration (no other test reads standard input; the C `stdin` stream is left at end of file).
    @Test func dashReadsStandardInput() throws {
        let path = temporaryPath("stdin.pcap")
        defer { unlink(path) }
        let writer = try PcapWriter(path: path)
        for p in KnownPackets.all { writer.write(p, timestamp: Instant(nanoseconds: 7)) }
        try writer.close()

        let saved = dup(0)
        let fd = open(path, O_RDONLY)
        #expect(saved >= 0 && fd >= 0)
        dup2(fd, 0)
        Glibc.close(fd)
        defer {
            dup2(saved, 0)
            Glibc.close(saved)
        }
        let reader = try PcapReader(path: "-")
        let got = try readAll(reader)
        reader.close()
        #expect(got.map(\.bytes) == KnownPackets.all)
    }
}

@Suite struct PcapErrorTests {
    @Test func missingFileIsFileNotFound() {
        let path = temporaryPath("missing.pcap")
        #expect(throws: PcapError.fileNotFound(path: path)) { try PcapReader(path: path) }
    }

    @Test func textFileIsNotAPcap() throws {
        let path = temporaryPath("text.pcap")
        defer { unlink(path) }
        try Data("hello, this is not a capture\n".utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try PcapReader(path: path)
            Issue.record("opened a text file")
        } catch {
            guard case .notAPcap(let p, let reason) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(p == path)
            #expect(!reason.isEmpty)
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func emptyFileIsNotAPcap() throws {
        let path = temporaryPath("empty.pcap")
        defer { unlink(path) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        #expect { try PcapReader(path: path) } throws: { error in
            if case .notAPcap = error as? PcapError { return true }
            return false
        }
    }

    @Test func directoryCannotBeOpened() {
        let path = FileManager.default.temporaryDirectory.path
        #expect { try PcapReader(path: path) } throws: { error in
            if case .openFailed = error as? PcapError { return true }
            return false
        }
    }

    @Test func unsupportedLinkTypeIsRefusedWithItsName() throws {
        let path = temporaryPath("wifi.pcap")
        defer { unlink(path) }
        let writer = try PcapWriter(path: path, snapLength: 65535, linkType: 105)   // DLT_IEEE802_11
        try writer.close()
        let expected = PcapError.unsupportedLinkType(path: path, linkType: 105, name: "IEEE802_11")
        #expect(throws: expected) { try PcapReader(path: path) }
        #expect(expected.description == "\(path): unsupported link type IEEE802_11 (DLT 105); "
            + "supported: RAW, IPV4, EN10MB (Ethernet), LINUX_SLL, LINUX_SLL2, NULL, LOOP")
    }

    @Test func fileCutInTheMiddleOfAFrameReportsTheFrame() throws {
        let path = temporaryPath("cut.pcap")
        defer { unlink(path) }
        let writer = try PcapWriter(path: path)
        writer.write(KnownPackets.syn, timestamp: .zero)
        writer.write(KnownPackets.data, timestamp: .zero)
        try writer.close()
        #expect(truncate(path, off_t(24 + 16 + 60 + 16 + 100)) == 0)
        let reader = try PcapReader(path: path)
        #expect(try reader.next()?.frameNumber == 1)
        #expect { try reader.next() } throws: { error in
            guard case .readFailed(_, let frame, _) = error as? PcapError else { return false }
            return frame == 2
        }
        #expect(try reader.next() == nil)
    }

    @Test func creatingInAMissingDirectoryFails() {
        let path = temporaryPath("no-such-dir") + "/x.pcap"
        #expect { try PcapWriter(path: path) } throws: { error in
            if case .openFailed = error as? PcapError { return true }
            return false
        }
    }
}
