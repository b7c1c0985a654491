import Foundation
import SluiceTestSupport
import SluiceCore
import SluicePcap
@testable import SluiceTrace

/// A scripted TCP conversation between side A (client) and side B (server), written packet by
/// packet as a pcap: the crafted traces for the tshark parity and `--check` tests. Each side
/// keeps its own SND.NXT and the window it advertised last; helpers send the usual segments
/// (handshake, a burst of data, a zero-window probe and its answer, close) at explicit times.
struct TraceScenario {
    enum Side { case a, b }
    let a = SocketAddress(IPv4Address(10, 99, 0, 1), 40_001)
    let b = SocketAddress(IPv4Address(10, 99, 0, 2), 5_001)
    var nextA: UInt32 = 1_000_000
    var nextB: UInt32 = 7_000_000
    /// The raw window each side advertised last: a segment sent without one repeats it.
    var windowA: UInt16 = 64_000
    var windowB: UInt16 = 64_000
    /// (time in microseconds, packet)
    var packets: [(Int64, [UInt8])] = []

    /// Sends one segment (with `window`, else the side's last one); advances the sender's
    /// SND.NXT past new data (not for probes).
    mutating func send(
        _ from: Side, atMs ms: Double, seq: UInt32? = nil, ack: UInt32? = nil, flags: TCPFlags = .ack,
        window: UInt16? = nil, length: Int = 0, windowScale: UInt8? = nil, mss: UInt16? = nil, tsval: UInt32? = nil,
        advance: Bool = true
    ) {
        let (src, dst) = from == .a ? (a, b) : (b, a)
        let s = seq ?? (from == .a ? nextA : nextB)
        let k = ack ?? (from == .a ? nextB : nextA)
        let w = window ?? (from == .a ? windowA : windowB)
        if from == .a { windowA = w } else { windowB = w }
        let tcp = TCPHeader(
            sourcePort: src.port, destinationPort: dst.port, sequenceNumber: SequenceNumber(s),
            acknowledgmentNumber: SequenceNumber(flags.contains(.ack) ? k : 0), flags: flags, window: w,
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

    /// A's new data: one segment per length, `spacingMs` apart from `start`.
    mutating func data(atMs start: Double, _ lengths: Int..., spacingMs: Double = 0.1) {
        for (i, length) in lengths.enumerated() { send(.a, atMs: start + Double(i) * spacingMs, length: length) }
    }

    /// A's zero-window probe at `ms` (one byte of new data, or Linux's empty segment at
    /// SND.UNA − 1), and unless `answered` is false B's answer 1 ms later, repeating its window.
    mutating func probe(atMs ms: Double, linux: Bool = false, answered: Bool = true) {
        if linux {
            send(.a, atMs: ms, seq: nextA &- 1, advance: false)
        } else {
            send(.a, atMs: ms, length: 1, advance: false)
        }
        if answered { send(.b, atMs: ms + 1) }
    }

    /// A zero-window episode between `window`-byte windows: the handshake (B offers `window`),
    /// A fills it with 1000-byte segments from 10 ms, B closes it at 12 ms (frame `4 + window /
    /// 1000`), `probing` runs, B reopens it at `reopenAtMs`, A sends 1000 bytes 1 ms later, B
    /// acknowledges them `ackAfterMs` after that, and the connection closes 100 ms after the
    /// reopening.
    static func zeroWindowEpisode(window: UInt16, reopenAtMs reopen: Double, ackAfterMs: Double = 1,
                                  probing: (inout TraceScenario) -> Void) -> TraceScenario {
        var s = TraceScenario()
        s.handshake(windowB: window)
        for i in 0..<Int(window) / 1000 { s.send(.a, atMs: 10 + Double(i) * 0.1, length: 1000) }
        s.send(.b, atMs: 12, window: 0)
        probing(&s)
        s.send(.b, atMs: reopen, window: window)
        s.data(atMs: reopen + 1, 1000)
        s.send(.b, atMs: reopen + 1 + ackAfterMs)
        s.close(atMs: reopen + 100)
        return s
    }

    /// FIN from A, FIN/ACK from B, last ACK (each side's last window unless given).
    mutating func close(atMs ms: Double, windowA: UInt16? = nil, windowB: UInt16? = nil) {
        send(.a, atMs: ms, flags: [.fin, .ack], window: windowA)
        send(.b, atMs: ms + 1, flags: [.fin, .ack], window: windowB)
        send(.a, atMs: ms + 2)
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
