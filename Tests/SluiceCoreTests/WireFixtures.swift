import SluiceCore

/// Packets captured from the Linux kernel (6.x) with tcpdump on a veth between two network
/// namespaces, offloads off (`ethtool -K … tx off rx off tso off gso off gro off`), so the
/// checksums are the kernel's own; tshark reported both checksums good. Ethernet header removed.
/// 10.77.0.1:59848 -> 10.77.0.2:5001.
enum LinuxPackets {
    /// SYN: MSS 1460, SACK-permitted, TS 1352443767/0, window scale 10 (Linux's option layout).
    static let syn: [UInt8] = [
        0x45, 0x00, 0x00, 0x3c, 0x20, 0xd2, 0x40, 0x00, 0x40, 0x06, 0x05, 0x4e, 0x0a, 0x4d, 0x00, 0x01,
        0x0a, 0x4d, 0x00, 0x02, 0xe9, 0xc8, 0x13, 0x89, 0xc8, 0x28, 0xe5, 0xa0, 0x00, 0x00, 0x00, 0x00,
        0xa0, 0x02, 0xfa, 0xf0, 0x95, 0x40, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
        0x50, 0x9c, 0xa7, 0x77, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
    ]
    /// PSH|ACK carrying "hello" (odd payload length), NOP NOP TS.
    static let hello: [UInt8] = [
        0x45, 0x00, 0x00, 0x39, 0x20, 0xd4, 0x40, 0x00, 0x40, 0x06, 0x05, 0x4f, 0x0a, 0x4d, 0x00, 0x01,
        0x0a, 0x4d, 0x00, 0x02, 0xe9, 0xc8, 0x13, 0x89, 0xc8, 0x28, 0xe5, 0xa1, 0xec, 0x14, 0xc8, 0xcc,
        0x80, 0x18, 0x00, 0x3f, 0x19, 0xcd, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x50, 0x9c, 0xa7, 0x78,
        0x49, 0x28, 0x62, 0xfa, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
    ]
    /// The reply: PSH|ACK carrying "world!\n" (7 bytes), 10.77.0.2 -> 10.77.0.1.
    static let world: [UInt8] = [
        0x45, 0x00, 0x00, 0x3b, 0x63, 0x22, 0x40, 0x00, 0x40, 0x06, 0xc2, 0xfe, 0x0a, 0x4d, 0x00, 0x02,
        0x0a, 0x4d, 0x00, 0x01, 0x13, 0x89, 0xe9, 0xc8, 0xec, 0x14, 0xc8, 0xcc, 0xc8, 0x28, 0xe5, 0xa6,
        0x80, 0x18, 0x00, 0x40, 0x05, 0x95, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x49, 0x28, 0x62, 0xff,
        0x50, 0x9c, 0xa7, 0x78, 0x77, 0x6f, 0x72, 0x6c, 0x64, 0x21, 0x0a,
    ]
}

/// SplitMix64 (Steele, Lea, Flood 2014), for the wire tests' seeded randomness.
struct WireSplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Template values for building packets in tests.
enum WireSamples {
    static let ip = IPv4Header(
        source: IPv4Address(10, 0, 0, 1), destination: IPv4Address(10, 0, 0, 2),
        timeToLive: 64, typeOfService: 0, identification: 0x1234, dontFragment: true)

    static func tcp(flags: TCPFlags = [.ack], options: TCPOptions = TCPOptions()) -> TCPHeader {
        TCPHeader(
            sourcePort: 40000, destinationPort: 5001,
            sequenceNumber: SequenceNumber(0xFFFF_FF00), acknowledgmentNumber: SequenceNumber(77),
            flags: flags, window: 65535, urgentPointer: 0, options: options)
    }

    static func blocks(_ n: Int) -> SACKBlocks {
        var blocks = SACKBlocks()
        for k in 0..<n {
            let left = UInt32(1000 * (k + 1))
            blocks.append(SACKBlock(left: SequenceNumber(left), right: SequenceNumber(left + 500)))
        }
        return blocks
    }

    /// Every subset of {MSS, WS, SACK-permitted, timestamps} crossed with 0...4 SACK blocks.
    static var everyOptionCombination: [TCPOptions] {
        var all: [TCPOptions] = []
        for mask in 0..<16 {
            for sack in 0...4 {
                all.append(TCPOptions(
                    maximumSegmentSize: mask & 1 != 0 ? 1460 : nil,
                    windowScale: mask & 2 != 0 ? 7 : nil,
                    sackPermitted: mask & 4 != 0,
                    sackBlocks: blocks(sack),
                    timestamps: mask & 8 != 0 ? TCPTimestamps(value: 0xDEAD_BEEF, echoReply: 42) : nil))
            }
        }
        return all
    }
}
