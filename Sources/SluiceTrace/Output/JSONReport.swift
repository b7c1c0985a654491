import SluiceCore
import SluiceFormat

/// The `--json` report: one object, keys in the order documented in README.md ("sluice-trace").
/// Times are seconds since the capture's first packet (tshark's `frame.time_relative`);
/// `first_time_epoch` gives that origin.
package enum JSONReport {
    package static let schemaVersion = "sluice-trace/1"

    package static func render(_ r: TraceResult, file: String, connections: [ConnectionAnalysis]) -> String {
        let origin = r.firstTime ?? .zero
        func rel(_ t: Instant?) -> Double? { t.map { (Double($0.nanoseconds) - Double(origin.nanoseconds)) / 1e9 } }
        var w = JSONWriter()
        w.beginObject()
        w.string("schema", schemaVersion)
        w.string("file", file)
        w.int("packets", r.packets)
        w.int("skipped_frames", r.skippedFrames)
        w.beginObject("skipped")
        for (reason, n) in r.skippedReasons { w.int(reason, n) }
        w.endObject()
        w.number("first_time_epoch", r.firstTime.map { Double($0.nanoseconds) / 1e9 })
        w.number("duration_s", r.firstTime.flatMap { f in r.lastTime.map { ($0 - f).secondsDouble } })
        w.int("connections_retired_early", r.retiredEarly)
        w.bool("checked", r.options.check)
        w.beginArray("connections")
        for c in connections { connection(&w, c, rel: rel, check: r.options.check) }
        w.endArray()
        totals(&w, r)
        w.endObject()
        return w.text + "\n"
    }

    private static func connection(_ w: inout JSONWriter, _ c: ConnectionAnalysis, rel: (Instant?) -> Double?, check: Bool) {
        w.beginObject()
        w.int("stream", c.stream)
        w.string("a", "\(c.a)")
        w.string("b", "\(c.b)")
        w.int("first_frame", c.firstFrame)
        w.int("last_frame", c.lastFrame)
        w.number("start", rel(c.firstTime))
        w.number("end", rel(c.lastTime))
        w.number("duration_s", (c.lastTime - c.firstTime).secondsDouble)
        w.int("packets", c.packets)
        w.bool("closed", c.closed)
        w.beginArray("directions")
        direction(&w, c.ab, from: "a", src: c.a, dst: c.b, duration: c.lastTime - c.firstTime, rel: rel)
        direction(&w, c.ba, from: "b", src: c.b, dst: c.a, duration: c.lastTime - c.firstTime, rel: rel)
        w.endArray()
        w.beginObject("violations")
        w.int("count", c.violationCounts.reduce(0, +))
        w.beginObject("by_rule")
        for rule in ConformanceRule.allCases { w.int(rule.name, c.violationCounts[rule.rawValue]) }
        w.endObject()
        w.beginArray("listed")
        for v in c.violations {
            w.beginObject()
            w.string("rule", v.rule.name)
            w.int("frame", v.frame)
            w.number("time", rel(v.time))
            w.string("from", v.direction == 0 ? "a" : "b")
            w.string("detail", v.detail)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.endObject()
    }

    private static func direction(
        _ w: inout JSONWriter, _ d: DirectionStats, from: String, src: SocketAddress, dst: SocketAddress,
        duration: Duration, rel: (Instant?) -> Double?
    ) {
        let seconds = duration.secondsDouble
        w.beginObject()
        w.string("from", from)
        w.string("src", "\(src)")
        w.string("dst", "\(dst)")
        w.int("packets", d.packets)
        w.int("data_packets", d.dataPackets)
        w.int("bytes", d.bytes)
        w.int("unique_bytes", d.uniqueBytes)
        w.number("throughput_bps", seconds > 0 ? Double(d.bytes) * 8 / seconds : nil)
        w.number("goodput_bps", seconds > 0 ? Double(d.uniqueBytes) * 8 / seconds : nil)
        w.beginObject("window_scale")
        w.string("state", scaleStateName(d.windowScaleState))
        w.int("shift", d.windowScaleState >= 0 ? d.windowScaleState : nil)
        w.endObject()
        w.int("mss", d.mssOption)
        let ws = d.windowSummary
        w.beginObject("advertised_window")
        w.int("samples", ws?.samples ?? 0)
        w.int("min", ws?.min)
        w.int("median", ws?.median)
        w.int("max", ws?.max)
        w.bool("median_exact", ws?.exact ?? true)
        w.number("median_relative_error", ws?.relativeError ?? 0)
        w.endObject()
        w.beginObject("rtt_ms")
        w.int("samples", d.rtt.count)
        w.number("min", d.rtt.count > 0 ? Double(d.rtt.min) / 1e6 : nil)
        w.number("avg", d.rtt.average.map { $0 / 1e6 })
        w.number("max", d.rtt.count > 0 ? Double(d.rtt.max) / 1e6 : nil)
        w.endObject()
        w.int("bytes_in_flight_max", d.maxBytesInFlight)
        w.beginObject("events")
        for e in TraceEvent.allCases { w.int(e.name, d.events[e]) }
        w.endObject()
        w.beginObject("zero_window_episodes")
        w.int("count", d.zeroWindowEpisodeCount)
        w.number("total_s", d.zeroWindowTotal.secondsDouble)
        w.number("longest_s", d.zeroWindowLongest.secondsDouble)
        w.beginArray("listed")
        for e in d.zeroWindowEpisodes {
            w.beginObject()
            span(&w, e.startFrame, rel(e.start), e.endFrame, rel(e.end), e.end.map { ($0 - e.start).secondsDouble })
            w.int("one_byte_probes", e.oneByteProbes)
            w.int("linux_probes", e.linuxProbes)
            w.int("probe_acks", e.probeAcks)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.beginObject("limited_s")
        for c in LimitCause.allCases { w.number(c.name, d.limitTime[c.rawValue].secondsDouble) }
        w.endObject()
        w.beginArray("longest_stalls")
        for s in d.longestStalls {
            w.beginObject()
            span(&w, s.startFrame, rel(s.start), s.endFrame, rel(s.end), s.duration.secondsDouble)
            w.string("cause", s.cause.name)
            w.endObject()
        }
        w.endArray()
        w.endObject()
    }

    /// The keys of a stretch of time in the capture (a zero-window episode, a stall).
    private static func span(_ w: inout JSONWriter, _ startFrame: Int, _ start: Double?, _ endFrame: Int?,
                             _ end: Double?, _ duration: Double?) {
        w.int("start_frame", startFrame)
        w.number("start", start)
        w.int("end_frame", endFrame)
        w.number("end", end)
        w.number("duration_s", duration)
    }

    private static func totals(_ w: inout JSONWriter, _ r: TraceResult) {
        var events = EventCounts()
        var bytes: UInt64 = 0, unique: UInt64 = 0, episodes = 0
        for c in r.connections {
            events = events + c.ab.events + c.ba.events
            bytes += c.ab.bytes + c.ba.bytes
            unique += c.ab.uniqueBytes + c.ba.uniqueBytes
            episodes += c.ab.zeroWindowEpisodeCount + c.ba.zeroWindowEpisodeCount
        }
        w.beginObject("totals")
        w.int("connections", r.connections.count)
        w.int("packets", r.packets)
        w.int("bytes", bytes)
        w.int("unique_bytes", unique)
        w.int("zero_window_episodes", episodes)
        w.int("violations", r.violationCount)
        for e in TraceEvent.allCases { w.int(e.name, events[e]) }
        w.endObject()
    }

    static func scaleStateName(_ s: Int) -> String {
        switch s {
        case -1: "unknown"
        case -2: "none"
        default: "known"
        }
    }
}
