import SluiceCore
import SluicePolicy

/// sluice-send's application: connects, writes the payload as fast as the engine accepts it
/// (`write` returns how much fit: that is the backpressure), hashes what was accepted (SHA-256),
/// and closes (FIN after the data) once everything is queued. Done when the connection is gone.
///
/// Ctrl-C once: stop writing and close gracefully (FIN); twice: abort (RST).
package final class SenderApplication: LinkApplication {
    package struct Options: Sendable {
        package var remote: SocketAddress
        package var local: SocketAddress
        package var json = false
        /// Hash the stream (SHA-256, in the report); `false` (`--no-digest`) counts bytes only.
        package var digest = true
        /// Retries of a refused or timed-out connection attempt (`--retries`, `--retry-base`,
        /// `--retry-cap`); none by default.
        package var retry = RetryPolicy(base: .milliseconds(100), cap: .seconds(10), maxRetries: 0)
        /// No SYN-ACK by then: the attempt failed (`--connect-timeout`).
        package var connectTimeout: Duration = .seconds(5)
        package init(remote: SocketAddress, local: SocketAddress) {
            self.remote = remote
            self.local = local
        }
    }

    package let options: Options
    private let payload: any PayloadSource
    private var id: ConnectionID?
    private var connected = false
    /// The payload is staged in the hash pipeline's chunks: filled by the source, written into
    /// the engine from there, and hashed on the pipeline's thread once the engine took it all.
    private let hashing: HashPipeline
    private let stream = HashPipeline.Stream()
    private var stagedStart = 0
    private var stagedEnd = 0
    private var sourceEnded = false
    private var closing = false
    private var interrupted = false
    private var tracker = StatsTracker()
    private var written = 0
    private var attempts: ConnectAttempts
    /// Set when every connection attempt failed: the one-line reason.
    package private(set) var connectFailure: String?
    /// The report, once the connection is gone.
    package private(set) var report: TransferReport?
    package private(set) var isDone = false
    /// A failure reading the payload stops the run.
    package private(set) var payloadError: LinkError?

    package init(options: Options, payload: any PayloadSource) {
        self.options = options
        self.payload = payload
        hashing = HashPipeline(hashing: options.digest)
        attempts = ConnectAttempts(policy: options.retry, connectTimeout: options.connectTimeout)
    }

    /// Connection attempts made (1 plus the retries).
    package var attemptCount: Int { attempts.attempts }

    /// 0 on a completed transfer, 130 when interrupted (Ctrl-C), 1 otherwise.
    package var exitStatus: Int32 {
        if report == nil && interrupted { return 130 }
        guard let report, payloadError == nil else { return 1 }
        if report.succeeded { return 0 }
        return interrupted ? 130 : 1
    }

    package func start(_ endpoint: Endpoint, at now: Instant) throws(LinkError) {
        try openConnection(endpoint, at: now)
        tracker.start(at: now)
    }

    /// One connection attempt (a SYN from a fresh ephemeral port, or the fixed `--local` port).
    private func openConnection(_ endpoint: Endpoint, at now: Instant) throws(LinkError) {
        do {
            id = try endpoint.connect(to: options.remote, localPort: options.local.port == 0 ? nil : options.local.port, at: now)
        } catch {
            throw LinkError("cannot connect to \(options.remote): \(error)")
        }
        attempts.started(at: now)
    }

    /// The attempt under way failed (refused, or no SYN-ACK in time): retry now, later, or
    /// give up with the one-line reason.
    private func attemptFailed(_ endpoint: Endpoint, refused: Bool, at now: Instant) {
        switch attempts.failed(refused: refused, at: now) {
        case .connect:
            retry(endpoint, at: now)
        case .wait:
            break
        case .giveUp:
            isDone = true
            connectFailure = "\(attempts.failureMessage) connecting to \(options.remote)"
        }
    }

    private func retry(_ endpoint: Endpoint, at now: Instant) {
        do throws(LinkError) { try openConnection(endpoint, at: now) } catch {
            isDone = true
            connectFailure = error.description
        }
    }

    package func handle(_ event: EndpointEvent, _ endpoint: Endpoint, at now: Instant) {
        guard let id else { return }
        switch event {
        case .connected(id):
            connected = true
            attempts.connected()
        case .closed(id, let reason) where !connected && !interrupted && (reason == .reset || reason == .retransmissionLimit):
            attemptFailed(endpoint, refused: reason == .reset, at: now)
        case .reset(id) where !connected && !interrupted:
            break   // the `.closed` that follows decides
        case .closed(id, let reason):
            finish(endpoint, result: interrupted && reason == .normal ? "interrupted" : resultName(reason), at: now)
        case .reset(id):
            finish(endpoint, result: "reset", at: now)
        default:
            break
        }
    }

    package func service(_ endpoint: Endpoint, at now: Instant) -> Instant? {
        guard let id, !isDone else { return nil }
        if !connected && !interrupted {
            let due = attempts.due(at: now)
            if due.timedOut {
                endpoint.abort(id)
                attemptFailed(endpoint, refused: false, at: now)
                return isDone ? nil : attempts.due(at: now).wake
            }
            if due.retry { retry(endpoint, at: now) }
            return attempts.due(at: now).wake
        }
        if connected, !closing { writeAll(id, endpoint) }
        let stats = endpoint.stats(of: id)
        tracker.sample(stats, tuple: endpoint.tuple(of: id), bytes: stats?.bytesAcknowledged ?? 0, at: now)
        return nil
    }

    package func interrupt(count: Int, _ endpoint: Endpoint, at now: Instant) {
        guard let id, !isDone else { return }
        interrupted = true
        if !connected {
            // Still connecting (or waiting to retry): stop here.
            endpoint.abort(id)
            isDone = true
            return
        }
        if count == 1 {
            if !closing {
                closing = true
                endpoint.close(id)
            }
        } else {
            endpoint.abort(id)
            finish(endpoint, result: "aborted", at: now)
        }
    }

    package func progressLine(_ endpoint: Endpoint, at now: Instant) -> String {
        guard let id else { return "" }
        let state = endpoint.state(of: id).map { "\($0)" } ?? "closed"
        let total = payload.totalBytes.map { " of \(formatBytes($0))" } ?? ""
        let acknowledged = tracker.latest?.bytesAcknowledged ?? 0
        return "\(formatBytes(acknowledged)) acknowledged\(total)  \(formatBitRate(tracker.recentRate(at: now)))  peer window \(formatBytes(tracker.peerWindow))  \(state)"
    }

    /// Offers staged bytes to the engine until it takes no more or the payload ends.
    private func writeAll(_ id: ConnectionID, _ endpoint: Endpoint) {
        while true {
            if stagedStart == stagedEnd {
                if sourceEnded { break }
                hashing.commit(stagedEnd, to: stream)
                stagedStart = 0
                stagedEnd = 0
                do throws(LinkError) {
                    let n = try payload.fill(hashing.space(atLeast: hashing.chunkSize))
                    stagedEnd = n
                    if n == 0 {
                        sourceEnded = true
                        break
                    }
                } catch {
                    payloadError = error
                    endpoint.abort(id)
                    closing = true
                    return
                }
            }
            let accepted = endpoint.write(id, UnsafeRawBufferPointer(rebasing: hashing.space(atLeast: hashing.chunkSize)[stagedStart..<stagedEnd]))
            if accepted == 0 { return }
            stagedStart += accepted
            written += accepted
        }
        if sourceEnded, !closing {
            closing = true
            endpoint.close(id)
        }
    }

    private func finish(_ endpoint: Endpoint, result: String, at now: Instant) {
        guard !isDone, let id else { return }
        isDone = true
        let stats = endpoint.stats(of: id)
        tracker.sample(stats, tuple: endpoint.tuple(of: id), bytes: stats?.bytesAcknowledged ?? 0, at: now)
        var report = TransferReport(role: .sender)
        report.local = "\(options.local)"
        report.remote = "\(options.remote)"
        report.result = result
        report.bytes = written
        // The accepted staged bytes; the rest was never sent.
        hashing.commit(stagedStart, to: stream)
        stagedStart = 0
        stagedEnd = 0
        report.sha256 = hashing.digest(of: stream).map { hexDigest($0) }
        if result == "completed", let total = payload.totalBytes, total != written { report.result = "incomplete" }
        tracker.fill(&report, at: now)
        self.report = report
        Console.clearProgressIfTerminal()
        if options.json { Console.output(report.json) } else { Console.error(report.human) }
    }
}

@available(*, unavailable)
extension SenderApplication: Sendable {}
