import Testing
@testable import SluiceCore

/// A TCP segment as a test writes it: every field the engine chooses, compared whole.
struct Seg: Hashable, CustomStringConvertible {
    var flags: TCPFlags
    var seq: UInt32
    var ack: UInt32 = 0
    var window: UInt16 = 0
    var options = TCPOptions()
    var payload: [UInt8] = []

    var description: String {
        var s = "[\(flags) seq=\(seq)"
        if flags.contains(.ack) { s += " ack=\(ack)" }
        s += " win=\(window)"
        if let m = options.maximumSegmentSize { s += " mss=\(m)" }
        if let w = options.windowScale { s += " ws=\(w)" }
        if options.sackPermitted { s += " sackOK" }
        if let t = options.timestamps { s += " ts=\(t.value)/\(t.echoReply)" }
        if !options.sackBlocks.isEmpty { s += " sack=\(Array(options.sackBlocks))" }
        if !payload.isEmpty { s += " len=\(payload.count)" }
        return s + "]"
    }
}

/// Test payload: byte `i` of a stream is `UInt8(truncatingIfNeeded: i &* 7 &+ i >> 8)`.
func streamBytes(_ range: Range<Int>) -> [UInt8] {
    range.map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }
}

/// One endpoint under test (local 10.0.0.1) and a scripted peer (10.0.0.2): the test plays the
/// peer's segments in with `send(_:at:)` and checks what the endpoint sends with
/// `expectTransmit(_:at:)` / `expectNothing(at:)`, always at an explicit time.
final class EngineTest {
    static let localAddress = IPv4Address(10, 0, 0, 1)
    static let peerAddress = IPv4Address(10, 0, 0, 2)

    let endpoint: Endpoint
    var local = SocketAddress(EngineTest.localAddress, 80)
    var peer = SocketAddress(EngineTest.peerAddress, 40000)
    /// Room for a super-segment (`segmentationOffloadBytes`); plain segments are sized by the MSS.
    private var buffer = [UInt8](repeating: 0, count: 65_536)
    /// The segment size of the last packet `transmit` returned (0: not a super-segment).
    private(set) var lastSegmentSize = 0

    /// Test defaults: 4 KiB rings, MTU 1500, no window scaling, SACK or timestamps (tests of
    /// those turn them on), ISS 1000 for every connection.
    static func config(iss: UInt32 = 1000, _ tweak: (inout EndpointConfig) -> Void = { _ in }) -> EndpointConfig {
        var c = EndpointConfig(localAddress: localAddress) { _, _ in SequenceNumber(iss) }
        c.connection.receiveBufferSize = 4096
        c.connection.sendBufferSize = 4096
        c.connection.windowScaleEnabled = false
        c.connection.sackEnabled = false
        c.connection.timestampsEnabled = false
        tweak(&c)
        return c
    }

    init(config: EndpointConfig = EngineTest.config()) {
        endpoint = Endpoint(config: config)
    }

    /// Delivers `seg` from the peer (or from `from`) to the endpoint at `time`.
    func send(_ seg: Seg, at time: Instant, from: SocketAddress? = nil, to: SocketAddress? = nil) {
        let source = from ?? peer
        let destination = to ?? local
        let ip = IPv4Header(source: source.address, destination: destination.address)
        let tcp = TCPHeader(sourcePort: source.port, destinationPort: destination.port,
                            sequenceNumber: SequenceNumber(seg.seq), acknowledgmentNumber: SequenceNumber(seg.ack),
                            flags: seg.flags, window: seg.window, options: seg.options)
        let bytes = IPv4TCPPacket.encode(ip: ip, tcp: tcp, payload: seg.payload)
        bytes.withUnsafeBytes { endpoint.receive($0, at: time) }
    }

    /// The next packet the endpoint sends at `time`, parsed: (ip, tcp, segment), or nil.
    func transmit(at time: Instant) -> (ip: IPv4Header, tcp: TCPHeader, seg: Seg)? {
        if let deadline = endpoint.nextDeadline, deadline <= time { endpoint.handleTimeout(at: time) }
        let packet = buffer.withUnsafeMutableBytes { endpoint.pollTransmitPacket(into: $0, at: time) }
        guard let length = packet?.length else { return nil }
        lastSegmentSize = packet?.segmentSize ?? 0
        let bytes = Array(buffer[0..<length])
        guard let packet = try? IPv4TCPPacket.parse(bytes) else {
            Issue.record("endpoint sent an unparsable packet")
            return nil
        }
        #expect(packet.verifyChecksums(in: bytes).isValid, "bad checksum on a sent packet")
        let tcp = packet.tcp
        let seg = Seg(flags: tcp.flags, seq: tcp.sequenceNumber.rawValue, ack: tcp.acknowledgmentNumber.rawValue,
                      window: tcp.window, options: tcp.options, payload: Array(bytes[packet.payloadRange]))
        return (packet.ip, tcp, seg)
    }

    /// Expects the endpoint to send exactly `expected` (whole segment) to the peer at `time`.
    /// `segmentSize`: 0 for a plain segment, else the segment size of the expected super-segment.
    @discardableResult
    func expectTransmit(_ expected: Seg, at time: Instant, to: SocketAddress? = nil, segmentSize: Int = 0,
                        sourceLocation: SourceLocation = #_sourceLocation) -> Seg? {
        guard let (ip, tcp, seg) = transmit(at: time) else {
            Issue.record("expected \(expected) at \(time), nothing sent", sourceLocation: sourceLocation)
            return nil
        }
        let destination = to ?? peer
        #expect(ip.source == local.address && tcp.sourcePort == local.port, "from \(ip.source):\(tcp.sourcePort)", sourceLocation: sourceLocation)
        #expect(ip.destination == destination.address && tcp.destinationPort == destination.port,
                "to \(ip.destination):\(tcp.destinationPort)", sourceLocation: sourceLocation)
        #expect(seg == expected, "at \(time)", sourceLocation: sourceLocation)
        #expect(lastSegmentSize == segmentSize, "segment size at \(time)", sourceLocation: sourceLocation)
        expectInvariants(sourceLocation: sourceLocation)
        return seg
    }

    /// Expects nothing to be sent at `time` (timers due at `time` run first).
    func expectNothing(at time: Instant, sourceLocation: SourceLocation = #_sourceLocation) {
        if let (_, _, seg) = transmit(at: time) {
            Issue.record("expected nothing at \(time), got \(seg)", sourceLocation: sourceLocation)
        }
        expectInvariants(sourceLocation: sourceLocation)
    }

    func expectInvariants(sourceLocation: SourceLocation = #_sourceLocation) {
        let problems = endpoint.checkInvariants()
        #expect(problems.isEmpty, "\(problems)", sourceLocation: sourceLocation)
    }

    /// Every event queued now, in order.
    func events() -> [EndpointEvent] {
        var out: [EndpointEvent] = []
        while let e = endpoint.pollEvent() { out.append(e) }
        return out
    }

    func write(_ id: ConnectionID, _ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { endpoint.write(id, $0) }
    }

    func read(_ id: ConnectionID, max: Int = 65536) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: max)
        let n = out.withUnsafeMutableBytes { endpoint.read(id, into: $0) }
        return Array(out[0..<n])
    }
}

// MARK: - Builders

/// Our ISS and the peer's in the scripted tests.
let ourISS: UInt32 = 1000
let peerISS: UInt32 = 5000

extension EngineTest {
    /// A listener on port 80 that has accepted a connection from the peer: the peer's SYN at 0,
    /// our SYN-ACK, the peer's ACK at 10 ms (an RTT sample of 10 ms: RTO = 200 ms, the minimum).
    /// Afterwards SND.NXT = 1001, RCV.NXT = 5001, the peer's window 8192, the event queue empty.
    static func makeEstablished(config: EndpointConfig = EngineTest.config(),
                                sourceLocation: SourceLocation = #_sourceLocation) -> (EngineTest, ConnectionID) {
        let t = EngineTest(config: config)
        do { try t.endpoint.listen(port: 80) } catch { Issue.record("listen failed: \(error)", sourceLocation: sourceLocation) }
        t.send(Seg(flags: .syn, seq: peerISS, window: 8192, options: TCPOptions(maximumSegmentSize: 1460)), at: .zero)
        t.expectTransmit(Seg(flags: [.syn, .ack], seq: ourISS, ack: peerISS + 1, window: 4096,
                             options: TCPOptions(maximumSegmentSize: 1460)), at: .zero, sourceLocation: sourceLocation)
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: 8192), at: .milliseconds(10))
        #expect(t.events() == [.acceptable(port: 80)], sourceLocation: sourceLocation)
        guard let id = t.endpoint.accept(port: 80) else {
            Issue.record("accept returned nil", sourceLocation: sourceLocation)
            return (t, ConnectionID(index: 0, generation: 0))
        }
        #expect(t.endpoint.state(of: id) == .established, sourceLocation: sourceLocation)
        #expect(t.events() == [], sourceLocation: sourceLocation)
        return (t, id)
    }

    /// An active open from port 49152 to the peer on port 80: our SYN at 0, the peer's SYN-ACK
    /// at 10 ms, our ACK. Same numbers as `makeEstablished`.
    static func makeConnected(config: EndpointConfig = EngineTest.config(),
                              sourceLocation: SourceLocation = #_sourceLocation) -> (EngineTest, ConnectionID) {
        let t = EngineTest(config: config)
        t.local = SocketAddress(localAddress, 49152)
        t.peer = SocketAddress(peerAddress, 80)
        let id: ConnectionID
        do { id = try t.endpoint.connect(to: t.peer, at: .zero) } catch {
            Issue.record("connect failed: \(error)", sourceLocation: sourceLocation)
            return (t, ConnectionID(index: 0, generation: 0))
        }
        t.expectTransmit(Seg(flags: .syn, seq: ourISS, window: 4096, options: TCPOptions(maximumSegmentSize: 1460)),
                         at: .zero, sourceLocation: sourceLocation)
        t.send(Seg(flags: [.syn, .ack], seq: peerISS, ack: ourISS + 1, window: 8192,
                   options: TCPOptions(maximumSegmentSize: 1460)), at: .milliseconds(10))
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: peerISS + 1, window: 4096), at: .milliseconds(10),
                         sourceLocation: sourceLocation)
        #expect(t.events() == [.connected(id)], sourceLocation: sourceLocation)
        return (t, id)
    }
}

extension EngineTest {
    /// Connects `t`'s endpoint to the peer on port 80 (as `makeConnected`, without checks);
    /// returns the peer's address and the handle.
    static func makeConnectedPair(_ t: EngineTest) -> (SocketAddress, ConnectionID) {
        let peer = SocketAddress(peerAddress, 80)
        t.peer = peer
        guard let id = try? t.endpoint.connect(to: peer, at: .zero),
              let tuple = t.endpoint.tuple(of: id) else {
            Issue.record("connect failed")
            return (peer, ConnectionID(index: 0, generation: 0))
        }
        t.local = tuple.local
        _ = t.transmit(at: .zero)
        t.send(Seg(flags: [.syn, .ack], seq: peerISS, ack: ourISS + 1, window: 8192,
                   options: TCPOptions(maximumSegmentSize: 1460)), at: .milliseconds(10))
        _ = t.transmit(at: .milliseconds(10))
        _ = t.events()
        return (peer, id)
    }
}

// MARK: - Two endpoints joined by a perfect link (until the harness lands)

/// Two endpoints joined by a link with a fixed one-way latency and optional deterministic loss,
/// driven on virtual time. `run(until:)` steps until a condition holds or time runs out.
final class EndpointPair {
    let a: Endpoint
    let b: Endpoint
    var now = Instant.zero
    let latency: Duration
    /// Drops the n-th packet (0-based, both directions counted together) when it returns true.
    var shouldDrop: (Int) -> Bool = { _ in false }
    private var inFlight: [(arrival: Instant, toB: Bool, bytes: [UInt8])] = []
    private var sentCount = 0
    private var buffer = [UInt8](repeating: 0, count: 65536)
    private(set) var problems: [String] = []

    init(a: EndpointConfig, b: EndpointConfig, latency: Duration = .milliseconds(5)) {
        self.a = Endpoint(config: a)
        self.b = Endpoint(config: b)
        self.latency = latency
    }

    /// Sends everything due from both endpoints at `now`.
    func flush() {
        for (endpoint, toB) in [(a, true), (b, false)] {
            while let n = buffer.withUnsafeMutableBytes({ endpoint.pollTransmit(into: $0, at: now) }) {
                let index = sentCount
                sentCount += 1
                if shouldDrop(index) { continue }
                inFlight.append((now + latency, toB, Array(buffer[0..<n])))
            }
        }
    }

    /// Advances to the next packet arrival or timer and processes it. Returns false when idle.
    @discardableResult
    func step() -> Bool {
        flush()
        var next: Instant?
        for p in inFlight where next == nil || p.arrival < next! { next = p.arrival }
        for d in [a.nextDeadline, b.nextDeadline].compactMap({ $0 }) where next == nil || d < next! { next = d }
        guard let t = next else { return false }
        if t > now { now = t }
        // Deliver in send order every packet that has arrived.
        var remaining: [(arrival: Instant, toB: Bool, bytes: [UInt8])] = []
        for p in inFlight {
            if p.arrival <= now {
                p.bytes.withUnsafeBytes { (p.toB ? b : a).receive($0, at: now) }
            } else {
                remaining.append(p)
            }
        }
        inFlight = remaining
        for e in [a, b] {
            if let d = e.nextDeadline, d <= now { e.handleTimeout(at: now) }
        }
        flush()
        for (name, e) in [("a", a), ("b", b)] {
            for p in e.checkInvariants() where problems.count < 20 { problems.append("\(name) at \(now): \(p)") }
        }
        return true
    }

    /// Steps until `condition` holds or `limit` is reached; returns whether it held.
    @discardableResult
    func run(until limit: Instant, _ condition: () -> Bool) -> Bool {
        while now <= limit {
            if condition() { return true }
            if !step() { return condition() }
        }
        return condition()
    }
}

extension EngineTest {
    /// `config` with window scaling, SACK and timestamps on, then `tweak`.
    static func configWithAllOptions(_ tweak: (inout EndpointConfig) -> Void = { _ in }) -> EndpointConfig {
        config {
            $0.connection.windowScaleEnabled = true
            $0.connection.sackEnabled = true
            $0.connection.timestampsEnabled = true
            tweak(&$0)
        }
    }

    /// An active open at time zero from local port 49152 to the peer's port 80 (SYN-SENT; the
    /// SYN is left for the test to take).
    func connectFromPort49152() throws -> ConnectionID {
        local = SocketAddress(EngineTest.localAddress, 49152)
        peer = SocketAddress(EngineTest.peerAddress, 80)
        return try endpoint.connect(to: peer, at: .zero)
    }
}

/// The timestamp helpers of the suites that script a peer with RFC 7323 timestamps.
protocol TimestampScript {}

extension TimestampScript {
    /// Our TSval at `t` ms (the clock starts at ISS: 1000 + t).
    static func tsval(_ t: Int64) -> UInt32 { ourISS + UInt32(t) }
    /// A timestamps option.
    static func ts(_ value: UInt32, _ echo: UInt32) -> TCPOptions {
        TCPOptions(timestamps: TCPTimestamps(value: value, echoReply: echo))
    }

    /// The peer's segment at `seq` (RCV.NXT after the handshake unless given) once established:
    /// it acknowledges `ack` (our SYN unless given), offers 8192 bytes, and carries TSval `value`
    /// and TSecr our TSval at `echoMs`.
    static func peerSegment(seq: UInt32 = peerISS + 1, ack: UInt32 = ourISS + 1, tsval value: UInt32, echoMs: Int64,
                            payload: [UInt8] = []) -> Seg {
        Seg(flags: .ack, seq: seq, ack: ack, window: 8192, options: ts(value, tsval(echoMs)), payload: payload)
    }

    /// Expects our pure ACK of `ack` at `ms` ms (whole segment): SEG.SEQ = ISS + 1, window
    /// `window`, TSval our clock at `ms`, TSecr `echo` (TS.Recent).
    static func expectAck(_ t: EngineTest, ack: UInt32, window: UInt16, echo: UInt32, atMs ms: Int64,
                          sourceLocation: SourceLocation = #_sourceLocation) {
        t.expectTransmit(Seg(flags: .ack, seq: ourISS + 1, ack: ack, window: window, options: ts(tsval(ms), echo)),
                         at: .milliseconds(ms), sourceLocation: sourceLocation)
    }
}

extension EngineTest {
    /// A passive open on port 80 up to the peer's ACK at 10 ms, not accepted yet (the events
    /// so far are read and dropped): the peer offers `peerWindow` and MSS `mss`, and our SYN-ACK
    /// announces `mss` too (the tests pick the MTU that gives it).
    static func passiveOpen(config: EndpointConfig, peerWindow: UInt16, mss: UInt16,
                            sourceLocation: SourceLocation = #_sourceLocation) -> EngineTest {
        let t = EngineTest(config: config)
        do { try t.endpoint.listen(port: 80) } catch { Issue.record("listen: \(error)", sourceLocation: sourceLocation) }
        t.send(Seg(flags: .syn, seq: peerISS, window: peerWindow, options: TCPOptions(maximumSegmentSize: mss)), at: .zero)
        t.expectTransmit(Seg(flags: [.syn, .ack], seq: ourISS, ack: peerISS + 1, window: 4096,
                             options: TCPOptions(maximumSegmentSize: mss)), at: .zero, sourceLocation: sourceLocation)
        t.send(Seg(flags: .ack, seq: peerISS + 1, ack: ourISS + 1, window: peerWindow), at: .milliseconds(10))
        _ = t.events()
        return t
    }
}
