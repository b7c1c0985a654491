import SluiceHarness

/// The overload experiment's picture: goodput (solid) and throughput (dashed) against offered
/// load, one colour per mode, both axes in multiples of the server's capacity.
enum OverloadChart {
    static let width = 760.0
    static let height = 480.0
    static let left = 70.0, right = 200.0, top = 50.0, bottom = 60.0
    static let colors: [OverloadMode: String] = [
        .implicit: "#d62728", .explicit: "#1f77b4", .explicitImpatient: "#ff7f0e", .explicitPolite: "#2ca02c",
    ]

    static func svg(capacity: Int, rows: [OverloadRow]) -> String {
        let c = Double(max(1, capacity))
        let maxX = max(3.0, rows.map { $0.offeredRPS / c }.max() ?? 3)
        let maxY = max(1.2, (rows.map { max($0.throughputRPS, $0.goodputRPS) / c }.max() ?? 1) * 1.1)
        let plotW = width - left - right, plotH = height - top - bottom
        func x(_ v: Double) -> Double { left + v / maxX * plotW }
        func y(_ v: Double) -> Double { top + plotH - v / maxY * plotH }
        func f(_ v: Double) -> String { formatted(v, 1) }

        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(f(left))\" y=\"22\" font-size=\"15\">Goodput (solid) and throughput (dashed) vs offered load</text>\n"
        s += "<text x=\"\(f(left))\" y=\"40\" fill=\"#555\">server capacity \(capacity) req/s, 1 s client deadline, virtual time</text>\n"
        // Grid and axes.
        var gx = 0.0
        while gx <= maxX + 1e-9 {
            s += "<line x1=\"\(f(x(gx)))\" y1=\"\(f(top))\" x2=\"\(f(x(gx)))\" y2=\"\(f(top + plotH))\" stroke=\"#e5e5e5\"/>\n"
            s += "<text x=\"\(f(x(gx)))\" y=\"\(f(top + plotH + 18))\" text-anchor=\"middle\">\(formatted(gx, 1))×</text>\n"
            gx += 0.5
        }
        var gy = 0.0
        while gy <= maxY + 1e-9 {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y(gy)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y(gy)))\" stroke=\"#e5e5e5\"/>\n"
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(y(gy) + 4))\" text-anchor=\"end\">\(formatted(gy, 1))×</text>\n"
            gy += 0.2
        }
        s += "<line x1=\"\(f(left))\" y1=\"\(f(y(1)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y(1)))\" stroke=\"#888\" stroke-dasharray=\"2,3\"/>\n"
        s += "<text x=\"\(f(left + plotW - 4))\" y=\"\(f(y(1) - 5))\" text-anchor=\"end\" fill=\"#666\">capacity</text>\n"
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 16))\" text-anchor=\"middle\">offered load (× capacity)</text>\n"
        s += "<text transform=\"translate(18,\(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">completed requests/s (× capacity)</text>\n"

        var legendY = top + 10
        for mode in OverloadMode.allCases {
            let points = rows.filter { $0.mode == mode }.sorted { $0.offeredRPS < $1.offeredRPS }
            guard !points.isEmpty, let color = colors[mode] else { continue }
            let good = points.map { "\(f(x($0.offeredRPS / c))),\(f(y($0.goodputRPS / c)))" }.joined(separator: " ")
            let through = points.map { "\(f(x($0.offeredRPS / c))),\(f(y($0.throughputRPS / c)))" }.joined(separator: " ")
            s += "<polyline points=\"\(through)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" stroke-dasharray=\"6,4\" opacity=\"0.8\"/>\n"
            s += "<polyline points=\"\(good)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2.5\"/>\n"
            for p in points {
                s += "<circle cx=\"\(f(x(p.offeredRPS / c)))\" cy=\"\(f(y(p.goodputRPS / c)))\" r=\"3\" fill=\"\(color)\"/>\n"
            }
            let lx = left + plotW + 14
            s += "<line x1=\"\(f(lx))\" y1=\"\(f(legendY))\" x2=\"\(f(lx + 24))\" y2=\"\(f(legendY))\" stroke=\"\(color)\" stroke-width=\"2.5\"/>\n"
            s += "<text x=\"\(f(lx + 30))\" y=\"\(f(legendY + 4))\">\(mode.rawValue)</text>\n"
            legendY += 22
        }
        let lx = left + plotW + 14
        s += "<line x1=\"\(f(lx))\" y1=\"\(f(legendY + 8))\" x2=\"\(f(lx + 24))\" y2=\"\(f(legendY + 8))\" stroke=\"#333\" stroke-width=\"2.5\"/>\n"
        s += "<text x=\"\(f(lx + 30))\" y=\"\(f(legendY + 12))\">goodput</text>\n"
        s += "<line x1=\"\(f(lx))\" y1=\"\(f(legendY + 28))\" x2=\"\(f(lx + 24))\" y2=\"\(f(legendY + 28))\" stroke=\"#333\" stroke-width=\"1.5\" stroke-dasharray=\"6,4\"/>\n"
        s += "<text x=\"\(f(lx + 30))\" y=\"\(f(legendY + 32))\">throughput</text>\n"
        s += "</svg>\n"
        return s
    }
}
