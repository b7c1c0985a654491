import SluiceCore
import SluicePolicy

/// A relay on one endpoint: it accepts connections on `listenPort` and, for each, connects
/// from the same endpoint to `next`, then forwards both ways with `RelayPair` (the same
/// forwarding logic as `sluice-relay`): bounded buffers, FIN relayed as a half-close, RST
/// relayed as an abort. Finished pairs are kept in `finished` (their reports) and forgotten.
public final class RelayApplication: HarnessApplication {
    public let listenPort: UInt16
    public let next: SocketAddress
    public let bufferSize: Int
    public let backlog: Int
    /// Pairs being relayed, in the order they were accepted.
    public private(set) var pairs: [RelayPair] = []
    /// Reports of the pairs that finished, in the order they finished.
    public private(set) var finished: [RelayReport] = []
    /// The most bytes all pairs' buffers held at once, over the run.
    public private(set) var peakBufferedBytes = 0

    public init(listen port: UInt16, connect next: SocketAddress, bufferSize: Int = 256 * 1024, backlog: Int = 16) {
        self.listenPort = port
        self.next = next
        self.bufferSize = bufferSize
        self.backlog = backlog
    }

    public func start(_ c: NodeContext) throws {
        do { try c.endpoint.listen(port: listenPort, backlog: backlog) } catch {
            throw HarnessError.application(node: c.node.name, message: "listen \(listenPort): \(error)", at: c.now)
        }
    }

    public func handle(_ event: EndpointEvent, _ c: NodeContext) throws {
        if case .acceptable(listenPort) = event { try acceptAll(c) }
        for p in pairs where p.handle(event, of: c.endpoint) { break }
    }

    public func poll(_ c: NodeContext) throws -> Bool {
        try acceptAll(c)
        var acted = false
        for p in pairs where p.pump() { acted = true }
        var buffered = 0
        for p in pairs { buffered += p.bufferedBytes }
        peakBufferedBytes = max(peakBufferedBytes, buffered)
        if pairs.contains(where: \.isFinished) {
            for p in pairs where p.isFinished { finished.append(p.report) }
            pairs.removeAll { $0.isFinished }
        }
        return acted
    }

    private func acceptAll(_ c: NodeContext) throws {
        while let up = c.endpoint.accept(port: listenPort) {
            let down: ConnectionID
            do { down = try c.endpoint.connect(to: next, at: c.now) } catch {
                // No room for the next hop: refuse the client (RST), as a full relay should.
                c.endpoint.abort(up)
                continue
            }
            pairs.append(RelayPair(upstream: RelaySide(endpoint: c.endpoint, id: up),
                                   downstream: RelaySide(endpoint: c.endpoint, id: down), bufferSize: bufferSize))
        }
    }
}

@available(*, unavailable)
extension RelayApplication: Sendable {}
