import Testing
@testable import SluiceCore
import SluiceRandom

@Suite struct ChecksumTests {
    /// RFC 1071 §3 worked example: the sum of 0001 f203 f4f5 f6f7 is ddf2.
    @Test func rfc1071Example() {
        let bytes: [UInt8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]
        var c = InternetChecksum()
        c.add(bytes)
        #expect(c.sum == 0xDDF2)
        #expect(c.checksum == 0x220D)
        #expect(bytes.withUnsafeBytes { InternetChecksum.naiveSum($0) } == 0xDDF2)
    }

    /// The IPv4 header checksum of the Linux SYN is the one the kernel wrote.
    @Test func linuxIPv4HeaderChecksum() {
        var header = Array(LinuxPackets.syn[0..<20])
        var whole = InternetChecksum()
        whole.add(header)
        #expect(whole.isValid)
        header[10] = 0
        header[11] = 0
        #expect(InternetChecksum.checksum(header) == 0x054E)
    }

    /// Linux's `skb_checksum_help` writes 0xFFFF (`CSUM_MANGLED_0`) where a TCP checksum comes
    /// out 0x0000, about one packet in 65,536 (this ACK came from the kernel over TUN in
    /// HTTPKernelTests; tshark calls it bad, "should be 0x0000 (see RFC 1624)"). In one's
    /// complement the two are the same zero (RFC 1071 §1, RFC 1624 §3), so it verifies; Sluice's
    /// own encoder writes 0x0000 for the same packet.
    @Test func linuxChecksumFFFFVerifiesAndSluiceWritesZero() throws {
        var packet: [UInt8] = [
            0x45, 0x00, 0x00, 0x34, 0x92, 0xb2, 0x40, 0x00, 0x40, 0x06, 0x94, 0x0f, 0x0a, 0x00, 0x00, 0x02,
            0x0a, 0x00, 0x00, 0x01, 0xca, 0x66, 0x1f, 0x90, 0x92, 0x59, 0x4e, 0x3e, 0x22, 0x04, 0x76, 0xb8,
            0x80, 0x10, 0x0a, 0x9f, 0xff, 0xff, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x8c, 0xcb, 0xe0, 0xe7,
            0x22, 0x6d, 0x64, 0xb0,
        ]
        let parsed = try IPv4TCPPacket.parse(packet)
        #expect(parsed.tcp.checksum == 0xFFFF)
        #expect(parsed.verifyChecksums(in: packet) == ChecksumStatus(ipv4HeaderValid: true, tcpValid: true))

        let length = packet.count
        let written = packet.withUnsafeMutableBytes { IPv4TCPPacket.finalizeChecksums(in: $0, length: length) }
        #expect(written)
        #expect(packet[36] == 0x00 && packet[37] == 0x00, "TCP checksum written as \(packet[36]) \(packet[37])")
        #expect(packet[10] == 0x94 && packet[11] == 0x0f)
        #expect(try IPv4TCPPacket.parse(packet).verifyChecksums(in: packet) == ChecksumStatus(ipv4HeaderValid: true, tcpValid: true))
    }

    /// The TCP checksums of Linux packets (even and odd payload lengths) verify with the
    /// pseudo-header, and recomputing them gives the kernel's value.
    @Test(arguments: [LinuxPackets.syn, LinuxPackets.hello, LinuxPackets.world])
    func linuxTCPChecksum(packet: [UInt8]) {
        let source = IPv4Address(rawValue: UInt32(packet[12]) << 24 | UInt32(packet[13]) << 16 | UInt32(packet[14]) << 8 | UInt32(packet[15]))
        let destination = IPv4Address(rawValue: UInt32(packet[16]) << 24 | UInt32(packet[17]) << 16 | UInt32(packet[18]) << 8 | UInt32(packet[19]))
        var segment = Array(packet[20...])
        var check = InternetChecksum()
        check.addPseudoHeader(source: source, destination: destination, length: segment.count)
        check.add(segment)
        #expect(check.isValid)

        let onWire = UInt16(segment[16]) << 8 | UInt16(segment[17])
        segment[16] = 0
        segment[17] = 0
        var again = InternetChecksum()
        again.addPseudoHeader(source: source, destination: destination, length: segment.count)
        again.add(segment)
        #expect(again.checksum == onWire)
    }

    /// Fast and naive sums agree for every length 0...300 at every alignment 0...7, including
    /// all-ones data (the carry-heavy case).
    @Test func fastMatchesNaiveAtEveryLengthAndAlignment() {
        var rng = SplitMix64(seed: 0x5EED_0001)
        for fill in 0..<2 {
            var storage = [UInt8](repeating: 0xFF, count: 320)
            if fill == 1 { for i in storage.indices { storage[i] = UInt8.random(in: 0...255, using: &rng) } }
            storage.withUnsafeBytes { raw in
                for alignment in 0..<8 {
                    for length in 0...300 {
                        let slice = UnsafeRawBufferPointer(rebasing: raw[alignment..<(alignment + length)])
                        var c = InternetChecksum()
                        c.add(slice)
                        let naive = InternetChecksum.naiveSum(slice)
                        #expect(c.sum == naive, "length \(length) alignment \(alignment) fill \(fill)")
                    }
                }
            }
        }
    }

    /// Summing in pieces of any (odd or even) sizes equals summing the whole buffer.
    @Test func incrementalPiecesMatchWhole() {
        var rng = SplitMix64(seed: 0x5EED_0002)
        let data = (0..<1500).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let whole = InternetChecksum.checksum(data)
        data.withUnsafeBytes { raw in
            for trial in 0..<200 {
                var c = InternetChecksum()
                var at = 0
                while at < raw.count {
                    let n = Swift.min(raw.count - at, Int.random(in: 0...97, using: &rng))
                    c.add(UnsafeRawBufferPointer(rebasing: raw[at..<(at + n)]))
                    at += n
                }
                #expect(c.checksum == whole, "trial \(trial)")
            }
        }
    }

    /// 16- and 32-bit field additions at odd and even positions equal adding their bytes.
    @Test func fieldAdditionsMatchBytesAtOddPositions() {
        for lead in 0..<3 {
            let prefix = [UInt8](repeating: 0xA5, count: lead)
            var byFields = InternetChecksum()
            byFields.add(prefix)
            byFields.add(UInt16(0x1234))
            byFields.add(UInt32(0xFEDC_BA98))
            let bytes = prefix + [0x12, 0x34, 0xFE, 0xDC, 0xBA, 0x98]
            #expect(byFields.checksum == InternetChecksum.checksum(bytes), "lead \(lead)")
        }
    }
}
