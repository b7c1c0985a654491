// What the connection sends next: SYN, data, FIN, zero-window probe, ACK. The policy pieces
// are small methods of their own: flow control (`advertisedWindowField()`, `usableWindow()`,
// `sendableLength(unsent:maxPayload:at:)`, `shouldSendWindowUpdate()`) in
// Connection+FlowControl.swift, congestion control (`congestionWindow()`) in
// Connection+Recovery.swift.

/// One segment the connection wants sent: the header, and the payload as a range of the send
/// ring (copied straight into the packet by the endpoint; nothing is allocated).
struct OutgoingSegment {
    var header: TCPHeader
    /// Offset of the payload in the send ring (relative to its readable start).
    var payloadOffset: Int
    var payloadLength: Int
    /// 0 for a plain segment; for a super-segment (`ConnectionConfig.segmentationOffloadBytes`)
    /// the payload of each full-sized segment it stands for (the link's `gso_size`).
    var segmentSize: Int = 0
}

extension Connection {
    /// The next segment due at `now`, or `nil`. Sending it is assumed: the sequence variables,
    /// timers and ACK state advance as if it left (the endpoint always encodes it).
    ///
    /// - Parameter maxPacketLength: the room in the caller's buffer; segments are sized to fit
    ///   (and to the MSS). Below 60 bytes nothing is produced.
    func nextSegment(at now: Instant, maxPacketLength: Int) -> OutgoingSegment? {
        guard maxPacketLength >= ipAndTCPHeaderLength + TCPOptions.maximumLength else { return nil }
        flow.lastSeen = now
        switch state {
        case .closed:
            return nil
        case .synSent, .synReceived:
            if sndNxt == iss { return makeSYN(at: now) }
            guard case .synReceived = state, ackNow else { return nil }
            return finishPureACK(at: now)
        case .timeWait:
            return ackNow ? finishPureACK(at: now) : nil
        default:
            break
        }
        if let probe = nextKeepAliveProbe(at: now) { return probe }   // Connection+KeepAlive.swift

        skipSACKedDataAfterTimeout()
        let ringEnd = sendRingStart + sendRing.count
        let unsent = Swift.max(0, ringEnd - sndNxt)
        var header = makeHeader(sequence: sndNxt, flags: .ack, at: now)
        let optionsLength = header.options.encodedLength
        let maxPayload = Swift.max(0, Swift.min(
            sendMSS - optionsLength,
            maxPacketLength - ipAndTCPHeaderLength - optionsLength,
            halfWindowSegmentBound))

        // A zero-window probe (RFC 9293 §3.8.6.1): one byte of new data past the window.
        if probeDue {
            probeDue = false
            if unsent > 0 && maxPayload > 0 {
                stats.zeroWindowProbesSent += 1
                if probeStyle == .emptyBelowUnacknowledged { return finishEmptyProbe(at: now) }
                probeOutstanding = true
                return finishDataSegment(header: &header, length: 1, fin: false, isProbe: true, at: now)
            }
        }

        // Loss recovery first: a fast retransmit, a NewReno partial-ACK retransmission, or the
        // hole RFC 6675 NextSeg() picks.
        if let segment = nextRecoverySegment(maxPayload: maxPayload, unsent: unsent, at: now) {
            return segment
        }

        if let first = sendableLength(unsent: unsent, maxPayload: maxPayload, at: now) {
            let length = superSegmentLength(first: first, unsent: unsent, maxPayload: maxPayload,
                                            maxPacketLength: maxPacketLength, optionsLength: optionsLength, at: now)
            let fin = finQueued && sndNxt + length == finSequence
            var segment = finishDataSegment(header: &header, length: length, fin: fin, isProbe: false, at: now,
                                            segments: length / Swift.max(1, maxPayload))
            if length > first { segment.segmentSize = maxPayload }
            return segment
        }
        // FIN once every byte before it is sent (it takes no window: a receiver takes a FIN at
        // RCV.NXT even with a zero window).
        if finQueued && sndNxt == finSequence {
            return finishDataSegment(header: &header, length: 0, fin: true, isProbe: false, at: now)
        }
        armPersistTimerIfNeeded(unsent: unsent, at: now)
        noteSenderStopped(unsent: unsent, maxPayload: maxPayload, at: now)
        if ackNow {
            return finishPureACK(at: now)
        }
        return nil
    }

    /// Segmentation offload (TSO): how far a data segment of `first` bytes may grow into a
    /// super-segment now. Only a full-sized first segment grows, and only by whole further
    /// full-sized segments, each of which plain mode would send at this same instant: within the
    /// unsent data, the usable window (min(SND.WND, cwnd) − flight, RFC 9293 §3.8.6.2.1,
    /// RFC 5681 §3.1) and the pacer, asked segment by segment as plain mode asks it. The link then
    /// delivers the segments the super-segment stands for (Linux's `tcp_tso_autosize` sizes its
    /// TSO bursts by the pacing rate the same way). Returns `first` when offload is off
    /// (`ConnectionConfig.segmentationOffloadBytes` below two segments), when the segment
    /// resends data (a timeout's go-back) or when nothing more may go.
    func superSegmentLength(first: Int, unsent: Int, maxPayload: Int, maxPacketLength: Int,
                            optionsLength: Int, at now: Instant) -> Int {
        let limit = Swift.min(config.segmentationOffloadBytes, maxPacketLength, 0xFFFF) - ipAndTCPHeaderLength - optionsLength
        // New data only: after a timeout's go-back (SND.NXT below SND.MAX) segments are resent
        // one at a time, so SACKed ranges are skipped segment by segment as in plain mode.
        guard first == maxPayload, maxPayload > 0, limit >= 2 * maxPayload, !sndNxt.isBefore(sndMax) else { return first }
        // `usableWindow()` still counts `first` as unsent: it is not in flight yet.
        let room = Swift.min(limit, unsent, usableWindow())
        var length = first
        while length + maxPayload <= room, flow.pacer.isReady(at: now) {
            flow.pacer.didSend(bytes: maxPayload, mss: maxPayload, at: now)
            length += maxPayload
        }
        return length
    }

    // MARK: - Policy
    // Flow control (advertised window, usable window, silly-window avoidance, Nagle, pacing,
    // window updates) lives in Connection+FlowControl.swift.

    /// The congestion window in bytes, as the send path compares it with SND.NXT − SND.UNA
    /// (Connection+Recovery.swift: cwnd plus Limited Transmit, or cwnd − pipe in SACK recovery).
    func congestionWindow() -> Int {
        effectiveCongestionWindow()
    }

    // MARK: - Building segments

    /// A header with ACK, the current window and the per-segment options: timestamps when
    /// negotiated (RFC 7323 §3.2), SACK blocks when permitted and data is held out of order
    /// (RFC 2018 §4; at most 3 beside timestamps).
    func makeHeader(sequence: SequenceNumber, flags: TCPFlags, at now: Instant) -> TCPHeader {
        var options = TCPOptions()
        if timestampsEnabled {
            options.timestamps = TCPTimestamps(value: timestampClock(now), echoReply: tsRecent)
        }
        if sackPermitted && !assembler.isEmpty {
            options.sackBlocks = assembler.sackBlocks(base: rcvNxt, maxBlocks: timestampsEnabled ? 3 : 4)
        }
        return TCPHeader(
            sourcePort: tuple.local.port, destinationPort: tuple.remote.port,
            sequenceNumber: sequence, acknowledgmentNumber: rcvNxt,
            flags: flags, window: advertisedWindowField(), options: options)
    }

    /// RFC 7323 §5.4: a millisecond clock plus a per-connection offset.
    func timestampClock(_ now: Instant) -> UInt32 {
        UInt32(truncatingIfNeeded: now.nanoseconds / 1_000_000) &+ tsOffset
    }

    /// The SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED), first or retransmitted. Options: MSS
    /// (RFC 9293 §3.7.1), window scale (RFC 7323 §2.2), SACK-permitted (RFC 2018 §2), timestamps
    /// (RFC 7323 §3.2). An active open offers every enabled option; a SYN-ACK answering a
    /// passive open carries only those the peer's SYN offered.
    private func makeSYN(at now: Instant) -> OutgoingSegment {
        let active = listenerPort == nil
        var options = TCPOptions()
        options.maximumSegmentSize = UInt16(clamping: config.mtu - ipAndTCPHeaderLength)
        if active ? config.windowScaleEnabled : windowScaleNegotiated {
            options.windowScale = UInt8(offeredShift)
        }
        options.sackPermitted = active ? config.sackEnabled : sackPermitted
        if active ? config.timestampsEnabled : timestampsEnabled {
            let echo: UInt32 = state == .synReceived && timestampsEnabled ? tsRecent : 0
            options.timestamps = TCPTimestamps(value: timestampClock(now), echoReply: echo)
        }
        let synReceived = state == .synReceived
        let header = TCPHeader(
            sourcePort: tuple.local.port, destinationPort: tuple.remote.port,
            sequenceNumber: iss, acknowledgmentNumber: synReceived ? rcvNxt : SequenceNumber(0),
            flags: synReceived ? [.syn, .ack] : .syn,
            window: synWindowField(),   // never scaled on a SYN (RFC 7323 §2.2)
            options: options)
        let firstTime = sndMax == iss
        sndNxt = iss + 1
        if firstTime {
            sndMax = sndNxt
            rttSampleStart = now
            rttSampleEnd = sndNxt
        } else if let ts = options.timestamps {
            timestamps.retransmittedSYNValue = ts.value   // Connection+Timestamps.swift
        }
        if retransmitDeadline == nil { retransmitDeadline = now + rtt.rtoDuration }
        if synReceived { noteACKSent(header) }
        stats.segmentsSent += 1
        return OutgoingSegment(header: header, payloadOffset: 0, payloadLength: 0)
    }

    /// Completes a segment carrying data and/or FIN at SND.NXT and advances SND.NXT.
    private func finishDataSegment(header: inout TCPHeader, length: Int, fin: Bool, isProbe: Bool, at now: Instant,
                                   segments: Int = 1) -> OutgoingSegment {
        let seq = sndNxt
        if fin { header.flags.insert(.fin) }
        if length > 0 && seq + length == sendRingStart + sendRing.count { header.flags.insert(.psh) }
        let consumed = length + (fin ? 1 : 0)
        let end = seq + consumed
        // Bytes below SND.MAX were sent before: a retransmission.
        let resent = Swift.max(0, Swift.min(consumed, sndMax - seq))
        let dataResent = Swift.min(resent, length)
        stats.bytesRetransmitted += dataResent
        stats.bytesSent += length - dataResent
        if sndMax.isBefore(end) {
            // New sequence space: time it when nothing else is being timed (RFC 6298 §3, Karn).
            if rttSampleEnd == nil && resent == 0 && !isProbe {
                rttSampleEnd = end
                rttSampleStart = now
            }
            sndMax = end
        }
        sndNxt = end
        // RFC 6298 §5.1: start the timer when sending data and it is not running. A probe is
        // covered by the persist timer instead.
        if !isProbe && retransmitDeadline == nil { retransmitDeadline = now + rtt.rtoDuration }
        noteACKSent(header)
        stats.segmentsSent += Swift.max(1, segments)
        return OutgoingSegment(header: header, payloadOffset: seq - sendRingStart, payloadLength: length)
    }

    /// Linux's zero-window probe: an empty segment at SND.UNA − 1, old data the peer answers
    /// with an ACK carrying its RCV.NXT and window (RFC 9293 §3.10.7.4).
    private func finishEmptyProbe(at now: Instant) -> OutgoingSegment {
        let header = makeHeader(sequence: sndUna - 1, flags: .ack, at: now)
        noteACKSent(header)
        stats.segmentsSent += 1
        return OutgoingSegment(header: header, payloadOffset: 0, payloadLength: 0)
    }

    private func finishPureACK(at now: Instant) -> OutgoingSegment {
        let header = makeHeader(sequence: sndNxt, flags: .ack, at: now)
        noteACKSent(header)
        stats.segmentsSent += 1
        return OutgoingSegment(header: header, payloadOffset: 0, payloadLength: 0)
    }

    /// Every segment we send acknowledges RCV.NXT and advertises a window: clear the ACK debt and
    /// record the right edge (it must never move left, RFC 9293 §3.8.6 / RFC 7323 §2.4 allow
    /// less than one scaling unit of rounding).
    func noteACKSent(_ header: TCPHeader) {
        ackNow = false
        delayedACKDeadline = nil
        bytesSinceLastACK = 0
        smallSegmentUnacknowledged = false
        lastAckSent = header.acknowledgmentNumber
        let shift = header.flags.contains(.syn) ? 0 : receiveShift
        let edge = header.acknowledgmentNumber + (Int(header.window) << shift)
        if (rcvAdvertisedEdge - edge) >= (1 << shift) && publicState.isSynchronized {
            recordViolation("advertised right edge moved left: \(rcvAdvertisedEdge) -> \(edge)")
        }
        rcvAdvertisedEdge = edge
        if rcvMaxEdge.isBefore(edge) { rcvMaxEdge = edge }
        stats.advertisedWindow = Int(header.window) << shift
        noteWindowAdvertised(header)
    }
}
