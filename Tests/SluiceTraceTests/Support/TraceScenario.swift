import Foundation
import SluiceTestSupport
import SluiceCore
import SluicePcap
@testable import SluiceTrace

/// A scripted TCP conversation between side A (client) and side B (server), written packet by
/// packet as a pcap: the crafted traces for the tshark parity and `--check` tests. Each side
/// keeps its own SND.NXT; helpers send the usual segments at explicit times.
struct TraceScenario {
    enum Side { case a, b }
    let a = SocketAddress(IPv4Address(10, 99, 0, 1), 40_001)
    let b = SocketAddress(IPv4Address(10, 99, 0, 2), 5_001)
    var nextA: UInt32 = 1_000_000
    var nextB: UInt32 = 7_000_000
    /// (time in microseconds, packet)
    var packets: [(Int64, [UInt8])] = []

    /// Sends one segment; advances the sender's SND.NXT past new data (not for probes).
    mutating func send(
        _ from: Side, atMs ms: Double, seq: UInt32? = nil, ack: UInt32? = nil, flags: TCPFlags = .ack,
        window: UInt16, length: Int = 0, windowScale: UInt8? = nil, mss: UInt16? = nil, tsval: UInt32? = nil,
        advance: Bool = true
    ) {
        let (src, dst) = from == .a ? (a, b) : (b, a)
        let s = seq ?? (from == .a ? nextA : nextB)
        let k = ack ?? (from == .a ? nextB : nextA)
        let tcp = TCPHeader(
            sourcePort: src.port, destinationPort: dst.port, sequenceNumber: SequenceNumber(s),
            acknowledgmentNumber: SequenceNumber(flags.contains(.ack) ? k : 0), flags: flags, window: window,
            options: TCPOptions(maximumSegmentSize: mss, windowScale: windowScale,
                                timestamps: tsval.map { TCPTimestamps(value: $0, echoReply: 0) }))
        let ip = IPv4Header(source: src.address, destination: dst.address)
        let bytes = IPv4TCPPacket.encode(ip: ip, tcp: tcp, payload: [UInt8](repeating: 0x5a, count: length))
        packets.append((Int64((ms * 1000).rounded()), bytes))
        guard advance else { return }
        let end = s &+ UInt32(length) &+ (flags.contains(.syn) ? 1 : 0) &+ (flags.contains(.fin) ? 1 : 0)
        if from == .a {
            if Int32(bitPattern: end &- nextA) > 0 { nextA = end }
        } else {
            if Int32(bitPattern: end &- nextB) > 0 { nextB = end }
        }
    }

    /// SYN, SYN/ACK, ACK at 0, 1, 2 ms.
    mutating func handshake(windowA: UInt16 = 64_000, windowB: UInt16 = 64_000, scaleA: UInt8? = nil, scaleB: UInt8? = nil, mss: UInt16 = 1460) {
        send(.a, atMs: 0, flags: .syn, window: windowA, windowScale: scaleA, mss: mss)
        send(.b, atMs: 1, flags: [.syn, .ack], window: windowB, windowScale: scaleB, mss: mss)
        send(.a, atMs: 2, window: windowA)
    }

    /// FIN from A, FIN/ACK from B, last ACK.
    mutating func close(atMs ms: Double, windowA: UInt16 = 64_000, windowB: UInt16 = 64_000) {
        send(.a, atMs: ms, flags: [.fin, .ack], window: windowA)
        send(.b, atMs: ms + 1, flags: [.fin, .ack], window: windowB)
        send(.a, atMs: ms + 2, window: windowA)
    }

    /// Writes the pcap to a unique temporary file and returns its path.
    func write(name: String) throws -> String {
        let path = temporaryPath("trace-\(name).pcap")
        let w = try PcapWriter(path: path)
        for (us, p) in packets { w.write(p, timestamp: Instant(nanoseconds: 1_700_000_000_000_000_000 + us * 1000)) }
        try w.close()
        return path
    }
}

/// Runs the analyzer over a file and collects, per event, the frames it flagged.
struct FlaggedFrames {
    var result: TraceResult
    var frames: [TraceEvent: [Int]] = [:]

    init(path: String, options: TraceOptions = TraceOptions()) throws {
        var collected: [TraceEvent: [Int]] = [:]
        let (r, _) = try TraceFile.analyze(path: path, options: options) { analyzer in
            analyzer.onPacket = { s, outcome, _ in
                for e in TraceEvent.allCases where !e.wiresharkFlags.isEmpty && !outcome.analysis.flags.isDisjoint(with: e.wiresharkFlags) {
                    collected[e, default: []].append(s.frame)
                }
            }
        }
        result = r
        frames = collected
    }
}
