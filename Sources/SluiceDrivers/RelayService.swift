import Crypto
import SluiceCore
import SluicePolicy

/// sluice-relay's application: listens on `listen`, and for each accepted connection connects
/// from the same endpoint to `next` and forwards both ways with `RelayPair` (bounded buffers,
/// half-close relayed, RST relayed as an abort). Each finished pair prints its report (a JSON
/// line on stdout with `--json`, a few lines on stderr otherwise).
///
/// Ctrl-C once: stop accepting and close every pair gracefully (FIN both ways); twice: abort
/// every pair (RST). With `once`, done after the first pair has closed both ways.
package final class RelayService: LinkApplication {
    package struct Options: Sendable {
        package var listen: SocketAddress
        package var next: SocketAddress
        package var bufferSize = 256 * 1024
        package var once = false
        package var json = false
        /// Pairs relayed at once; a connection beyond is refused (RST).
        package var maxPairs = 64
        package init(listen: SocketAddress, next: SocketAddress) {
            self.listen = listen
            self.next = next
        }
    }

    private struct Live {
        var pair: RelayPair
        var hasher: Box
        var startedAt: Instant
        /// The client's address (kept: the engine forgets the tuple once the pair is released).
        var client: String
    }

    /// SHA-256 of the forwarded bytes, held by reference for the pair's `onForward` closure.
    private final class Box {
        var hasher = SHA256()
    }

    package let options: Options
    private var live: [Live] = []
    private var interrupted = false
    private var listening = false
    package private(set) var reports: [RelayPairReport] = []
    package private(set) var isDone = false

    package init(options: Options) {
        self.options = options
    }

    /// 0 when every pair closed normally, 130 when interrupted, 1 when a pair was reset or
    /// failed (or none was relayed with `once`).
    package var exitStatus: Int32 {
        if interrupted { return 130 }
        if reports.isEmpty && options.once { return 1 }
        return reports.allSatisfy { $0.result == "completed" } ? 0 : 1
    }

    package func start(_ endpoint: Endpoint, at now: Instant) throws(LinkError) {
        do {
            try endpoint.listen(port: options.listen.port, backlog: listenBacklog, overflow: .reset)
        } catch {
            throw LinkError("cannot listen on \(options.listen): \(error)")
        }
        listening = true
    }

    package func handle(_ event: EndpointEvent, _ endpoint: Endpoint, at now: Instant) {
        if case .acceptable = event { acceptAll(endpoint, at: now) }
        for l in live where l.pair.handle(event, of: endpoint) { break }
    }

    package func service(_ endpoint: Endpoint, at now: Instant) -> Instant? {
        acceptAll(endpoint, at: now)
        for l in live { _ = l.pair.pump() }
        var i = 0
        while i < live.count {
            if live[i].pair.isFinished {
                finish(live.remove(at: i), at: now)
            } else {
                i += 1
            }
        }
        if options.once && !reports.isEmpty && live.isEmpty { isDone = true }
        if interrupted && live.isEmpty { isDone = true }
        return nil
    }

    package func interrupt(count: Int, _ endpoint: Endpoint, at now: Instant) {
        interrupted = true
        if listening {
            endpoint.stopListening(port: options.listen.port)
            listening = false
        }
        for l in live {
            if count == 1 {
                endpoint.close(l.pair.upstream.id)
                endpoint.close(l.pair.downstream.id)
            } else {
                endpoint.abort(l.pair.upstream.id)
                endpoint.abort(l.pair.downstream.id)
            }
        }
        if count > 1 {
            for l in live { finish(l, at: now, result: "aborted") }
            live.removeAll()
        }
        if live.isEmpty { isDone = true }
    }

    package func progressLine(_ endpoint: Endpoint, at now: Instant) -> String {
        var forwarded = 0, returned = 0, buffered = 0
        for l in live {
            forwarded += l.pair.report.bytesForwarded
            returned += l.pair.report.bytesReturned
            buffered += l.pair.bufferedBytes
        }
        return "\(live.count) pair(s)  forwarded \(formatBytes(forwarded))  returned \(formatBytes(returned))  buffered \(formatBytes(buffered))  done \(reports.count)"
    }

    private func acceptAll(_ endpoint: Endpoint, at now: Instant) {
        guard listening else { return }
        while let up = endpoint.accept(port: options.listen.port) {
            guard live.count < options.maxPairs,
                  let down = try? endpoint.connect(to: options.next, at: now) else {
                endpoint.abort(up)   // no room for another pair: refuse (RST)
                continue
            }
            let box = Box()
            let pair = RelayPair(upstream: RelaySide(endpoint: endpoint, id: up),
                                 downstream: RelaySide(endpoint: endpoint, id: down), bufferSize: options.bufferSize)
            pair.onForward = { box.hasher.update(bufferPointer: $0) }
            let client = endpoint.tuple(of: up).map { "\($0.remote)" } ?? ""
            live.append(Live(pair: pair, hasher: box, startedAt: now, client: client))
        }
    }

    private func finish(_ l: Live, at now: Instant, result: String? = nil) {
        let r = l.pair.report
        var report = RelayPairReport()
        report.upstream = l.client
        report.downstream = "\(options.next)"
        report.result = result ?? (r.wasReset ? "reset" : "completed")
        report.seconds = (now - l.startedAt).secondsDouble
        report.bytesForwarded = r.bytesForwarded
        report.bytesReturned = r.bytesReturned
        report.peakBufferedBytes = r.peakBufferedBytes
        report.upstreamZeroWindowEpisodes = r.upstreamZeroWindowEpisodes
        report.downstreamZeroWindowEpisodes = r.downstreamZeroWindowEpisodes
        report.sha256Forwarded = hexDigest(l.hasher.hasher.finalize())
        reports.append(report)
        Console.clearProgressIfTerminal()
        if options.json { Console.output(report.json) } else { Console.error(report.human) }
    }
}

@available(*, unavailable)
extension RelayService: Sendable {}

/// One relayed pair's summary (`sluice-relay --json`: one object per pair, one per line).
package struct RelayPairReport: Sendable {
    package var upstream = ""
    package var downstream = ""
    /// `completed` (both FINs relayed), `reset` (one side reset: the other was aborted), `aborted`.
    package var result = "completed"
    package var seconds = 0.0
    package var bytesForwarded = 0
    package var bytesReturned = 0
    package var peakBufferedBytes = 0
    package var upstreamZeroWindowEpisodes = 0
    package var downstreamZeroWindowEpisodes = 0
    package var sha256Forwarded = ""

    package var json: String {
        "{\"upstream\":\"\(upstream)\",\"downstream\":\"\(downstream)\",\"result\":\"\(result)\",\"seconds\":\(formatFixed(seconds, 6)),"
            + "\"bytes_forwarded\":\(bytesForwarded),\"bytes_returned\":\(bytesReturned),\"peak_buffered_bytes\":\(peakBufferedBytes),"
            + "\"upstream_zero_window_episodes\":\(upstreamZeroWindowEpisodes),\"downstream_zero_window_episodes\":\(downstreamZeroWindowEpisodes),"
            + "\"sha256_forwarded\":\"\(sha256Forwarded)\"}"
    }

    package var human: String {
        [
            "relay \(upstream) -> \(downstream): \(result) in \(formatFixed(seconds, 3)) s",
            "  forwarded \(formatBytes(bytesForwarded)) (\(bytesForwarded) bytes), returned \(formatBytes(bytesReturned)), peak buffered \(formatBytes(peakBufferedBytes))",
            "  zero-window episodes: advertised upstream \(upstreamZeroWindowEpisodes), from downstream \(downstreamZeroWindowEpisodes)",
            "  sha256 forwarded \(sha256Forwarded)",
        ].joined(separator: "\n")
    }
}

/// Connections waiting to be accepted; beyond, SYNs are refused with RST.
private let listenBacklog = 16
