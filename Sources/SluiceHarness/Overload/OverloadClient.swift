import SluiceCore
import SluicePolicy
import SluiceRandom

/// The clients at one address of the overload experiment. Each request (started by
/// `begin`) opens a new connection, uploads `requestBytes`, reads `responseBytes`, then closes
/// (client first, so the client keeps TIME-WAIT). A request ends in time (goodput), or is
/// abandoned at its deadline (its connection reset), or gives up when refused and its mode
/// does not retry (or the retry would come too late).
final class OverloadClient: HarnessApplication {
    struct Request {
        var firstAttempt: Instant
        var deadline: Instant
        var schedule: RetrySchedule
        var connection: ConnectionID?
        var received = 0
        var retryAt: Instant?
        var attempts = 0
    }

    let config: OverloadConfig
    let mode: OverloadMode
    let server: SocketAddress
    let window: Range<Instant>
    private var breaker: CircuitBreaker
    private var random: Xoshiro256
    /// Requests under way, in start order (a linear scan: a few per address at a time).
    private var active: [Request] = []
    private var request: [UInt8]
    private var scratch = [UInt8](repeating: 0, count: 8192)

    // Figures over the measured window.
    private(set) var started = 0
    private(set) var goodput = 0
    private(set) var retries = 0
    private(set) var timedOut = 0

    init(config: OverloadConfig, mode: OverloadMode, server: SocketAddress, window: Range<Instant>, seed: UInt64) {
        self.config = config
        self.mode = mode
        self.server = server
        self.window = window
        breaker = CircuitBreaker(config.breaker)
        random = Xoshiro256(seed: seed)
        request = [UInt8](repeating: 0x51, count: max(8, config.requestBytes))
    }

    var breakerRejections: Int { breaker.counters.rejected }

    /// A new request arrives now.
    func begin(_ c: NodeContext) {
        if window.contains(c.now) { started += 1 }
        active.append(Request(firstAttempt: c.now, deadline: c.now + config.deadline,
                              schedule: RetrySchedule(policy: config.retry)))
        c.wake(at: c.now + config.deadline)
        attempt(active.count - 1, c)
    }

    func handle(_ event: EndpointEvent, _ c: NodeContext) throws {
        switch event {
        case let .connected(id):
            guard let i = index(of: id) else { return }
            var stamp = UInt64(bitPattern: active[i].firstAttempt.nanoseconds)
            for k in 0..<8 {
                request[k] = UInt8(truncatingIfNeeded: stamp)
                stamp >>= 8
            }
            _ = request.withUnsafeBytes { c.endpoint.write(id, $0) }
        case let .readable(id):
            guard let i = index(of: id) else { return }
            while true {
                let n = scratch.withUnsafeMutableBytes { c.endpoint.read(id, into: $0) }
                if n <= 0 { break }
                active[i].received += n
            }
            if active[i].received >= config.responseBytes {
                if c.now <= active[i].deadline && window.contains(c.now) { goodput += 1 }
                if mode == .explicitPolite { breaker.recordSuccess(at: c.now) }
                c.endpoint.close(id)
                active.remove(at: i)
            }
        case let .closed(id, _):
            // Let go of the slot: a closed connection holds its table slot until the
            // application releases it (refused and abandoned attempts would fill the table).
            c.endpoint.close(id)
            // Refused (RST to the SYN), or reset, before the whole response came.
            guard let i = index(of: id) else { return }
            active[i].connection = nil
            failed(i, c, byBreaker: false)
        default:
            break
        }
    }

    func poll(_ c: NodeContext) throws -> Bool {
        var acted = false
        var i = 0
        while i < active.count {
            if c.now >= active[i].deadline {
                // Give up: the client stops waiting and resets its connection.
                if let id = active[i].connection { c.endpoint.abort(id) }
                if window.contains(c.now) { timedOut += 1 }
                active.remove(at: i)
                acted = true
                continue
            }
            if let at = active[i].retryAt, at <= c.now {
                active[i].retryAt = nil
                let before = active.count
                attempt(i, c)
                acted = true
                if active.count < before { continue }   // it gave up at once
            }
            i += 1
        }
        return acted
    }

    private func index(of id: ConnectionID) -> Int? {
        active.firstIndex { $0.connection == id }
    }

    private func attempt(_ i: Int, _ c: NodeContext) {
        active[i].attempts += 1
        if active[i].attempts > 1 && window.contains(c.now) { retries += 1 }
        if mode == .explicitPolite, !breaker.admit(at: c.now).isAllowed {
            failed(i, c, byBreaker: true)
            return
        }
        do {
            active[i].connection = try c.endpoint.connect(to: server, at: c.now)
        } catch {
            active.remove(at: i)   // no port or slot left at this address: the request is lost
        }
    }

    /// Attempt `i` failed: retry according to the mode, or give up.
    private func failed(_ i: Int, _ c: NodeContext, byBreaker: Bool) {
        switch mode {
        case .implicit, .explicit:
            active.remove(at: i)
        case .explicitImpatient:
            if c.now < active[i].deadline {
                active[i].retryAt = c.now
                c.wake(at: c.now)
            } else {
                active.remove(at: i)
            }
        case .explicitPolite:
            if !byBreaker { breaker.recordFailure(at: c.now) }
            switch active[i].schedule.attemptFailed(at: c.now, using: &random) {
            case let .retry(at) where at < active[i].deadline:
                active[i].retryAt = at
                c.wake(at: at)
            default:
                active.remove(at: i)
            }
        }
    }
}

@available(*, unavailable)
extension OverloadClient: Sendable {}
