// Packet arrival: parse, verify, demultiplex (RFC 9293 §3.10.7).

extension Endpoint {
    /// Processes one received IPv4 packet. Malformed packets, bad checksums and packets for
    /// another address are dropped and counted; a segment for an existing connection goes to it;
    /// one for a listening port to the listener (§3.10.7.2); anything else is answered with RST
    /// (§3.10.7.1). The checksums are verified.
    public func receive(_ packet: UnsafeRawBufferPointer, at now: Instant) {
        receive(packet, at: now, checksum: .unverified)
    }

    /// `receive(_:at:)` for a packet whose link may vouch for its TCP checksum (`LinkChecksum`).
    public func receive(_ packet: UnsafeRawBufferPointer, at now: Instant, checksum: LinkChecksum) {
        _counters.packetsReceived += 1
        let parsed: IPv4TCPPacket
        do {
            parsed = try IPv4TCPPacket.parse(packet)
        } catch {
            _counters.droppedMalformed += 1
            return
        }
        let verifyTCP = checksum == .unverified
        guard parsed.verifyChecksums(in: packet, tcp: verifyTCP).isValid else {
            _counters.droppedBadChecksum += 1
            return
        }
        if !verifyTCP { _counters.checksumsVouched += 1 }
        let seg = parsed.tcp
        guard parsed.ip.destination == config.localAddress,
              parsed.ip.source != config.localAddress,
              parsed.ip.source.rawValue != 0, parsed.ip.source.rawValue != 0xFFFF_FFFF,
              seg.sourcePort != 0, seg.destinationPort != 0 else {
            _counters.droppedNotForUs += 1
            return
        }
        let tuple = FourTuple(
            local: SocketAddress(parsed.ip.destination, seg.destinationPort),
            remote: SocketAddress(parsed.ip.source, seg.sourcePort))
        let payload = UnsafeRawBufferPointer(rebasing: packet[parsed.payloadRange])

        if let slot = byTuple[tuple], let c = slots[slot].connection {
            let outcome = c.handle(seg, payload: payload, at: now)
            account(outcome, tuple: tuple)
            settle(slot: slot)
            return
        }
        if let li = listenerIndex(port: seg.destinationPort) {
            handleListen(li, seg, payloadLength: payload.count, tuple: tuple, at: now)
            return
        }
        replyToClosedPort(seg, payloadLength: payload.count, tuple: tuple)
    }

    /// RFC 9293 §3.10.7.1 (CLOSED): "all data in the incoming segment is discarded. An incoming
    /// segment containing a RST is discarded. An incoming segment not containing a RST causes a
    /// RST to be sent in response": with ACK, `<SEQ=SEG.ACK><CTL=RST>`; without,
    /// `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`.
    func replyToClosedPort(_ seg: TCPHeader, payloadLength: Int, tuple: FourTuple) {
        _counters.segmentsToClosedPort += 1
        guard !seg.flags.contains(.rst) else { return }
        if seg.flags.contains(.ack) {
            queueReset(tuple: tuple, sequence: seg.acknowledgmentNumber, acknowledgment: nil)
        } else {
            let length = payloadLength + (seg.flags.contains(.syn) ? 1 : 0) + (seg.flags.contains(.fin) ? 1 : 0)
            queueReset(tuple: tuple, sequence: SequenceNumber(0), acknowledgment: seg.sequenceNumber + length)
        }
    }

    /// RFC 9293 §3.10.7.2 (LISTEN): RST ignored; ACK answered with `<SEQ=SEG.ACK><CTL=RST>`;
    /// SYN creates a connection in SYN-RECEIVED, if the backlog and the connection table have
    /// room (otherwise the listener's overflow policy applies, see `overflow`).
    func handleListen(_ li: Int, _ seg: TCPHeader, payloadLength: Int, tuple: FourTuple, at now: Instant) {
        if seg.flags.contains(.rst) {
            _counters.droppedListenerNonSYN += 1
            return
        }
        if seg.flags.contains(.ack) {
            queueReset(tuple: tuple, sequence: seg.acknowledgmentNumber, acknowledgment: nil)
            return
        }
        guard seg.flags.contains(.syn) else {
            _counters.droppedListenerNonSYN += 1
            return
        }
        guard listeners[li].occupancy < listeners[li].backlog else {
            overflow(li, seg, payloadLength: payloadLength, tuple: tuple, tableFull: false)
            return
        }
        guard let slot = freeSlot() else {
            overflow(li, seg, payloadLength: payloadLength, tuple: tuple, tableFull: true)
            return
        }
        listeners[li].counters.synsAccepted += 1
        let iss = config.initialSequenceNumber(tuple, now)
        let c = Connection(tuple: tuple, config: config.connection, iss: iss, listenerPort: tuple.local.port, now: now,
                           ringPool: ringPool)
        c.acceptSYN(seg)
        c.countsAgainstBacklog = true
        listeners[li].synReceived += 1
        _ = install(c, in: slot)
    }

    /// A SYN the listener has no room for (full backlog, or a full connection table).
    /// `.drop`: ignored, as Linux does by default (the peer retransmits and may find room).
    /// `.reset`: refused as a closed port would be (RFC 9293 §3.10.7.1 without ACK:
    /// `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`; Linux's `tcp_abort_on_overflow` does the same
    /// for a full accept queue), so the client fails at once instead of waiting through its SYN
    /// backoff. No state is kept either way: the cost of a refusal is one queued RST (bounded by
    /// `maxPendingResets`; beyond it, counted in `droppedResetQueueFull`).
    func overflow(_ li: Int, _ seg: TCPHeader, payloadLength: Int, tuple: FourTuple, tableFull: Bool) {
        switch listeners[li].overflow {
        case .drop:
            listeners[li].counters.dropped += 1
            if tableFull { _counters.droppedConnectionLimit += 1 } else { _counters.droppedBacklogFull += 1 }
        case .reset:
            listeners[li].counters.refused += 1
            _counters.refusedBacklogFull += 1
            let length = payloadLength + 1 + (seg.flags.contains(.fin) ? 1 : 0)
            queueReset(tuple: tuple, sequence: SequenceNumber(0), acknowledgment: seg.sequenceNumber + length)
        }
    }

    /// Counts what a connection did with a segment and queues the RST it asked for.
    func account(_ outcome: SegmentOutcome, tuple: FourTuple) {
        if let reason = outcome.drop {
            switch reason {
            case .unacceptable: _counters.droppedUnacceptable += 1
            case .noACK: _counters.droppedNoACK += 1
            case .ackOfUnsent: _counters.droppedAckOfUnsent += 1
            case .synSentInvalid: _counters.droppedSynSentInvalid += 1
            case .invalidReset: _counters.droppedInvalidReset += 1
            case .synInWindow: _counters.droppedSynInWindow += 1
            case .closed: _counters.segmentsToClosedPort += 1
            case .paws: _counters.droppedPAWS += 1
            case .missingTimestamp: _counters.droppedMissingTimestamp += 1
            case .ackTooOld: _counters.droppedAckTooOld += 1
            }
        }
        if let seq = outcome.resetSequence {
            queueReset(tuple: tuple, sequence: seq, acknowledgment: nil)
        }
        if outcome.challengeACK { _counters.challengeACKsSent += 1 }
        if outcome.challengeACKSuppressed { _counters.challengeACKsSuppressed += 1 }
        if outcome.resetAccepted { _counters.resetsReceived += 1 }
        _counters.droppedPayloadBytes += outcome.droppedPayloadBytes
        if outcome.reassemblyRefused { _counters.droppedReassemblyLimit += 1 }
    }
}
