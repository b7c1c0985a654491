// Segment arrival (RFC 9293 §3.10.7.3 SYN-SENT, §3.10.7.4 other states).

/// Why a connection did not process a segment (normally); the endpoint counts it.
enum SegmentDrop: Hashable {
    case unacceptable
    case noACK
    case ackOfUnsent
    case synSentInvalid
    case invalidReset
    case synInWindow
    case closed
    /// RFC 7323 §5.3 PAWS: TSval older than TS.Recent (answered with an ACK).
    case paws
    /// RFC 7323 §3.2: no TSopt on a connection that negotiated timestamps (silently dropped).
    case missingTimestamp
    /// RFC 5961 §5.2: SEG.ACK before SND.UNA − MAX.SND.WND (answered with a challenge ACK).
    case ackTooOld
}

/// What came of one segment: processed, or dropped with a reason; maybe a RST to send from the
/// endpoint (a RST is never part of the connection's own stream).
struct SegmentOutcome {
    var drop: SegmentDrop?
    /// `<SEQ=resetSequence><CTL=RST>` to send in reply (RFC 9293 §3.10.7.3, §3.10.7.4).
    var resetSequence: SequenceNumber?
    /// The payload bytes that were not stored (outside the window, refused by the reassembler).
    var droppedPayloadBytes = 0
    var reassemblyRefused = false
    var challengeACK = false
    /// A challenge ACK was due but the per-connection limit held it back (RFC 5961 §7).
    var challengeACKSuppressed = false
    var resetAccepted = false

    static let processed = SegmentOutcome()
    static func dropped(_ reason: SegmentDrop) -> SegmentOutcome { SegmentOutcome(drop: reason) }
}

extension Connection {
    /// Processes one segment addressed to this connection.
    ///
    /// - Parameters:
    ///   - seg: the parsed TCP header (checksums already verified by the endpoint).
    ///   - payload: the segment's payload bytes.
    func handle(_ seg: TCPHeader, payload: UnsafeRawBufferPointer, at now: Instant) -> SegmentOutcome {
        flow.lastSeen = now
        stats.segmentsReceived += 1
        noteArrival(seg, at: now)
        switch state {
        case .closed:
            return .dropped(.closed)
        case .synSent:
            return handleInSynSent(seg, payload: payload, at: now)
        default:
            return handleSynchronized(seg, payload: payload, at: now)
        }
    }

    // MARK: - SYN-SENT (RFC 9293 §3.10.7.3)

    private func handleInSynSent(_ seg: TCPHeader, payload: UnsafeRawBufferPointer, at now: Instant) -> SegmentOutcome {
        let hasACK = seg.flags.contains(.ack)
        // First: the ACK bit. "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the
        // RST bit is set, if so drop the segment and return) <SEQ=SEG.ACK><CTL=RST>".
        if hasACK && (seg.acknowledgmentNumber.isBeforeOrEqual(iss) || seg.acknowledgmentNumber.isAfter(sndMax)) {
            if seg.flags.contains(.rst) { return .dropped(.synSentInvalid) }
            var outcome = SegmentOutcome.dropped(.synSentInvalid)
            outcome.resetSequence = seg.acknowledgmentNumber
            return outcome
        }
        // Second: the RST bit. With an acceptable ACK: "connection reset"; without: drop.
        if seg.flags.contains(.rst) {
            guard hasACK else { return .dropped(.synSentInvalid) }
            enterClosed(.reset)
            var outcome = SegmentOutcome.processed
            outcome.resetAccepted = true
            return outcome
        }
        // Fourth: the SYN bit.
        guard seg.flags.contains(.syn) else { return .dropped(.synSentInvalid) }
        irs = seg.sequenceNumber
        rcvNxt = irs + 1
        negotiateOptions(peerSYN: seg.options)
        var outcome = SegmentOutcome.processed
        outcome.droppedPayloadBytes = payload.count   // data on a SYN is not kept; the peer resends it
        if hasACK {
            // Our SYN is acknowledged (SND.UNA > ISS): ESTABLISHED, "<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>".
            processNewACK(seg.acknowledgmentNumber, at: now)
            updateSendWindow(seg, force: true)
            enterEstablished()
            ackNow = true
        } else {
            // Simultaneous open: SYN-RECEIVED, "<SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>". The SYN-ACK
            // goes out as a retransmission of our SYN with ACK set; the timer keeps running.
            state = .synReceived
            sndWnd = Int(seg.window)          // RFC 7323 §2.2: the window in a SYN is never scaled
            sndWl1 = seg.sequenceNumber
            sndWl2 = sndUna
            maxPeerWindow = Swift.max(maxPeerWindow, sndWnd)
            sndMaxEdge = SequenceNumber.max(sndMaxEdge, sndUna + sndWnd)
            sndNxt = iss
            rttSampleEnd = nil
        }
        return outcome
    }

    // MARK: - Synchronized states and SYN-RECEIVED (RFC 9293 §3.10.7.4)

    private func handleSynchronized(_ seg: TCPHeader, payload: UnsafeRawBufferPointer, at now: Instant) -> SegmentOutcome {
        let flags = seg.flags
        var outcome = SegmentOutcome.processed

        // A retransmitted SYN in SYN-RECEIVED: our SYN-ACK was lost; send it again.
        if case .synReceived = state, flags.contains(.syn), !flags.contains(.ack), !flags.contains(.rst),
           seg.sequenceNumber == irs {
            sndNxt = iss
            rttSampleEnd = nil
            return outcome
        }

        // Simultaneous open (RFC 9293 §3.5, figure 7, line 6): in SYN-RECEIVED the peer's SYN-ACK
        // repeats its SYN (SEG.SEQ + 1 = RCV.NXT), which the table below would call old; its ACK
        // completes our handshake (Linux makes the same exception in `tcp_validate_incoming`).
        if case .synReceived = state, flags.contains([.syn, .ack]), !flags.contains(.rst),
           seg.sequenceNumber + 1 == rcvNxt, payload.isEmpty {
            completeHandshake(seg, at: now, outcome: &outcome)
            return outcome
        }

        // RFC 7323 §3.2 (TSopt required once negotiated) and §5.3 PAWS, before the sequence test.
        if let dropped = checkTimestamps(seg, at: now) { return dropped }

        // First: sequence number (the acceptability table).
        let synLength = flags.contains(.syn) ? 1 : 0
        let segmentLength = payload.count + synLength + (flags.contains(.fin) ? 1 : 0)
        let acceptance = acceptance(of: seg.sequenceNumber, length: segmentLength)
        if acceptance == .unacceptable {
            if flags.contains(.rst) { return .dropped(.invalidReset) }
            if flags.contains(.syn), publicState.isSynchronized { return challengeSYN(at: now) }
            // "<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>". A retransmitted FIN in TIME-WAIT lands here
            // too; RFC 9293 says to restart the 2·MSL wait for it.
            if case .timeWait = state, flags.contains(.fin), seg.sequenceNumber + segmentLength == rcvNxt {
                state = .timeWait(until: now + config.timeWaitDuration)
            }
            ackNow = true
            stats.unacceptableSegments += 1
            return .dropped(.unacceptable)
        }

        // Second: the RST bit. RFC 9293 §3.10.7.4 with RFC 5961 §3.2: reset only when the
        // sequence number is exactly RCV.NXT; in the window otherwise, send a challenge ACK.
        if flags.contains(.rst) {
            guard seg.sequenceNumber == rcvNxt else {
                outcome.drop = .invalidReset
                challengeACK(&outcome, at: now)
                return outcome
            }
            outcome.resetAccepted = true
            switch state {
            case .synReceived:
                // Passive: "return this connection to the LISTEN state" (release it silently);
                // active (simultaneous open): "connection refused".
                if listenerPort != nil {
                    ownedByApplication = false
                }
                enterClosed(.reset)
            case .established, .finWait1, .finWait2, .closeWait:
                enterClosed(.reset)
            case .closing, .lastAck:
                enterClosed(.reset)
            case .timeWait:
                // Already reported closed on entering TIME-WAIT.
                state = .closed(.normal)
            case .synSent, .closed:
                break
            }
            return outcome
        }

        // Fourth: the SYN bit in a synchronized state (RFC 5961 §4.2 challenge ACK; RFC 9293
        // §3.10.7.4 "fourth"). In SYN-RECEIVED from a passive open: return to LISTEN.
        if flags.contains(.syn) {
            if case .synReceived = state, listenerPort != nil {
                ownedByApplication = false
                enterClosed(.reset)
                outcome.drop = .synInWindow
                return outcome
            }
            return challengeSYN(at: now)
        }

        // RFC 5961 §5.2: the ACK must lie in [SND.UNA − MAX.SND.WND, SND.NXT]; only then may the
        // segment move TS.Recent (RFC 7323 §4.3).
        if let dropped = checkACKAcceptability(seg, at: now) { return dropped }
        updateTSRecent(seg)

        // Fifth: the ACK field.
        guard flags.contains(.ack) else { return .dropped(.noACK) }
        let ack = seg.acknowledgmentNumber
        if case .synReceived = state {
            guard completeHandshake(seg, at: now, outcome: &outcome) else { return outcome }
        } else {
            // SEG.ACK > SND.NXT was dropped above (`checkACKAcceptability`).
            let previousUna = sndUna
            let previousWindow = sndWnd
            let probing = probeOutstanding
            defer {
                lossRecovery(afterACK: seg, payloadLength: payload.count, previousUna: previousUna,
                             previousWindow: previousWindow, probing: probing, at: now)
            }
            if sndUna.isBefore(ack) {
                processNewACK(ack, at: now)
            } else if ack == sndUna, sndUna != sndMax, payload.isEmpty, !flags.contains(.fin),
                      Int(seg.window) << sendShift == sndWnd, !probeOutstanding {
                // RFC 5681 §2 "DUPLICATE ACKNOWLEDGMENT", for the statistics (`lossRecovery` makes its own test).
                duplicateACKs += 1
                stats.duplicateACKsReceived += 1
            } else if probeOutstanding {
                // The probe byte was not taken: forget it; the persist timer sends the next.
                sndNxt = sndUna
                probeOutstanding = false
            }
            if sndUna.isBeforeOrEqual(ack) {
                updateSendWindow(seg, force: false, acknowledgedNewData: previousUna.isBefore(sndUna))
            }
        }
        // State-specific ACK processing.
        switch state {
        case .finWait1 where finAcknowledged:
            state = .finWait2
        case .closing where finAcknowledged:
            enterTimeWait(at: now)
        case .lastAck where finAcknowledged:
            enterClosed(.normal)
            return outcome
        default:
            break
        }

        // Seventh: segment text (ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2).
        let dataStart = seg.sequenceNumber + synLength
        var finSeen = flags.contains(.fin)
        if payload.count > 0 {
            switch state {
            case .established, .finWait1, .finWait2:
                let result = receiveData(payload, at: dataStart, at: now)
                outcome.droppedPayloadBytes = result.dropped
                outcome.reassemblyRefused = result.refused
                if result.trimmedRight { finSeen = false }   // a FIN past the window is not taken
            default:
                // After the peer's FIN no data can follow; ignore it (RFC 9293 "seventh").
                break
            }
        }

        // Eighth: the FIN bit.
        if finSeen {
            let finSeq = dataStart + payload.count
            if finSeq == rcvNxt {
                processPeerFIN(at: now)
            } else if rcvNxt.isBefore(finSeq) {
                pendingPeerFin = finSeq
                ackNow = true
            }
        }
        if acceptance == .zeroWindowTrimmed && payload.count > 0 { ackNow = true }
        return outcome
    }

    // MARK: - Acceptability (RFC 9293 §3.10.7.4 table)

    enum Acceptance { case acceptable, zeroWindowTrimmed, unacceptable }

    /// RCV.WND for the acceptability test: up to the largest right edge ever advertised.
    var receiveWindowForAcceptance: Int { Swift.max(0, rcvMaxEdge - rcvNxt) }

    /// The acceptability test (RFC 9293 §3.10.7.4):
    ///
    ///     length  window  test
    ///       0       0     SEG.SEQ = RCV.NXT
    ///       0      >0     RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
    ///      >0       0     not acceptable
    ///      >0      >0     RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
    ///                     or RCV.NXT =< SEG.SEQ+SEG.LEN-1 < RCV.NXT+RCV.WND
    ///
    /// With a zero window a segment at exactly RCV.NXT is taken for its ACK, RST and FIN
    /// ("special allowance should be made to accept valid ACKs, URGs, and RSTs"), its data trimmed
    /// away (Linux does the same; a zero-window probe is answered with the current window).
    func acceptance(of seq: SequenceNumber, length: Int) -> Acceptance {
        let window = receiveWindowForAcceptance
        let edge = rcvNxt + window
        if length == 0 {
            if window == 0 { return seq == rcvNxt ? .acceptable : .unacceptable }
            return seq.isIn(rcvNxt, edge) ? .acceptable : .unacceptable
        }
        if window == 0 { return seq == rcvNxt ? .zeroWindowTrimmed : .unacceptable }
        let last = seq + (length - 1)
        return seq.isIn(rcvNxt, edge) || last.isIn(rcvNxt, edge) ? .acceptable : .unacceptable
    }

    // MARK: - ACK processing

    /// The ACK that completes a passive open (RFC 9293 §3.10.7.4, fifth check, SYN-RECEIVED):
    /// "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED ... otherwise
    /// <SEQ=SEG.ACK><CTL=RST>". Returns false, with `outcome` marked unacceptable and a reset at
    /// SEG.ACK, when the ACK is outside that range.
    @discardableResult
    func completeHandshake(_ seg: TCPHeader, at now: Instant, outcome: inout SegmentOutcome) -> Bool {
        let ack = seg.acknowledgmentNumber
        guard sndUna.isBefore(ack), ack.isBeforeOrEqual(sndMax) else {
            outcome.drop = .unacceptable
            outcome.resetSequence = ack
            return false
        }
        processNewACK(ack, at: now)
        updateSendWindow(seg, force: true)
        enterEstablished()
        return true
    }

    /// SND.UNA < ack =< SND.MAX: bytes acknowledged. Releases send-ring bytes, takes an RTT
    /// sample (Karn's rule: only from a segment never retransmitted, RFC 6298 §3), and restarts
    /// or stops the retransmission timer (RFC 6298 §5.2, §5.3).
    func processNewACK(_ ack: SequenceNumber, at now: Instant) {
        let acked = ack - sndUna
        guard acked > 0 else { return }
        // Karn's rule for the handshake (RFC 6298 §3, §5.7): when our SYN's retransmission
        // timer had already expired, the ACK of the SYN is as ambiguous as one of a resent SYN.
        // Its "RTT" would time the peer's own 1 s timeout: a Linux listener whose SYN-ACK was
        // lost resends it 1 s later, just after our timer fell due, and a run loop may read it
        // before it handles that timer. SRTT 1 s means automatic pacing at one segment per
        // 50 ms and an RTO of 3 s, for the dozens of ACKs real samples take to wear it down.
        let lateHandshakeACK = sndUna == iss && retransmitDeadline.map { now >= $0 } == true
        // Data bytes acknowledged: those between the ring start and the ack (not SYN, not FIN).
        let dataAcked = Swift.min(Swift.max(0, ack - sendRingStart), sendRing.count)
        if dataAcked > 0 {
            _ = sendRing.discard(dataAcked)
            sendRingStart = sendRingStart + dataAcked
            // Every byte acknowledged: the storage goes back until the application writes again.
            if sendRing.isEmpty { sendRing.releaseStorage() }
            stats.bytesAcknowledged += dataAcked
            if writerBlocked {
                writerBlocked = false
                pendingEvents.insert(.writable)
            }
        }
        sndUna = ack
        if sndNxt.isBefore(sndUna) { sndNxt = sndUna }
        probeOutstanding = false
        if lateHandshakeACK {
            stats.lateHandshakeACKs += 1
            timestamps.echo = nil
            rttSampleEnd = nil
        } else if sampleRTTFromTimestamp(at: now) {
            rttSampleEnd = nil   // RFC 7323 §4.1: with timestamps every ACK of new data is timed
        } else if let end = rttSampleEnd, end.isBeforeOrEqual(ack) {
            rtt.addSample(now - rttSampleStart)
            rttSampleEnd = nil
        }
        retransmitCount = 0
        duplicateACKs = 0
        if sndUna == sndMax {
            retransmitDeadline = nil
        } else {
            retransmitDeadline = now + rtt.rtoDuration
        }
    }

    /// The send window update (RFC 9293 §3.10.7.4 "fifth", SND.WL1/SND.WL2 rule), scaled by the
    /// peer's shift (RFC 7323 §2.3; never on a SYN).
    ///
    /// As Linux does (`tcp_may_update_window`), a segment that acknowledges new data updates the
    /// window too, whatever its SEG.SEQ. With the RFC's rule alone, one blind segment whose
    /// sequence number lies ahead of the peer's but inside our window (RFC 5961 §5 accepts it)
    /// sets SND.WL1 past every later segment of the peer: SND.WND freezes while SND.UNA moves on,
    /// and SND.UNA + SND.WND slides past the right edge the peer advertised (RFC 9293 §3.8.6:
    /// never send past it).
    func updateSendWindow(_ seg: TCPHeader, force: Bool, acknowledgedNewData: Bool = false) {
        let newer = acknowledgedNewData || sndWl1.isBefore(seg.sequenceNumber)
            || (sndWl1 == seg.sequenceNumber && sndWl2.isBeforeOrEqual(seg.acknowledgmentNumber))
        guard force || newer else { return }
        let shift = seg.flags.contains(.syn) ? 0 : sendShift
        sndWnd = Int(seg.window) << shift
        sndWl1 = seg.sequenceNumber
        sndWl2 = seg.acknowledgmentNumber
        maxPeerWindow = Swift.max(maxPeerWindow, sndWnd)
        let edge = sndUna + sndWnd
        if sndMaxEdge.isBefore(edge) { sndMaxEdge = edge }
        noteSendWindow()
    }

    // MARK: - Data

    struct DataResult {
        var dropped = 0
        var refused = false
        var trimmedRight = false
    }

    /// Stores a segment's payload (first byte at `seq`) in the receive ring and the assembler.
    /// Trims what lies before RCV.NXT or past the largest advertised right edge. RFC 5681 §4.2:
    /// out-of-order data and data filling a gap are acknowledged at once; in-order data waits
    /// for the delayed-ACK timer or the second full-sized segment.
    func receiveData(_ payload: UnsafeRawBufferPointer, at seq: SequenceNumber, at now: Instant) -> DataResult {
        var result = DataResult()
        var start = 0
        var end = payload.count
        let leading = rcvNxt - seq
        if leading > 0 { start = Swift.min(end, leading) }
        let edge = rcvNxt + receiveWindowForAcceptance
        let trailing = (seq + end) - edge
        if trailing > 0 {
            end = Swift.max(start, end - trailing)
            result.trimmedRight = true
        }
        result.dropped = payload.count - (end - start) - start
        if start < payload.count, payload.count > 0 {
            receiveMSS = Swift.max(receiveMSS, Swift.min(payload.count, config.mtu - ipAndTCPHeaderLength))
        }
        guard end > start else {
            // Nothing new in the window (a duplicate): "send an acknowledgment".
            ackNow = true
            return result
        }
        // New data in the window: the peer has seen it open (`WindowUpdateRepeat`).
        flow.updateRepeat.cancel()
        let offset = (seq + start) - rcvNxt
        let bytes = UnsafeRawBufferPointer(rebasing: payload[start..<end])
        let stored = receiveRing.write(at: offset, bytes)
        if stored < bytes.count {
            result.dropped += bytes.count - stored
            result.trimmedRight = true
        }
        let hadHoles = !assembler.isEmpty
        switch assembler.add(offset: offset, length: stored) {
        case .advanced(let n):
            _ = receiveRing.commit(n)
            rcvNxt = rcvNxt + n
            stats.bytesReceived += n
            if applicationClosed {
                // Nobody will read: consume at once so the window stays open.
                _ = receiveRing.discard(n)
                releaseReceiveStorageIfEmpty()
            } else if !readableSignalled {
                readableSignalled = true
                pendingEvents.insert(.readable)
            }
            if hadHoles {
                ackNow = true   // RFC 5681 §4.2: the segment filled (part of) a gap
            } else {
                bytesSinceLastACK += n
                scheduleACK(segmentLength: stored, at: now)
            }
            if let fin = pendingPeerFin, fin == rcvNxt {
                pendingPeerFin = nil
                processPeerFIN(at: now)
            }
        case .stored:
            stats.outOfOrderSegments += 1
            ackNow = true
        case .duplicate:
            ackNow = true
        case .rejected:
            result.dropped += stored
            result.refused = true
            ackNow = true
        }
        updatePeaks()
        return result
    }

    /// The peer's FIN at RCV.NXT (RFC 9293 §3.10.7.4 "eighth").
    func processPeerFIN(at now: Instant) {
        rcvNxt = rcvNxt + 1
        // Nothing follows a FIN: out-of-order bytes past it are void (and the FIN's sequence
        // number takes one from the window, whose right edge does not move, RFC 9293 §3.8.6).
        assembler.removeAll()
        releaseReceiveStorageIfEmpty()
        finReceived = true
        flow.updateRepeat.cancel()
        ackNow = true
        if !readableSignalled && !applicationClosed {
            readableSignalled = true
            pendingEvents.insert(.readable)
        }
        switch state {
        case .synReceived, .established:
            state = .closeWait
        case .finWait1:
            if finAcknowledged { enterTimeWait(at: now) } else { state = .closing }
        case .finWait2:
            enterTimeWait(at: now)
        case .timeWait:
            state = .timeWait(until: now + config.timeWaitDuration)
        default:
            break
        }
    }

    // MARK: - Options (RFC 9293 §3.7.1, RFC 7323 §2.2 and §3.2, RFC 2018 §2)

    /// A SYN reached a listener (RFC 9293 §3.10.7.2): "Set RCV.NXT to SEG.SEQ+1, IRS is set to
    /// SEG.SEQ", take its options and window; the SYN-ACK follows from `nextSegment`. Data on
    /// the SYN is not kept (the peer resends it).
    func acceptSYN(_ seg: TCPHeader) {
        irs = seg.sequenceNumber
        rcvNxt = irs + 1
        negotiateOptions(peerSYN: seg.options)
        sndWnd = Int(seg.window)   // RFC 7323 §2.2: never scaled on a SYN
        maxPeerWindow = sndWnd
        sndWl1 = seg.sequenceNumber
        sndWl2 = iss
        sndMaxEdge = SequenceNumber.max(sndMaxEdge, sndUna + 1 + sndWnd)
    }

    /// Takes the peer's SYN options: MSS, and the options both sides want. For an active open we
    /// offered every enabled option; for a passive open we answer only what the peer offered.
    func negotiateOptions(peerSYN options: TCPOptions) {
        sendMSS = Connection.sendMSS(peerOption: options.maximumSegmentSize, config: config)
        if config.windowScaleEnabled, let shift = options.windowScale {
            windowScaleNegotiated = true
            sendShift = Swift.min(Int(shift), maxWindowShift)   // RFC 7323 §2.3: clamp to 14
            receiveShift = offeredShift
        } else {
            windowScaleNegotiated = false
            sendShift = 0
            receiveShift = 0
        }
        sackPermitted = config.sackEnabled && options.sackPermitted
        resetLossRecovery()
        if config.timestampsEnabled, let ts = options.timestamps {
            timestampsEnabled = true
            tsRecent = ts.value
        } else {
            timestampsEnabled = false
        }
        // The window our SYN (or SYN-ACK) advertises is unscaled (RFC 7323 §2.2); data up to it
        // is acceptable from the moment RCV.NXT is known.
        startReceiveWindow()
    }

    /// The MSS we send with, from the peer's SYN option (RFC 9293 §3.7.1: without the option,
    /// 536, MUST-15), as Linux takes it: an option of 0 is ignored (`tcp_parse_options`:
    /// `if (in_mss)`), and the result is never below 48 bytes (`TCP_MIN_SND_MSS`: room for 40
    /// bytes of options and 8 of data), so a peer announcing 1 still gets payload after the
    /// options. Capped by our MTU.
    static func sendMSS(peerOption: UInt16?, config: ConnectionConfig) -> Int {
        let announced = peerOption.flatMap { $0 == 0 ? nil : Int($0) } ?? config.defaultPeerMSS
        let capped = Swift.min(announced, config.mtu - ipAndTCPHeaderLength)
        return Swift.max(minimumSendMSS, capped)
    }
}
