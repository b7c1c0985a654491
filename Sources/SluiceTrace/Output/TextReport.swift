import SluiceCore

/// The default human-readable report.
package enum TextReport {
    package static func render(_ r: TraceResult, file: String, connections: [ConnectionAnalysis]) -> String {
        let origin = r.firstTime ?? .zero
        func rel(_ t: Instant) -> String { String(format2: (t - origin).secondsDouble) + "s" }
        var out = "sluice-trace \(file): \(r.packets) TCP packets, \(r.connections.count) connection(s)"
        if let f = r.firstTime, let l = r.lastTime { out += ", \(String(format2: (l - f).secondsDouble)) s" }
        out += "\n"
        if r.skippedFrames > 0 {
            out += "  skipped \(r.skippedFrames) frame(s): " + r.skippedReasons.map { "\($0.0) \($0.1)" }.joined(separator: ", ") + "\n"
        }
        if r.retiredEarly > 0 {
            out += "  warning: \(r.retiredEarly) connection(s) retired early (more than \(r.options.maxLiveConnections) live)\n"
        }
        for c in connections {
            out += "\n"
            out += "connection \(c.stream): \(c.a) <-> \(c.b)   frames \(c.firstFrame)-\(c.lastFrame), \(rel(c.firstTime)) to \(rel(c.lastTime)) (\(String(format2: (c.lastTime - c.firstTime).secondsDouble)) s), \(c.packets) packets\(c.closed ? "" : ", not closed")\n"
            out += direction(c.ab, name: "A->B", src: c.a, dst: c.b, peer: c.ba, duration: c.lastTime - c.firstTime, rel: rel)
            out += direction(c.ba, name: "B->A", src: c.b, dst: c.a, peer: c.ab, duration: c.lastTime - c.firstTime, rel: rel)
            if r.options.check {
                let n = c.violationCounts.reduce(0, +)
                out += "  conformance: " + (n == 0 ? "no violations\n" : "\(n) violation(s)\n")
                for v in c.violations {
                    out += "    frame \(v.frame) at \(rel(v.time)) \(v.direction == 0 ? "A->B" : "B->A") \(v.rule.name): \(v.detail)\n"
                }
                if c.violations.count < n { out += "    (\(n - c.violations.count) more not listed)\n" }
            }
        }
        if r.options.check {
            out += "\ncheck: \(r.violationCount == 0 ? "no violations" : "\(r.violationCount) violation(s)")\n"
        }
        return out
    }

    static func bytes(_ v: UInt64) -> String {
        if v >= 10 * 1_048_576 { return "\(String(format2: Double(v) / 1_048_576)) MiB" }
        if v >= 10 * 1024 { return "\(String(format2: Double(v) / 1024)) KiB" }
        return "\(v) B"
    }
    static func rate(_ bytes: UInt64, _ d: Duration) -> String {
        let s = d.secondsDouble
        guard s > 0 else { return "-" }
        let bps = Double(bytes) * 8 / s
        if bps >= 1e9 { return "\(String(format2: bps / 1e9)) Gbit/s" }
        if bps >= 1e6 { return "\(String(format2: bps / 1e6)) Mbit/s" }
        return "\(String(format2: bps / 1e3)) kbit/s"
    }

    private static func direction(
        _ d: DirectionStats, name: String, src: SocketAddress, dst: SocketAddress, peer: DirectionStats,
        duration: Duration, rel: (Instant) -> String
    ) -> String {
        var out = "  \(name) \(src) -> \(dst): \(d.packets) packets, \(d.dataPackets) with data\n"
        out += "    bytes \(bytes(d.bytes)) (throughput \(rate(d.bytes, duration))), unique \(bytes(d.uniqueBytes)) (goodput \(rate(d.uniqueBytes, duration)))\n"
        let scale: String
        switch d.windowScaleState {
        case -1: scale = "unknown (handshake not captured)"
        case -2: scale = "none"
        default: scale = "\(d.windowScaleState) (x\(1 << d.windowScaleState))"
        }
        var win = "-"
        if let ws = d.windowSummary, ws.samples > 0, let mn = ws.min, let md = ws.median, let mx = ws.max {
            win = "min \(mn) / median \(md)\(ws.exact ? "" : " (±\(String(format2: ws.relativeError * 100))%)") / max \(mx)"
        }
        out += "    window scale \(scale); advertised window \(win)\(d.windowScaleState == -1 ? " (unscaled)" : "")\n"
        if d.rtt.count > 0, let avg = d.rtt.average {
            out += "    RTT \(d.rtt.count) samples: min \(String(format2: Double(d.rtt.min) / 1e6)) / avg \(String(format2: avg / 1e6)) / max \(String(format2: Double(d.rtt.max) / 1e6)) ms; max in flight \(d.maxBytesInFlight) B\n"
        } else {
            out += "    RTT no samples; max in flight \(d.maxBytesInFlight) B\n"
        }
        let shown = TraceEvent.allCases.filter { d.events[$0] > 0 }
        out += "    events: " + (shown.isEmpty ? "none" : shown.map { "\($0.name) \(d.events[$0])" }.joined(separator: ", ")) + "\n"
        if d.zeroWindowEpisodeCount > 0 {
            out += "    zero window advertised by this side: \(d.zeroWindowEpisodeCount) episode(s), \(String(format2: d.zeroWindowTotal.secondsDouble)) s total, longest \(String(format2: d.zeroWindowLongest.secondsDouble)) s\n"
            for e in d.zeroWindowEpisodes.prefix(10) {
                let end = e.end.map { "\(rel($0)) (frame \(e.endFrame ?? 0))" } ?? "end of trace"
                out += "      \(rel(e.start)) (frame \(e.startFrame)) to \(end): probes \(e.oneByteProbes) one-byte + \(e.linuxProbes) Linux, \(e.probeAcks) answered\n"
            }
            if d.zeroWindowEpisodes.count > 10 || d.zeroWindowEpisodeCount > d.zeroWindowEpisodes.count {
                out += "      (\(d.zeroWindowEpisodeCount - Swift.min(10, d.zeroWindowEpisodes.count)) more)\n"
            }
        }
        if d.accountingFrom != nil {
            let total = d.limitTime.total
            // `uncertain` is listed only when some time could not be attributed.
            let shownCauses = LimitCause.allCases.filter { $0 != .uncertain || d.limitTime[$0.rawValue] > .zero }
            let parts = shownCauses.map { c -> String in
                let t = d.limitTime[c.rawValue]
                let pct = total > .zero ? t.secondsDouble / total.secondsDouble * 100 : 0
                return "\(c.name) \(String(format2: t.secondsDouble)) s (\(String(format2: pct))%)"
            }
            out += "    held back: " + parts.joined(separator: ", ") + "\n"
            for s in d.longestStalls {
                out += "      stall \(String(format2: s.duration.secondsDouble)) s from \(rel(s.start)) (frame \(s.startFrame)) to frame \(s.endFrame): \(s.cause.name)\n"
            }
        }
        return out
    }
}
