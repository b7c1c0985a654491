import SluiceCore

/// Where each TCP peer's packets came from on a UDP link, so a bound link answers every peer at
/// its own UDP address: learned per TCP source address and port, at most `limit` entries, the
/// oldest replaced first (a peer flood cannot grow it). Shared by `UDPLink` and SluiceNIO's
/// `UDPLoopbackLink`, whose UDP addresses are of different types.
package struct PeerTable<UDPAddress> {
    package let limit: Int
    private var entries: [(tcp: SocketAddress, udp: UDPAddress)] = []
    private var nextEviction = 0

    package init(limit: Int) { self.limit = max(1, limit) }

    /// Remembers that the TCP source of `packet` lives at `from`.
    package mutating func learn(packet: UnsafeRawBufferPointer, from: UDPAddress) {
        guard let source = tcpEndpoint(of: packet, source: true) else { return }
        if let i = entries.firstIndex(where: { $0.tcp == source }) {
            entries[i].udp = from
        } else if entries.count < limit {
            entries.append((source, from))
        } else {
            entries[nextEviction] = (source, from)
            nextEviction = (nextEviction + 1) % limit
        }
    }

    /// The UDP address of the TCP destination of `packet`, if learnt.
    package func address(for packet: UnsafeRawBufferPointer) -> UDPAddress? {
        guard let destination = tcpEndpoint(of: packet, source: false) else { return nil }
        return entries.first { $0.tcp == destination }?.udp
    }
}
