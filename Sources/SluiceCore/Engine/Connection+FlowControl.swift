// The flow-control policy of a connection: which window we advertise, when a read sends a
// window update, how much the sender may send and when, zero-window probing, pacing and the
// accounting. The rules live in SluiceCore/FlowControl (pure, unit-tested); this is the glue
// to the connection's sequence variables, rings and timers.

extension Connection {
    /// Our MSS as announced on the SYN: the effective MSS of the segments we receive
    /// (Eff.snd.MSS in RFC 9293 §3.8.6.2.2).
    var announcedMSS: Int { Swift.max(1, config.mtu - ipAndTCPHeaderLength) }

    // MARK: - Receive window (RFC 9293 §3.8.6, RFC 7323 §2)

    /// The window of our SYN or SYN-ACK: the free space, unscaled (RFC 7323 §2.2), at most
    /// 65535, leaving the rounding reserve of the shift we offer.
    func synWindowField() -> UInt16 {
        ReceiveWindow.synWindowField(freeSpace: receiveRing.freeSpace, capacity: receiveRing.capacity,
                                     shift: offeredShift, mss: announcedMSS)
    }

    /// Starts the receive window once RCV.NXT (IRS + 1) and the shifts are known: the SYN's
    /// window is the first right edge, and data up to it is acceptable from now on.
    func startReceiveWindow() {
        let syn = Int(synWindowField())
        flow.synWindow = syn
        flow.receiveWindow = ReceiveWindow(capacity: receiveRing.capacity, shift: receiveShift, mss: announcedMSS,
                                           receiveNext: rcvNxt, synWindow: syn)
        rcvAdvertisedEdge = rcvNxt + syn
        rcvMaxEdge = rcvAdvertisedEdge
    }

    /// The 16-bit window field for the next non-SYN segment (`ReceiveWindow`: free space,
    /// receiver silly-window avoidance, scaled and rounded so the right edge never moves left).
    func advertisedWindowField() -> UInt16 {
        guard let w = flow.receiveWindow else { return synWindowField() }
        return UInt16(clamping: w.prospectiveWindow(receiveNext: rcvNxt, freeSpace: receiveRing.freeSpace) >> w.shift)
    }

    /// Records the window a segment we send advertises (called for every segment sent).
    func noteWindowAdvertised(_ header: TCPHeader) {
        guard !header.flags.contains(.syn), flow.receiveWindow != nil else { return }
        let result = flow.receiveWindow?.advertise(receiveNext: rcvNxt, freeSpace: receiveRing.freeSpace)
        if let result, result.field != header.window || header.acknowledgmentNumber != rcvNxt {
            recordViolation("window field \(header.window) differs from the recorded advertisement \(result.field)")
        }
        flow.accounting.advertisedWindow(isZero: (result?.bytes ?? 0) == 0, at: flow.lastSeen)
    }

    /// After the application read: whether the window opened enough to send the update at once,
    /// not behind the delayed-ACK timer (`ReceiveWindow.shouldSendWindowUpdate`: from below the
    /// silly-window threshold to above it, or doubled; smoltcp PR 935 is the bug it avoids).
    func shouldSendWindowUpdate() -> Bool {
        guard publicState.isSynchronized, !finReceived, let w = flow.receiveWindow else { return false }
        return w.shouldSendWindowUpdate(receiveNext: rcvNxt, freeSpace: receiveRing.freeSpace)
    }

    /// The application read `n` bytes (RFC 9293 §3.10.3). An ACK goes out at once when:
    /// - the window opened enough (`shouldSendWindowUpdate`); when the peer's window was below
    ///   the silly-window threshold, i.e. the peer could not send a full segment, the update is
    ///   repeated if no data follows (`WindowUpdateRepeat`);
    /// - or an ACK is owed, the read emptied the buffer and a segment shorter than a full-sized
    ///   one is among those unacknowledged: its sender is likely holding its next segment for
    ///   this ACK (Nagle, RFC 896), and nothing is gained by waiting for the delayed-ACK timer
    ///   (Linux `tcp_cleanup_rbuf`, `ICSK_ACK_PUSHED`). RFC 1122 §4.2.3.2 allows delaying an
    ///   ACK, never requires it.
    func noteRead(_ n: Int) {
        guard n > 0 else { return }
        if shouldSendWindowUpdate() {
            let peerWindow = flow.receiveWindow.map { $0.currentWindow(receiveNext: rcvNxt) } ?? 0
            // Counted once per ACK it goes out on: reads before the next transmit share it.
            if !ackNow { flow.accounting.windowUpdateSent() }
            ackNow = true
            if let w = flow.receiveWindow, peerWindow < w.sillyWindowThreshold {
                flow.updateRepeat.reopened(at: flow.lastSeen, smoothedRTT: rtt.smoothedRTT.map { .nanoseconds($0) },
                                           rto: rtt.rtoDuration)
            }
        } else if delayedACKDeadline != nil && smallSegmentUnacknowledged && receiveRing.isEmpty {
            ackNow = true
        }
    }

    /// A segment shorter than this is "small" for the ACK rules: the receive MSS, or half the
    /// receive buffer when one MSS exceeds that (a window of one buffer then never holds two
    /// full-sized segments, RFC 9293 §3.8.6.2.2's `min(Fr · RCV.BUFF, Eff.snd.MSS)`).
    var fullSizedSegment: Int { Swift.max(1, Swift.min(receiveMSS, receiveRing.capacity / 2)) }

    // MARK: - Sending (RFC 9293 §3.8.6.2.1, RFC 896, RFC 5681)

    /// The largest payload per segment the peer's window allows for: half the largest window it
    /// ever offered (the whole window when that is at most 536 bytes), or no bound before it
    /// offered one. When one MSS exceeds half the peer's buffer (jumbo MTUs, small buffers), a
    /// window holds a single "MSS-sized" segment: the sender then sends one segment per round
    /// trip and waits for its ACK, which the receiver may delay; two segments per window keep
    /// the ACK clock going (Linux `tcp_bound_to_half_wnd`; RFC 9293 §3.8.6.2.1 Fs = 1/2).
    var halfWindowSegmentBound: Int {
        guard maxPeerWindow > 0 else { return Int.max }
        let cutoff = maxPeerWindow > minimumMSS ? maxPeerWindow / 2 : maxPeerWindow
        return Swift.max(1, cutoff)
    }

    /// Bytes we may send now: min(SND.WND, cwnd) − bytes in flight (RFC 9293 §3.8.6.2.1,
    /// RFC 5681 §3.1); never past the peer's right edge.
    func usableWindow() -> Int {
        SendWindow.usable(congestionWindow: congestionWindow(), peerWindow: sndWnd, bytesInFlight: sndNxt - sndUna)
    }

    /// How many bytes of the `unsent` ones to put in a segment now, or `nil` to wait: sender
    /// silly-window avoidance with Nagle (`SenderSillyWindowAvoidance`), then the pacer. A
    /// wait for the override timeout or the pacer sets a wake-up that `nextDeadline` includes.
    func sendableLength(unsent: Int, maxPayload: Int, at now: Instant) -> Int? {
        flow.pacerWakeup = nil
        flow.overrideWakeup = nil
        let flight = sndNxt - sndUna
        flow.sendPolicy.observePeerWindow(maxPeerWindow)
        // A small segment counts while it lies between SND.UNA and SND.NXT (after a timeout's
        // go-back it is to be resent, not waited for).
        let smallInFlight = flow.smallSegmentEnd.map { sndUna.isBefore($0) && $0.isBeforeOrEqual(sndNxt) } ?? false
        let decision = flow.sendPolicy.decide(
            queued: unsent, usable: usableWindow(),
            peerUsable: SendWindow.peerUsable(peerWindow: sndWnd, bytesInFlight: flight),
            bytesInFlight: flight, smallSegmentInFlight: smallInFlight,
            mss: maxPayload, finQueued: finQueued, now: now)
        switch decision {
        case .send(let bytes):
            updatePacingRate()
            guard flow.pacer.isReady(at: now) else {
                flow.pacer.hold()
                flow.pacerWakeup = flow.pacer.nextSendTime
                return nil
            }
            flow.pacer.didSend(bytes: bytes, mss: maxPayload, at: now)
            if bytes < maxPayload { flow.smallSegmentEnd = sndNxt + bytes }
            return bytes
        case .holdUntil(let deadline):
            flow.pacer.release()
            flow.overrideWakeup = deadline
            return nil
        case .idle, .holdForAck, .zeroWindow, .windowFull:
            flow.pacer.release()
            return nil
        }
    }

    /// The pacing rate from cwnd and SRTT (automatic mode), with the slow-start ratio while
    /// cwnd < ssthresh / 2, as Linux's `tcp_update_pacing_rate` decides.
    func updatePacingRate() {
        flow.pacer.updateRate(congestionWindow: congestion.cwnd,
                              smoothedRTTNanoseconds: rtt.smoothedRTT,
                              inSlowStart: congestion.cwnd < congestion.ssthresh / 2)
    }

    /// The flow-control wake-ups are due: the next `nextSegment` re-evaluates what they held.
    func flowWakeupDue(at now: Instant) {
        if let t = Connection.earlier(flow.pacerWakeup, flow.overrideWakeup), t <= now {
            flow.pacerWakeup = nil
            flow.overrideWakeup = nil
        }
        if flow.updateRepeat.fire(at: now) {
            ackNow = true
            flow.accounting.windowUpdateRepeated()
        }
    }

    // MARK: - Zero-window probing (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17)

    /// Arms the persist timer when data waits, nothing is in flight and the peer's window
    /// admits nothing: first probe after one RTO (`PersistTimer`).
    func armPersistTimerIfNeeded(unsent: Int, at now: Instant) {
        guard unsent > 0, sndNxt == sndUna, usableWindow() == 0,
              retransmitDeadline == nil, !flow.persist.isRunning else { return }
        flow.persist.start(at: now, rto: rtt.rtoDuration)
        persistDeadline = flow.persist.deadline
    }

    /// The persist timer fired: a probe goes at the next `nextSegment` (one byte at SND.NXT, the
    /// window edge, resent from SND.UNA if the previous one was not taken; or an empty segment
    /// at SND.UNA − 1), the interval doubles up to the cap; or the user timeout aborts.
    func persistTimeout(at now: Instant) {
        switch flow.persist.fire(at: now) {
        case .abort:
            enterClosed(.userTimeout)
        case .probe:
            if probeOutstanding {
                sndNxt = sndUna
                probeOutstanding = false
            }
            probeDue = true
        case .none:
            break
        }
        persistDeadline = flow.persist.deadline
    }

    /// The probe style configured.
    var probeStyle: ZeroWindowProbeStyle { flow.persist.style }

    /// Every ACK from the peer: it answers a probe if one is out, and a window that opened
    /// stops the persist timer. Called after the send window update (RFC 9293 §3.10.7.4).
    func noteSendWindow() {
        flow.persist.ackReceived(at: flow.lastSeen)
        flow.accounting.peerWindowChanged(isZero: sndWnd == 0, at: flow.lastSeen)
        if sndWnd > 0 && flow.persist.isRunning {
            flow.persist.stop()
            persistDeadline = nil
            probeDue = false
        }
    }

    // MARK: - Accounting

    /// The sender has sent what it can at `now`: classify why it stops (receiver window,
    /// congestion window, pacer, application; Linux's chrono stats).
    func noteSenderStopped(unsent: Int, maxPayload: Int, at now: Instant) {
        guard publicState.isSynchronized else { return }
        let flight = sndNxt - sndUna
        let limit = SenderLimit.classify(
            queued: unsent,
            peerUsable: SendWindow.peerUsable(peerWindow: sndWnd, bytesInFlight: flight),
            congestionUsable: Swift.max(0, congestionWindow() - flight),
            mss: maxPayload, pacerReady: flow.pacerWakeup == nil)
        flow.accounting.setSenderLimit(limit, at: now)
    }

    /// The flow-control part of `ConnectionStats`.
    func flowStats() -> FlowStats {
        var f = flow.accounting.snapshot(at: flow.lastSeen)
        f.probesSent = stats.zeroWindowProbesSent
        f.probesAnswered = flow.persist.probesAnswered
        f.windowRetractions = flow.receiveWindow?.retractions ?? 0
        return f
    }
}

/// RFC 9293 §3.7.1: the MSS assumed when none is announced (536 bytes); a peer window no larger
/// is not halved (`halfWindowSegmentBound`).
let minimumMSS = 536
