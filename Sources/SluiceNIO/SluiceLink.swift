#if NIO
import NIOCore

/// Carries raw IPv4 packets between a `SluiceStack` and the world, keeping packet boundaries:
/// one `send` is one packet on the wire (one datagram, one TUN write), and every packet
/// received is delivered alone, never coalesced with or split from another.
///
/// Every call and the delivery closure run on the stack's event loop.
public protocol SluiceLink: AnyObject, Sendable {
    /// Starts delivering received packets to `deliver`, on `eventLoop`. Called once, by the stack.
    func attach(eventLoop: EventLoop, deliver: @escaping (UnsafeRawBufferPointer) -> Void)
    /// Sends one packet. A packet the link has no room for is dropped (TCP recovers it like any
    /// loss) and counted by the link.
    func send(_ packet: UnsafeRawBufferPointer)
    /// Stops delivering, releases the link's resources, then completes `promise`.
    func close(promise: EventLoopPromise<Void>)
}
#endif
