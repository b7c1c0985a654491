#if NIO
import NIOCore
import NIOPosix
import SluiceCore
import SluiceDrivers

/// The UDP-on-loopback link on a NIO datagram channel: each raw IPv4 packet is one UDP
/// datagram on 127.0.0.1 (the datagram keeps the packet's boundaries), with the same contract
/// as `sluice-send` / `sluice-recv`:
/// - the listening side binds 127.0.0.1 at its TCP port (or another chosen port) and answers
///   each TCP peer at the UDP address that peer's packets came from (learned per TCP source
///   address and port, in a table of at most `peerLimit` entries, oldest replaced first);
/// - the connecting side sends from an ephemeral UDP port to 127.0.0.1 at the peer's port.
///
/// A packet is dropped (and counted in `droppedNotWritable`) when the datagram channel is not
/// writable, so the link never queues without bound.
public final class UDPLoopbackLink: SluiceLink, @unchecked Sendable {
    /// The datagram channel.
    public let channel: Channel
    /// Packets dropped because the datagram channel's queue was full, or the peer unknown.
    public private(set) var droppedNotWritable = 0, droppedUnknownPeer = 0
    private let remote: NIOCore.SocketAddress?
    private var peers: PeerTable<NIOCore.SocketAddress>
    private var deliver: ((UnsafeRawBufferPointer) -> Void)?

    private init(channel: Channel, remote: NIOCore.SocketAddress?, peerLimit: Int) {
        self.channel = channel
        self.remote = remote
        peers = PeerTable(limit: peerLimit)
    }

    /// Binds UDP 127.0.0.1:`port` (the listening side).
    public static func bind(port: UInt16, on eventLoop: EventLoop, peerLimit: Int = 64) -> EventLoopFuture<UDPLoopbackLink> {
        open(on: eventLoop, peerLimit: peerLimit, remote: nil) { $0.bind(host: "127.0.0.1", port: Int(port)) }
    }

    /// Sends to UDP 127.0.0.1:`port` from an ephemeral port (the connecting side).
    public static func connect(port: UInt16, on eventLoop: EventLoop) -> EventLoopFuture<UDPLoopbackLink> {
        let remote = try? NIOCore.SocketAddress(ipAddress: "127.0.0.1", port: Int(port))
        return open(on: eventLoop, peerLimit: 1, remote: remote) { $0.bind(host: "127.0.0.1", port: 0) }
    }

    private static func open(on eventLoop: EventLoop, peerLimit: Int, remote: NIOCore.SocketAddress?,
                             _ bind: (DatagramBootstrap) -> EventLoopFuture<Channel>) -> EventLoopFuture<UDPLoopbackLink> {
        let bootstrap = DatagramBootstrap(group: eventLoop)
            .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: maximumDatagram))
            .channelOption(ChannelOptions.maxMessagesPerRead, value: 64)
            .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: socketBufferBytes)
            .channelOption(ChannelOptions.socketOption(.so_sndbuf), value: socketBufferBytes)
        return bind(bootstrap).flatMapThrowing { channel in
            let link = UDPLoopbackLink(channel: channel, remote: remote, peerLimit: max(1, peerLimit))
            try channel.pipeline.syncOperations.addHandler(DatagramHandler(link: link))
            return link
        }
    }

    public func attach(eventLoop: EventLoop, deliver: @escaping (UnsafeRawBufferPointer) -> Void) {
        self.deliver = deliver
    }

    public func send(_ packet: UnsafeRawBufferPointer) {
        guard let to = remote ?? peers.address(for: packet) else {
            droppedUnknownPeer += 1
            return
        }
        guard channel.isWritable else {
            droppedNotWritable += 1
            return
        }
        var buffer = channel.allocator.buffer(capacity: packet.count)
        buffer.writeBytes(packet)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: to, data: buffer), promise: nil)
    }

    public func close(promise: EventLoopPromise<Void>) {
        deliver = nil
        channel.close(promise: promise)
    }

    fileprivate func received(_ envelope: AddressedEnvelope<ByteBuffer>) {
        envelope.data.withUnsafeReadableBytes { packet in
            if remote == nil { peers.learn(packet: packet, from: envelope.remoteAddress) }
            deliver?(packet)
        }
    }
}

private final class DatagramHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let link: UDPLoopbackLink
    init(link: UDPLoopbackLink) { self.link = link }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        link.received(unwrapInboundIn(data))
    }
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ECONNREFUSED and the like: the peer is not there yet; TCP retransmits.
    }
}

/// Largest datagram read (an IPv4 packet is at most 65,535 bytes; Sluice's MTU is far below).
private let maximumDatagram = 65_536
/// Socket buffers with room for a few windows of datagrams (as sluice-send/recv use).
private let socketBufferBytes: SocketOptionValue = 4 * 1024 * 1024
#endif
