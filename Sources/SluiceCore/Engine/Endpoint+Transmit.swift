// Packet departure: RSTs first, then one segment per connection in round-robin order.

extension Endpoint {
    /// Writes the next outgoing IPv4 packet into `buffer`; returns its length, or `nil` when
    /// nothing is due at `now`. Pending RSTs go first; then connections take turns, one segment
    /// each, starting after the one that sent last (round-robin over table slots).
    public func pollTransmit(into buffer: UnsafeMutableRawBufferPointer, at now: Instant) -> Int? {
        while let reset = resets.pop() {
            if let length = encodeReset(reset, into: buffer) {
                _counters.packetsSent += 1
                _counters.resetsSent += 1
                return length
            }
        }
        let n = slots.count
        guard n > 0 else { return nil }
        for k in 0..<n {
            let i = (transmitCursor + k) % n
            guard let c = slots[i].connection,
                  let segment = c.nextSegment(at: now, maxPacketLength: buffer.count) else { continue }
            transmitCursor = (i + 1) % n
            guard let length = encode(segment, of: c, into: buffer) else { continue }
            _counters.packetsSent += 1
            return length
        }
        return nil
    }

    /// Encodes one segment of `c`; the payload is copied from its send ring straight into the
    /// packet (the only copy on the send path).
    func encode(_ segment: OutgoingSegment, of c: Connection, into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        let ip = IPv4Header(source: c.tuple.local.address, destination: c.tuple.remote.address,
                            identification: nextIdentification())
        let ring = c.sendRing
        return IPv4TCPPacket.encode(ip: ip, tcp: segment.header, payloadLength: segment.payloadLength, into: buffer) { slice in
            _ = ring.peek(at: segment.payloadOffset, into: slice)
        }
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
