/// The flow-control knobs of a connection (`ConnectionConfig.flowControl`). Defaults follow
/// Linux where the RFCs leave a choice; each says where its value comes from.
public struct FlowControlConfig: Hashable, Sendable {
    /// Nagle's algorithm (RFC 896, RFC 9293 §3.7.4 SHLD-7; MUST-17: the application can turn it
    /// off, as `TCP_NODELAY` does). On by default.
    public var nagle: Bool = true
    /// How long sender silly-window avoidance may hold a small segment (RFC 9293 §3.8.6.2.1,
    /// RFC 1122 §4.2.3.4 suggests 0.1–1 s). See `SenderSillyWindowAvoidance.defaultOverrideTimeout`.
    public var sillyWindowOverrideTimeout: Duration = SenderSillyWindowAvoidance.defaultOverrideTimeout
    /// What a zero-window probe looks like (RFC 9293 §3.8.6.1): one byte of new data by default.
    public var zeroWindowProbeStyle: ZeroWindowProbeStyle = .oneByteOfData
    /// Abort the connection when zero-window probes go unanswered this long (RFC 9293 §3.8.3
    /// user timeout; RFC 5482). `nil` (default): probe for as long as it takes, as RFC 9293
    /// §3.8.6.1 MUST-26 requires while probes are answered.
    public var userTimeout: Duration? = nil
    /// Pacing (automatic by default: Linux's 2.0 / 1.2 × cwnd / SRTT).
    public var pacing: PacingMode = .automatic()
    /// Segments the pacer lets go back to back after an idle period (Linux `tcp_min_tso_segs`).
    public var pacingBurstSegments: Int = Pacer.defaultBurstSegments
    /// How many times a window update that reopened a closed window is sent again when no new
    /// data follows within 2 × SRTT (doubling each time; `WindowUpdateRepeat`). 0 turns it off;
    /// on by default, so a lost update costs about two round trips, not a persist interval.
    public var windowUpdateRepeats: Int = WindowUpdateRepeat.defaultMaxRepeats

    public init() {}
}
