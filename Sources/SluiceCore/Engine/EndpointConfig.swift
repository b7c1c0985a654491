/// The bounds and knobs of an endpoint. Every table has an explicit limit; no input from the
/// network can grow memory past them.
public struct EndpointConfig: Sendable {
    /// The endpoint's IPv4 address: packets to any other destination are dropped (counted).
    public var localAddress: IPv4Address
    /// Connections in the table at once (every state but LISTEN, including TIME-WAIT).
    public var maxConnections: Int = 64
    /// Listening ports at once.
    public var maxListeners: Int = 16
    /// Local ports `connect` picks from when none is given (IANA dynamic range, RFC 6335 §6).
    public var ephemeralPorts: ClosedRange<UInt16> = 49152...65535
    /// Application events waiting in `pollEvent()`; when full, new events are dropped and counted
    /// (`EndpointCounters.eventsDropped`).
    public var maxPendingEvents: Int = 1024
    /// RSTs for segments that match no connection (RFC 9293 §3.10.7.1) waiting for
    /// `pollTransmit`; when full, further ones are not sent (counted).
    public var maxPendingResets: Int = 64
    /// A connection's send and receive rings take memory only while they hold data: storage is
    /// taken with the first byte and handed back when the ring empties (all acknowledged; all
    /// read, nothing out of order). The endpoint keeps up to this many handed-back buffers for
    /// reuse, so a ring that drains and fills every window allocates nothing, and frees the
    /// rest. Bound: this many × the larger of the two buffer sizes (2 MiB with the defaults).
    /// Our choice: 8, a few busy connections' worth; 0 returns every drained ring's memory.
    public var maxCachedRingBuffers: Int = 8
    /// The settings every connection of this endpoint uses.
    public var connection: ConnectionConfig = ConnectionConfig()
    /// RFC 9293 §3.4.1 / RFC 6528: ISN = M + F(4-tuple, secret), M a clock ticking every 4 µs.
    /// Injected so tests choose it and the core needs no hash or clock (drivers pass a keyed hash,
    /// e.g. SipHash or SHA-256 over the tuple and a secret, plus `now` in 4 µs ticks).
    public var initialSequenceNumber: @Sendable (FourTuple, Instant) -> SequenceNumber

    public init(localAddress: IPv4Address, initialSequenceNumber: @escaping @Sendable (FourTuple, Instant) -> SequenceNumber) {
        self.localAddress = localAddress
        self.initialSequenceNumber = initialSequenceNumber
    }
}

/// The bounds and knobs of one connection. Defaults follow Linux where the RFCs leave a choice;
/// each says where its value comes from.
public struct ConnectionConfig: Sendable {
    // MARK: Buffers

    /// Receive ring capacity in bytes: the most the connection ever advertises and stores,
    /// in order and out of order together.
    public var receiveBufferSize: Int = 256 * 1024
    /// Send ring capacity in bytes: written but not yet acknowledged data.
    public var sendBufferSize: Int = 256 * 1024
    /// Out-of-order ranges (holes) the reassembler tracks; a segment that would need one more is
    /// dropped and counted (the next expected segment is never dropped).
    public var maxReassemblyRanges: Int = 32
    /// SACKed ranges the sender's scoreboard remembers (RFC 6675); blocks that would need more
    /// are ignored and counted (at worst data the peer holds is resent).
    public var maxSACKScoreboardRanges: Int = 32

    // MARK: Segments

    /// The IP MTU of the path: the MSS we announce is `mtu - 40` (RFC 9293 §3.7.1, RFC 879), and
    /// no packet we send is larger.
    public var mtu: Int = 1500
    /// The MSS assumed when the peer's SYN carries none (RFC 9293 §3.7.1, MUST-15: 536).
    public var defaultPeerMSS: Int = 536
    /// Segmentation offload (TSO; Linux's `gso_max_size`): the largest IPv4 packet a data
    /// segment may be when the link splits super-segments itself (the TUN offload mode hands
    /// them to the kernel with `gso_size` = the segment payload, `Endpoint.pollTransmitPacket`).
    /// A super-segment is whole full-sized segments under one header, each of which the windows
    /// and the pacer let go at that instant; retransmissions and probes stay single segments.
    /// Off (0, the default) or any value below two segments: every packet fits `mtu`.
    /// At most 65,535 (the IPv4 total length) is used.
    public var segmentationOffloadBytes: Int = 0

    // MARK: Options negotiated on the SYN

    /// Offer and accept window scaling (RFC 7323 §2). The shift is the smallest that lets the
    /// 16-bit field cover `receiveBufferSize`, at most 14.
    public var windowScaleEnabled: Bool = true
    /// Offer and accept SACK (RFC 2018): SACK blocks in our ACKs when the peer permitted them.
    public var sackEnabled: Bool = true
    /// Offer and accept timestamps (RFC 7323 §3): TSopt on every segment once negotiated.
    public var timestampsEnabled: Bool = true

    // MARK: Retransmission (RFC 6298)

    /// RTO before any RTT sample (RFC 6298 §2.1: 1 s).
    public var initialRTO: Duration = .seconds(1)
    /// Lower bound of the RTO. RFC 6298 §2.4 says 1 s; we follow Linux (`TCP_RTO_MIN` = 200 ms)
    /// because 1 s stalls recovery on fast paths for no gain with modern timers.
    public var minRTO: Duration = .milliseconds(200)
    /// Upper bound of the RTO, backoff included (RFC 6298 §2.5: at least 60 s; Linux uses 120 s).
    public var maxRTO: Duration = .seconds(60)
    /// Retransmissions of one segment (by timeout) before the connection is aborted with
    /// `.retransmissionLimit` (RFC 1122 §4.2.3.5 R2; Linux `tcp_retries2` = 15).
    public var maxRetransmissions: Int = 15
    /// Retransmissions of a SYN or SYN-ACK before giving up (Linux `tcp_syn_retries` = 6).
    public var maxSynRetransmissions: Int = 6

    // MARK: Acknowledgments

    /// Delayed-ACK timer (RFC 9293 §3.8.6.3: under 0.5 s; RFC 5681 §4.2). 40 ms as Linux's
    /// `TCP_DELACK_MIN`. An ACK also goes out at once for every second full-sized segment.
    public var delayedACKTimeout: Duration = .milliseconds(40)
    /// Send every ACK at once (no delayed ACK).
    public var delayedACKEnabled: Bool = true

    // MARK: Closing

    /// How long TIME-WAIT lasts: 2·MSL (RFC 9293 §3.4.2 suggests MSL = 2 min, so 4 min); we
    /// follow Linux's 60 s (`TCP_TIMEWAIT_LEN`).
    public var timeWaitDuration: Duration = .seconds(60)

    // MARK: Zero window

    /// Upper bound of the persist timer's backoff between zero-window probes (RFC 9293
    /// §3.8.6.1; 60 s as Linux's `TCP_RTO_MAX`-capped probe interval).
    public var maxPersistInterval: Duration = .seconds(60)

    // MARK: Hardening

    /// Keep-alive probes (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6); off by default.
    public var keepAlive = KeepAliveConfig()
    /// Challenge ACKs per connection (RFC 5961 §7): by default 10 in any 5 s.
    public var challengeACKLimit = ChallengeACKLimit()

    // MARK: Flow control

    /// Nagle, silly-window override, probe style, user timeout, pacing (FlowControlConfig).
    public var flowControl = FlowControlConfig()

    public init() {}
}
