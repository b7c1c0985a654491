import SluiceCore

/// Renders a time-sequence graph in the style of tcptrace and Wireshark's Stevens graph: for
/// the direction carrying the most data, each data segment is a vertical bar from its first to
/// its last sequence number at the time it was captured; the receiver's cumulative ACK is a
/// step line, and the right edge it advertised (ACK + window) another; retransmissions,
/// zero-window probes and out-of-order segments are marked; zero-window episodes are shaded.
package enum SVGGraph {
    static let width = 1200.0
    static let height = 720.0
    static let left = 100.0
    static let right = 30.0
    static let top = 60.0
    static let bottom = 110.0

    package static func render(_ rec: TimeSequenceRecorder, connection c: ConnectionAnalysis, origin: Instant) -> String {
        let d = c.ab.uniqueBytes >= c.ba.uniqueBytes ? 0 : 1
        let dir = rec.directions[d]
        let receiver = d == 0 ? c.ba : c.ab
        let sender = d == 0 ? c.a : c.b
        let target = d == 0 ? c.b : c.a
        let t0 = Double(origin.nanoseconds)
        func tx(_ ns: Int64) -> Double { (Double(ns) - t0) / 1e9 }

        // Ranges.
        var tMin = tx(c.firstTime.nanoseconds), tMax = tx(c.lastTime.nanoseconds)
        if tMax <= tMin { tMax = tMin + 0.001 }
        var sMin = Double.infinity, sMax = -Double.infinity
        for s in dir.segments { sMin = min(sMin, Double(s.seq)); sMax = max(sMax, Double(s.seq + s.length)) }
        for s in dir.marks { sMin = min(sMin, Double(s.seq)); sMax = max(sMax, Double(s.seq + max(s.length, 1))) }
        for a in dir.acks {
            sMin = min(sMin, Double(a.ack)); sMax = max(sMax, Double(a.ack))
            if let e = a.rightEdge { sMax = max(sMax, Double(e)) }
        }
        if !sMin.isFinite { sMin = 0; sMax = 1 }
        if sMax <= sMin { sMax = sMin + 1 }
        let pad = (sMax - sMin) * 0.02
        sMin = max(0, sMin - pad); sMax += pad
        tMin = max(0, tMin - (tMax - tMin) * 0.01)

        let plotW = width - left - right, plotH = height - top - bottom
        func X(_ t: Double) -> Double { left + (t - tMin) / (tMax - tMin) * plotW }
        func Y(_ s: Double) -> Double { top + plotH - (s - sMin) / (sMax - sMin) * plotH }
        func f(_ v: Double) -> String { String(format2: v) }

        let (unit, unitName) = sMax - sMin > 20 * 1_048_576 ? (1_048_576.0, "MiB") : (sMax - sMin > 20 * 1024 ? (1024.0, "KiB") : (1.0, "bytes"))
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="white"/>
        <text x="\(f(width / 2))" y="22" text-anchor="middle" font-size="16">Time-sequence graph: connection \(c.stream), \(sender) → \(target)</text>
        <text x="\(f(width / 2))" y="42" text-anchor="middle" fill="#555">\(TextReport.bytes(d == 0 ? c.ab.uniqueBytes : c.ba.uniqueBytes)) unique data; \(receiver.zeroWindowEpisodeCount) zero-window episode(s) advertised by the receiver</text>

        """
        // Zero-window episodes (advertised by the receiver of this direction).
        svg += "<g fill=\"#f4b6b6\" fill-opacity=\"0.55\">\n"
        for e in receiver.zeroWindowEpisodes {
            let x0 = X(tx(e.start.nanoseconds))
            let x1 = X(tx((e.end ?? c.lastTime).nanoseconds))
            svg += "<rect x=\"\(f(x0))\" y=\"\(f(top))\" width=\"\(f(max(1, x1 - x0)))\" height=\"\(f(plotH))\"/>\n"
        }
        svg += "</g>\n"

        // Axes and grid.
        svg += "<g stroke=\"#ddd\" stroke-width=\"1\">\n"
        let tTicks = ticks(tMin, tMax, 10)
        let sTicks = ticks(sMin / unit, sMax / unit, 8)
        for t in tTicks { svg += "<line x1=\"\(f(X(t)))\" y1=\"\(f(top))\" x2=\"\(f(X(t)))\" y2=\"\(f(top + plotH))\"/>\n" }
        for s in sTicks { svg += "<line x1=\"\(f(left))\" y1=\"\(f(Y(s * unit)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(Y(s * unit)))\"/>\n" }
        svg += "</g>\n<g stroke=\"black\" stroke-width=\"1\" fill=\"none\"><rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\"/></g>\n<g fill=\"black\">\n"
        for t in tTicks { svg += "<text x=\"\(f(X(t)))\" y=\"\(f(top + plotH + 18))\" text-anchor=\"middle\">\(f(t))</text>\n" }
        for s in sTicks { svg += "<text x=\"\(f(left - 8))\" y=\"\(f(Y(s * unit) + 4))\" text-anchor=\"end\">\(f(s))</text>\n" }
        svg += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(top + plotH + 42))\" text-anchor=\"middle\" font-size=\"14\">time since the start of the capture (s)</text>\n"
        svg += "<text transform=\"translate(28 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"14\">relative sequence number (\(unitName))</text>\n</g>\n"

        // Advertised right edge and ACK line (step lines).
        svg += stepPath(dir.acks.compactMap { a in a.rightEdge.map { (X(tx(a.time)), Y(Double($0))) } }, right: X(tMax), color: "#d9a400", width: 1.5)
        svg += stepPath(dir.acks.map { (X(tx($0.time)), Y(Double($0.ack))) }, right: X(tMax), color: "#1a9a1a", width: 1.5)

        // Data segments.
        svg += "<g stroke=\"#1f3f9f\" stroke-width=\"1.2\">\n"
        for s in dir.segments {
            let x = X(tx(s.time))
            svg += "<line x1=\"\(f(x))\" y1=\"\(f(Y(Double(s.seq))))\" x2=\"\(f(x))\" y2=\"\(f(min(Y(Double(s.seq)) - 1, Y(Double(s.seq + s.length)))))\"/>\n"
        }
        svg += "</g>\n"
        for s in dir.marks {
            let x = X(tx(s.time)), y0 = Y(Double(s.seq)), y1 = min(y0 - 2, Y(Double(s.seq + s.length)))
            switch s.kind {
            case .retransmission:
                svg += "<line x1=\"\(f(x))\" y1=\"\(f(y0))\" x2=\"\(f(x))\" y2=\"\(f(y1))\" stroke=\"#e00000\" stroke-width=\"2.5\"/><text x=\"\(f(x + 3))\" y=\"\(f(y1 - 2))\" fill=\"#e00000\" font-size=\"10\">R</text>\n"
            case .outOfOrder:
                svg += "<line x1=\"\(f(x))\" y1=\"\(f(y0))\" x2=\"\(f(x))\" y2=\"\(f(y1))\" stroke=\"#00a0c0\" stroke-width=\"2.5\"/>\n"
            case .probe:
                svg += "<path d=\"M \(f(x)) \(f(y0 - 6)) L \(f(x + 6)) \(f(y0)) L \(f(x)) \(f(y0 + 6)) L \(f(x - 6)) \(f(y0)) Z\" fill=\"#c000c0\"/>\n"
            case .linuxProbe:
                svg += "<circle cx=\"\(f(x))\" cy=\"\(f(y0))\" r=\"5\" fill=\"none\" stroke=\"#7a00d0\" stroke-width=\"2\"/>\n"
            case .data:
                break
            }
        }

        // Legend.
        let ly = height - 38
        var lx = left
        func legend(_ swatch: String, _ label: String) -> String {
            defer { lx += Double(label.count) * 6.4 + 40 }
            return "<g transform=\"translate(\(f(lx)) \(f(ly)))\">\(swatch)<text x=\"26\" y=\"4\">\(label)</text></g>\n"
        }
        svg += legend("<line x1=\"10\" y1=\"-7\" x2=\"10\" y2=\"7\" stroke=\"#1f3f9f\" stroke-width=\"2\"/>", "data segment")
        svg += legend("<line x1=\"10\" y1=\"-7\" x2=\"10\" y2=\"7\" stroke=\"#e00000\" stroke-width=\"3\"/>", "retransmission")
        svg += legend("<line x1=\"0\" y1=\"0\" x2=\"20\" y2=\"0\" stroke=\"#1a9a1a\" stroke-width=\"2\"/>", "ACK")
        svg += legend("<line x1=\"0\" y1=\"0\" x2=\"20\" y2=\"0\" stroke=\"#d9a400\" stroke-width=\"2\"/>", "advertised right edge (ACK + window)")
        svg += legend("<path d=\"M 10 -6 L 16 0 L 10 6 L 4 0 Z\" fill=\"#c000c0\"/>", "1-byte probe")
        svg += legend("<circle cx=\"10\" cy=\"0\" r=\"5\" fill=\"none\" stroke=\"#7a00d0\" stroke-width=\"2\"/>", "Linux probe (SND.UNA-1)")
        svg += legend("<rect x=\"2\" y=\"-7\" width=\"16\" height=\"14\" fill=\"#f4b6b6\"/>", "zero window")
        if dir.droppedMarks > 0 || dir.segmentStride > 1 {
            svg += "<text x=\"\(f(left))\" y=\"\(f(height - 12))\" fill=\"#555\">thinned: 1 of every \(dir.segmentStride) data segments drawn; \(dir.droppedMarks) marks not drawn</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    private static func stepPath(_ points: [(Double, Double)], right: Double, color: String, width: Double) -> String {
        guard let first = points.first else { return "" }
        var d = "M \(String(format2: first.0)) \(String(format2: first.1))"
        var lastY = first.1
        for p in points.dropFirst() {
            d += " H \(String(format2: p.0))"
            if p.1 != lastY { d += " V \(String(format2: p.1))"; lastY = p.1 }
        }
        d += " H \(String(format2: right))"
        return "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(width)\"/>\n"
    }

    /// About `count` round tick values covering [lo, hi].
    static func ticks(_ lo: Double, _ hi: Double, _ count: Int) -> [Double] {
        let span = hi - lo
        guard span > 0, span.isFinite else { return [lo] }
        let raw = span / Double(count)
        var step = 1.0
        while step > raw { step /= 10 }
        while step * 10 <= raw { step *= 10 }
        if step * 5 <= raw { step *= 5 } else if step * 2 <= raw { step *= 2 }
        var out: [Double] = []
        var v = (lo / step).rounded(.up) * step
        while v <= hi + step * 1e-9 && out.count < 100 {
            out.append(abs(v) < step * 1e-9 ? 0 : v)
            v += step
        }
        return out
    }
}
