import SluiceCore
import SluiceFormat

/// What one connection did, as printed at exit: a human summary on stderr, or one JSON object
/// per line on stdout (`--json`).
///
/// The JSON keys are a contract other tools read: `bytes`, `seconds` (SYN to close),
/// `goodput_bps` (payload bits per second over `seconds`), `sha256` (of the payload sent or
/// received), `retransmitted_bytes`, `zero_window_episodes`, `zero_window_seconds`,
/// `probes_sent`, `window_updates_sent`, `peak_buffer_bytes` (send buffer for the sender,
/// receive buffer for the receiver), `rwnd_limited_s`, `cwnd_limited_s`, `pacing_limited_s`,
/// `app_limited_s` (issue 5 item 7: time the sender spent limited by the receiver's window, the
/// congestion window, the pacer, the application). `runqueue_wait_s`, when the kernel reports it:
/// how long the run loop's thread was runnable but waited for a CPU (`/proc/thread-self/schedstat`);
/// the engine's clock reads time passing then, but it cannot act, so the limits above can be off
/// by up to that much (a loaded machine: tests allow for it).
package struct TransferReport: Sendable {
    package enum Role: String, Sendable { case sender, receiver }

    package var role: Role
    package var local: String = ""
    package var remote: String = ""
    /// `completed`, `reset`, `timed-out`, `aborted`, `interrupted`, `refused`, `failed` (the engine
    /// stopped the connection on an internal invariant, `CloseReason.internalError`).
    package var result: String = "completed"
    package var bytes: Int = 0
    package var seconds: Double = 0
    package var sha256: String? = ""
    package var retransmittedBytes: Int = 0
    package var segmentsSent: Int = 0
    package var segmentsReceived: Int = 0
    package var zeroWindowEpisodes: Int = 0
    package var zeroWindowSeconds: Double = 0
    package var probesSent: Int = 0
    package var probesAnswered: Int = 0
    package var windowUpdatesSent: Int = 0
    package var peakBufferBytes: Int = 0
    package var rwndLimitedSeconds: Double = 0
    package var cwndLimitedSeconds: Double = 0
    package var pacingLimitedSeconds: Double = 0
    package var appLimitedSeconds: Double = 0
    package var smoothedRTTMilliseconds: Double?
    /// Seconds the run loop's thread waited for a CPU while runnable (`runQueueWaitSeconds()`).
    package var runQueueWaitSeconds: Double?

    package init(role: Role) { self.role = role }

    package var succeeded: Bool { result == "completed" }

    package var goodputBitsPerSecond: Double {
        seconds > 0 ? Double(bytes) * 8 / seconds : 0
    }

    /// One JSON object on one line (README, "The two programs"; pinned by golden tests).
    package var json: String {
        var fields: [(String, String)] = [
            ("role", JSONWriter.quote(role.rawValue)),
            ("local", JSONWriter.quote(local)),
            ("remote", JSONWriter.quote(remote)),
            ("result", JSONWriter.quote(result)),
            ("bytes", "\(bytes)"),
            ("seconds", number(seconds, 6)),
            ("goodput_bps", number(goodputBitsPerSecond, 0)),
            ("sha256", sha256.map(JSONWriter.quote) ?? "null"),
            ("retransmitted_bytes", "\(retransmittedBytes)"),
            ("segments_sent", "\(segmentsSent)"),
            ("segments_received", "\(segmentsReceived)"),
            ("zero_window_episodes", "\(zeroWindowEpisodes)"),
            ("zero_window_seconds", number(zeroWindowSeconds, 6)),
            ("probes_sent", "\(probesSent)"),
            ("probes_answered", "\(probesAnswered)"),
            ("window_updates_sent", "\(windowUpdatesSent)"),
            ("peak_buffer_bytes", "\(peakBufferBytes)"),
            ("rwnd_limited_s", number(rwndLimitedSeconds, 6)),
            ("cwnd_limited_s", number(cwndLimitedSeconds, 6)),
            ("pacing_limited_s", number(pacingLimitedSeconds, 6)),
            ("app_limited_s", number(appLimitedSeconds, 6)),
        ]
        if let srtt = smoothedRTTMilliseconds { fields.append(("srtt_ms", number(srtt, 3))) }
        if let wait = runQueueWaitSeconds { fields.append(("runqueue_wait_s", number(wait, 6))) }
        return JSONWriter.object(fields, layout: .compact)
    }

    /// A few lines for people.
    package var human: String {
        let verb = role == .sender ? "sent" : "received"
        var lines = [
            "\(role.rawValue) \(local) <-> \(remote): \(result)",
            "  \(verb) \(formatBytes(bytes)) (\(bytes) bytes) in \(formatFixed(seconds, 3)) s = \(formatBitRate(goodputBitsPerSecond)) goodput",
            "  sha256 \(sha256 ?? "not computed (--no-digest)")",
            "  zero-window episodes \(zeroWindowEpisodes) (\(formatFixed(zeroWindowSeconds, 3)) s), probes sent \(probesSent) / answered \(probesAnswered), window updates sent \(windowUpdatesSent)",
            "  retransmitted \(formatBytes(retransmittedBytes)), peak \(role == .sender ? "send" : "receive") buffer \(formatBytes(peakBufferBytes))",
        ]
        if role == .sender {
            lines.append("  sender limited by: receiver window \(formatFixed(rwndLimitedSeconds, 3)) s, congestion window \(formatFixed(cwndLimitedSeconds, 3)) s, pacer \(formatFixed(pacingLimitedSeconds, 3)) s, application \(formatFixed(appLimitedSeconds, 3)) s")
        }
        return lines.joined(separator: "\n")
    }
}

/// Exactly `digits` decimals (`1.500000`; 0 digits: a whole number); `0` when not finite.
private func number(_ value: Double, _ digits: Int) -> String {
    value.isFinite ? formatFixed(value, digits) : "0"
}
