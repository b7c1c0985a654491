import SluiceCore

/// The result of analysing one packet.
package struct PacketAnalysis: Sendable {
    package var flags: TCPAnalysisFlags = []
    /// The frame this packet acknowledges (its ACK equals that segment's end), and the time
    /// since it was sent: Wireshark's `tcp.analysis.acks_frame` and `tcp.analysis.ack_rtt`.
    package var ackedFrame: Int? = nil
    package var ackRTT: Int64? = nil
}

/// A port of Wireshark 4.0's TCP sequence analysis (epan/dissectors/packet-tcp.c:
/// `tcp_analyze_sequence_number` and the parts of `dissect_tcp` around it that update its
/// state), so that the events it flags are the ones tshark flags on the same capture, with its
/// default preferences (`tcp.analyze_sequence_numbers: TRUE`, `tcp.fastrt_supersedes_ooo:
/// TRUE`, `tcp.default_window_scaling: Not known`).
///
/// Direction: `flow1` is the side whose address compares greater (ports when the addresses are
/// equal), as in `get_tcp_conversation_data`; callers pass `forward` for packets sent by it.
struct WiresharkConversation {
    var flow1 = WiresharkFlowState()
    var flow2 = WiresharkFlowState()
    /// Time of the most recent SYN (without ACK), 0 when none (`ts_mru_syn`).
    var tsMruSyn: Int64 = 0
    /// Handshake RTT, 0 until known (`ts_first_rtt`): the out-of-order threshold.
    var tsFirstRtt: Int64 = 0

    /// Which flow sends a packet from `source` to `destination` (`cmp_address`, then ports).
    static func isFlow1(source: SocketAddress, destination: SocketAddress) -> Bool {
        if source.address.rawValue != destination.address.rawValue {
            return source.address.rawValue > destination.address.rawValue
        }
        return source.port > destination.port
    }

    /// A SYN whose sequence number differs from the one this side started with opens a new
    /// conversation (tshark gives it a new `tcp.stream`); `dissect_tcp` checks this before
    /// analysing the packet.
    func isNewConversation(_ s: TraceSegment, forward: Bool) -> Bool {
        let fwd = forward ? flow1 : flow2
        return s.isSYN && !s.hasACK && fwd.baseSeqSet && s.seq != fwd.baseSeq
    }

    /// Analyses one packet and updates the state, in the order `dissect_tcp` does.
    /// - Parameter reusedPorts: the packet opened this conversation by reusing the ports of an
    ///   earlier one (its flags then start with `reusedPorts`, as in `dissect_tcp`).
    mutating func analyze(_ s: TraceSegment, forward: Bool, reusedPorts: Bool = false) -> PacketAnalysis {
        if forward {
            return Self.analyze(s, fwd: &flow1, rev: &flow2, tsMruSyn: &tsMruSyn, tsFirstRtt: &tsFirstRtt, reusedPorts: reusedPorts)
        } else {
            return Self.analyze(s, fwd: &flow2, rev: &flow1, tsMruSyn: &tsMruSyn, tsFirstRtt: &tsFirstRtt, reusedPorts: reusedPorts)
        }
    }

    private static func analyze(
        _ s: TraceSegment, fwd: inout WiresharkFlowState, rev: inout WiresharkFlowState,
        tsMruSyn: inout Int64, tsFirstRtt: inout Int64, reusedPorts: Bool
    ) -> PacketAnalysis {
        var result = PacketAnalysis()
        let now = s.time.nanoseconds
        // dissect_tcp: a retransmitted SYN (same ISN) restores nextseq (issue 17616) and is
        // flagged as reusing the ports.
        var ta: TCPAnalysisFlags = reusedPorts ? .reusedPorts : []
        if s.isSYN && !s.hasACK && fwd.baseSeqSet && s.seq == fwd.baseSeq {
            fwd.nextSeq = fwd.maxSeqToBeAcked
            ta.insert(.reusedPorts)
        }
        sequenceAnalysis(s, now: now, fwd: &fwd, rev: &rev, tsFirstRtt: tsFirstRtt, ta: &ta, result: &result)
        result.flags = ta

        // dissect_tcp, after the analysis.
        if s.isSYN {
            if !s.hasACK { tsMruSyn = now }
            fwd.isFirstAck = true
        }
        let pureAck = s.hasACK && !s.isSYN
        if pureAck && tsMruSyn != 0 && tsFirstRtt == 0 {
            tsFirstRtt = now &- tsMruSyn
        }
        if pureAck && fwd.isFirstAck {
            fwd.isFirstAck = false
        }
        // Options: the window scale option is stored whatever the flags (pdu_store_window_scale_option).
        if let shift = s.windowScale {
            fwd.winScale = Int16(shift)
        }
        // verify_tcp_window_scaling, for SYN and SYN/ACK.
        if s.isSYN {
            if fwd.winScale == -1 {
                fwd.winScale = -2
                rev.winScale = -2
            } else if s.hasACK && rev.winScale == -2 {
                fwd.winScale = -2
            }
        }
        return result
    }

    /// `tcp_analyze_sequence_number`, check by check.
    private static func sequenceAnalysis(
        _ s: TraceSegment, now: Int64, fwd: inout WiresharkFlowState, rev: inout WiresharkFlowState,
        tsFirstRtt: Int64, ta: inout TCPAnalysisFlags, result: inout PacketAnalysis
    ) {
        let seq = s.seq, ack = s.ack, seglen = s.length
        let window = UInt32(s.window)
        let syn = s.isSYN, fin = s.isFIN, rst = s.isRST
        let synFinRst = syn || fin || rst

        if !fwd.baseSeqSet {
            fwd.baseSeq = syn ? seq : seq &- 1
            fwd.baseSeqSet = true
        }
        if !rev.baseSeqSet && s.hasACK {
            rev.baseSeq = ack &- 1
            rev.baseSeqSet = true
        }
        if s.hasACK { rev.validBif = true }

        forward: do {
            // ZERO WINDOW PROBE: one byte at the next expected sequence number while the other
            // side's window is zero.
            if seglen == 1 && seq == fwd.nextSeq && rev.window == 0 {
                ta.insert(.zeroWindowProbe)
                break forward
            }
            // ZERO WINDOW: window 0, none of SYN/FIN/RST.
            if window == 0 && !synFinRst {
                ta.insert(.zeroWindow)
            }
            // LOST PACKET: beyond the highest nextseq seen.
            if fwd.nextSeq != 0 && gtSeq(seq, fwd.nextSeq) && !rst {
                ta.insert(.lostSegment)
                fwd.validBif = false
            }
            // KEEP ALIVE: 0 or 1 byte starting one byte before the next expected sequence number.
            if (seglen == 0 || seglen == 1) && seq == fwd.nextSeq &- 1 && !synFinRst {
                ta.insert(.keepAlive)
            }
            // WINDOW UPDATE: empty, same SEQ/ACK as before, a new non-zero window.
            if seglen == 0 && window != 0 && window != fwd.window && seq == fwd.nextSeq
                && ack == fwd.lastAck && !synFinRst {
                ta.insert(.windowUpdate)
            }
            // WINDOW FULL: data up to exactly the right edge the other side advertised, when its
            // window scale is known.
            if seglen > 0 && rev.winScale != -1 && !synFinRst {
                let shift: UInt32 = rev.isFirstAck ? 0 : (rev.winScale == -2 ? 0 : UInt32(rev.winScale))
                if seq &+ seglen == rev.lastAck &+ (rev.window << shift) {
                    ta.insert(.windowFull)
                }
            }
            // KEEP ALIVE ACK: repeats the previous ACK after a keep-alive from the other side.
            if seglen == 0 && window != 0 && window == fwd.window && seq == fwd.nextSeq
                && ack == fwd.lastAck && rev.lastSegmentFlags.contains(.keepAlive) && !synFinRst {
                ta.insert(.keepAliveAck)
                break forward
            }
            // ZERO WINDOW PROBE ACK: repeats the previous zero-window ACK after a probe.
            if seglen == 0 && window == 0 && window == fwd.window && seq == fwd.nextSeq
                && ack == fwd.lastAck && rev.lastSegmentFlags.contains(.zeroWindowProbe) && !synFinRst {
                ta.insert(.zeroWindowProbeAck)
                break forward
            }
            // DUPLICATE ACK: empty, same window/SEQ/ACK as the previous segment.
            if seglen == 0 && window != 0 && window == fwd.window && seq == fwd.nextSeq
                && ack == fwd.lastAck && !synFinRst {
                fwd.dupAckNum = fwd.dupAckNum == -1 ? 1 : fwd.dupAckNum + 1
                ta.insert(.duplicateAck)
            }
        }

        // finished_fwd: a new ACK value resets the duplicate-ACK count.
        if ack != fwd.lastAck {
            fwd.lastNonDupAck = s.frame
            fwd.dupAckNum = 0
        }

        // ACKED LOST PACKET: acknowledges beyond what the other side was seen sending.
        if rev.maxSeqToBeAcked != 0 && gtSeq(ack, rev.maxSeqToBeAcked) && s.hasACK {
            if rev.maxSeqToBeAcked > rev.nextSeq {   // plain unsigned comparison, as in C
                rev.maxSeqToBeAcked = rev.nextSeq
                ta.insert(.ackLostSegment)
            } else {
                if rev.dupAckNum == 0 { ta.insert(.ackLostSegment) }
                rev.dupAckNum = -1
            }
        }

        // RETRANSMISSION / FAST RETRANSMISSION / OUT-OF-ORDER / SPURIOUS.
        retransmission: if seglen > 0 || syn || fin {
            var seqNotAdvanced = fwd.nextSeq != 0 && ltSeq(seq, fwd.nextSeq)
            if ta.contains(.keepAlive) { break retransmission }
            // More than one byte starting just before nextseq adds new data (after a probe).
            if seglen > 1 && fwd.nextSeq &- 1 == seq { seqNotAdvanced = false }

            // Spurious: all of it was already acknowledged.
            if seglen > 0 && rev.lastAck != 0 && leSeq(seq &+ seglen, rev.lastAck) {
                ta.insert(.spuriousRetransmission)
                break retransmission
            }
            // Fast retransmission (checked first: tcp.fastrt_supersedes_ooo is TRUE): two or
            // more duplicate ACKs from the other side for this sequence number, within 20 ms.
            let sinceDupAck = UInt64(bitPattern: now &- rev.lastAckTime)
            if seqNotAdvanced && rev.dupAckNum >= 2 && rev.lastAck == seq && sinceDupAck < 20_000_000 {
                ta.insert(.fastRetransmission)
                break retransmission
            }
            // Out of order: came soon after the highest segment (within the handshake RTT,
            // or 3 ms when unknown) and is not a plain resend of the last one.
            let sinceNext = UInt64(bitPattern: now &- fwd.nextSeqTime)
            let oooThreshold: UInt64 = tsFirstRtt == 0 ? 3_000_000 : UInt64(bitPattern: tsFirstRtt)
            let end = seq &+ seglen &+ ((syn || fin) ? 1 : 0)
            if seqNotAdvanced && sinceNext < oooThreshold && fwd.nextSeq != end {
                ta.insert(.outOfOrder)
                break retransmission
            }
            if seqNotAdvanced {
                ta.insert(.retransmission)
            }
        }

        // finished_checking_retransmission_type: remember the segment.
        var nextSeq = seq &+ seglen
        if (seglen != 0 || syn || fin) && fwd.unacked.count < unackedSegmentLimit {
            if syn || fin { nextSeq &+= 1 }
            fwd.unacked.append(.init(seq: seq, nextSeq: nextSeq, frame: s.frame, time: now))
        }
        // Highest nextseq seen; zero-window probes do not advance it.
        if gtSeq(nextSeq, fwd.nextSeq) || fwd.nextSeq == 0 {
            if !ta.contains(.zeroWindowProbe) {
                fwd.nextSeq = nextSeq
                fwd.nextSeqFrame = s.frame
                fwd.nextSeqTime = now
            }
        }
        // Highest contiguous sequence number ('max seq to be acked').
        if seq == fwd.maxSeqToBeAcked || fwd.maxSeqToBeAcked == 0 {
            if !ta.contains(.zeroWindowProbe) {
                fwd.maxSeqToBeAcked = fwd.nextSeq
            }
        }
        fwd.window = window
        fwd.lastAck = ack
        fwd.lastAckTime = now
        fwd.lastSegmentFlags = ta

        // Remove what this ACK covers from the other side's unacknowledged segments.
        if let matched = rev.unacked.applyAck(ack) {
            result.ackedFrame = matched.frame
            result.ackRTT = now &- matched.time
        }
    }
}

/// Wireshark's `TCP_MAX_UNACKED_SEGMENTS` (packet-tcp.h): the most unacknowledged segments it
/// records per direction; the same bound keeps per-connection memory finite here.
let unackedSegmentLimit = 10_000
