/// The per-packet analysis flags of Wireshark's TCP dissector (`TCP_A_*` in packet-tcp.c,
/// Wireshark 4.0). One packet can carry several.
///
/// The display filters count them so: `tcp.analysis.retransmission` matches a packet flagged
/// `retransmission`, `fastRetransmission` or `spuriousRetransmission` (the dissector adds the
/// retransmission expert item for all three); every other filter matches its own flag.
package struct TCPAnalysisFlags: OptionSet, Hashable, Sendable {
    package var rawValue: UInt32
    package init(rawValue: UInt32) { self.rawValue = rawValue }

    package static let retransmission = TCPAnalysisFlags(rawValue: 0x0001)
    package static let lostSegment = TCPAnalysisFlags(rawValue: 0x0002)
    package static let ackLostSegment = TCPAnalysisFlags(rawValue: 0x0004)
    package static let keepAlive = TCPAnalysisFlags(rawValue: 0x0008)
    package static let duplicateAck = TCPAnalysisFlags(rawValue: 0x0010)
    package static let zeroWindow = TCPAnalysisFlags(rawValue: 0x0020)
    package static let zeroWindowProbe = TCPAnalysisFlags(rawValue: 0x0040)
    package static let zeroWindowProbeAck = TCPAnalysisFlags(rawValue: 0x0080)
    package static let keepAliveAck = TCPAnalysisFlags(rawValue: 0x0100)
    package static let outOfOrder = TCPAnalysisFlags(rawValue: 0x0200)
    package static let fastRetransmission = TCPAnalysisFlags(rawValue: 0x0400)
    package static let windowUpdate = TCPAnalysisFlags(rawValue: 0x0800)
    package static let windowFull = TCPAnalysisFlags(rawValue: 0x1000)
    package static let reusedPorts = TCPAnalysisFlags(rawValue: 0x2000)
    package static let spuriousRetransmission = TCPAnalysisFlags(rawValue: 0x4000)

    /// What `tcp.analysis.retransmission` matches.
    package static let anyRetransmission: TCPAnalysisFlags = [.retransmission, .fastRetransmission, .spuriousRetransmission]
}

/// The events counted per direction, under their JSON names (the names of tshark's
/// `tcp.analysis.*` display filters where Wireshark defines the event).
package enum TraceEvent: Int, CaseIterable, Sendable {
    case zeroWindow
    case zeroWindowProbe
    case zeroWindowProbeAck
    case windowFull
    case windowUpdate
    case retransmission
    case fastRetransmission
    case outOfOrder
    case duplicateAck
    case keepAlive
    case spuriousRetransmission
    case lostSegment
    case ackLostSegment
    /// Linux's zero-window probe: an empty segment at SND.UNA − 1 sent while the peer's window
    /// is zero (Wireshark flags it `keep_alive`; this is what it is).
    case linuxZeroWindowProbe
    /// The peer's answer to a Linux zero-window probe: its next segment.
    case linuxZeroWindowProbeAck
    /// A window update of this side that the peer never saw: after it, the peer probed (either
    /// style) or retransmitted while the capture showed room and nothing in flight
    /// (`SenderView`). Counted for the side that sent the update.
    case windowUpdateLost

    /// The JSON key (snake_case), equal to the tshark filter name `tcp.analysis.<name>` for the
    /// events Wireshark defines.
    package var name: String {
        switch self {
        case .zeroWindow: "zero_window"
        case .zeroWindowProbe: "zero_window_probe"
        case .zeroWindowProbeAck: "zero_window_probe_ack"
        case .windowFull: "window_full"
        case .windowUpdate: "window_update"
        case .retransmission: "retransmission"
        case .fastRetransmission: "fast_retransmission"
        case .outOfOrder: "out_of_order"
        case .duplicateAck: "duplicate_ack"
        case .keepAlive: "keep_alive"
        case .spuriousRetransmission: "spurious_retransmission"
        case .lostSegment: "lost_segment"
        case .ackLostSegment: "ack_lost_segment"
        case .linuxZeroWindowProbe: "linux_zero_window_probe"
        case .linuxZeroWindowProbeAck: "linux_zero_window_probe_ack"
        case .windowUpdateLost: "window_update_lost"
        }
    }

    /// The tshark display filter that counts the same packets, for the events Wireshark defines.
    package var tsharkFilter: String? {
        switch self {
        case .linuxZeroWindowProbe, .linuxZeroWindowProbeAck, .windowUpdateLost: nil
        case .lostSegment: "tcp.analysis.lost_segment"
        case .ackLostSegment: "tcp.analysis.ack_lost_segment"
        default: "tcp.analysis.\(name)"
        }
    }

    /// The events Wireshark defines (those with flags), computed once.
    package static let wiresharkEvents: [TraceEvent] = allCases.filter { !$0.wiresharkFlags.isEmpty }

    /// The analysis flags whose presence makes a packet count for this event.
    package var wiresharkFlags: TCPAnalysisFlags {
        switch self {
        case .zeroWindow: .zeroWindow
        case .zeroWindowProbe: .zeroWindowProbe
        case .zeroWindowProbeAck: .zeroWindowProbeAck
        case .windowFull: .windowFull
        case .windowUpdate: .windowUpdate
        case .retransmission: .anyRetransmission
        case .fastRetransmission: .fastRetransmission
        case .outOfOrder: .outOfOrder
        case .duplicateAck: .duplicateAck
        case .keepAlive: .keepAlive
        case .spuriousRetransmission: .spuriousRetransmission
        case .lostSegment: .lostSegment
        case .ackLostSegment: .ackLostSegment
        case .linuxZeroWindowProbe, .linuxZeroWindowProbeAck, .windowUpdateLost: []
        }
    }
}

/// A fixed array of counters, one per `TraceEvent`, stored inline.
package struct EventCounts: Hashable, Sendable {
    private var counts = [Int](repeating: 0, count: TraceEvent.allCases.count)
    package init() {}
    package subscript(_ e: TraceEvent) -> Int {
        get { counts[e.rawValue] }
        set { counts[e.rawValue] = newValue }
    }
    package static func + (a: EventCounts, b: EventCounts) -> EventCounts {
        var r = a
        for e in TraceEvent.allCases { r[e] += b[e] }
        return r
    }
}
