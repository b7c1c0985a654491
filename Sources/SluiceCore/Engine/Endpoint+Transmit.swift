// Packet departure: RSTs first, then one segment per connection in round-robin order.

extension Endpoint {
    /// Writes the next outgoing IPv4 packet into `buffer`; returns its length, or `nil` when
    /// nothing is due at `now`. Pending RSTs go first; then connections take turns, one segment
    /// each, starting after the one that sent last (round-robin over table slots).
    public func pollTransmit(into buffer: UnsafeMutableRawBufferPointer, at now: Instant) -> Int? {
        pollTransmitPacket(into: buffer, at: now)?.length
    }

    /// `pollTransmit`, saying also whether the packet is a super-segment
    /// (`ConnectionConfig.segmentationOffloadBytes`): a link that splits super-segments itself
    /// (the TUN offload mode: the kernel's GSO) needs each one's segment size.
    public func pollTransmitPacket(into buffer: UnsafeMutableRawBufferPointer, at now: Instant) -> TransmitPacket? {
        while let reset = resets.pop() {
            if let length = encodeReset(reset, into: buffer) {
                _counters.packetsSent += 1
                _counters.resetsSent += 1
                return TransmitPacket(length: length, segmentSize: 0)
            }
        }
        // Only slots below `occupiedEnd` can hold a connection: the round-robin order over them
        // is the order over the whole table with the empty tail skipped.
        let n = occupiedEnd
        guard n > 0 else { return nil }
        var i = transmitCursor < n ? transmitCursor : 0
        for _ in 0..<n {
            if let c = slots[i].connection, let segment = c.nextSegment(at: now, maxPacketLength: buffer.count) {
                transmitCursor = i + 1 < n ? i + 1 : 0
                if let packet = transmit(segment, slot: i, into: buffer, at: now) { return packet }
            }
            i = i + 1 < n ? i + 1 : 0
        }
        return nil
    }

    /// Encodes `segment` of the connection in `slot` into `buffer` and returns the packet's
    /// length. When the segment breaks an encoder invariant (`encode` says which), nothing of it
    /// leaves: the violation is counted, the connection is stopped (`.closed(.internalError)`)
    /// with a RST `<SEQ=SND.NXT><CTL=RST>` (RFC 9293 §3.10.5, as for an abort), and the packet
    /// written instead is that RST (or the next one due).
    func transmit(_ segment: OutgoingSegment, slot: Int, into buffer: UnsafeMutableRawBufferPointer, at now: Instant) -> TransmitPacket? {
        guard let c = slots[slot].connection else { return nil }
        switch encode(segment, of: c, into: buffer) {
        case .packet(let length):
            _counters.packetsSent += 1
            if segment.segmentSize > 0 { _counters.superSegmentsSent += 1 }
            return TransmitPacket(length: length, segmentSize: segment.segmentSize)
        case .noRoom:
            return nil
        case .sequenceMismatch:
            _counters.encoderSequenceMismatches += 1
        case .shortPayload:
            _counters.encoderShortPayloads += 1
        }
        c.resetDue = true
        c.enterClosed(.internalError)
        settle(slot: slot)
        return pollTransmitPacket(into: buffer, at: now)
    }

    /// What `encode` made of a segment.
    enum EncodeOutcome {
        /// A packet of this length is in the buffer.
        case packet(Int)
        /// The buffer is too small (nothing to send).
        case noRoom
        /// The header's sequence number is not where the payload comes from in the send ring.
        case sequenceMismatch
        /// The send ring returned fewer payload bytes than the segment claims.
        case shortPayload
    }

    /// Encodes one segment of `c`; the payload is copied from its send ring straight into the
    /// packet (the only copy on the send path). Trusts nothing: a segment carrying payload must
    /// start where its payload lies (header sequence number == send ring start + payload offset;
    /// a header built at one SND.NXT with the payload taken at another put wrong bytes under
    /// valid checksums, bd3ebd5), and the ring must return every payload byte. Either failure is
    /// reported, never sent.
    func encode(_ segment: OutgoingSegment, of c: Connection, into buffer: UnsafeMutableRawBufferPointer) -> EncodeOutcome {
        if segment.payloadLength > 0 && segment.header.sequenceNumber != c.sendRingStart + segment.payloadOffset {
            return .sequenceMismatch
        }
        let ip = IPv4Header(source: c.tuple.local.address, destination: c.tuple.remote.address,
                            identification: nextIdentification())
        let ring = c.sendRing
        var copied = 0
        let length = IPv4TCPPacket.encode(ip: ip, tcp: segment.header, payloadLength: segment.payloadLength, into: buffer) { slice in
            copied = ring.peek(at: segment.payloadOffset, into: slice)
        }
        guard let length else { return .noRoom }
        return copied == segment.payloadLength ? .packet(length) : .shortPayload
    }

    /// A RST (RFC 9293 §3.5.2): `<SEQ=s><CTL=RST>`, or `<SEQ=s><ACK=a><CTL=RST,ACK>`.
    func encodeReset(_ reset: PendingReset, into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        let ip = IPv4Header(source: reset.tuple.local.address, destination: reset.tuple.remote.address,
                            identification: nextIdentification())
        let tcp = TCPHeader(
            sourcePort: reset.tuple.local.port, destinationPort: reset.tuple.remote.port,
            sequenceNumber: reset.sequence, acknowledgmentNumber: reset.acknowledgment ?? SequenceNumber(0),
            flags: reset.acknowledgment == nil ? .rst : [.rst, .ack], window: 0)
        return IPv4TCPPacket.encode(ip: ip, tcp: tcp, into: buffer)
    }

    func nextIdentification() -> UInt16 {
        ipIdentification &+= 1
        return ipIdentification
    }
}
