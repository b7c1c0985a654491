import SluiceCore

/// How an application gets its connection: by an active open, or by accepting one on a port.
public enum ConnectionRole: Sendable, Hashable {
    case connect(to: SocketAddress, localPort: UInt16? = nil)
    case accept(port: UInt16, backlog: Int = 16)
}

/// What an application does with its connection once its own work is done.
public enum FinishAction: Sendable, Hashable {
    /// `close`: FIN after the queued data, release when both directions are done.
    case close
    /// `shutdown`: FIN after the queued data; the connection stays for the peer's data.
    case shutdown
    /// Nothing.
    case none

    /// Does it to connection `id`.
    func apply(to endpoint: Endpoint, _ id: ConnectionID) {
        switch self {
        case .close: endpoint.close(id)
        case .shutdown: endpoint.shutdown(id)
        case .none: break
        }
    }
}

/// The connection bookkeeping both bulk applications share.
struct ConnectionSlot {
    let role: ConnectionRole
    var id: ConnectionID?
    var established = false
    var connectedAt: Instant?
    var closedAt: Instant?
    var closeReason: CloseReason?
    var wasReset = false

    init(role: ConnectionRole) { self.role = role }

    mutating func start(_ c: NodeContext) throws {
        do {
            switch role {
            case let .connect(to, localPort):
                id = try c.endpoint.connect(to: to, localPort: localPort, at: c.now)
            case let .accept(port, backlog):
                try c.endpoint.listen(port: port, backlog: backlog)
            }
        } catch {
            throw HarnessError.application(node: c.node.name, message: "\(role): \(error)", at: c.now)
        }
    }

    /// Updates the slot from an event; returns `true` when the event concerns this connection.
    mutating func handle(_ event: EndpointEvent, _ c: NodeContext) -> Bool {
        switch event {
        case let .connected(cid) where cid == id:
            established = true
            connectedAt = connectedAt ?? c.now
            return true
        case let .acceptable(port):
            if case .accept(port, _) = role { acceptIfNeeded(c) }
            return false
        case let .closed(cid, reason) where cid == id:
            closedAt = c.now
            closeReason = reason
            return true
        case let .reset(cid) where cid == id:
            wasReset = true
            return true
        case let .readable(cid) where cid == id, let .writable(cid) where cid == id:
            return true
        default:
            return false
        }
    }

    mutating func acceptIfNeeded(_ c: NodeContext) {
        guard id == nil, case let .accept(port, _) = role, let cid = c.endpoint.accept(port: port) else { return }
        id = cid
        established = true
        connectedAt = c.now
    }
}
