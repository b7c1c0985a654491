import SluiceCore

/// sluice-recv's application: listens on one port, accepts connections, and reads each through a
/// token bucket (`--read-rate` bytes/s, `--read-chunk` bytes at a time), hashing what it reads
/// (SHA-256) and optionally writing it to a file. A connection whose peer has closed (FIN) and
/// whose bytes have all been read is closed in turn; its report is printed when it is gone.
///
/// Ctrl-C once: close every connection gracefully (FIN) and exit when they are done; twice:
/// abort them (RST) and exit.
package final class ReceiverApplication: LinkApplication {
    package struct Options: Sendable {
        package var listen: SocketAddress
        /// Bytes per second the application reads; `nil` = as fast as possible.
        package var readRate: Double?
        package var readChunk: Int = 16 * 1024
        package var once = false
        package var json = false
        /// Hash the stream (SHA-256, in the report); `false` (`--no-digest`) counts bytes only.
        package var digest = true
        package init(listen: SocketAddress) { self.listen = listen }
    }

    private final class Connection {
        let id: ConnectionID
        var report = TransferReport(role: .receiver)
        let hash = HashPipeline.Stream()
        var bucket: TokenBucket?
        var tracker = StatsTracker()
        var closing = false
        var finished = false
        init(id: ConnectionID) { self.id = id }
    }

    package let options: Options
    private let output: OutputFile?
    private var connections: [Connection] = []
    private var stopping = false
    private var completedConnections = 0
    /// What the application reads lands in the hash pipeline's chunks (one copy out of the
    /// engine), is written to `--output` from there and hashed on the pipeline's thread.
    private let hashing: HashPipeline
    /// Reports of the connections that are gone, in the order they closed.
    package private(set) var reports: [TransferReport] = []
    package private(set) var isDone = false
    /// A failure of the output file stops the run.
    package private(set) var outputError: LinkError?

    package init(options: Options, output: OutputFile?) {
        self.options = options
        self.output = output
        hashing = HashPipeline(hashing: options.digest)
    }

    /// 0 when every connection ended normally, 1 otherwise.
    package var exitStatus: Int32 {
        if outputError != nil { return 1 }
        return reports.allSatisfy(\.succeeded) ? 0 : 1
    }

    package func start(_ endpoint: Endpoint, at now: Instant) throws(LinkError) {
        do {
            try endpoint.listen(port: options.listen.port)
        } catch {
            throw LinkError("cannot listen on \(options.listen): \(error)")
        }
    }

    package func handle(_ event: EndpointEvent, _ endpoint: Endpoint, at now: Instant) {
        switch event {
        case .acceptable:
            acceptAll(endpoint, at: now)
        case .closed(let id, let reason):
            finish(id, endpoint, result: resultName(reason), at: now)
        case .reset(let id):
            finish(id, endpoint, result: "reset", at: now)
        case .connected, .readable, .writable:
            break
        }
    }

    package func service(_ endpoint: Endpoint, at now: Instant) -> Instant? {
        acceptAll(endpoint, at: now)
        var wake: Instant?
        for connection in connections where !connection.finished {
            if let next = read(connection, endpoint, at: now) {
                wake = wake.map { min($0, next) } ?? next
            }
            connection.tracker.sample(endpoint.stats(of: connection.id), tuple: endpoint.tuple(of: connection.id), bytes: connection.report.bytes, at: now)
        }
        return wake
    }

    package func interrupt(count: Int, _ endpoint: Endpoint, at now: Instant) {
        stopping = true
        for connection in connections where !connection.finished {
            if count == 1 {
                if !connection.closing {
                    connection.closing = true
                    endpoint.close(connection.id)
                }
            } else {
                endpoint.abort(connection.id)
                finish(connection.id, endpoint, result: "aborted", at: now)
            }
        }
        if connections.allSatisfy(\.finished) { isDone = true }
    }

    package func progressLine(_ endpoint: Endpoint, at now: Instant) -> String {
        guard let connection = connections.last(where: { !$0.finished }) else {
            return "listening on \(options.listen) (\(completedConnections) connections done)"
        }
        let t = connection.tracker
        let state = endpoint.state(of: connection.id).map { "\($0)" } ?? "closed"
        return "\(formatBytes(connection.report.bytes)) received  \(formatBitRate(t.recentRate(at: now)))  window \(formatBytes(t.advertisedWindow))  \(state)"
    }

    private func acceptAll(_ endpoint: Endpoint, at now: Instant) {
        while let id = endpoint.accept(port: options.listen.port) {
            let connection = Connection(id: id)
            connection.report.local = "\(options.listen)"
            if let rate = options.readRate {
                connection.bucket = TokenBucket(rate: rate, burst: options.readChunk)
            }
            connection.tracker.start(at: now)
            connections.append(connection)
            if stopping {
                connection.closing = true
                endpoint.close(id)
            }
        }
    }

    /// Reads what the bucket allows, `readChunk` bytes at a time, into the hash pipeline's
    /// current chunk, committing each read to the connection's hash. Returns when the bucket is
    /// next full if it is the limit.
    private func read(_ connection: Connection, _ endpoint: Endpoint, at now: Instant) -> Instant? {
        var reads = 0
        while reads < readsPerService {
            let space = hashing.space(atLeast: options.readChunk)
            var allowed = min(options.readChunk, space.count)
            if let bucket = connection.bucket {
                guard bucket.isFull(at: now) else { return bucket.fullAt(now) }
                allowed = min(allowed, bucket.available(at: now))
            }
            let n = endpoint.read(connection.id, into: UnsafeMutableRawBufferPointer(rebasing: space[..<allowed]))
            if n == 0 {
                closeIfPeerDone(connection, endpoint)
                return nil
            }
            if let output, outputError == nil {
                do throws(LinkError) {
                    try output.write(UnsafeRawBufferPointer(rebasing: space[..<n]))
                } catch { outputError = error; isDone = true }
            }
            hashing.commit(n, to: connection.hash)
            reads += 1
            connection.bucket?.consume(n, at: now)
            connection.report.bytes += n
        }
        return now
    }

    /// Once the peer's FIN has arrived and every byte before it has been read, close our half
    /// too (RFC 9293 §3.10.4: CLOSE in CLOSE-WAIT sends FIN).
    private func closeIfPeerDone(_ connection: Connection, _ endpoint: Endpoint) {
        guard !connection.closing,
              endpoint.isAtEndOfStream(connection.id) || endpoint.state(of: connection.id) == .closeWait else { return }
        connection.closing = true
        endpoint.close(connection.id)
    }

    private func finish(_ id: ConnectionID, _ endpoint: Endpoint, result: String, at now: Instant) {
        guard let connection = connections.first(where: { $0.id == id && !$0.finished }) else { return }
        connection.finished = true
        connection.tracker.sample(endpoint.stats(of: id), tuple: endpoint.tuple(of: id), bytes: connection.report.bytes, at: now)
        var report = connection.report
        report.result = result
        report.sha256 = hashing.digest(of: connection.hash).map { hexDigest($0) }
        connection.tracker.fill(&report, at: now)
        reports.append(report)
        completedConnections += 1
        Console.clearProgressIfTerminal()
        if options.json { Console.output(report.json) } else { Console.error(report.human) }
        connections.removeAll(where: { $0.finished })
        if options.once || (stopping && connections.isEmpty) { isDone = true }
    }
}

@available(*, unavailable)
extension ReceiverApplication: Sendable {}

/// `CloseReason` as the report's `result`.
package func resultName(_ reason: CloseReason) -> String {
    switch reason {
    case .normal: return "completed"
    case .reset: return "reset"
    case .retransmissionLimit: return "timed-out"
    case .userTimeout: return "timed-out"
    case .keepAliveTimeout: return "timed-out"
    case .aborted: return "aborted"
    case .internalError: return "failed"
    }
}

/// Lower-case hex of a digest.
package func hexDigest(_ digest: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    for byte in digest {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// Reads per connection per loop turn when reading as fast as possible, so one connection
/// cannot starve the others (16 × 16 KiB = 256 KiB).
private let readsPerService = 16
