import SluiceCore
import SluiceFormat

/// One flow-control event for `--timeline`.
package struct TimelineEntry: Sendable {
    package var time: Instant
    package var frame: Int
    package var stream: Int
    /// 0: sent by side A (the connection's first sender); 1: by side B.
    package var direction: Int
    package var kind: String
    package var detail: String
}

/// What a connection's analysis reports about one packet, for graph recorders.
package struct PacketOutcome: Sendable {
    package var stream: Int
    package var direction: Int
    package var analysis: PacketAnalysis
    package var isLinuxProbe: Bool
    /// Right edge advertised by the packet's sender (ACK + scaled window), when it has an ACK.
    package var rightEdge: UInt32?
}

/// Everything tracked for one TCP connection (one tshark `tcp.stream`). Memory is fixed per
/// connection apart from bounded lists (unacknowledged segments, histogram, episodes, stalls,
/// violations), whatever the number of packets.
package struct ConnectionAnalysis: Sendable {
    package let stream: Int
    /// Side A sent the first packet seen; direction 0 is A→B.
    package let a: SocketAddress
    package let b: SocketAddress
    package var firstTime: Instant
    package var lastTime: Instant
    package var firstFrame: Int
    package var lastFrame: Int
    package var packets = 0
    package var ab = DirectionStats()
    package var ba = DirectionStats()
    package var violations: [Violation] = []
    package var violationCounts = [Int](repeating: 0, count: ConformanceRule.allCases.count)
    /// Both FINs seen, or a RST: the connection may be retired after a quiet period.
    package var closed = false

    var wireshark = WiresharkConversation()
    var conformanceAB = ConformanceState()
    var conformanceBA = ConformanceState()
    var finAB = false
    var finBA = false
    /// Time up to which the limit causes have been charged.
    var accruedUntil: Instant
    /// Handshake times for the reaction lags (`SenderView.lag`): the first SYN, SYN/ACK, and
    /// the SYN sender's first ACK after the SYN/ACK.
    var synTime: Instant? = nil
    var synAckTime: Instant? = nil
    var synDirection = 0
    var handshakeDone = false

    package init(stream: Int, first: TraceSegment) {
        self.stream = stream
        a = first.source
        b = first.destination
        firstTime = first.time
        lastTime = first.time
        firstFrame = first.frame
        lastFrame = first.frame
        accruedUntil = first.time
    }

    package func direction(of s: TraceSegment) -> Int { s.source == a && s.destination == b ? 0 : 1 }

    /// Whether `s` (a SYN with a new ISN) starts a new connection on the same ports.
    package func isNewConnection(_ s: TraceSegment) -> Bool {
        wireshark.isNewConversation(s, forward: WiresharkConversation.isFlow1(source: s.source, destination: s.destination))
    }

    package mutating func process(
        _ s: TraceSegment, reusedPorts: Bool, check: Bool, timeline: ((TimelineEntry) -> Void)?
    ) -> PacketOutcome {
        let d = direction(of: s)
        accrue(until: s.time)
        packets += 1
        lastTime = s.time
        lastFrame = s.frame
        let forward = WiresharkConversation.isFlow1(source: s.source, destination: s.destination)
        let analysis = wireshark.analyze(s, forward: forward, reusedPorts: reusedPorts)
        let myScale = forward ? wireshark.flow1.winScale : wireshark.flow2.winScale
        let peerScale = forward ? wireshark.flow2.winScale : wireshark.flow1.winScale
        var ctx = Context(
            segment: s, analysis: analysis, direction: d, stream: stream,
            myShift: WiresharkFlowState.shift(of: myScale), peerShift: WiresharkFlowState.shift(of: peerScale),
            check: check, timeline: timeline)
        if d == 0 {
            Self.update(&ab, peer: &ba, conf: &conformanceAB, peerConf: &conformanceBA, ctx: &ctx)
        } else {
            Self.update(&ba, peer: &ab, conf: &conformanceBA, peerConf: &conformanceAB, ctx: &ctx)
        }
        for v in ctx.violations { record(v) }
        let abScale = WiresharkConversation.isFlow1(source: a, destination: b) ? wireshark.flow1.winScale : wireshark.flow2.winScale
        let baScale = WiresharkConversation.isFlow1(source: a, destination: b) ? wireshark.flow2.winScale : wireshark.flow1.winScale
        ab.windowScaleState = Int(abScale)
        ba.windowScaleState = Int(baScale)
        if s.isFIN { if d == 0 { finAB = true } else { finBA = true } }
        if s.isRST || (finAB && finBA) { closed = true }
        noteHandshake(s, direction: d)
        refreshCauses()
        return PacketOutcome(stream: stream, direction: d, analysis: analysis, isLinuxProbe: ctx.isLinuxProbe, rightEdge: ctx.rightEdge)
    }

    /// Ends the analysis at the end of the trace: open episodes are closed at the last packet
    /// (and say so), and probes still waiting for an answer are judged.
    package mutating func finish(check: Bool) {
        accrue(until: lastTime)
        for d in 0..<2 {
            var st = d == 0 ? ab : ba
            // Silent after a window update until the trace ended: whether the update reached the
            // sender cannot be known (unless the sender had closed: then it had nothing to send).
            if st.view.idle && st.view.idleAfterOpening && !(d == 0 ? finAB : finBA) {
                st.moveIdleTime(to: .uncertain)
            } else if st.view.idle && !st.view.sentFIN {
                // Idle until the trace ended since its data was acknowledged: the in-flight time
                // before was the application's, as with a long idle spell.
                st.moveInFlightTimeToApp(st.view.idleTail)
            }
            st.dropClockCorrectionsUnlessMillisecond()
            if let e = st.openEpisode {
                st.recordEpisode(e, duration: lastTime - e.start)
                st.openEpisode = nil
            }
            if d == 0 { ab = st } else { ba = st }
            let conf = d == 0 ? conformanceAB : conformanceBA
            if check, let p = conf.pendingProbe, p.mustAnswer, lastTime - p.time >= probeAnswerGrace {
                record(Violation(rule: .probeUnanswered, frame: p.frame, time: p.time, stream: stream, direction: d,
                                 detail: "no answer from the receiver before the trace ended"))
            }
        }
    }

    /// Measures each side's reaction lag on the handshake (`SenderView`): the time from the
    /// capture seeing the SYN to seeing the SYN/ACK is the server's; from the SYN/ACK to the
    /// client's first ACK, the client's. About zero at that side's own capture point.
    private mutating func noteHandshake(_ s: TraceSegment, direction d: Int) {
        guard !handshakeDone else { return }
        if s.isSYN && !s.hasACK {
            if synTime == nil { synTime = s.time; synDirection = d }
        } else if s.isSYN {
            if synAckTime == nil, let syn = synTime, d != synDirection {
                synAckTime = s.time
                setLag(s.time - syn, direction: d)
            }
        } else if let synAck = synAckTime, d == synDirection {
            setLag(s.time - synAck, direction: d)
            handshakeDone = true
        }
    }

    private mutating func setLag(_ duration: Duration, direction d: Int) {
        let lag = Swift.max(0, duration.nanosecondsClamped)
        if d == 0 { ab.view.baseLag = lag } else { ba.view.baseLag = lag }
    }

    /// Finishes the connection and drops what only the running analysis needs.
    package mutating func retire(check: Bool) {
        finish(check: check)
        ab.freezeWindow()
        ba.freezeWindow()
        wireshark = WiresharkConversation()
    }

    mutating func record(_ v: Violation) {
        violationCounts[v.rule.rawValue] += 1
        if violations.count < violationListLimit { violations.append(v) }
    }

    /// Adds the time since the previous packet to each direction's current cause, delivering
    /// on the way the receiver reports that reach each sender's view in the meantime.
    private mutating func accrue(until t: Instant) {
        while ab.view.hasPending || ba.view.hasPending {
            let dueAB = ab.view.nextDue, dueBA = ba.view.nextDue
            if dueAB == nil && dueBA == nil { break }
            var next: Instant? = nil
            if let d = dueAB, d <= t { next = d }
            if let d = dueBA, d <= t, next.map({ d < $0 }) ?? true { next = d }
            guard let due = next else { break }
            accrueSpan(until: due)
            if dueAB == due { ab.view.deliverNext() } else { ba.view.deliverNext() }
            refreshCauses()
        }
        accrueSpan(until: t)
    }

    private mutating func accrueSpan(until t: Instant) {
        let span = t.nanoseconds &- accruedUntil.nanoseconds
        guard span > 0 else { return }
        accruedUntil = t
        if ab.accountingFrom != nil { ab.charge(span) }
        if ba.accountingFrom != nil { ba.charge(span) }
    }

    /// Recomputes both directions' causes from their senders' views.
    private mutating func refreshCauses() {
        ab.refreshCause(peerMSS: ba.mssOption)
        ba.refreshCause(peerMSS: ab.mssOption)
    }

    /// What holds `x`'s data back now, judged from what its sender could know: the receiver's
    /// last report as it reached the sender (`SenderView`), and `x`'s own data at the capture.
    /// Checked in this order (RFC 9293 §3.8.6.2.1: a sender waits for a full segment's room):
    /// after its FIN the application has nothing more to send → `app_limited`; the sender believes the window closed, or it is zero, or less than one MSS is left to its
    /// right edge → `rwnd_limited`; when the room cannot be judged (the receiver's window scale
    /// is unknown and the raw room is under an MSS) → `uncertain`; data in flight →
    /// `cwnd_limited`; nothing in flight → `app_limited`.
    static func cause(of x: DirectionStats, peer y: DirectionStats) -> LimitCause {
        x.judgedCause(peerMSS: y.mssOption)
    }

    struct Context {
        var segment: TraceSegment
        var analysis: PacketAnalysis
        var direction: Int
        var stream: Int
        var myShift: Int?
        var peerShift: Int?
        var check: Bool
        var timeline: ((TimelineEntry) -> Void)?
        var violations: [Violation] = []
        var isLinuxProbe = false
        var rightEdge: UInt32? = nil

        /// Reports a timeline event; the detail is built only when a timeline is wanted.
        func emit(_ kind: String, _ detail: @autoclosure () -> String = "") {
            guard let sink = timeline else { return }
            sink(TimelineEntry(time: segment.time, frame: segment.frame, stream: stream,
                               direction: direction, kind: kind, detail: detail()))
        }
        mutating func violate(_ rule: ConformanceRule, _ detail: @autoclosure () -> String) {
            guard check else { return }
            violations.append(Violation(rule: rule, frame: segment.frame, time: segment.time,
                                        stream: stream, direction: direction, detail: detail()))
        }
    }

    /// Updates the sender's (`me`) and the receiver's (`peer`) statistics for one packet.
    private static func update(
        _ me: inout DirectionStats, peer: inout DirectionStats,
        conf: inout ConformanceState, peerConf: inout ConformanceState, ctx: inout Context
    ) {
        let s = ctx.segment
        let flags = ctx.analysis.flags
        me.packets += 1
        if me.firstTime == nil { me.firstTime = s.time }
        me.lastTime = s.time
        if s.isSYN {
            me.sawSYN = true
            me.windowScaleOption = s.windowScale
            if let m = s.maximumSegmentSize { me.mssOption = m }
        }

        // Window: SYNs are never scaled (RFC 7323 §2.2); unknown scale leaves it raw, as tshark.
        let shift = s.isSYN ? 0 : (ctx.myShift ?? 0)
        let scaledWindow = UInt64(s.window) << UInt64(shift)
        me.advertisedWindow.add(scaledWindow)
        let previousWindow = me.lastWindowScaled
        me.lastWindowScaled = scaledWindow

        // Event counts, as tshark's display filters count them.
        if !flags.isEmpty {
            for e in TraceEvent.wiresharkEvents where !flags.isDisjoint(with: e.wiresharkFlags) { me.events[e] += 1 }
        }

        // Data.
        let mss = me.effectiveMSS(peerMSS: peer.mssOption)
        let end = s.seq &+ s.length
        var newData = false
        if s.length > 0 {
            me.dataPackets += 1
            me.bytes += UInt64(s.length)
            if s.length > me.maxPayload { me.maxPayload = s.length }
            if me.firstDataTime == nil { me.firstDataTime = s.time }
            me.lastDataTime = s.time
            if let nxt = me.sndNxt {
                let fresh = Int64(Int32(bitPattern: end &- nxt))
                if fresh > 0 {
                    me.uniqueBytes += UInt64(Swift.min(fresh, Int64(s.length)))
                    newData = true
                }
            } else {
                me.uniqueBytes += UInt64(s.length)
                newData = true
            }
        }

        if ctx.check && s.length > 0 && !s.isRST {
            checkSender(s, me: me, peer: peer, conf: &conf, mss: mss, newData: newData, flags: flags, ctx: &ctx)
        }

        let seqEnd = s.seq &+ s.sequenceLength
        if me.sndNxt == nil || gtSeq(seqEnd, me.sndNxt ?? 0) { me.sndNxt = seqEnd }

        // ACK and the right edge this side advertises.
        if s.hasACK && !s.isRST {
            if me.highestAck == nil || gtSeq(s.ack, me.highestAck ?? 0) { me.highestAck = s.ack }
            let edge = s.ack &+ UInt32(truncatingIfNeeded: scaledWindow)
            ctx.rightEdge = edge
            if ctx.check { checkReceiver(s, me: me, edge: edge, window: scaledWindow, shift: shift, peer: peer, ctx: &ctx) }
            me.rightEdge = edge
            if me.maxRightEdge == nil || gtSeq(edge, me.maxRightEdge ?? 0) { me.maxRightEdge = edge }
            // The peer (as a sender) learns this report one reaction lag later.
            let scaleKnown = s.isSYN || ctx.myShift != nil
            let report = ReceiverReport(ack: s.ack, edge: edge, window: scaledWindow, scaleKnown: scaleKnown)
            // A peer that has sent no data has nothing to judge yet: it learns at once (no delay
            // line per ACK for the direction that only acknowledges).
            if peer.accountingFrom == nil { peer.view.learn(report, at: s.time) } else { peer.view.receive(report, at: s.time) }
        }
        if let nxt = me.sndNxt, let una = peer.highestAck {
            let inFlight = Int32(bitPattern: nxt &- una)
            if inFlight > 0 && UInt32(inFlight) > me.maxBytesInFlight { me.maxBytesInFlight = UInt32(inFlight) }
        }
        if let rtt = ctx.analysis.ackRTT { peer.rtt.add(rtt) }

        // Probes and their answers.
        var probe = false
        if flags.contains(.zeroWindowProbe) {
            probe = true
            peer.openEpisode?.oneByteProbes += 1
            ctx.emit("zero_window_probe", "1 byte at \(s.seq)")
        }
        if flags.contains(.keepAlive) && s.length == 0 && peer.lastWindowScaled == 0 {
            probe = true
            ctx.isLinuxProbe = true
            me.events[.linuxZeroWindowProbe] += 1
            me.pendingLinuxProbe = true
            peer.openEpisode?.linuxProbes += 1
            ctx.emit("linux_zero_window_probe", "empty segment at SND.UNA-1 = \(s.seq)")
        } else if flags.contains(.keepAlive) {
            ctx.emit("keep_alive")
        }
        if peer.pendingLinuxProbe {
            peer.pendingLinuxProbe = false
            me.events[.linuxZeroWindowProbeAck] += 1
            me.openEpisode?.probeAcks += 1
            ctx.emit("linux_zero_window_probe_ack", "window \(scaledWindow)")
        }
        if flags.contains(.zeroWindowProbeAck) {
            me.openEpisode?.probeAcks += 1
            ctx.emit("zero_window_probe_ack", "window \(scaledWindow)")
        }
        // Any packet from the receiver answers the sender's pending probe.
        peerConf.pendingProbe = nil
        if probe && ctx.check {
            checkProbe(s, me: me, peer: peer, conf: &conf, ctx: &ctx)
        }

        // Zero-window episodes advertised by this side.
        let synFinRst = s.isSYN || s.isFIN || s.isRST
        if s.window == 0 && !synFinRst {
            if me.openEpisode == nil {
                me.openEpisode = ZeroWindowEpisode(startFrame: s.frame, start: s.time)
                conf.lastProbeTime = nil
                peerConf.lastProbeTime = nil
                peerConf.lastProbeInterval = nil
                ctx.emit("zero_window_start", "window closed")
            }
        } else if s.window > 0 && !s.isRST, let e = me.openEpisode {
            me.closeEpisode(frame: s.frame, time: s.time)
            let ms = (s.time - e.start).secondsDouble * 1000
            ctx.emit("zero_window_end", "window reopened to \(scaledWindow) after \(formatMs(ms))")
        }

        if flags.contains(.windowFull) { ctx.emit("window_full", "\(s.length) bytes up to the right edge \(end)") }
        if flags.contains(.windowUpdate) {
            ctx.emit("window_update", "\(previousWindow.map(String.init) ?? "?") -> \(scaledWindow)")
        }
        if flags.contains(.fastRetransmission) {
            ctx.emit("fast_retransmission", "seq \(s.seq) len \(s.length)")
        } else if flags.contains(.spuriousRetransmission) {
            ctx.emit("spurious_retransmission", "seq \(s.seq) len \(s.length)")
        } else if flags.contains(.retransmission) {
            ctx.emit("retransmission", "seq \(s.seq) len \(s.length)")
        }
        if flags.contains(.outOfOrder) { ctx.emit("out_of_order", "seq \(s.seq) len \(s.length)") }

        // Who held the data back: accounting starts with the first data; a stall ends with new data.
        // The sender's clock: from its SYN (the delay of a small packet without a queue) and
        // once it sends data; not for every ACK of a side that only acknowledges.
        if let value = s.timestampValue, s.isSYN || s.length > 0 || me.accountingFrom != nil {
            me.noteSenderClock(value, at: s.time)
        }
        if s.length > 0 && me.accountingFrom == nil { me.accountingFrom = s.time }
        inferSenderView(s, me: &me, peer: &peer, newData: newData, flags: flags, ctx: &ctx)
        if newData && !flags.contains(.zeroWindowProbe) {
            if let last = me.lastNewDataTime, s.time.nanoseconds &- last.nanoseconds >= minimumStallNanoseconds {
                var best = LimitCause.appLimited
                var bestTime: Int64 = 0
                for c in limitCauses {
                    let t = me.limitTime.nanoseconds(c.rawValue) &- me.limitTimeAtLastNewData.nanoseconds(c.rawValue)
                    if t > bestTime { bestTime = t; best = c }
                }
                me.recordStall(Stall(startFrame: me.lastNewDataFrame, start: last, endFrame: s.frame, end: s.time, cause: best))
            }
            me.lastNewDataTime = s.time
            me.lastNewDataFrame = s.frame
            me.limitTimeAtLastNewData = me.limitTime
            me.cwndSinceNewData = 0
        }
    }

    /// What this segment of the sender (`me`) says about what it knew (`SenderView`): a probe,
    /// or a retransmission of data the receiver had acknowledged, sent while the sender's view
    /// was idle shows that a report never reached it; new data shows that it did.
    private static func inferSenderView(
        _ s: TraceSegment, me: inout DirectionStats, peer: inout DirectionStats, newData: Bool,
        flags: TCPAnalysisFlags, ctx: inout Context
    ) {
        guard !s.isSYN && !s.isRST else { return }
        // After its FIN the application had nothing more to send: what the sender does next
        // (retransmitting a lost FIN) says nothing about the receiver's reports.
        guard !me.view.sentFIN else { return }
        let firstFIN = s.isFIN
        if s.isFIN { me.view.sentFIN = true }
        if newData && !flags.contains(.zeroWindowProbe) { me.view.sampleLag(dataEnd: s.seq &+ s.length, at: s.time) }
        let idle = me.view.idle, afterOpening = me.view.idleAfterOpening, idleTime = me.view.idleTime
        let windowShut = me.view.known?.window == 0, filledWindow = me.view.filledWindow
        // Linux probes with an empty segment at SND.UNA − 1 (Wireshark: keep_alive); others send
        // one byte (at the edge of a zero window: zero_window_probe; past an update the sender
        // never saw, that byte is new data to the capture).
        let linuxStyle = flags.contains(.keepAlive) && s.length == 0 && !s.isFIN
        let oneByte = newData && s.length == 1 && idle && afterOpening && idleTime > 0
        let probe = flags.contains(.zeroWindowProbe) || oneByte
            || (linuxStyle && (windowShut || (idle && afterOpening)))
        let retransmitted = !newData && s.length > 0 && !flags.isDisjoint(with: .anyRetransmission)
        // A sender that filled the window and was told it reopened sends at once; one that sends
        // only after a retransmission or persist timeout's worth of silence was woken by its
        // timer, not by the update.
        let timerWoken = newData && !probe && idle && afterOpening && filledWindow
            && idleTime >= timerWakeupNanoseconds
        if idle && idleTime > 0 && (probe || retransmitted || timerWoken) {
            // RFC 9293 §3.8.6.1 / RFC 6298 §5: neither happens with room and nothing outstanding.
            if afterOpening || probe {
                me.moveIdleTime(to: .rwndLimited)
                if afterOpening {
                    peer.events[.windowUpdateLost] += 1
                    ctx.emit("window_update_lost", "the sender \(probe ? "probed" : timerWoken ? "sent only on its timer" : "retransmitted") after the window opened: it never saw the update")
                }
            } else {
                me.moveIdleTime(to: .cwndLimited)
            }
        }
        if firstFIN && !newData {
            // The FIN follows the last new data: from that data on the application had nothing
            // more queued, whatever was still in flight.
            me.moveInFlightTimeToApp(me.cwndSinceNewData)
            me.cwndSinceNewData = 0
        } else if idle && !afterOpening && newData && !probe && !retransmitted
                    && idleTime >= appIdleConfirmationNanoseconds(lag: me.view.lag) {
            // Idle since its data was acknowledged, for longer than a sender with data queued
            // takes to answer an ACK: the in-flight time before the spell was the application's.
            me.moveInFlightTimeToApp(me.view.idleTail)
        }
        if s.length > 0 { me.view.filledWindow = flags.contains(.windowFull) }
        if probe {
            me.view.believesClosed = true
            me.view.idle = false
        } else if newData {
            me.view.believesClosed = false
            me.view.idle = false
        }
    }

    /// Sender-side rules for a data segment.
    private static func checkSender(
        _ s: TraceSegment, me: DirectionStats, peer: DirectionStats, conf: inout ConformanceState,
        mss: UInt32, newData: Bool, flags: TCPAnalysisFlags, ctx: inout Context
    ) {
        let end = s.seq &+ s.length
        // Past the largest right edge (needs the receiver's scale).
        if ctx.peerShift != nil, let edge = peer.maxRightEdge, gtSeq(end, edge) {
            let probe = s.length == 1 && (peer.lastWindowScaled == 0 || s.seq == edge)
            if !probe {
                ctx.violate(.beyondWindow, "bytes \(s.seq)..<\(end) pass the right edge \(edge) by \(Int32(bitPattern: end &- edge))")
            }
        }
        // Tiny segment while an earlier short one is unacknowledged and the window had room.
        // "Shorter than a full segment": allow up to 40 bytes of TCP options (RFC 9293 §3.7.1).
        if newData && !s.isFIN && !flags.contains(.zeroWindowProbe) && s.length + tcpOptionAllowance < mss {
            let una = peer.highestAck ?? s.seq
            if let prev = conf.shortSegmentEnd, gtSeq(prev, una), let edge = peer.rightEdge,
               Int64(Int32(bitPattern: edge &- s.seq)) >= Int64(mss) {
                ctx.violate(.tinySegment, "\(s.length)-byte segment (MSS \(mss)) while an earlier short segment ending at \(prev) is unacknowledged")
            }
            conf.shortSegmentEnd = end
        }
    }

    /// Receiver-side rules for the right edge a packet advertises.
    private static func checkReceiver(
        _ s: TraceSegment, me: DirectionStats, edge: UInt32, window: UInt64, shift: Int,
        peer: DirectionStats, ctx: inout Context
    ) {
        guard ctx.myShift != nil || s.isSYN else { return }   // unknown scale: cannot judge
        // Moving the right edge left (an ACK older than the highest one is reordering, not shrinking).
        if let previous = me.rightEdge, let high = me.highestAck, s.ack == high {
            let back = Int64(Int32(bitPattern: previous &- edge))
            if back > Int64(1) << Int64(shift) {
                ctx.violate(.windowShrank, "right edge \(edge) is \(back) bytes left of the previous one \(previous) (scale 2^\(shift))")
            }
        }
        // Silly window: a small non-zero window opened by moving the right edge.
        if window > 0, let maxEdge = me.maxRightEdge, gtSeq(edge, maxEdge) {
            let mss = UInt64(peer.effectiveMSS(peerMSS: me.mssOption))
            let threshold = Swift.min(mss, me.advertisedWindow.max / 2)
            if window < threshold {
                ctx.violate(.sillyWindow, "window \(window) < min(MSS \(mss), max window/2 \(me.advertisedWindow.max / 2))")
            }
        }
    }

    /// Probe rules: shrinking persist intervals, and remembering the probe until answered.
    private static func checkProbe(
        _ s: TraceSegment, me: DirectionStats, peer: DirectionStats, conf: inout ConformanceState, ctx: inout Context
    ) {
        if let p = conf.pendingProbe, p.mustAnswer {
            ctx.violations.append(Violation(rule: .probeUnanswered, frame: p.frame, time: p.time, stream: ctx.stream,
                                            direction: ctx.direction, detail: "no answer before the next probe (frame \(s.frame))"))
        }
        if let last = conf.lastProbeTime {
            let interval = s.time - last
            if let previous = conf.lastProbeInterval {
                let slack = Swift.max(previous * persistJitterFraction, persistJitterFloor)
                if interval + slack < previous {
                    ctx.violate(.persistIntervalShrank, "probe interval \(formatMs(interval.secondsDouble * 1000)) after \(formatMs(previous.secondsDouble * 1000))")
                }
            }
            conf.lastProbeInterval = interval
        }
        conf.lastProbeTime = s.time
        let sinceAck = peer.lastTime.map { s.time - $0 } ?? .seconds(1_000_000)
        let mustAnswer = s.length > 0 || sinceAck >= probeAnswerRateLimit
        conf.pendingProbe = (s.frame, s.time, mustAnswer)
    }
}

/// The shortest retransmission or persist timeout of common stacks (Linux's TCP_RTO_MIN is
/// 200 ms; RFC 6298 §2.4 allows less than its 1 s minimum, and Linux takes 200 ms), less 25%
/// for timer slack: a sender silent this long after a window update reached it by a timer.
let timerWakeupNanoseconds: Int64 = 150_000_000

/// How long a sender whose in-flight data was all acknowledged must stay idle before the
/// in-flight time is taken as its application's: a sender with data queued answers an ACK at
/// once (microseconds at its own capture), and one reaction lag's error at the far end is
/// allowed for. The floor covers scheduling noise and pacing.
func appIdleConfirmationNanoseconds(lag: Int64) -> Int64 {
    Swift.max(2_000_000, lag / 4)
}

/// Bytes of TCP options a full-sized segment may lose to (RFC 9293 §3.1: options up to 40 bytes).
let tcpOptionAllowance: UInt32 = 40

func formatMs(_ ms: Double) -> String {
    if ms >= 1000 { return String(format2: ms / 1000) + " s" }
    return String(format2: ms) + " ms"
}

extension String {
    /// A number with up to 3 decimals, without Foundation.
    init(format2 v: Double) { self = formatTrimmed(v, 3) }
}
