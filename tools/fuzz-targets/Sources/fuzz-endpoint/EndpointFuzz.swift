// libFuzzer target: one endpoint (10.0.0.1) fed arbitrary segments, time steps and application
// calls from each connection state, with its invariants checked after every input.
//
// Input: byte 0 picks the starting state (`Scenario`, its value mod 10) and, from 128 up,
// segmentation offload (super-segments out); byte 1 the options negotiated (SACK, timestamps,
// window scaling, MTU, keep-alive, …); then operations until the input ends (`Op`).
// Segments come from the peer (10.0.0.2:40000) with sequence and acknowledgment numbers
// relative to what each side really sent (so most land near the window), any flags, window,
// options and a payload of the peer's stream; some come from other ports, some are raw TCP
// bytes (valid or invalid checksum), some are not TCP at all.
//
// Checked after every operation (a violation traps, which libFuzzer reports as a crash):
// - `Endpoint.checkInvariants()` is empty: buffers within their bounds, nothing sent past the
//   largest right edge the peer advertised but a one-byte probe or a FIN, bytes in flight within
//   the largest peer window, our advertised right edge never moved left, table consistency;
// - on the wire, every packet we send parses and its checksums verify; every payload byte is
//   the byte our application wrote at that sequence number (nothing outside what was written,
//   no wrong bytes); our advertised right edge (ACK + window << shift) never moves left by a
//   scaling unit or more; at most 10,000 packets leave at one instant;
// - what the application reads is the peer's stream at the right sequence numbers;
// - the connection table and the receive/send rings stay within their configured sizes.
import SluiceCore

let localAddress = IPv4Address(10, 0, 0, 1)
let peerAddress = IPv4Address(10, 0, 0, 2)
let peerPort: UInt16 = 40000
let listenPort: UInt16 = 80
let peerISS: UInt32 = 0xFFFF_F000   // wraps soon after the start
let endpointISS: UInt32 = 0x7FFF_FF00

/// The stream byte at sequence number `seq` (any side: a function of the sequence number only,
/// so every copy of a byte, retransmitted or overlapping, is the same).
@inline(__always) func streamByte(_ seq: UInt32, salt: UInt32) -> UInt8 {
    let x = (seq &+ salt) &* 0x9E37_79B1
    return UInt8(truncatingIfNeeded: x >> 24)
}
let ourSalt: UInt32 = 0x1234_5678
let peerSalt: UInt32 = 0x0BAD_F00D

/// Reads the input front to back; past the end every read yields 0.
struct Input {
    let bytes: UnsafeRawBufferPointer
    var i = 0
    var atEnd: Bool { i >= bytes.count }
    mutating func u8() -> UInt8 {
        guard i < bytes.count else { return 0 }
        defer { i += 1 }
        return bytes[i]
    }
    mutating func u16() -> UInt16 { UInt16(u8()) << 8 | UInt16(u8()) }
    mutating func u32() -> UInt32 { UInt32(u16()) << 16 | UInt32(u16()) }
}

func fail(_ message: String) -> Never {
    fatalError("fuzz-endpoint: invariant violated: \(message)")
}

/// The scripted peer's view of the connection on 10.0.0.2:40000 ↔ 10.0.0.1:port, and the
/// wire checks of what the endpoint sends to it.
final class Peer {
    let endpoint: Endpoint
    var localPort: UInt16
    /// Our ISS (learnt from our SYN or SYN-ACK), and the peer's ISS as the endpoint took it:
    /// from what its SYN-ACK acknowledges, or (active open) its first ACK. Not from the SYNs the
    /// peer sends: the endpoint rightly refuses a blind SYN on a live connection (RFC 5961 §4,
    /// a challenge ACK), and its stream still starts at the first SYN's number. Nor from a later
    /// incarnation on the same 4-tuple once the tracked connection has opened: the application
    /// may still read what the old one received (`tracksOpening`).
    var ourISS: UInt32?
    var irs: UInt32 = peerISS
    var irsKnown = false
    /// Highest sequence number (exclusive) the peer sent, and the highest we sent.
    var peerNext: UInt32 = peerISS &+ 1
    var ourNext: UInt32?
    /// Bytes our application wrote, and bytes it read, on the tracked connection.
    var written = 0
    var readCount = 0
    var id: ConnectionID?
    /// Our last advertised right edge on the tracked connection, once synchronized.
    var lastEdge: UInt32?
    var now = Instant.zero
    var scratch = [UInt8](repeating: 0, count: 70_000)
    var packet = [UInt8](repeating: 0, count: 70_000)
    let wscale: Bool, sack: Bool, timestamps: Bool
    var lastTSval: UInt32 = 1

    init(endpoint: Endpoint, localPort: UInt16, wscale: Bool, sack: Bool, timestamps: Bool) {
        self.endpoint = endpoint
        self.localPort = localPort
        self.wscale = wscale
        self.sack = sack
        self.timestamps = timestamps
    }

    // MARK: Sending (peer → endpoint)

    func send(flags: TCPFlags, seq: UInt32, ack: UInt32, window: UInt16, options: TCPOptions,
              payloadLength: Int, fromPort: UInt16 = peerPort, toPort: UInt16? = nil,
              source: IPv4Address = peerAddress, corruptChecksum: Bool = false) {
        let ip = IPv4Header(source: source, destination: localAddress)
        let tcp = TCPHeader(sourcePort: fromPort, destinationPort: toPort ?? localPort,
                            sequenceNumber: SequenceNumber(seq), acknowledgmentNumber: SequenceNumber(ack),
                            flags: flags, window: window, options: options)
        let length = packet.withUnsafeMutableBytes { buffer in
            IPv4TCPPacket.encode(ip: ip, tcp: tcp, payloadLength: payloadLength, into: buffer) { slice in
                for k in 0..<slice.count { slice[k] = streamByte(seq &+ UInt32(truncatingIfNeeded: k), salt: peerSalt) }
            }
        }
        guard let length else { return }
        if corruptChecksum { packet[length - 1] ^= 0x5A; if payloadLength == 0 { packet[36] ^= 0x01 } }
        if fromPort == peerPort && source == peerAddress {
            let end = seq &+ UInt32(payloadLength) &+ (flags.contains(.syn) ? 1 : 0) &+ (flags.contains(.fin) ? 1 : 0)
            if Int32(bitPattern: end &- peerNext) > 0 { peerNext = end }
        }
        deliver(length)
    }

    func deliver(_ length: Int) {
        packet.withUnsafeBytes { endpoint.receive(UnsafeRawBufferPointer(rebasing: $0[0..<length]), at: now) }
    }

    /// Whether a SYN-ACK now belongs to the tracked connection: it is not accepted yet, or it
    /// is still opening.
    var tracksOpening: Bool {
        guard let id else { return true }
        let state = endpoint.state(of: id)
        return state == .synSent || state == .synReceived
    }

    // MARK: Draining (endpoint → peer) with the wire checks

    func service() {
        if let d = endpoint.nextDeadline, d <= now { endpoint.handleTimeout(at: now) }
        var sent = 0
        while true {
            let n = scratch.withUnsafeMutableBytes { endpoint.pollTransmit(into: $0, at: now) }
            guard let n else { break }
            sent += 1
            if sent > 10_000 { fail("more than 10,000 packets at one instant") }
            scratch.withUnsafeBytes { check(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        while let event = endpoint.pollEvent() {
            if case .acceptable(let port) = event, let accepted = endpoint.accept(port: port), id == nil {
                id = accepted
            }
        }
        let problems = endpoint.checkInvariants()
        if !problems.isEmpty { fail("\(problems)") }
        if endpoint.connectionCount > maxConnections { fail("\(endpoint.connectionCount) connections > \(maxConnections)") }
        if let id, let s = endpoint.stats(of: id) {
            if s.sendBufferBytes > bufferSize || s.receiveBufferBytes > bufferSize || s.peakReceiveBufferBytes > bufferSize {
                fail("buffers past \(bufferSize): send \(s.sendBufferBytes) receive \(s.receiveBufferBytes) peak \(s.peakReceiveBufferBytes)")
            }
        }
    }

    func check(_ bytes: UnsafeRawBufferPointer) {
        let p: IPv4TCPPacket
        do { p = try IPv4TCPPacket.parse(bytes) } catch { fail("sent an unparsable packet: \(error)") }
        if !p.verifyChecksums(in: bytes).isValid { fail("sent a packet with a bad checksum") }
        if p.ip.source != localAddress { fail("sent from \(p.ip.source)") }
        guard p.ip.destination == peerAddress, p.tcp.destinationPort == peerPort, p.tcp.sourcePort == localPort else { return }
        let tcp = p.tcp
        let seq = tcp.sequenceNumber.rawValue
        if tcp.flags.contains(.syn) && !tcp.flags.contains(.rst) {
            if let iss = ourISS, iss != seq { fail("SYN at \(seq) after ISS \(iss)") }
            ourISS = seq
            // A new incarnation on this 4-tuple (e.g. after a RST in TIME-WAIT): its window
            // edge starts afresh.
            lastEdge = nil
            if tcp.flags.contains(.ack), tracksOpening {
                irs = tcp.acknowledgmentNumber.rawValue &- 1
                irsKnown = true
            }
            if ourNext == nil { ourNext = seq &+ 1 }
            return
        }
        if tcp.flags.contains(.rst) { return }
        if tcp.flags.contains(.ack), !irsKnown {
            irs = tcp.acknowledgmentNumber.rawValue &- 1
            irsKnown = true
        }
        // Payload: exactly the bytes the application wrote at these sequence numbers.
        if p.payloadLength > 0 {
            guard let iss = ourISS else { fail("data before a SYN") }
            let offset = Int(seq &- (iss &+ 1))
            if offset + p.payloadLength > written {
                fail("sent bytes \(offset)..<\(offset + p.payloadLength) of \(written) written (seq \(seq))")
            }
            for k in 0..<p.payloadLength where bytes[p.payloadRange.lowerBound + k] != streamByte(seq &+ UInt32(k), salt: ourSalt) {
                fail("wrong byte at offset \(offset + k) (seq \(seq &+ UInt32(k)))")
            }
            let end = seq &+ UInt32(p.payloadLength)
            if let n = ourNext, Int32(bitPattern: end &- n) > 0 { ourNext = end }
        }
        if tcp.flags.contains(.fin) {
            guard let iss = ourISS else { fail("FIN before a SYN") }
            let offset = Int(seq &- (iss &+ 1)) + p.payloadLength
            if offset != written { fail("FIN at offset \(offset), \(written) bytes written") }
        }
        // Our advertised right edge never moves left (RFC 9293 §3.8.6; RFC 7323 §2.4 allows
        // less than one scaling unit of rounding).
        if tcp.flags.contains(.ack), let id, let s = endpoint.stats(of: id), s.state != .synReceived, s.state != .synSent,
           s.state != .closed {
            let shift = s.receiveWindowShift
            let edge = tcp.acknowledgmentNumber.rawValue &+ (UInt32(tcp.window) << UInt32(shift))
            if let last = lastEdge, Int32(bitPattern: last &- edge) >= Int32(1 << shift) {
                fail("advertised right edge moved left: \(last) -> \(edge) (shift \(shift))")
            }
            if let last = lastEdge { if Int32(bitPattern: edge &- last) > 0 { lastEdge = edge } } else { lastEdge = edge }
        }
    }

    // MARK: Application

    func write(_ count: Int) {
        guard let id, let iss = ourISS else { return }
        var bytes = [UInt8](repeating: 0, count: count)
        let start = iss &+ 1 &+ UInt32(truncatingIfNeeded: written)
        for k in 0..<count { bytes[k] = streamByte(start &+ UInt32(k), salt: ourSalt) }
        written += bytes.withUnsafeBytes { endpoint.write(id, $0) }
    }

    func read(_ max: Int) {
        guard let id else { return }
        var bytes = [UInt8](repeating: 0, count: max)
        let n = bytes.withUnsafeMutableBytes { endpoint.read(id, into: $0) }
        let start = irs &+ 1 &+ UInt32(truncatingIfNeeded: readCount)
        for k in 0..<n where bytes[k] != streamByte(start &+ UInt32(k), salt: peerSalt) {
            fail("read a wrong byte at offset \(readCount + k)")
        }
        readCount += n
    }

    // MARK: Options the peer sends

    func options(_ mask: UInt8, _ input: inout Input, syn: Bool) -> TCPOptions {
        var o = TCPOptions()
        if mask & 0x01 != 0 { o.maximumSegmentSize = input.u16() }
        if mask & 0x02 != 0 { o.windowScale = input.u8() % 16 }
        if mask & 0x04 != 0 { o.sackPermitted = true }
        if mask & 0x08 != 0 || (timestamps && mask & 0x80 == 0) {
            lastTSval &+= UInt32(input.u8())
            o.timestamps = TCPTimestamps(value: mask & 0x40 != 0 ? input.u32() : lastTSval, echoReply: input.u32())
        }
        if mask & 0x10 != 0, let n = ourNext, let iss = ourISS {
            let count = Int(input.u8() % 4) + 1
            var blocks = SACKBlocks()
            for _ in 0..<count {
                let left = iss &+ UInt32(input.u16()) % (n &- iss &+ 2)
                _ = blocks.append(SACKBlock(left: SequenceNumber(left), right: SequenceNumber(left &+ UInt32(input.u16() % 3000))))
            }
            o.sackBlocks = blocks
        }
        return o
    }
}

let bufferSize = 4096
let maxConnections = 4

/// The starting states.
enum Scenario: UInt8 {
    case listen, synSent, synReceived, established, finWait1, finWait2, closeWait, lastAck, timeWait
    case activeEstablished
}

@_cdecl("LLVMFuzzerTestOneInput")
public func endpointFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = Input(bytes: UnsafeRawBufferPointer(start: data, count: size))
    let head = input.u8()
    let scenario = Scenario(rawValue: head % 10) ?? .listen
    let knobs = input.u8()
    let sack = knobs & 1 != 0, timestamps = knobs & 2 != 0, wscale = knobs & 4 != 0
    var config = EndpointConfig(localAddress: localAddress) { _, _ in SequenceNumber(endpointISS) }
    config.maxConnections = maxConnections
    config.maxPendingResets = 8
    config.maxPendingEvents = 32
    config.connection.receiveBufferSize = bufferSize
    config.connection.sendBufferSize = bufferSize
    config.connection.maxReassemblyRanges = 4
    config.connection.maxSACKScoreboardRanges = 4
    config.connection.sackEnabled = sack
    config.connection.timestampsEnabled = timestamps
    config.connection.windowScaleEnabled = wscale
    config.connection.mtu = knobs & 8 != 0 ? 576 : 1500
    if knobs & 16 != 0 { config.connection.keepAlive = KeepAliveConfig(enabled: true, idle: .seconds(5), interval: .seconds(1), probes: 3) }
    if knobs & 32 != 0 { config.connection.flowControl.userTimeout = .seconds(20) }
    if knobs & 64 != 0 { config.connection.delayedACKEnabled = false }
    if knobs & 128 != 0 { config.connection.flowControl.zeroWindowProbeStyle = .emptyBelowUnacknowledged }
    if head >= 128 { config.connection.segmentationOffloadBytes = 65_535 }   // TSO: super-segments out
    let endpoint = Endpoint(config: config)
    let active = scenario == .synSent || scenario == .activeEstablished
    let peer = Peer(endpoint: endpoint, localPort: active ? 49152 : listenPort, wscale: wscale, sack: sack, timestamps: timestamps)
    setUp(scenario, peer)
    runOperations(&input, peer)
    return 0
}

/// Brings the tracked connection to `scenario` with a well-behaved peer.
func setUp(_ scenario: Scenario, _ peer: Peer) {
    let e = peer.endpoint
    var synOptions = TCPOptions(maximumSegmentSize: 1460)
    if peer.wscale { synOptions.windowScale = 7 }
    synOptions.sackPermitted = peer.sack
    if peer.timestamps { synOptions.timestamps = TCPTimestamps(value: 1, echoReply: 0) }
    var ackOptions = TCPOptions()
    if peer.timestamps { ackOptions.timestamps = TCPTimestamps(value: 2, echoReply: ourTSval(peer)) }
    /// The peer's next segment after its SYN, at `now`, with TSval `tsValue` echoing ours.
    func peerSends(_ flags: TCPFlags, at now: Instant, tsValue: UInt32, ack: UInt32, payloadLength: Int = 0) {
        peer.now = now
        ackOptions.timestamps = peer.timestamps ? TCPTimestamps(value: tsValue, echoReply: ourTSval(peer)) : nil
        peer.send(flags: flags, seq: peerISS &+ 1, ack: ack, window: 65535, options: ackOptions, payloadLength: payloadLength)
        peer.service()
    }

    if scenario == .synSent || scenario == .activeEstablished {
        peer.id = try? e.connect(to: SocketAddress(peerAddress, peerPort), localPort: 49152, at: .zero)
        peer.service()
        guard scenario == .activeEstablished else { return }
        peer.now = .milliseconds(10)
        peer.send(flags: [.syn, .ack], seq: peerISS, ack: endpointISS &+ 1, window: 65535, options: synOptions, payloadLength: 0)
        peer.service()
        peer.write(3000)
        peer.service()
        return
    }
    do { try e.listen(port: listenPort, backlog: 2) } catch { fail("listen: \(error)") }
    guard scenario != .listen else { return }
    peer.send(flags: .syn, seq: peerISS, ack: 0, window: 65535, options: synOptions, payloadLength: 0)
    peer.service()
    guard scenario != .synReceived else { return }
    peerSends(.ack, at: .milliseconds(10), tsValue: 2, ack: endpointISS &+ 1)
    peer.write(3000)
    peer.service()
    switch scenario {
    case .finWait1, .finWait2, .timeWait:
        if let id = peer.id { e.shutdown(id) }
        peer.service()
        guard scenario != .finWait1 else { return }
        peerSends(.ack, at: .milliseconds(20), tsValue: 3, ack: endpointISS &+ 3002)
        guard scenario == .timeWait else { return }
        peer.send(flags: [.fin, .ack], seq: peerISS &+ 1, ack: endpointISS &+ 3002, window: 65535, options: ackOptions, payloadLength: 0)
        peer.service()
    case .closeWait, .lastAck:
        peerSends([.fin, .ack], at: .milliseconds(20), tsValue: 3, ack: endpointISS &+ 1, payloadLength: 100)
        guard scenario == .lastAck, let id = peer.id else { return }
        e.close(id)
        peer.service()
    default:
        return
    }
}

/// The timestamp our endpoint sent last (its clock is `now` in ms plus an offset; the fuzz
/// peer echoes something plausible: our ISS is the offset).
func ourTSval(_ peer: Peer) -> UInt32 {
    UInt32(truncatingIfNeeded: peer.now.nanoseconds / 1_000_000) &+ endpointISS
}

/// Operations until the input ends; each is followed by `service()` and the checks.
func runOperations(_ input: inout Input, _ peer: Peer) {
    let e = peer.endpoint
    var ops = 0
    while !input.atEnd && ops < 2000 {
        ops += 1
        let op = input.u8()
        switch op % 12 {
        case 0, 1, 2, 3:
            // A segment from the peer, near what each side sent.
            let flags = TCPFlags(rawValue: input.u8())
            let seq = peer.peerNext &+ UInt32(bitPattern: Int32(Int16(bitPattern: input.u16())))
            let ackBase = peer.ourNext ?? endpointISS
            let ack = ackBase &+ UInt32(bitPattern: Int32(Int16(bitPattern: input.u16())))
            let window = input.u16()
            let mask = input.u8()
            let options = peer.options(mask, &input, syn: flags.contains(.syn))
            let length = op % 4 == 3 ? 0 : Int(input.u16() % 1600)
            peer.send(flags: flags, seq: seq, ack: ack, window: window, options: options, payloadLength: length)
        case 4:
            // A segment from elsewhere: another port or address, any numbers, maybe a bad checksum.
            let flags = TCPFlags(rawValue: input.u8())
            let which = input.u8()
            let port = which & 1 != 0 ? input.u16() : peerPort
            let source = which & 2 != 0 ? IPv4Address(rawValue: input.u32()) : peerAddress
            let toPort = which & 4 != 0 ? input.u16() : nil
            peer.send(flags: flags, seq: input.u32(), ack: input.u32(), window: input.u16(),
                      options: peer.options(input.u8(), &input, syn: flags.contains(.syn)),
                      payloadLength: Int(input.u8()) * 8, fromPort: port, toPort: toPort, source: source,
                      corruptChecksum: which & 8 != 0)
        case 5:
            // Time passes: up to 65 s, or up to 65 ms.
            let amount = Int64(input.u16())
            peer.now += op & 0x10 != 0 ? Duration.milliseconds(amount) : Duration.microseconds(amount)
        case 6:
            peer.write(Int(input.u16() % 8192))
        case 7:
            peer.read(Int(input.u16() % 8192))
        case 8:
            // The application: shutdown, close, abort, a new connection, accept.
            let what = input.u8() % 6
            if let id = peer.id {
                switch what {
                case 0: e.shutdown(id)
                case 1: e.close(id)
                case 2: e.abort(id)
                default: break
                }
            }
            if what == 3 { _ = try? e.connect(to: SocketAddress(peerAddress, UInt16(input.u8()) | 1), at: peer.now) }
            if what == 4 { _ = e.accept(port: listenPort) }
            if what == 5 { e.stopListening(port: listenPort) }
        case 9:
            // Raw TCP bytes (header and payload) under a valid IPv4 header, checksums fixed up or not.
            let length = Int(input.u8())
            let fix = input.u8() & 1 != 0
            let total = 20 + length
            peer.packet[0] = 0x45; peer.packet[1] = 0
            peer.packet[2] = UInt8(total >> 8); peer.packet[3] = UInt8(total & 0xFF)
            for k in 4..<12 { peer.packet[k] = 0 }
            peer.packet[8] = 64; peer.packet[9] = 6
            let src = peerAddress.rawValue, dst = localAddress.rawValue
            for k in 0..<4 {
                peer.packet[12 + k] = UInt8(truncatingIfNeeded: src >> (24 - 8 * UInt32(k)))
                peer.packet[16 + k] = UInt8(truncatingIfNeeded: dst >> (24 - 8 * UInt32(k)))
            }
            for k in 0..<length { peer.packet[20 + k] = input.u8() }
            if fix {
                _ = peer.packet.withUnsafeMutableBytes { IPv4TCPPacket.finalizeChecksums(in: $0, length: total) }
            }
            peer.deliver(total)
        case 10:
            // Any bytes at all.
            let length = Int(input.u8())
            for k in 0..<length { peer.packet[k] = input.u8() }
            peer.deliver(length)
        default:
            // A long silence: timers (retransmission, persist, keep-alive, TIME-WAIT) run out.
            peer.now += Duration.seconds(Int64(input.u8()))
        }
        peer.service()
    }
}
