/// A snapshot of one connection's state and counters (`Endpoint.stats(of:)`), for the embedder,
/// the CLIs and tests. Byte counts are payload bytes (no headers, no SYN/FIN).
public struct ConnectionStats: Hashable, Sendable {
    public var state: TCPState = .closed
    /// Payload bytes sent for the first time.
    public var bytesSent: Int = 0
    /// Payload bytes sent again (timeouts, probes resent).
    public var bytesRetransmitted: Int = 0
    /// Payload bytes the peer acknowledged.
    public var bytesAcknowledged: Int = 0
    /// Payload bytes received in order (delivered to the receive buffer).
    public var bytesReceived: Int = 0
    /// Segments sent / received (every segment, pure ACKs included).
    public var segmentsSent: Int = 0
    public var segmentsReceived: Int = 0
    /// Duplicate ACKs received (RFC 5681 §2).
    public var duplicateACKsReceived: Int = 0
    /// Retransmission timeouts that fired (RFC 6298 §5.4).
    public var retransmissionTimeouts: Int = 0
    /// Segments received that were unacceptable (RFC 9293 §3.10.7.4) and answered with an ACK.
    public var unacceptableSegments: Int = 0
    /// Payload bytes received that were dropped: outside the window or refused by the
    /// reassembler's range limit.
    public var bytesDropped: Int = 0
    /// Out-of-order segments stored.
    public var outOfOrderSegments: Int = 0
    /// Zero-window probes sent (RFC 9293 §3.8.6.1).
    public var zeroWindowProbesSent: Int = 0
    /// Flow control: zero-window episodes, probes, window updates, and the time the sender was
    /// limited by the receiver's window, the congestion window, the pacer or the application.
    public var flow = FlowStats()

    // Hardening: timestamps (RFC 7323), blind-attack defences (RFC 5961), keep-alive.
    /// Segments dropped by PAWS (RFC 7323 §5.3; each answered with an ACK).
    public var pawsDrops: Int = 0
    /// Non-RST segments without TSopt on a connection that negotiated timestamps, dropped
    /// silently (RFC 7323 §3.2).
    public var missingTimestampDrops: Int = 0
    /// RTT samples taken from echoed timestamps (RFC 7323 §4.1), and echoes ignored because our
    /// clock cannot have produced them.
    public var timestampRTTSamples: Int = 0
    public var invalidTimestampEchoes: Int = 0
    /// Echoes of an earlier transmission of our SYN, which give no RTT sample (Karn's rule for
    /// the handshake, RFC 6298 §3 and §5.7).
    public var staleTimestampEchoes: Int = 0
    /// Handshake ACKs (a SYN-ACK, or the ACK of our SYN-ACK) that arrived after our SYN's
    /// retransmission timer had expired, before it was handled: ambiguous, so not timed.
    public var lateHandshakeACKs: Int = 0
    /// Challenge ACKs sent, and those the per-connection limit held back (RFC 5961 §7).
    public var challengeACKsSent: Int = 0
    public var challengeACKsSuppressed: Int = 0
    /// Segments dropped because SEG.ACK < SND.UNA − MAX.SND.WND (RFC 5961 §5.2).
    public var ackTooOldDrops: Int = 0
    /// Keep-alive probes sent (RFC 9293 §3.8.4).
    public var keepAliveProbesSent: Int = 0

    /// Smoothed RTT and its variation (RFC 6298 §2); `nil` before the first sample.
    public var smoothedRTT: Duration? = nil
    public var rttVariation: Duration? = nil
    /// The current retransmission timeout, backoff included.
    public var retransmissionTimeout: Duration = .zero
    /// The congestion window in bytes (no congestion control yet: the send buffer size).
    public var congestionWindow: Int = 0
    /// The slow start threshold in bytes (RFC 5681 §3.1).
    public var slowStartThreshold: Int = 0
    /// Loss recoveries entered by fast retransmit (RFC 5681 §3.2, RFC 6675 §5).
    public var fastRetransmits: Int = 0
    /// The peer's window, scaled, in bytes (SND.WND).
    public var peerWindow: Int = 0
    /// The window we last advertised, scaled, in bytes.
    public var advertisedWindow: Int = 0
    /// Bytes in flight (SND.NXT − SND.UNA, SYN/FIN included).
    public var bytesInFlight: Int = 0
    /// Bytes waiting in the send ring (unacknowledged or unsent) and in the receive ring
    /// (in order, unread); with their peaks.
    public var sendBufferBytes: Int = 0
    public var receiveBufferBytes: Int = 0
    public var peakSendBufferBytes: Int = 0
    public var peakReceiveBufferBytes: Int = 0

    /// What the handshake negotiated.
    public var sendMSS: Int = 0
    public var sendWindowShift: Int = 0
    public var receiveWindowShift: Int = 0
    public var sackEnabled: Bool = false
    public var timestampsEnabled: Bool = false

    public init() {}
}

/// Endpoint-wide counters: every packet that is not processed normally is counted under its
/// reason. Read with `Endpoint.counters`.
public struct EndpointCounters: Hashable, Sendable {
    public var packetsReceived: Int = 0
    public var packetsSent: Int = 0
    /// Of those, super-segments (`ConnectionConfig.segmentationOffloadBytes`), each counted once.
    public var superSegmentsSent: Int = 0

    // Drops before any connection sees the packet.
    /// The bytes are not an IPv4 packet carrying TCP (`WireError`).
    public var droppedMalformed: Int = 0
    /// IPv4 header or TCP checksum does not verify (RFC 9293 §3.1, RFC 791).
    public var droppedBadChecksum: Int = 0
    /// Packets whose TCP checksum the link vouched for (`LinkChecksum.vouchedByLink`), so the
    /// engine did not verify it.
    public var checksumsVouched: Int = 0
    /// Destination address is not ours, or a source that cannot be a peer (broadcast, ours).
    public var droppedNotForUs: Int = 0

    // Segments that match no connection (RFC 9293 §3.10.7.1, §3.10.7.2).
    /// Answered with RST (no connection, no listener).
    public var segmentsToClosedPort: Int = 0
    /// A SYN to a listener whose backlog is full (dropped silently: the peer retries).
    public var droppedBacklogFull: Int = 0
    /// A SYN refused with RST because its listener was full (`ListenerOverflow.reset`).
    public var refusedBacklogFull: Int = 0
    /// A SYN that would exceed `maxConnections` (dropped: listener policy `.drop`).
    public var droppedConnectionLimit: Int = 0
    /// A segment to a listener that was neither SYN nor answered with RST (e.g. RST, or FIN).
    public var droppedListenerNonSYN: Int = 0
    /// RSTs we wanted to send but the reset queue was full.
    public var droppedResetQueueFull: Int = 0
    /// TIME-WAIT connections released early because the table was full.
    public var timeWaitRecycled: Int = 0
    /// Events dropped because the event queue was full.
    public var eventsDropped: Int = 0

    // Drops inside a connection.
    /// Unacceptable segments (RFC 9293 §3.10.7.4 table), answered with an ACK.
    public var droppedUnacceptable: Int = 0
    /// Segments without ACK in a synchronized state (RFC 9293 §3.10.7.4 fifth check).
    public var droppedNoACK: Int = 0
    /// ACKs for data never sent (SEG.ACK > SND.NXT), answered with an ACK.
    public var droppedAckOfUnsent: Int = 0
    /// A segment in SYN-SENT with an unacceptable ACK (answered with RST) or neither SYN nor RST.
    public var droppedSynSentInvalid: Int = 0
    /// RSTs that did not match the window (ignored) or fell inside it but not at RCV.NXT
    /// (answered with a challenge ACK, RFC 5961 §3.2).
    public var droppedInvalidReset: Int = 0
    /// SYNs in a synchronized state (answered with a challenge ACK, RFC 5961 §4.2).
    public var droppedSynInWindow: Int = 0
    /// Payload bytes outside the receive window (trimmed) or refused by the reassembler.
    public var droppedPayloadBytes: Int = 0
    /// Segments whose out-of-order payload the reassembler refused (range limit).
    public var droppedReassemblyLimit: Int = 0

    /// RSTs sent (all causes) and received (accepted).
    public var resetsSent: Int = 0
    public var resetsReceived: Int = 0
    /// Challenge ACKs sent (RFC 5961), and those held back by the per-connection limit (§7).
    public var challengeACKsSent: Int = 0
    public var challengeACKsSuppressed: Int = 0
    /// Segments dropped by PAWS (RFC 7323 §5.3), answered with an ACK.
    public var droppedPAWS: Int = 0
    /// Non-RST segments without TSopt after timestamps were negotiated (RFC 7323 §3.2).
    public var droppedMissingTimestamp: Int = 0
    /// Segments whose ACK is older than SND.UNA − MAX.SND.WND (RFC 5961 §5.2).
    public var droppedAckTooOld: Int = 0

    // The encoder's own checks (`Endpoint.encode`): a segment that breaks one is not sent; its
    // connection is stopped with a RST (`.closed(.internalError)`). Non-zero means an engine bug.
    /// A payload-carrying segment whose header sequence number is not the send-ring position
    /// its payload was taken from (send ring start + payload offset).
    public var encoderSequenceMismatches: Int = 0
    /// A segment for which the send ring returned fewer payload bytes than it claims.
    public var encoderShortPayloads: Int = 0

    public init() {}
}
