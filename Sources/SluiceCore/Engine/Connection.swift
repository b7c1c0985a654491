/// One TCP connection (RFC 9293): its state, its transmission control block, its two bounded
/// rings, its timers. Sans-IO: segments come in through `handle(_:payload:at:)`
/// (Connection+Receive.swift), go out through `nextSegment(at:maxPacketLength:)`
/// (Connection+Send.swift), and time through `handleTimeout(at:)` (Connection+Timers.swift).
/// The endpoint owns connections, demultiplexes to them and encodes what they produce.
///
/// LISTEN is not a connection here: a listener is a port with a backlog in the endpoint, and a
/// SYN to it creates a connection in SYN-RECEIVED (RFC 9293 §3.10.7.2). "Return to LISTEN"
/// therefore means: release this connection; the listener stays.
///
/// ## Sequence space (RFC 9293 §3.3.1)
///
///     send:     ISS  SND.UNA          SND.NXT          SND.MAX      SND.UNA + SND.WND
///                |------|  in flight  |  resent after a   |   usable      |
///                       |             |  timeout (go-back) |               |
///     send ring offset 0 = `sendRingStart` (ISS + 1 once the SYN is acknowledged)
///
///     receive:  IRS  RCV.NXT          RCV.NXT + window (right edge)
///                |------| out-of-order data in the ring at seq − RCV.NXT |
///     receive ring: readable bytes end at RCV.NXT; out-of-order bytes sit past them.
///
/// Not thread-safe: the endpoint's thread owns it.
///
/// Its stored properties (and `Endpoint`'s and `ByteRing`'s) are `@exclusivity(unchecked)`:
/// Swift checks every access to a class's stored property at run time unless it can prove no
/// other access overlaps, and on the segment path those checks (`swift_beginAccess`, its
/// thread-local access set) took 12–15% of all instructions. The state is owned by one thread
/// (none of the three is `Sendable`), no method hands out an `inout` to it across a call
/// that could reach it again, and the debug suite ran with the checks on for every release
/// before this. A source attribute, not a compiler flag (`unsafeFlags` would make the package
/// unusable as a versioned dependency). `sluice-bench engine`: 14–16 → 19–24 Gbit/s (issue 10).
final class Connection {
    /// States with their own data (RFC 9293 §3.3.2). LISTEN lives in the endpoint.
    enum State: Hashable {
        case synSent
        case synReceived
        case established
        case finWait1
        case finWait2
        case closeWait
        case closing
        case lastAck
        /// 2·MSL wait (RFC 9293 §3.4.2, §3.10.7.4); the connection closes at `until`.
        case timeWait(until: Instant)
        case closed(CloseReason)

        var publicState: TCPState {
            switch self {
            case .synSent: .synSent
            case .synReceived: .synReceived
            case .established: .established
            case .finWait1: .finWait1
            case .finWait2: .finWait2
            case .closeWait: .closeWait
            case .closing: .closing
            case .lastAck: .lastAck
            case .timeWait: .timeWait
            case .closed: .closed
            }
        }
    }

    /// Events the connection has for the application; the endpoint drains them into its queue.
    struct PendingEvents: OptionSet {
        var rawValue: UInt8
        static let connected = PendingEvents(rawValue: 1 << 0)
        static let established = PendingEvents(rawValue: 1 << 1)   // passive: to the accept queue
        static let readable = PendingEvents(rawValue: 1 << 2)
        static let writable = PendingEvents(rawValue: 1 << 3)
        static let reset = PendingEvents(rawValue: 1 << 4)
        static let closed = PendingEvents(rawValue: 1 << 5)
    }

    let tuple: FourTuple
    let config: ConnectionConfig
    /// The listening port this connection came from (passive open), `nil` for `connect`.
    let listenerPort: UInt16?
    @exclusivity(unchecked) var state: State

    // MARK: Send sequence variables (RFC 9293 §3.3.1)

    let iss: SequenceNumber
    /// SND.UNA: oldest unacknowledged sequence number.
    @exclusivity(unchecked) var sndUna: SequenceNumber
    /// SND.NXT: next sequence number to send. After a retransmission timeout it goes back to
    /// SND.UNA (go-back-N) while `sndMax` keeps the highest ever sent.
    @exclusivity(unchecked) var sndNxt: SequenceNumber
    /// The highest sequence number sent plus one (BSD `snd_max`): ACKs up to it are valid.
    @exclusivity(unchecked) var sndMax: SequenceNumber
    /// SND.WND in bytes (scaled).
    @exclusivity(unchecked) var sndWnd: Int = 0
    /// SND.WL1 / SND.WL2: segment sequence and ack numbers of the last window update.
    @exclusivity(unchecked) var sndWl1 = SequenceNumber(0)
    @exclusivity(unchecked) var sndWl2 = SequenceNumber(0)
    /// The largest right edge (SND.UNA + SND.WND) the peer ever advertised: nothing but a
    /// one-byte probe or a FIN may be sent past it.
    @exclusivity(unchecked) var sndMaxEdge: SequenceNumber
    /// The largest window (SND.WND) the peer ever advertised.
    @exclusivity(unchecked) var maxPeerWindow = 0
    /// Sequence number of send ring offset 0.
    @exclusivity(unchecked) var sendRingStart: SequenceNumber
    /// Takes storage only while it holds data (`ByteRing`); handed back when every byte is
    /// acknowledged (`processNewACK`).
    let sendRing: ByteRing
    /// The application shut down its sending side: a FIN follows the data in the ring, at
    /// `finSequence`, and `write` takes nothing more.
    @exclusivity(unchecked) var finQueued = false

    // MARK: Receive sequence variables

    @exclusivity(unchecked) var irs = SequenceNumber(0)
    /// RCV.NXT: next sequence number expected.
    @exclusivity(unchecked) var rcvNxt = SequenceNumber(0)
    /// Takes storage only while it holds data (`ByteRing`); handed back when the application
    /// has read everything and nothing waits out of order (`releaseReceiveStorageIfEmpty`).
    let receiveRing: ByteRing
    @exclusivity(unchecked) var assembler: Assembler
    /// The right edge (RCV.NXT + RCV.WND) of the last segment we sent.
    @exclusivity(unchecked) var rcvAdvertisedEdge = SequenceNumber(0)
    /// The largest right edge we ever advertised: data up to it is accepted (RFC 7323 §2.4;
    /// RFC 9293 §3.8.6 says the window should not shrink).
    @exclusivity(unchecked) var rcvMaxEdge = SequenceNumber(0)
    /// The peer's FIN was received and RCV.NXT has passed it.
    @exclusivity(unchecked) var finReceived = false
    /// A FIN seen past a hole, processed when RCV.NXT reaches it.
    @exclusivity(unchecked) var pendingPeerFin: SequenceNumber?

    // MARK: Negotiated on the SYN

    /// The peer's MSS (RFC 9293 §3.7.1) capped by our MTU: the most payload plus options per segment.
    @exclusivity(unchecked) var sendMSS: Int
    /// Window shift for the peer's window field / for ours (RFC 7323 §2.2); 0 when not negotiated.
    @exclusivity(unchecked) var sendShift = 0
    @exclusivity(unchecked) var receiveShift = 0
    /// The shift we offer on our SYN (used once the peer also offers one).
    let offeredShift: Int
    /// Both SYNs carried the window-scale option (RFC 7323 §2.2).
    @exclusivity(unchecked) var windowScaleNegotiated = false
    /// The peer permitted SACK (RFC 2018 §2) and we enable it: our ACKs carry SACK blocks.
    @exclusivity(unchecked) var sackPermitted = false
    /// Timestamps negotiated (RFC 7323 §3.2): every segment but RST carries TSopt.
    @exclusivity(unchecked) var timestampsEnabled = false
    /// TS.Recent (RFC 7323 §4.3) and Last.ACK.sent.
    @exclusivity(unchecked) var tsRecent: UInt32 = 0
    @exclusivity(unchecked) var lastAckSent = SequenceNumber(0)
    /// Added to our millisecond clock for TSval (RFC 7323 §5.4 recommends a per-connection offset).
    let tsOffset: UInt32
    /// The largest payload received so far, capped by our MSS: "full-sized" for delayed ACKs.
    @exclusivity(unchecked) var receiveMSS: Int

    // MARK: Hardening (Connection+Timestamps.swift, +Challenge.swift, +KeepAlive.swift)

    @exclusivity(unchecked) var timestamps = TimestampState()
    @exclusivity(unchecked) var challengeThrottle = ChallengeACKThrottle()
    @exclusivity(unchecked) var keepAlive = KeepAliveState()

    // MARK: Acknowledgment

    /// An ACK must go out at the next `nextSegment`.
    @exclusivity(unchecked) var ackNow = false
    /// The delayed-ACK timer (RFC 9293 §3.8.6.3).
    @exclusivity(unchecked) var delayedACKDeadline: Instant?
    /// In-order payload bytes received since our last ACK (ACK every second full segment).
    @exclusivity(unchecked) var bytesSinceLastACK = 0
    /// A segment shorter than a full-sized one is among those not yet acknowledged
    /// (`noteRead`: its sender may be waiting for the ACK, Nagle).
    @exclusivity(unchecked) var smallSegmentUnacknowledged = false

    // MARK: Retransmission

    @exclusivity(unchecked) var rtt: RTTEstimator
    @exclusivity(unchecked) var retransmitDeadline: Instant?
    /// Consecutive timeouts without progress (RFC 1122 §4.2.3.5).
    @exclusivity(unchecked) var retransmitCount = 0
    /// The segment being timed (one at a time, RFC 6298 §3 / Karn): its end and send time.
    @exclusivity(unchecked) var rttSampleEnd: SequenceNumber?
    @exclusivity(unchecked) var rttSampleStart = Instant.zero

    // MARK: Loss recovery (Connection+Recovery.swift)

    /// NewReno congestion control (RFC 5681, RFC 6582), SACK-based recovery when SACK was
    /// negotiated (RFC 6675).
    @exclusivity(unchecked) var congestion: CongestionControl
    /// What the peer reported holding above SND.UNA (RFC 6675), when SACK was negotiated.
    @exclusivity(unchecked) var scoreboard: SACKScoreboard
    /// A retransmission of the segment starting here is due (fast retransmit, NewReno partial ACK).
    @exclusivity(unchecked) var retransmitDue: SequenceNumber?
    /// Consecutive duplicate ACKs (RFC 5681 §2) since SND.UNA last advanced.
    @exclusivity(unchecked) var duplicateACKs = 0

    // MARK: Zero window (RFC 9293 §3.8.6.1)

    @exclusivity(unchecked) var persistDeadline: Instant?
    /// The persist timer fired: the next segment is a one-byte probe past the window.
    @exclusivity(unchecked) var probeDue = false
    /// A probe byte is at SND.NXT − 1 beyond the window.
    @exclusivity(unchecked) var probeOutstanding = false

    // MARK: Application side

    /// A passive connection in SYN-RECEIVED, counted in its listener's backlog.
    @exclusivity(unchecked) var countsAgainstBacklog = false
    /// The application owns this connection (it connected, or accepted it).
    @exclusivity(unchecked) var ownedByApplication: Bool
    /// The application called `close` or `abort`: release the slot once CLOSED.
    @exclusivity(unchecked) var applicationClosed = false
    @exclusivity(unchecked) var pendingEvents: PendingEvents = []
    /// Set when `.readable` was queued and the application has not read since.
    @exclusivity(unchecked) var readableSignalled = false
    /// Set when a `write` took less than offered: `.writable` follows when space frees.
    @exclusivity(unchecked) var writerBlocked = false
    /// Set when the connection already reported `.closed`.
    @exclusivity(unchecked) var closeReported = false
    /// A RST to send (abort, or a reset we generate ourselves) before anything else.
    @exclusivity(unchecked) var resetDue = false

    @exclusivity(unchecked) var stats = ConnectionStats()
    /// Flow control: receive window, silly-window avoidance, persist timer, pacer, accounting
    /// (Connection+FlowControl.swift).
    @exclusivity(unchecked) var flow: FlowControlState
    /// Invariant violations recorded as they happen (count and the first one's description).
    @exclusivity(unchecked) var invariantViolations = 0
    @exclusivity(unchecked) var firstInvariantViolation: String?

    /// A connection about to send its SYN (active open, SYN-SENT) or SYN-ACK (passive open,
    /// SYN-RECEIVED, after `acceptSYN`).
    /// `ringPool` supplies and takes back the rings' storage (the endpoint's; without one they
    /// allocate and free it themselves).
    init(tuple: FourTuple, config: ConnectionConfig, iss: SequenceNumber, listenerPort: UInt16?, now: Instant,
         ringPool: RingStoragePool? = nil) {
        self.tuple = tuple
        self.config = config
        self.listenerPort = listenerPort
        self.state = listenerPort == nil ? .synSent : .synReceived
        self.ownedByApplication = listenerPort == nil
        self.iss = iss
        self.sndUna = iss
        self.sndNxt = iss
        self.sndMax = iss
        self.sndMaxEdge = iss + 1
        self.sendRingStart = iss + 1
        self.sendRing = ByteRing(capacity: Swift.max(0, config.sendBufferSize), pool: ringPool)
        self.receiveRing = ByteRing(capacity: Swift.max(0, config.receiveBufferSize), pool: ringPool)
        self.assembler = Assembler(maxRanges: config.maxReassemblyRanges)
        self.sendMSS = Connection.sendMSS(peerOption: nil, config: config)
        self.receiveMSS = Swift.max(1, config.mtu - ipAndTCPHeaderLength)
        self.offeredShift = config.windowScaleEnabled ? Connection.windowShift(for: config.receiveBufferSize) : 0
        self.tsOffset = iss.rawValue
        self.rtt = RTTEstimator(initial: config.initialRTO, min: config.minRTO, max: config.maxRTO)
        self.congestion = CongestionControl(mss: sendMSS, initialSequenceNumber: iss)
        self.scoreboard = SACKScoreboard(maxRanges: config.maxSACKScoreboardRanges, mss: sendMSS, sndUna: iss)
        self.flow = FlowControlState(config: config.flowControl, maxPersistInterval: config.maxPersistInterval)
        timestamps.lastArrival = now
        timestamps.firstValue = timestampClock(now)
        keepAlive.lastHeard = now
    }

    // MARK: Derived values

    var publicState: TCPState { state.publicState }

    var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// Sequence number of our FIN (valid when `finQueued`): right after the last queued byte.
    var finSequence: SequenceNumber { sendRingStart + sendRing.count }

    /// Our FIN has been sent (at least once).
    var finSent: Bool { finQueued && finSequence.isBefore(sndMax) }

    /// Our FIN has been acknowledged.
    var finAcknowledged: Bool { finQueued && finSequence.isBefore(sndUna) }

    /// Bytes sent and not acknowledged (SYN and FIN included).
    var bytesInFlight: Int { Swift.max(0, sndNxt - sndUna) }

    /// The smallest window shift whose 16-bit field covers `bufferSize`, at most 14 (RFC 7323 §2.3).
    static func windowShift(for bufferSize: Int) -> Int {
        var shift = 0
        while shift < maxWindowShift && (bufferSize >> shift) > 0xFFFF { shift += 1 }
        return shift
    }

    /// Records a broken invariant (the first description is kept; never grows).
    func recordViolation(_ message: @autoclosure () -> String) {
        invariantViolations += 1
        if firstInvariantViolation == nil { firstInvariantViolation = message() }
    }

    /// Enters CLOSED with `reason`, stops every timer and reports it once.
    func enterClosed(_ reason: CloseReason) {
        if isClosed { return }
        state = .closed(reason)
        flow.accounting.stopSenderClock(at: flow.lastSeen)
        retransmitDeadline = nil
        delayedACKDeadline = nil
        persistDeadline = nil
        ackNow = false
        probeDue = false
        flow.updateRepeat.cancel()
        if reason == .reset { pendingEvents.insert(.reset) }
        pendingEvents.insert(.closed)
    }

    /// The reason to report with `.closed`.
    var closeReason: CloseReason {
        switch state {
        case .closed(let reason): reason
        default: .normal
        }
    }

    /// Enters TIME-WAIT for 2·MSL (RFC 9293 §3.10.7.4): the connection is over for the
    /// application (`.closed(.normal)`), but keeps answering retransmitted FINs.
    func enterTimeWait(at now: Instant) {
        state = .timeWait(until: now + config.timeWaitDuration)
        retransmitDeadline = nil
        persistDeadline = nil
        probeDue = false
        flow.updateRepeat.cancel()
        pendingEvents.insert(.closed)
    }

    /// SYN-RECEIVED or SYN-SENT → ESTABLISHED (or FIN-WAIT-1 when the application already shut
    /// down its side, RFC 9293 §3.10.4 "SYN-RECEIVED STATE").
    func enterEstablished() {
        state = finQueued ? .finWait1 : .established
        // RFC 6928 §2: a lost SYN or SYN-ACK leaves an initial window of one segment.
        // RFC 6298 §5.7: without a valid RTT sample from the handshake, the RTO restarts from
        // 3 s when data transmission begins; the SYN's backoff is not carried into the data.
        if stats.retransmissionTimeouts > 0 {
            congestion.synWasRetransmitted()
            rtt.restartAfterSYNTimeout(fallback: synTimeoutFallbackRTO)
        }
        pendingEvents.insert(listenerPort == nil ? .connected : .established)
    }

    func updatePeaks() {
        stats.peakSendBufferBytes = Swift.max(stats.peakSendBufferBytes, sendRing.count)
        stats.peakReceiveBufferBytes = Swift.max(stats.peakReceiveBufferBytes, receiveRing.count + assembler.highestEnd)
    }

    /// A snapshot for `Endpoint.stats(of:)`.
    func snapshot() -> ConnectionStats {
        var s = stats
        s.state = publicState
        s.smoothedRTT = rtt.smoothedRTT.map { .nanoseconds($0) }
        s.rttVariation = rtt.smoothedRTT == nil ? nil : .nanoseconds(rtt.rttVariation)
        s.retransmissionTimeout = rtt.rtoDuration
        s.congestionWindow = congestion.cwnd
        s.slowStartThreshold = congestion.ssthresh
        s.fastRetransmits = congestion.counters.fastRetransmits
        s.peerWindow = sndWnd
        s.advertisedWindow = Swift.max(0, rcvAdvertisedEdge - rcvNxt)
        s.bytesInFlight = bytesInFlight
        s.flow = flowStats()
        s.sendBufferBytes = sendRing.count
        s.receiveBufferBytes = receiveRing.count
        s.sendMSS = sendMSS
        s.sendWindowShift = sendShift
        s.receiveWindowShift = receiveShift
        s.sackEnabled = sackPermitted
        s.timestampsEnabled = timestampsEnabled
        return s
    }
}

@available(*, unavailable)
extension Connection: Sendable {}

/// IPv4 (20) + TCP (20) header bytes without options: MSS = MTU − 40 (RFC 9293 §3.7.1, RFC 879).
let ipAndTCPHeaderLength = 40
/// RFC 7323 §2.3: the shift is at most 14.
let maxWindowShift = 14
/// The smallest MSS we send with, whatever the peer announces: Linux's `TCP_MIN_SND_MSS`
/// (40 bytes of options plus 8 of data; the floor it added against tiny-MSS attacks,
/// CVE-2019-11479).
let minimumSendMSS = 48
