#if NIO
import NIOCore
import SluiceCore

/// Runs one Sluice `Endpoint` on a NIO `EventLoop`: the driver under `SluiceChannel`s.
///
/// Everything happens on `eventLoop`, in the engine's call order (`Endpoint`'s doc comment):
/// a packet from the link goes to `Endpoint.receive`; a timer is scheduled on the loop at
/// `nextDeadline`; after every event (packet, timer, a channel's read, write or close) the
/// transmit queue is drained into the link, one `pollTransmit` packet per `SluiceLink.send`,
/// and the endpoint's events go to the channels. Time is the loop's `now`
/// (`EventLoop.now`), so on `EmbeddedEventLoop` or `NIOAsyncTestingEventLoop` the whole stack
/// runs on virtual time.
///
/// Memory is bounded by the endpoint's configuration: one channel per connection in its table,
/// one listener per listening port, one transmit buffer of `maximumPacketSize`.
///
/// Not thread-safe on its own: confined to `eventLoop` (calls from elsewhere hop onto it).
public final class SluiceStack: @unchecked Sendable {
    /// The loop every call and callback runs on.
    public let eventLoop: EventLoop
    /// The engine. Touch it only on `eventLoop`.
    public let endpoint: Endpoint
    /// Where packets go and come from.
    public let link: SluiceLink
    /// Called with every packet sent (`.outbound`) and received (`.inbound`), with the loop's time:
    /// a place for a pcap writer.
    public var onPacket: ((UnsafeRawBufferPointer, Instant, PacketDirection) -> Void)?

    /// Which way a packet went, for `onPacket`.
    public enum PacketDirection: Sendable { case inbound, outbound }

    var channels: [ConnectionID: SluiceChannel] = [:]
    var listeners: [UInt16: SluiceListenerChannel] = [:]
    private let transmitBuffer: UnsafeMutableRawBufferPointer
    private var timer: Scheduled<Void>?
    private var timerDeadline: Instant?
    private var servicing = false
    private var serviceAgain = false
    private var linkClosed = false

    /// A stack on `eventLoop` for `config` over `link`. The link starts delivering packets at once.
    public init(config: EndpointConfig, link: SluiceLink, eventLoop: EventLoop) {
        self.eventLoop = eventLoop
        self.endpoint = Endpoint(config: config)
        self.link = link
        transmitBuffer = .allocate(byteCount: endpoint.maximumPacketSize, alignment: 8)
        transmitBuffer.initializeMemory(as: UInt8.self, repeating: 0)
        link.attach(eventLoop: eventLoop) { [weak self] packet in
            self?.receive(packet)
        }
    }

    deinit {
        timer?.cancel()
        transmitBuffer.deallocate()
    }

    /// The loop's time as the engine's `Instant` (nanoseconds of `NIODeadline`'s uptime clock;
    /// virtual on the testing loops).
    public var now: Instant {
        Instant(nanoseconds: Int64(clamping: eventLoop.now.uptimeNanoseconds))
    }

    /// Closes every channel and listener, then the link.
    public func shutdown() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            let open: [Channel] = self.listeners.values.map { $0 } + self.channels.values.map { $0 }
            let closes = open.map { $0.close().recover { _ in } }
            return EventLoopFuture.andAllComplete(closes, on: self.eventLoop).flatMap {
                self.service()
                self.timer?.cancel()
                self.timer = nil
                self.linkClosed = true
                let closed = self.eventLoop.makePromise(of: Void.self)
                self.link.close(promise: closed)
                return closed.futureResult
            }
        }
    }

    // MARK: Driving the engine

    /// One packet from the link.
    func receive(_ packet: UnsafeRawBufferPointer) {
        eventLoop.assertInEventLoop()
        let t = now
        onPacket?(packet, t, .inbound)
        endpoint.receive(packet, at: t)
        service()
    }

    /// Runs due timers, drains the transmit queue into the link, hands events to channels, and
    /// re-arms the timer. Re-entrant calls (a handler writing while an event is delivered) make
    /// the running call go round once more instead of nesting.
    func service() {
        eventLoop.assertInEventLoop()
        if servicing {
            serviceAgain = true
            return
        }
        servicing = true
        defer { servicing = false }
        repeat {
            serviceAgain = false
            let t = now
            if let deadline = endpoint.nextDeadline, deadline <= t {
                endpoint.handleTimeout(at: t)
            }
            while let length = endpoint.pollTransmit(into: transmitBuffer, at: t) {
                let packet = UnsafeRawBufferPointer(rebasing: transmitBuffer[..<length])
                onPacket?(packet, t, .outbound)
                if !linkClosed { link.send(packet) }
            }
            while let event = endpoint.pollEvent() {
                dispatch(event)
            }
        } while serviceAgain
        armTimer()
    }

    private func dispatch(_ event: EndpointEvent) {
        switch event {
        case .acceptable(let port):
            guard let listener = listeners[port] else { return }
            while let id = endpoint.accept(port: port) {
                listener.accepted(id)
            }
        case .connected(let id):
            channels[id]?.connectionEstablished()
        case .readable(let id):
            channels[id]?.connectionReadable()
        case .writable(let id):
            channels[id]?.connectionWritable()
        case .reset(let id):
            channels[id]?.connectionReset()
        case .closed(let id, let reason):
            if let channel = channels.removeValue(forKey: id) {
                channel.connectionClosed(reason)
            }
        }
    }

    /// One scheduled task at the engine's `nextDeadline`, replaced when the deadline moves.
    private func armTimer() {
        guard let deadline = endpoint.nextDeadline, !linkClosed else {
            timer?.cancel()
            timer = nil
            timerDeadline = nil
            return
        }
        if timer != nil, timerDeadline == deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        let at = NIODeadline.uptimeNanoseconds(UInt64(clamping: max(0, deadline.nanoseconds)))
        timer = eventLoop.scheduleTask(deadline: at) { [weak self] in
            guard let self else { return }
            self.timer = nil
            self.timerDeadline = nil
            self.service()
        }
    }

    // MARK: For channels and bootstraps

    func register(_ channel: SluiceChannel, for id: ConnectionID) {
        channels[id] = channel
    }

    func forget(_ id: ConnectionID) {
        channels[id] = nil
    }
}
#endif
