import SluiceCore

/// One node of a harness network: a `PacketNode` (usually an `Endpoint`) at an IPv4 address,
/// with the applications that run on it. Not thread-safe.
public final class HarnessNode: CustomStringConvertible {
    /// Position in `Harness.nodes`.
    public let id: Int
    public let name: String
    public let address: IPv4Address
    public let packetNode: any PacketNode
    /// The endpoint, when the node is one (applications need it).
    public let endpoint: Endpoint?
    public internal(set) var applications: [any HarnessApplication] = []

    /// Called for every endpoint event, before the applications see it.
    public var onEvent: ((EndpointEvent, NodeContext) throws -> Void)?
    /// Called each time the harness services the node (after a packet arrival, a timer, a
    /// wakeup), after events and applications: the hook for scripting anything.
    public var onService: ((NodeContext) throws -> Void)?

    /// Whether the harness checks the window-edge rule (see `WindowMonitor`) on the packets
    /// this node sends. On by default for endpoints, off for other nodes (which may be
    /// injecting hostile segments on purpose).
    public var checksWindowEdges: Bool

    /// Endpoint events seen so far, in order (kept only when `recordEvents` is set).
    public private(set) var events: [(at: Instant, event: EndpointEvent)] = []
    public var recordEvents = false

    init(id: Int, name: String, address: IPv4Address, packetNode: any PacketNode) {
        self.id = id
        self.name = name
        self.address = address
        self.packetNode = packetNode
        self.endpoint = packetNode as? Endpoint
        self.checksWindowEdges = endpoint != nil
    }

    func record(_ event: EndpointEvent, at now: Instant) {
        if recordEvents { events.append((now, event)) }
    }

    public var description: String { "\(name)(\(address))" }
}

@available(*, unavailable)
extension HarnessNode: Sendable {}

/// What an application callback may use: the time, its endpoint, and wakeups.
public struct NodeContext {
    public let harness: Harness
    public let node: HarnessNode
    public let endpoint: Endpoint

    public var now: Instant { harness.now }

    /// Asks the harness to service this node (and poll its applications) at `time`.
    public func wake(at time: Instant) { harness.scheduleWake(node: node.id, at: time) }
    public func wake(after delay: Duration) { wake(at: harness.now + delay) }
}

@available(*, unavailable)
extension NodeContext: Sendable {}

/// An application running on an endpoint node. The harness calls `start` once, `handle` for
/// each endpoint event, and `poll` every time it services the node (return `true` when the
/// call did something, e.g. wrote or read bytes, so the harness drains the packets it caused).
/// Throwing stops the run with that error.
public protocol HarnessApplication: AnyObject {
    func start(_ context: NodeContext) throws
    func handle(_ event: EndpointEvent, _ context: NodeContext) throws
    func poll(_ context: NodeContext) throws -> Bool
}

extension HarnessApplication {
    public func start(_ context: NodeContext) throws {}
    public func handle(_ event: EndpointEvent, _ context: NodeContext) throws {}
    public func poll(_ context: NodeContext) throws -> Bool { false }
}
