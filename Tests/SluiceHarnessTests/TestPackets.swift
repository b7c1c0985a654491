import SluiceCore
@testable import SluiceHarness

/// Hand-made IPv4/TCP packets with correct checksums, for link tests that need no engine.
enum TestPackets {
    static func tcp(
        from source: SocketAddress, to destination: SocketAddress,
        seq: UInt32 = 1000, ack: UInt32 = 0, flags: TCPFlags = [.ack], window: UInt16 = 65535,
        windowScale: UInt8? = nil, payload: [UInt8] = [], identification: UInt16 = 0
    ) -> [UInt8] {
        var options: [UInt8] = []
        if let ws = windowScale { options += [1, 3, 3, ws] }
        let tcpLength = 20 + options.count
        let total = 20 + tcpLength + payload.count
        var p = [UInt8](repeating: 0, count: total)
        p[0] = 0x45
        p[2] = UInt8(total >> 8); p[3] = UInt8(total & 0xff)
        p[4] = UInt8(identification >> 8); p[5] = UInt8(identification & 0xff)
        p[6] = 0x40
        p[8] = 64; p[9] = 6
        put32(&p, 12, source.address.rawValue)
        put32(&p, 16, destination.address.rawValue)
        put16(&p, 10, ~fold(sum(p[0..<20])))
        let t = 20
        put16(&p, t, source.port); put16(&p, t + 2, destination.port)
        put32(&p, t + 4, seq); put32(&p, t + 8, ack)
        p[t + 12] = UInt8(tcpLength / 4) << 4
        p[t + 13] = flags.rawValue
        put16(&p, t + 14, window)
        for (i, b) in options.enumerated() { p[t + 20 + i] = b }
        for (i, b) in payload.enumerated() { p[t + tcpLength + i] = b }
        put16(&p, t + 16, ~fold(pseudoSum(p) + sum(p[t...])))
        return p
    }

    /// RFC 791 / RFC 9293 §3.1: both checksums verify (sum over the covered bytes is 0xffff).
    static func checksumsValid(_ p: [UInt8]) -> Bool {
        guard p.count >= 40, p[0] >> 4 == 4 else { return false }
        let ihl = Int(p[0] & 0xf) * 4
        let total = Int(p[2]) << 8 | Int(p[3])
        guard ihl == 20, total == p.count, p[9] == 6 else { return false }
        guard fold(sum(p[0..<20])) == 0xffff else { return false }
        return fold(pseudoSum(p) + sum(p[20...])) == 0xffff
    }

    private static func pseudoSum(_ p: [UInt8]) -> UInt64 {
        let total = Int(p[2]) << 8 | Int(p[3])
        return sum(p[12..<20]) + 6 + UInt64(total - 20)
    }

    private static func sum(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var s: UInt64 = 0
        var i = bytes.startIndex
        while i + 1 < bytes.endIndex {
            s += UInt64(bytes[i]) << 8 | UInt64(bytes[i + 1])
            i += 2
        }
        if i < bytes.endIndex { s += UInt64(bytes[i]) << 8 }
        return s
    }

    private static func fold(_ s: UInt64) -> UInt16 {
        var s = s
        while s > 0xffff { s = (s & 0xffff) + (s >> 16) }
        return UInt16(s)
    }

    private static func put16(_ p: inout [UInt8], _ i: Int, _ v: UInt16) {
        p[i] = UInt8(v >> 8); p[i + 1] = UInt8(v & 0xff)
    }

    private static func put32(_ p: inout [UInt8], _ i: Int, _ v: UInt32) {
        p[i] = UInt8(v >> 24); p[i + 1] = UInt8(v >> 16 & 0xff); p[i + 2] = UInt8(v >> 8 & 0xff); p[i + 3] = UInt8(v & 0xff)
    }
}

/// A receiver that checks checksums the way an engine must: corrupted packets are dropped
/// and counted, the others kept.
final class ChecksumCheckingNode: PacketNode {
    var accepted: [(at: Instant, bytes: [UInt8])] = []
    var droppedBadChecksum = 0
    func receive(_ packet: UnsafeRawBufferPointer, at now: Instant) {
        let bytes = Array(packet)
        if TestPackets.checksumsValid(bytes) { accepted.append((now, bytes)) } else { droppedBadChecksum += 1 }
    }
    func pollTransmit(into buffer: UnsafeMutableRawBufferPointer, at now: Instant) -> Int? { nil }
    var nextDeadline: Instant? { nil }
    func handleTimeout(at now: Instant) {}
    func checkInvariants() -> [String] { [] }
}

/// Two raw nodes A (10.0.0.1) → B (10.0.0.2) joined by `config` (and an ideal link back).
struct RawPair {
    let net: Harness
    let a: RawPacketNode
    let b: RawPacketNode
    let nodeA: HarnessNode
    let nodeB: HarnessNode
    let link: SimulatedLink
    static let addressA = SocketAddress(IPv4Address(10, 0, 0, 1), 1000)
    static let addressB = SocketAddress(IPv4Address(10, 0, 0, 2), 2000)

    init(seed: UInt64 = 1, _ config: LinkConfig) {
        net = Harness(seed: seed)
        a = RawPacketNode()
        b = RawPacketNode()
        nodeA = net.addNode("A", address: Self.addressA.address, node: a)
        nodeB = net.addNode("B", address: Self.addressB.address, node: b)
        link = net.connect(nodeA, nodeB, config, backward: .ideal).forward
    }

    /// A packet from A to B whose sequence number names it.
    static func packet(_ n: Int, payload: Int = 0) -> [UInt8] {
        TestPackets.tcp(from: addressA, to: addressB, seq: UInt32(n), payload: [UInt8](repeating: UInt8(n & 0xff), count: payload))
    }
}

/// The sequence number of a packet made by `RawPair.packet`.
func packetNumber(_ bytes: [UInt8]) -> Int {
    Int(bytes.withUnsafeBytes { SegmentInfo($0)?.sequenceNumber.rawValue ?? 0 })
}
