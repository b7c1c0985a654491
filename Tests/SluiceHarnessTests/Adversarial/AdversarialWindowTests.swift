import SluiceHarness
import Testing
@testable import SluiceCore

/// A Sluice sender against receivers written out by hand (`ScriptedReceiver`) that play
/// tricks with their window and their SYN-ACK options. The harness checks after every step
/// that the sender never sends past the largest right edge the receiver advertised (but a
/// one-byte probe) and the engine's invariants; the receiver checks every byte.
@Suite struct AdversarialWindowTests {
    static let peerAddress = SocketAddress(IPv4Address(10, 0, 0, 2), 5001)
    static let link = LinkConfig(latency: .milliseconds(5), rate: 20_000_000, queueLimit: .packets(200))

    struct Setup {
        let net: Harness
        let client: HarnessNode
        let peer: ScriptedReceiver
        let sender: BulkSender
        var id: ConnectionID? { sender.connection }
        var stats: ConnectionStats? { id.flatMap { client.endpoint?.stats(of: $0) } }
    }

    static func setUp(seed: UInt64, count: Int, link: LinkConfig = link, synACK: ScriptedReceiver.SYNACKOptions = .init(),
                      configure: (inout ConnectionConfig) -> Void = { _ in },
                      window: @escaping (Int, Instant) -> Int) throws -> Setup {
        let net = Harness(seed: seed)
        let client = net.addEndpoint("client", address: IPv4Address(10, 0, 0, 1)) { configure(&$0.connection) }
        let stream = ByteStream(seed: seed)
        let peer = ScriptedReceiver(address: peerAddress, stream: stream, synACK: synACK, window: window)
        let peerNode = net.addNode("peer", address: peerAddress.address, node: peer)
        net.connect(client, peerNode, link)
        let sender = BulkSender(.connect(to: peerAddress), count: count, stream: stream)
        try net.attach(sender, to: client)
        return Setup(net: net, client: client, peer: peer, sender: sender)
    }

    static func runToCompletion(_ s: Setup, count: Int, timeLimit: Duration) throws {
        try s.net.run(until: { _ in s.peer.finReceived && s.sender.closeReason != nil }, timeLimit: timeLimit,
                      "the scripted receiver to get \(count) bytes and the FIN")
        #expect(s.peer.bytesReceived == count)
        #expect(s.peer.mismatches == 0)
        #expect(s.sender.closeReason == .normal)
    }

    // MARK: - Right edge moved left

    /// The receiver advertises 32 KiB, then retracts its right edge to 2 KiB past the ACK (data
    /// already in flight past it is dropped), then to zero for a second, then reopens: the
    /// sender copes (RFC 9293 §3.8.6 "robust against window shrinking"), resends what was
    /// dropped, and the transfer completes.
    @Test func peerRetractsItsRightEdge() throws {
        let count = 512 * 1024
        var retractions = 0
        var lastEdge = 0
        let slow = LinkConfig(latency: .milliseconds(5), rate: 2_000_000, queueLimit: .packets(200))
        let s = try Self.setUp(seed: 1310, count: count, link: slow) { received, now in
            let ms = now.nanoseconds / 1_000_000
            let window: Int
            switch ms {
            case ..<300: window = 32 * 1024
            case ..<600: window = 2 * 1024
            case ..<1600: window = 0
            default: window = 32 * 1024
            }
            if received + window < lastEdge { retractions += 1 }
            lastEdge = max(lastEdge, received + window)
            return window
        }
        try Self.runToCompletion(s, count: count, timeLimit: .seconds(120))
        #expect(retractions > 0)
        print("retracting right edge: \(retractions) retracted advertisements; done at \(s.net.now)")
    }

    // MARK: - A window that never opens

    /// The receiver takes 8 KiB and never reads again, answering every probe with a zero
    /// window: the sender probes for an hour at intervals that double up to the 60 s cap and
    /// stay there (RFC 1122 §4.2.2.17; RFC 9293 §3.8.6.1 MUST-26: the connection stays up while
    /// probes are answered).
    @Test func windowThatNeverOpensIsProbedAtTheCappedInterval() throws {
        let s = try Self.setUp(seed: 1311, count: 64 * 1024) { received, _ in max(0, 8 * 1024 - received) }
        try s.net.run(until: .seconds(3600))
        let closedAt = s.peer.segments.firstIndex { $0.length > 0 && $0.seq - s.peer.irs - 1 >= 8 * 1024 } ?? s.peer.segments.count
        let probes = s.peer.segments[closedAt...].filter { $0.length == 1 }.map(\.at)
        let intervals = zip(probes.dropFirst(), probes).map { ($0 - $1) }
        print("never-opening window: \(probes.count) probes, intervals \(intervals.prefix(10))…")
        #expect(probes.count >= 55)
        #expect(zip(intervals.dropFirst(), intervals).allSatisfy { $0 >= $1 })   // backing off, never shrinking
        #expect(intervals.allSatisfy { $0 <= .seconds(60) })
        #expect(intervals.suffix(40).allSatisfy { $0 == .seconds(60) })
        #expect(s.peer.bytesReceived == 8 * 1024)
        let stats = try #require(s.stats)
        // The application closed after writing; its FIN waits behind the unsent data.
        #expect(stats.state == .finWait1)
        #expect(stats.flow.probesAnswered >= probes.count - 1)
    }

    /// The same receiver goes silent 5 s in, with a user timeout of 90 s: the sender keeps
    /// probing, and 90 s after it last heard from the peer the connection ends, reported as
    /// `.closed(.userTimeout)` (RFC 9293 §3.8.3), and nothing more is sent.
    @Test func userTimeoutAbortsASilentZeroWindowPeer() throws {
        let s = try Self.setUp(seed: 1312, count: 64 * 1024, configure: { $0.flowControl.userTimeout = .seconds(90) }) { received, _ in
            max(0, 8 * 1024 - received)
        }
        s.peer.answers = { now in now < .seconds(5) }
        try s.net.run(until: { _ in s.sender.closeReason != nil }, timeLimit: .seconds(600))
        #expect(s.sender.closeReason == .userTimeout)
        let closedAt = try #require(s.sender.closedAt)
        // The last answer came before 5 s; the abort is 90 s after it.
        #expect(closedAt >= .seconds(90) && closedAt <= .seconds(95.01))
        let heard = s.peer.segments.count
        try s.net.run(until: closedAt + .seconds(600))
        #expect(s.peer.segments.count == heard)
        #expect(s.id.flatMap { s.client.endpoint?.state(of: $0) } ?? .closed == .closed)
    }

    // MARK: - Window scale 14

    /// The receiver offers window scale 14 and advertises the largest window it allows,
    /// 65,535 << 14 = 1 GiB − 16 KiB (RFC 7323 §2.3): the sender takes it whole; a shift of 15
    /// is clamped to 14.
    @Test(arguments: [UInt8(14), 15])
    func largestScaledWindow(offeredShift: UInt8) throws {
        let count = 8 << 20
        // The window field is 65,535 whatever the shift (a receiver offering 15 may compute
        // with 15; the sender uses 14).
        let s = try Self.setUp(seed: 1313, count: count, synACK: .init(mss: 1460, windowScale: offeredShift)) { _, _ in
            1 << 40
        }
        var peerWindow = 0
        s.client.onService = { c in
            if let id = s.id, let st = c.endpoint.stats(of: id) { peerWindow = max(peerWindow, st.peerWindow) }
        }
        try Self.runToCompletion(s, count: count, timeLimit: .seconds(60))
        #expect(peerWindow == 1_073_725_440)   // 1 GiB − 16 KiB
        #expect(peerWindow == (1 << 30) - (16 << 10))
    }

    // MARK: - MSS option absent, 0, 1

    /// MSS option absent: 536 (RFC 9293 §3.7.1, RFC 1122 §4.2.2.6). 0: ignored as Linux does
    /// (`if (in_mss)` in `tcp_parse_options`), so 536 too. 1: clamped up to 48 as Linux does
    /// (`TCP_MIN_SND_MSS`: room for 40 bytes of options and 8 of data), so payload still fits
    /// after the options (36 bytes beside timestamps). The transfer completes in each case and
    /// no segment exceeds the MSS.
    @Test(arguments: [(UInt16?.none, false, 536), (UInt16?(0), false, 536), (UInt16?(1), false, 48), (UInt16?(1), true, 48)])
    func oddMSSOptions(mss: UInt16?, timestamps: Bool, expectedMSS: Int) throws {
        let count = 64 * 1024
        let s = try Self.setUp(seed: 1314, count: count, synACK: .init(mss: mss, windowScale: nil, timestamps: timestamps)) { _, _ in
            32 * 1024
        }
        try Self.runToCompletion(s, count: count, timeLimit: .seconds(120))
        let lengths = s.peer.segments.map(\.length)
        let payloadRoom = expectedMSS - (timestamps ? 12 : 0)
        #expect(lengths.max() == payloadRoom)
        #expect(lengths.allSatisfy { $0 <= payloadRoom })
    }
}
