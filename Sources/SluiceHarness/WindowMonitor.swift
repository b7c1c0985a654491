import SluiceCore

/// The harness's own wire invariant, checked on every packet: a sender never sends a data byte
/// past the largest right edge (RCV.NXT + RCV.WND) that the receiver advertised to it, except a
/// one-byte zero-window probe placed exactly at that edge (RFC 9293 §3.8.6.1, §3.8.6.2.1;
/// issue 5 "no byte past the peer's right edge except a one-byte zero-window probe").
///
/// Edges are learnt from the packets that *arrive* at the data sender uncorrupted (what it can
/// know), scaled per RFC 7323 §2.2–2.3: the window of a SYN is never scaled; scaling applies
/// only when both SYNs carried the option, each side scaling by the shift it announced.
struct WindowMonitor {
    /// One direction of a connection, named by the side that advertises the window.
    struct FlowKey: Hashable {
        var sourceAddress: UInt32
        var destinationAddress: UInt32
        var ports: UInt32

        init(_ s: SegmentInfo) {
            sourceAddress = s.source.address.rawValue
            destinationAddress = s.destination.address.rawValue
            ports = UInt32(s.source.port) << 16 | UInt32(s.destination.port)
        }

        var reversed: FlowKey {
            var r = self
            r.sourceAddress = destinationAddress
            r.destinationAddress = sourceAddress
            r.ports = ports << 16 | ports >> 16
            return r
        }
    }

    struct Half {
        /// The shift announced in this side's SYN, as it arrived at the peer.
        var announcedShift: UInt8?
        var sawSYN = false
        /// The largest right edge this side advertised that reached the peer.
        var maxRightEdge: SequenceNumber?
    }

    private var halves: [FlowKey: Half] = [:]

    /// Bytes of data checked at departure, and zero-window probes allowed.
    private(set) var checkedSegments = 0
    private(set) var probesAllowed = 0

    /// The largest right edge the receiver of `key`'s data has advertised to it.
    func maxRightEdge(advertisedBy key: FlowKey) -> SequenceNumber? { halves[key]?.maxRightEdge }

    /// A packet arrived at its receiver intact (the harness passes only packets whose checksums
    /// hold: the receiver drops the others).
    mutating func arrival(_ s: SegmentInfo) {
        let key = FlowKey(s)
        var half = halves[key] ?? Half()
        // The shift comes from the first SYN on the 4-tuple: a later one (a blind or spoofed
        // SYN on a live connection, RFC 5961 §4) changes nothing at the receiver; a new
        // connection is announced by its SYN's departure, which forgets the old halves.
        if s.flags.contains(.syn), !half.sawSYN {
            half.announcedShift = s.windowScale
            half.sawSYN = true
        }
        if s.flags.contains(.ack), !s.flags.contains(.rst) {
            var shift: UInt8 = 0
            if !s.flags.contains(.syn), let mine = half.announcedShift,
               halves[key.reversed]?.announcedShift != nil {
                shift = min(mine, 14)
            }
            let edge = s.acknowledgmentNumber + (Int(s.window) << Int(shift))
            if let old = half.maxRightEdge {
                half.maxRightEdge = SequenceNumber.max(old, edge)
            } else {
                half.maxRightEdge = edge
            }
        }
        halves[key] = half
    }

    /// A packet leaves its sender; returns a violation message, or `nil`.
    mutating func departure(_ s: SegmentInfo) -> String? {
        let key = FlowKey(s)
        if s.flags.contains(.syn), !s.flags.contains(.ack) {
            // A new connection on this 4-tuple: forget the old one's edges.
            halves[key] = nil
            halves[key.reversed] = nil
            return nil
        }
        guard s.payloadLength > 0, !s.flags.contains(.rst), !s.flags.contains(.syn) else { return nil }
        // A flow whose handshake the harness did not see (e.g. injected segments) is not checked.
        guard let edge = halves[key.reversed]?.maxRightEdge else { return nil }
        checkedSegments += 1
        let end = s.sequenceNumber + s.payloadLength
        guard end.isAfter(edge) else { return nil }
        if s.payloadLength == 1 && s.sequenceNumber == edge {
            probesAllowed += 1
            return nil
        }
        return "\(s): data ends at \(end), past the largest advertised right edge \(edge) by \(end - edge) bytes"
    }
}
