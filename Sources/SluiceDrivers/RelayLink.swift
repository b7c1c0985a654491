#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CSluiceSystem
import SluiceCore

/// The relay's UDP-on-loopback link: two UDP links behind one descriptor, so one endpoint (and
/// the one `RunLoop`) serves both sides of a relay. The upstream link binds 127.0.0.1 at the
/// TCP port of `--listen` (as sluice-recv does); the downstream link sends to 127.0.0.1 at the
/// TCP port of `--connect` (as sluice-send does). Packets to the `--connect` address go
/// downstream, every other packet upstream. The descriptor the run loop polls is an epoll
/// descriptor watching both sockets.
package final class RelayLink: PacketLink {
    package let fileDescriptor: Int32
    package let label: String
    package let upstream: UDPLink
    package let downstream: UDPLink
    private let next: SocketAddress
    private var preferDownstream = false

    package init(listenPort: UInt16, next: SocketAddress) throws(LinkError) {
        upstream = try UDPLink(bindingLoopbackPort: listenPort)
        downstream = try UDPLink(connectingToLoopbackPort: next.port)
        self.next = next
        let fd = sluice_epoll_readable_pair(upstream.fileDescriptor, downstream.fileDescriptor)
        guard fd >= 0 else { throw .system("epoll for the relay's two UDP sockets", errno) }
        fileDescriptor = fd
        label = "udp 127.0.0.1:\(listenPort) -> 127.0.0.1:\(next.port)"
    }

    deinit { close(fileDescriptor) }

    /// Whether the next hop's UDP port refused (nothing listens there yet).
    package var downstreamRefused: Bool { downstream.peerRefused }

    /// Alternates between the two sockets, so neither side starves the other.
    package func receive(into buffer: UnsafeMutableRawBufferPointer) throws(LinkError) -> Int? {
        preferDownstream.toggle()
        let order = preferDownstream ? [downstream, upstream] : [upstream, downstream]
        for link in order {
            if let n = try link.receive(into: buffer) { return n }
        }
        return nil
    }

    package func send(_ packet: UnsafeRawBufferPointer) throws(LinkError) -> Bool {
        let toNext = tcpEndpoint(of: packet, source: false) == next
        return try (toNext ? downstream : upstream).send(packet)
    }
}

@available(*, unavailable)
extension RelayLink: Sendable {}
