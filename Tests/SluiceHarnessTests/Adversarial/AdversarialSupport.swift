import SluiceCore
import SluiceHarness

/// Hostile peers for the harness: a node that injects packets made on demand at a fixed rate
/// (floods, sprays, blind injection), and a scripted TCP receiver whose SYN-ACK options and
/// advertised windows a test chooses (window tricks, odd MSS values).

/// An IPv4/TCP packet with correct checksums (or one deliberately broken).
func hostilePacket(from source: SocketAddress, to destination: SocketAddress, flags: TCPFlags,
                   seq: SequenceNumber, ack: SequenceNumber = SequenceNumber(0), window: UInt16 = 65535,
                   options: TCPOptions = TCPOptions(), payload: [UInt8] = [], badChecksum: Bool = false) -> [UInt8] {
    let ip = IPv4Header(source: source.address, destination: destination.address)
    let tcp = TCPHeader(sourcePort: source.port, destinationPort: destination.port,
                        sequenceNumber: seq, acknowledgmentNumber: ack, flags: flags, window: window, options: options)
    var bytes = IPv4TCPPacket.encode(ip: ip, tcp: tcp, payload: payload)
    if badChecksum { bytes[36] ^= 0x5A }   // the TCP checksum field
    return bytes
}

/// A node that sends `count` packets, packet `i` at `start + i · interval`, each made by `make`
/// when it is due (so a flood of 100,000 is never held in memory); `make` may return `nil` to
/// skip a tick. Packets sent to it are counted and dropped.
final class Injector: PacketNode {
    let start: Instant
    let interval: Duration
    let count: Int
    let make: (Int, Instant) -> [UInt8]?
    private(set) var made = 0
    private(set) var sent = 0
    private(set) var received = 0

    init(start: Instant, interval: Duration, count: Int, make: @escaping (Int, Instant) -> [UInt8]?) {
        self.start = start
        self.interval = interval
        self.count = count
        self.make = make
    }

    var isDone: Bool { made >= count }
    var nextDeadline: Instant? { isDone ? nil : start + interval * made }

    func receive(_ packet: UnsafeRawBufferPointer, at now: Instant) { received += 1 }

    func pollTransmit(into buffer: UnsafeMutableRawBufferPointer, at now: Instant) -> Int? {
        while let due = nextDeadline, due <= now {
            let i = made
            made += 1
            guard let bytes = make(i, now), bytes.count <= buffer.count else { continue }
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
            sent += 1
            return bytes.count
        }
        return nil
    }

    func handleTimeout(at now: Instant) {}
    func checkInvariants() -> [String] { [] }
}

/// A TCP receiver written out by hand, at `address`:`port`, that accepts one connection: it
/// answers a SYN with a SYN-ACK carrying the options a test chooses, takes data only in order,
/// checks every byte against `stream`, acknowledges each segment with the window `window`
/// returns (bytes; shifted by its window scale), and answers the FIN with its own.
final class ScriptedReceiver: PacketNode {
    struct SYNACKOptions {
        /// The MSS option's value, or `nil` to leave the option out.
        var mss: UInt16? = 1460
        /// The window-scale shift it offers (RFC 7323 §2.2), or `nil`.
        var windowScale: UInt8? = nil
        var timestamps = false
    }

    let address: SocketAddress
    let stream: ByteStream
    let synACK: SYNACKOptions
    /// The window to advertise after receiving `received` bytes, at `now` (in bytes; the field
    /// is this shifted right by the negotiated scale, and capped at 65,535).
    var window: (_ received: Int, _ now: Instant) -> Int
    /// Answer segments at all (a peer that goes silent when this returns false).
    var answers: (Instant) -> Bool = { _ in true }

    private(set) var peer: SocketAddress?
    private(set) var irs = SequenceNumber(0)
    let iss = SequenceNumber(0x4000_0000)
    private(set) var rcvNxt = SequenceNumber(0)
    private(set) var bytesReceived = 0
    private(set) var finReceived = false
    private(set) var mismatches = 0
    /// Every segment from the peer: arrival time, sequence number, payload length, flags.
    private(set) var segments: [(at: Instant, seq: SequenceNumber, length: Int, flags: TCPFlags)] = []
    private var outbox: [[UInt8]] = []
    private var peerWindowScale: UInt8?
    private var tsRecent: UInt32 = 0
    private var finSent = false

    init(address: SocketAddress, stream: ByteStream, synACK: SYNACKOptions = SYNACKOptions(),
         window: @escaping (_ received: Int, _ now: Instant) -> Int) {
        self.address = address
        self.stream = stream
        self.synACK = synACK
        self.window = window
    }

    /// The window-scale shift in use for our advertisements: ours when both sides offered one.
    var shift: Int { (synACK.windowScale != nil && peerWindowScale != nil) ? Int(synACK.windowScale ?? 0) : 0 }

    func receive(_ bytes: UnsafeRawBufferPointer, at now: Instant) {
        guard let p = try? IPv4TCPPacket.parse(bytes), p.verifyChecksums(in: bytes).isValid,
              p.ip.destination == address.address, p.tcp.destinationPort == address.port else { return }
        let tcp = p.tcp
        segments.append((now, tcp.sequenceNumber, p.payloadLength, tcp.flags))
        if let ts = tcp.options.timestamps { tsRecent = ts.value }
        guard answers(now), !tcp.flags.contains(.rst) else { return }
        let from = SocketAddress(p.ip.source, tcp.sourcePort)
        if tcp.flags.contains(.syn) {
            peer = from
            irs = tcp.sequenceNumber
            rcvNxt = irs + 1
            peerWindowScale = tcp.options.windowScale
            var options = TCPOptions()
            options.maximumSegmentSize = synACK.mss
            if tcp.options.windowScale != nil { options.windowScale = synACK.windowScale }
            if synACK.timestamps, tcp.options.timestamps != nil {
                options.timestamps = TCPTimestamps(value: timestampValue(now), echoReply: tsRecent)
            }
            outbox.append(hostilePacket(from: address, to: from, flags: [.syn, .ack], seq: iss, ack: rcvNxt,
                                        window: UInt16(clamping: window(0, now)), options: options))
            return
        }
        guard from == peer else { return }
        let windowBytes = window(bytesReceived, now)
        if p.payloadLength > 0, tcp.sequenceNumber == rcvNxt, windowBytes >= p.payloadLength {
            var expected = [UInt8](repeating: 0, count: p.payloadLength)
            expected.withUnsafeMutableBytes { stream.fill($0, from: bytesReceived) }
            if !expected.elementsEqual(bytes[p.payloadRange]) { mismatches += 1 }
            bytesReceived += p.payloadLength
            rcvNxt = rcvNxt + p.payloadLength
        }
        if tcp.flags.contains(.fin), tcp.sequenceNumber + p.payloadLength == rcvNxt, !finReceived {
            finReceived = true
            rcvNxt = rcvNxt + 1
        }
        sendACK(to: from, at: now, fin: finReceived && !finSent)
    }

    private func sendACK(to peer: SocketAddress, at now: Instant, fin: Bool) {
        var options = TCPOptions()
        if synACK.timestamps { options.timestamps = TCPTimestamps(value: timestampValue(now), echoReply: tsRecent) }
        let field = UInt16(clamping: window(bytesReceived, now) >> shift)
        let seq = finSent ? iss + 2 : iss + 1
        outbox.append(hostilePacket(from: address, to: peer, flags: fin ? [.fin, .ack] : .ack, seq: seq, ack: rcvNxt,
                                    window: field, options: options))
        if fin { finSent = true }
    }

    private func timestampValue(_ now: Instant) -> UInt32 {
        UInt32(truncatingIfNeeded: now.nanoseconds / 1_000_000) &+ 1
    }

    var nextDeadline: Instant? { nil }

    func pollTransmit(into buffer: UnsafeMutableRawBufferPointer, at now: Instant) -> Int? {
        guard !outbox.isEmpty else { return nil }
        let bytes = outbox.removeFirst()
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        return bytes.count
    }

    func handleTimeout(at now: Instant) {}
    func checkInvariants() -> [String] { mismatches == 0 ? [] : ["\(mismatches) segment(s) with wrong bytes"] }
}
