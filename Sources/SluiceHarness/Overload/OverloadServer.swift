import DequeModule
import SluiceCore

/// The server of the overload experiment: one worker that serves a request in `1/C` seconds,
/// one at a time, in arrival order. A request is a `requestBytes` upload on a new connection
/// (its first 8 bytes: the instant the client first tried, for the latency figure); the answer
/// is `responseBytes`; the client closes first, then the server.
///
/// `implicit`: accepts every connection at once and queues every request (unbounded).
/// Shedding modes: admits at most `admissionLimit` requests at once (in its backlog, queued or
/// in service); beyond that it stops accepting, its backlog fills and the listener refuses new
/// SYNs with RST. Each refusal costs the worker `rejectCostShare` of a service time.
final class OverloadServer: HarnessApplication {
    struct Work {
        var connection: ConnectionID
        var firstAttempt: Instant
    }

    let config: OverloadConfig
    let mode: OverloadMode
    let port: UInt16
    let window: Range<Instant>

    /// Connections accepted whose request is not complete yet, with the bytes read so far
    /// (only looked up, never iterated).
    private var reading: [ConnectionID: (count: Int, stamp: UInt64)] = [:]
    private var queue = Deque<Work>()
    private var serving: Work?
    private var serviceEnd = Instant.zero
    /// Refusal work done while idle delays the next service start.
    private var idleBusyUntil = Instant.zero
    private var refusalsCharged = 0
    /// Requests admitted and not finished (shedding modes' admission count).
    private var admitted = 0
    private var scratch = [UInt8](repeating: 0, count: 4096)
    private let response: [UInt8]

    // Figures over the measured window.
    private(set) var completed = 0
    private(set) var latencies: [Duration] = []
    private(set) var shedInWindow = 0

    init(config: OverloadConfig, mode: OverloadMode, port: UInt16, window: Range<Instant>) {
        self.config = config
        self.mode = mode
        self.port = port
        self.window = window
        response = [UInt8](repeating: 0x52, count: config.responseBytes)
    }

    func start(_ c: NodeContext) throws {
        do {
            if mode.sheds {
                try c.endpoint.listen(port: port, backlog: config.backlog, overflow: .reset)
            } else {
                try c.endpoint.listen(port: port, backlog: implicitBacklog, overflow: .drop)
            }
        } catch {
            throw HarnessError.application(node: c.node.name, message: "listen: \(error)", at: c.now)
        }
    }

    func handle(_ event: EndpointEvent, _ c: NodeContext) throws {
        switch event {
        case let .closed(id, _):
            if reading.removeValue(forKey: id) != nil && mode.sheds { admitted -= 1 }
            // Release the slot: a connection the client reset stays in the table until the
            // application lets go of it (its queued work, if any, is still done: wasted).
            c.endpoint.close(id)
        case let .readable(id):
            readRequest(id, c)
            if c.endpoint.isAtEndOfStream(id), reading[id] == nil { c.endpoint.close(id) }
        default:
            break
        }
    }

    func poll(_ c: NodeContext) throws -> Bool {
        var acted = false
        chargeRefusals(c)
        while !mode.sheds || admitted < config.admissionLimit - config.backlog,
              let id = c.endpoint.accept(port: port) {
            admitted += 1
            reading[id] = (0, 0)
            readRequest(id, c)
            acted = true
        }
        while true {
            if let work = serving {
                guard c.now >= serviceEnd else { break }
                finish(work, c)
                serving = nil
                acted = true
            }
            guard let next = queue.popFirst() else { break }
            serving = next
            serviceEnd = max(c.now, idleBusyUntil) + config.serviceTime
        }
        if serving != nil { c.wake(at: serviceEnd) }
        return acted
    }

    /// Refusals since the last call, charged to the worker: they stretch the request in
    /// service, or keep an idle worker busy.
    private func chargeRefusals(_ c: NodeContext) {
        guard mode.sheds, let counters = c.endpoint.listenerCounters(port: port) else { return }
        let n = counters.refused - refusalsCharged
        guard n > 0 else { return }
        refusalsCharged = counters.refused
        if window.contains(c.now) { shedInWindow += n }
        let cost = config.serviceTime * (config.rejectCostShare * Double(n))
        if serving != nil {
            serviceEnd = serviceEnd + cost
        } else {
            idleBusyUntil = max(idleBusyUntil, c.now) + cost
        }
    }

    private func readRequest(_ id: ConnectionID, _ c: NodeContext) {
        guard var state = reading[id] else { return }
        while state.count < config.requestBytes {
            let want = min(scratch.count, config.requestBytes - state.count)
            let n = scratch.withUnsafeMutableBytes { c.endpoint.read(id, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<want])) }
            guard n > 0 else { break }
            // The first 8 bytes carry the client's first-attempt instant (little-endian ns).
            for i in 0..<n where state.count + i < 8 {
                state.stamp |= UInt64(scratch[i]) << (8 * UInt64(state.count + i))
            }
            state.count += n
        }
        if state.count >= config.requestBytes {
            reading[id] = nil
            queue.append(Work(connection: id, firstAttempt: Instant(nanoseconds: Int64(bitPattern: state.stamp))))
        } else {
            reading[id] = state
        }
    }

    /// The worker finished `work`: the response goes out if its client is still there (if
    /// not, the work was wasted: throughput, not goodput).
    private func finish(_ work: Work, _ c: NodeContext) {
        if mode.sheds { admitted -= 1 }
        if window.contains(c.now) {
            completed += 1
            latencies.append(c.now - work.firstAttempt)
        }
        // The client closes first once it has the response (so TIME-WAIT stays with the
        // clients, spread over their addresses); the server closes on its FIN (`handle`).
        let written = response.withUnsafeBytes { c.endpoint.write(work.connection, $0) }
        if written < response.count {
            c.endpoint.abort(work.connection)   // the client left (or cannot take it): drop it
        }
    }
}

@available(*, unavailable)
extension OverloadServer: Sendable {}

/// The implicit server's backlog: it accepts at once, so this never fills.
private let implicitBacklog = 4096
