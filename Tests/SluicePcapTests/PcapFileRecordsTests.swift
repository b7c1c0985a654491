import Foundation
import Glibc
import Testing
import SluiceCore
import SluiceTestSupport
@testable import SluicePcap

/// `PcapFileRecords` (classic pcap files read without libpcap) against libpcap reading the same
/// file: the same records, frame numbers, skips and errors, for regular and irregular records.
@Suite struct PcapFileRecordsTests {
    /// One record as written: header fields as they go into the file, and the frame's bytes
    /// (`captured` may differ from `frame.count` to damage the file).
    struct Raw {
        var seconds: UInt32
        var fraction: UInt32
        var frame: [UInt8]
        var captured: UInt32? = nil
        var wire: UInt32? = nil
    }

    /// Writes a classic pcap file by hand: LINKTYPE_RAW, `magic` in this host's byte order
    /// unless `swapped`.
    static func write(_ path: String, magic: UInt32 = 0xA1B2_3C4D, snapLength: UInt32 = 65535,
                      swapped: Bool = false, records: [Raw], cutAt: Int? = nil) throws {
        var bytes: [UInt8] = []
        func u32(_ v: UInt32) { withUnsafeBytes(of: swapped ? v.byteSwapped : v) { bytes += $0 } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: swapped ? v.byteSwapped : v) { bytes += $0 } }
        u32(magic); u16(2); u16(4); u32(0); u32(0); u32(snapLength); u32(101)
        for r in records {
            u32(r.seconds); u32(r.fraction)
            u32(r.captured ?? UInt32(r.frame.count)); u32(r.wire ?? UInt32(r.frame.count))
            bytes += r.frame
        }
        if let cut = cutAt { bytes.removeLast(bytes.count - cut) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Everything both readers return, and how each ended.
    static func readBoth(_ path: String) throws -> (own: [String], libpcap: [String]) {
        func read(_ classic: Bool) throws -> [String] {
            let reader = try PcapReader(path: path, readingClassicRecords: classic)
            var out: [String] = []
            do {
                while let r = try reader.next() {
                    out.append("#\(r.frameNumber) \(r.timestamp.nanoseconds) \(Array(r.packet)) \(r.originalLength)")
                }
                out.append("end")
            } catch {
                out.append("error \(error)")
            }
            out.append("frames \(reader.framesRead) returned \(reader.packetsReturned) skipped \(reader.skipped)")
            out.append("after \(String(describing: try? reader.next()))")
            return out
        }
        return (try read(true), try read(false))
    }

    /// Writes `records` to a fresh file, reads it both ways, expects the same, and returns what
    /// the reader gave.
    static func readsAlike(_ name: String, magic: UInt32 = 0xA1B2_3C4D, snapLength: UInt32 = 65535,
                           swapped: Bool = false, records: [Raw], cutAt: Int? = nil) throws -> [String] {
        let path = temporaryPath(name)
        defer { unlink(path) }
        try write(path, magic: magic, snapLength: snapLength, swapped: swapped, records: records, cutAt: cutAt)
        let (own, libpcap) = try readBoth(path)
        #expect(own == libpcap, "\(name)")
        return own
    }

    /// A TCP/IPv4 packet of `size` bytes (20-byte headers, the rest payload), with a marker byte.
    static func packet(_ size: Int, marker: UInt8) -> [UInt8] {
        var p = [UInt8](repeating: marker, count: size)
        p[0] = 0x45; p[1] = 0
        p[2] = UInt8(size >> 8 & 0xFF); p[3] = UInt8(size & 0xFF)
        p[6] = 0; p[7] = 0; p[9] = 6
        return p
    }

    @Test func manyRecordsAcrossBufferRefills() throws {
        // Sizes that do not divide the 64 KiB buffer: records straddle every refill.
        let records = (0..<3000).map { i in
            Raw(seconds: UInt32(1_700_000_000 + i), fraction: UInt32(i * 333_333 % 1_000_000_000),
                frame: Self.packet(40 + (i * 37) % 1461, marker: UInt8(i & 0xFF)))
        }
        let own = try Self.readsAlike("records-many.pcap", records: records)
        #expect(own.count == 3003)   // 3000 records, the end, the counts, the call after the end
    }

    @Test func microsecondFilesAreScaledToNanoseconds() throws {
        let own = try Self.readsAlike("records-usec.pcap", magic: 0xA1B2_C3D4, records: [
            Raw(seconds: 5, fraction: 999_999, frame: Self.packet(40, marker: 1)),
            Raw(seconds: 6, fraction: 1, frame: Self.packet(40, marker: 2)),
        ])
        #expect(own.first?.hasPrefix("#1 5999999000 ") == true)
    }

    /// Records the reader leaves to libpcap, each followed by regular ones it reads again.
    @Test func irregularRecordsAreLibpcapsAndReadingGoesOn() throws {
        let regular = Raw(seconds: 1, fraction: 2, frame: Self.packet(60, marker: 9))
        let own = try Self.readsAlike("records-irregular.pcap", snapLength: 100_000, records: [
            regular,
            Raw(seconds: 1, fraction: 3, frame: Self.packet(70_000, marker: 3)),          // larger than the buffer
            regular,
            Raw(seconds: 1, fraction: 1_500_000_000, frame: Self.packet(60, marker: 4)),  // fraction past a second
            regular,
            Raw(seconds: 3_000_000_000, fraction: 5, frame: Self.packet(60, marker: 5)),  // seconds past Int32
            regular,
            Raw(seconds: 1, fraction: 6, frame: Self.packet(60, marker: 6), wire: 1500),  // cut by the snap length
            Raw(seconds: 1, fraction: 7, frame: [0x60] + [UInt8](repeating: 0, count: 39)), // IPv6: skipped
            regular,
        ])
        #expect(own.count == 12)
    }

    /// A captured length past the file's snap length: libpcap cuts the frame and skips the rest.
    @Test func capturedLengthPastTheSnapLength() throws {
        let own = try Self.readsAlike("records-oversnap.pcap", snapLength: 64, records: [
            Raw(seconds: 1, fraction: 1, frame: Self.packet(40, marker: 1)),
            Raw(seconds: 1, fraction: 2, frame: Self.packet(100, marker: 2)),
            Raw(seconds: 1, fraction: 3, frame: Self.packet(40, marker: 3)),
        ])
        #expect(own.count == 6)
    }

    @Test func filesCutShortFailAsLibpcapDoes() throws {
        let records = (0..<3).map { Raw(seconds: 1, fraction: UInt32($0), frame: Self.packet(60, marker: UInt8($0))) }
        // Cut in the second record's header, in its bytes, and a header claiming more than the file.
        for cut in [24 + 76 + 10, 24 + 76 + 16 + 30, 24 + 76 * 3] {
            _ = try Self.readsAlike("records-cut-\(cut).pcap", records: records, cutAt: cut)
        }
        var lying = records
        lying[2].captured = 10_000
        let own = try Self.readsAlike("records-lying.pcap", records: lying)
        #expect(own.contains { $0.hasPrefix("error ") })
    }

    @Test func otherByteOrderIsLibpcapsAlone() throws {
        let own = try Self.readsAlike("records-swapped.pcap", swapped: true, records: [
            Raw(seconds: 7, fraction: 8, frame: Self.packet(60, marker: 1)),
            Raw(seconds: 9, fraction: 10, frame: Self.packet(80, marker: 2)),
        ])
        #expect(own.first?.hasPrefix("#1 7000000008 ") == true)
    }
}
