#if NIO
#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import NIOCore
import NIOPosix
import SluiceDrivers

/// A Linux TUN device (`IFF_TUN | IFF_NO_PI`) as a link, with packet boundaries kept both ways:
/// - reads go through a NIO pipe channel on a duplicate of the device's descriptor, with a
///   fixed 64 KiB read buffer, so each `read(2)` (one packet on a TUN device) is one
///   `channelRead`, never coalesced and never truncated;
/// - writes are one `write(2)` per packet on the device's own descriptor, on the event loop,
///   never gathered (`writev` on a TUN device would make one packet of several). A packet the
///   device cannot take now (`EAGAIN`, device down) is dropped and counted, as on a wire.
///
/// Opening a device needs root or `CAP_NET_ADMIN`; errors are `TUNError`s with one-line fixes.
public final class TUNLink: SluiceLink, @unchecked Sendable {
    /// The interface name.
    public let name: String
    /// Packets the device did not take.
    public private(set) var droppedByDevice = 0
    /// The last hard write error, if any (then packets are dropped).
    public private(set) var writeError: String?
    private let device: TUNDevice
    private let reader: Channel
    private var deliver: ((UnsafeRawBufferPointer) -> Void)?

    private init(device: TUNDevice, reader: Channel) {
        self.device = device
        self.reader = reader
        self.name = device.name
    }

    /// Attaches to (or creates) the TUN device `name`.
    public static func open(name: String, on eventLoop: EventLoop) -> EventLoopFuture<TUNLink> {
        let device: TUNDevice
        do {
            device = try TUNDevice(name: name)
        } catch {
            return eventLoop.makeFailedFuture(TUNLinkError(description: error.description))
        }
        let readDescriptor = dup(device.fileDescriptor)
        guard readDescriptor >= 0 else {
            return eventLoop.makeFailedFuture(TUNLinkError(description: "dup of tun \(name) failed: \(errorText(errno))"))
        }
        let deviceBox = UnsafeTransfer(device)
        return NIOPipeBootstrap(group: eventLoop)
            .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: maximumPacket))
            .channelOption(ChannelOptions.maxMessagesPerRead, value: 64)
            .takingOwnershipOfDescriptor(input: readDescriptor)
            .flatMapErrorThrowing { error in
                Glibc.close(readDescriptor)
                throw error
            }
            .flatMapThrowing { channel in
                let link = TUNLink(device: deviceBox.wrappedValue, reader: channel)
                try channel.pipeline.syncOperations.addHandler(PacketReader(link: link))
                return link
            }
    }

    public func attach(eventLoop: EventLoop, deliver: @escaping (UnsafeRawBufferPointer) -> Void) {
        self.deliver = deliver
    }

    public func send(_ packet: UnsafeRawBufferPointer) {
        do throws(LinkError) {
            if try !device.send(packet) { droppedByDevice += 1 }
        } catch {
            droppedByDevice += 1
            writeError = error.description
        }
    }

    public func close(promise: EventLoopPromise<Void>) {
        deliver = nil
        reader.close(promise: promise)
    }

    fileprivate func received(_ packet: ByteBuffer) {
        packet.withUnsafeReadableBytes { deliver?($0) }
    }
}

/// A TUN device could not be opened; the message names the fix.
public struct TUNLinkError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

private final class PacketReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let link: TUNLink
    init(link: TUNLink) { self.link = link }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        link.received(unwrapInboundIn(data))
    }
}

/// One read buffer holds any IPv4 packet.
private let maximumPacket = 65_536
#endif
