#if NIO
import NIOCore

/// Two stacks joined in memory, for tests: each packet sent by one side reaches the other after
/// `latency`, as a task on the event loop, so on `EmbeddedEventLoop` or
/// `NIOAsyncTestingEventLoop` the transfer runs on virtual time and is deterministic (tasks run
/// in deadline order, then in the order they were scheduled).
///
/// At most `queueLimit` packets are in flight each way; a packet beyond that is dropped and
/// counted (a drop-tail queue), so a runaway sender cannot grow memory. `dropFilter` lets a
/// test drop chosen packets (`true` drops).
public final class InMemoryLink: SluiceLink, @unchecked Sendable {
    /// The other end.
    public private(set) weak var peer: InMemoryLink?
    /// One-way delay.
    public let latency: TimeAmount
    /// Packets in flight toward the peer, at most.
    public let queueLimit: Int
    /// Packets sent toward the peer, dropped by the queue limit, and dropped by `dropFilter`.
    public private(set) var sent = 0, droppedQueueFull = 0, droppedByFilter = 0
    /// Return `true` to drop a packet this side sends.
    public var dropFilter: ((UnsafeRawBufferPointer) -> Bool)?

    private var eventLoop: EventLoop?
    private var deliver: ((UnsafeRawBufferPointer) -> Void)?
    private var inFlight = 0
    private var closed = false

    private init(latency: TimeAmount, queueLimit: Int) {
        self.latency = latency
        self.queueLimit = queueLimit
    }

    /// Two joined ends. Attach each to a stack on the same event loop.
    public static func pair(latency: TimeAmount = .milliseconds(1), queueLimit: Int = 1024) -> (InMemoryLink, InMemoryLink) {
        let a = InMemoryLink(latency: latency, queueLimit: queueLimit)
        let b = InMemoryLink(latency: latency, queueLimit: queueLimit)
        a.peer = b
        b.peer = a
        return (a, b)
    }

    public func attach(eventLoop: EventLoop, deliver: @escaping (UnsafeRawBufferPointer) -> Void) {
        self.eventLoop = eventLoop
        self.deliver = deliver
    }

    public func send(_ packet: UnsafeRawBufferPointer) {
        guard !closed, let peer, let loop = eventLoop else { return }
        if let dropFilter, dropFilter(packet) {
            droppedByFilter += 1
            return
        }
        guard inFlight < queueLimit else {
            droppedQueueFull += 1
            return
        }
        inFlight += 1
        sent += 1
        let copy = Array(packet)
        let arrival: @Sendable () -> Void = { [self] in
            self.inFlight -= 1
            peer.arrive(copy)
        }
        if latency == .zero {
            loop.execute(arrival)
        } else {
            loop.scheduleTask(in: latency, arrival)
        }
    }

    private func arrive(_ packet: [UInt8]) {
        guard !closed, let deliver else { return }
        packet.withUnsafeBytes { deliver($0) }
    }

    public func close(promise: EventLoopPromise<Void>) {
        closed = true
        deliver = nil
        promise.succeed()
    }
}
#endif
