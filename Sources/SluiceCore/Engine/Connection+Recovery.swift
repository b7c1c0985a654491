// Loss recovery in the connection: the hooks that feed ACKs and timeouts to `CongestionControl`
// (NewReno, RFC 5681 / RFC 6582) and `SACKScoreboard` (RFC 6675), and the send-path step that
// retransmits what they choose. The algorithms live in Sources/SluiceCore/Recovery/.

extension Connection {
    /// Starts loss recovery afresh once the SYN options are known: the MSS sizes the initial
    /// window (RFC 6928) and SACK picks the recovery algorithm (RFC 6675 when negotiated).
    func resetLossRecovery() {
        congestion = CongestionControl(mss: sendMSS, initialSequenceNumber: iss, mode: sackPermitted ? .sack : .newReno)
        scoreboard = SACKScoreboard(maxRanges: config.maxSACKScoreboardRanges, mss: sendMSS, sndUna: sndUna)
        retransmitDue = nil
    }

    /// Called for every acceptable ACK in a synchronized state, after SND.UNA and the send window
    /// were updated.
    ///
    /// - An ACK of new data goes to `CongestionControl.onAck`; a NewReno partial ACK schedules
    ///   the retransmission of the segment at the new SND.UNA (RFC 6582 §3.2 step 5). (The
    ///   retransmission timer is already restarted by every ACK of new data, RFC 6298 §5.3.)
    /// - A duplicate ACK (RFC 5681 §2) goes to `onDuplicateAck`; the third one schedules the fast
    ///   retransmission of the segment at SND.UNA (RFC 5681 §3.2 step 3).
    /// - With SACK, the blocks update the scoreboard (RFC 6675 §5 Update()), and recovery may also
    ///   start when the scoreboard shows SND.UNA lost (RFC 6675 §5, IsLost(HighACK + 1)).
    ///
    /// An ACK answering a zero-window probe (`probing`), or one with a zero window, is not a
    /// duplicate ACK for loss detection: the peer is not signalling a loss.
    func lossRecovery(afterACK seg: TCPHeader, payloadLength: Int, previousUna: SequenceNumber,
                      previousWindow: Int, probing: Bool, at now: Instant) {
        let ack = seg.acknowledgmentNumber
        if sackPermitted {
            scoreboard.update(ack: sndUna, blocks: seg.options.sackBlocks, sndMax: sndMax)
        }
        if previousUna.isBefore(sndUna) {
            let action = congestion.onAck(ack: sndUna, bytesAcked: sndUna - previousUna,
                                          flightSize: Swift.max(0, sndMax - sndUna), at: now)
            switch action {
            case .partialAck where congestion.mode == .newReno:
                retransmitDue = sndUna
            case .recoveryEnded:
                retransmitDue = nil
            default:
                break
            }
            if let due = retransmitDue, due.isBefore(sndUna) { retransmitDue = sndUna }
            return
        }
        // Answers to zero-window probes repeat SND.UNA with a zero window: nothing arrived out of
        // order, so they are not duplicate ACKs (RFC 5681 §2 is about in-window data).
        guard !flow.persist.isRunning else { return }
        let window = Int(seg.window) << sendShift
        guard ack == previousUna, !probing, previousWindow > 0, CongestionControl.isDuplicateAck(
            ack: ack, sndUna: sndUna, sndMax: sndMax, payloadLength: payloadLength,
            flags: seg.flags, window: window, previousWindow: previousWindow) else { return }
        var action = congestion.onDuplicateAck(ack: ack, flightSize: sndMax - sndUna, sndMax: sndMax)
        if action == .none && sackPermitted && !congestion.inRecovery && scoreboard.isLost(sndUna) {
            action = congestion.enterRecovery(ack: ack, flightSize: sndMax - sndUna, sndMax: sndMax)
        }
        if action == .fastRetransmit {
            // RFC 6675 §5 steps 1–3 / RFC 5681 §3.2 step 3: retransmit the first unacknowledged
            // segment now; HighRxt starts over for this recovery.
            scoreboard.beginRecovery()
            retransmitDue = sndUna
        }
    }

    /// The retransmission timer fired (RFC 5681 §3.1, RFC 6582 §3.2, RFC 6675 §5.1): cwnd
    /// collapses to one segment, `recover` moves to SND.MAX − 1, and the SACKed bits are
    /// cleared (RFC 2018 §8). The go-back-N resend is the timer code's.
    func lossRecoveryOnTimeout() {
        congestion.onRetransmitTimeout(flightSize: Swift.max(0, sndMax - sndUna), sndMax: sndMax)
        scoreboard.onRetransmitTimeout()
        retransmitDue = nil
    }

    /// What the send path compares with SND.NXT − SND.UNA: cwnd plus Limited Transmit
    /// (RFC 3042) normally; in SACK recovery the RFC 6675 §5 (C) rule "transmit while
    /// cwnd − pipe ≥ 1 SMSS", translated so that `usableWindow()` yields cwnd − pipe.
    func effectiveCongestionWindow() -> Int {
        let flight = Swift.max(0, sndNxt - sndUna)
        guard sackPermitted, congestion.mode == .sack, congestion.inRecovery else {
            return congestion.sendWindow
        }
        var board = scoreboard
        board.didSendNewData(upTo: sndMax)
        let room = congestion.cwnd - board.pipe
        return room >= sendMSS ? flight + room : flight
    }

    /// The next loss-recovery segment, if one is due: a scheduled fast/partial-ACK
    /// retransmission, or in SACK recovery the hole NextSeg() picks (RFC 6675 §5 (C.1)), sent
    /// only while cwnd − pipe ≥ 1 SMSS. New data is left to the normal send path.
    func nextRecoverySegment(maxPayload: Int, unsent: Int, at now: Instant) -> OutgoingSegment? {
        guard maxPayload > 0 else { return nil }
        scoreboard.didSendNewData(upTo: sndMax)
        restartAfterIdleIfNeeded(unsent: unsent, at: now)
        if let seq = retransmitDue {
            retransmitDue = nil
            if let segment = makeRetransmission(from: seq, maxLength: maxPayload, at: now) { return segment }
        }
        guard sackPermitted, congestion.mode == .sack, congestion.inRecovery,
              congestion.cwnd - scoreboard.pipe >= sendMSS else { return nil }
        let windowRoom = Swift.max(0, (sndUna + sndWnd) - sndNxt)
        let sendable = sndNxt == sndMax ? Swift.min(unsent, windowRoom) : 0
        guard case .retransmit(let seq, let length, _) = scoreboard.nextSegment(sendableNewBytes: sendable) else {
            return nil
        }
        return makeRetransmission(from: seq, maxLength: Swift.min(maxPayload, length), at: now)
    }

    /// RFC 6675 §5.1: after a timeout the sender SHOULD use the SACK information that arrives
    /// while it resends from SND.UNA (go-back-N): SND.NXT skips what the peer reported holding.
    /// Called before the send path reads SND.NXT for a segment's header and payload.
    func skipSACKedDataAfterTimeout() {
        if sackPermitted, sndNxt.isBefore(sndMax), let end = scoreboard.endOfSACKedRange(containing: sndNxt) {
            sndNxt = end
        }
    }

    /// RFC 5681 §4.1: when new data is about to go after the connection was idle (nothing in
    /// flight) for more than one RTO, cwnd restarts from min(IW, cwnd). The idle time is measured
    /// from the last ACK of new data, which came after the last send: a conservative bound.
    private func restartAfterIdleIfNeeded(unsent: Int, at now: Instant) {
        guard unsent > 0, sndUna == sndMax, congestion.cwnd > congestion.initialWindow,
              let last = congestion.lastAckTime, now - last > rtt.rtoDuration else { return }
        congestion.restartAfterIdle()
    }

    /// Resends up to `maxLength` bytes from `seq` (between SND.UNA and SND.MAX) without moving
    /// SND.NXT, with the FIN if it was sent and follows them. Karn (RFC 6298 §3): the RTT sample
    /// is dropped when it could be confused with this retransmission.
    private func makeRetransmission(from seq: SequenceNumber, maxLength: Int, at now: Instant) -> OutgoingSegment? {
        guard sndUna.isBeforeOrEqual(seq), seq.isBefore(sndMax) else { return nil }
        let dataEnd = sendRingStart + sendRing.count
        let limit = dataEnd.isBefore(sndMax) ? dataEnd : sndMax
        let length = Swift.max(0, Swift.min(maxLength, limit - seq))
        let fin = finSent && seq + length == finSequence
        guard length > 0 || fin else { return nil }
        var header = makeHeader(sequence: seq, flags: .ack, at: now)
        if fin { header.flags.insert(.fin) }
        if length > 0 && seq + length == dataEnd { header.flags.insert(.psh) }
        if let end = rttSampleEnd, seq.isBefore(end) { rttSampleEnd = nil }
        if retransmitDeadline == nil { retransmitDeadline = now + rtt.rtoDuration }
        if sackPermitted { scoreboard.didRetransmit(from: seq, length: length + (fin ? 1 : 0)) }
        stats.bytesRetransmitted += length
        stats.segmentsSent += 1
        noteACKSent(header)
        return OutgoingSegment(header: header, payloadOffset: seq - sendRingStart, payloadLength: length)
    }
}
