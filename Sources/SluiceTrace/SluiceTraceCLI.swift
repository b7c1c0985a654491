import SluiceCore
import Glibc

/// The `sluice-trace` command's work, kept in the library so the executable stays thin.
public enum SluiceTraceCLI {
    /// Runs the tool and returns its exit status: 0, 1 when `--check` found violations, 2 on errors.
    /// - Parameter output: where the report goes (standard output by default).
    public static func run(
        file: String, json: Bool, timeline: Bool, svg: String?, check: Bool, connection: Int?,
        output: ((String) -> Void)? = nil
    ) -> Int32 {
        let writeOut = output ?? { writeStandardOutput($0) }
        var options = TraceOptions()
        options.check = check
        if svg != nil {
            if let n = connection {
                options.graphStream = n
            } else if file != "-" {
                // A first pass finds the connection with the most data.
                guard let (first, _) = try? TraceFile.analyze(path: file, options: TraceOptions()) else {
                    return analyzeFailed(file)
                }
                options.graphStream = first.connections.max { a, b in
                    (a.ab.uniqueBytes + a.ba.uniqueBytes, b.stream) < (b.ab.uniqueBytes + b.ba.uniqueBytes, a.stream)
                }?.stream
            } else {
                options.graphStream = 0
            }
        }
        let printTimeline = timeline && !json
        let result: TraceResult
        let recorder: TimeSequenceRecorder?
        do {
            (result, recorder) = try TraceFile.analyze(path: file, options: options) { analyzer in
                if printTimeline {
                    var origin: Instant? = nil
                    // Unowned: the analyzer keeps this closure (a strong capture would be a cycle,
                    // leaking the analyzer and its tables on every run; found by fuzz-trace).
                    analyzer.timeline = { [unowned analyzer] e in
                        if connection == nil || connection == e.stream {
                            if origin == nil { origin = e.time }
                            writeOut(TimelineText.line(e, origin: analyzer.firstTime ?? e.time))
                        }
                    }
                }
            }
        } catch {
            writeErr("sluice-trace: \(error)\n")
            return 2
        }
        var shown = result.connections
        if let n = connection {
            shown = shown.filter { $0.stream == n }
            if shown.isEmpty {
                writeErr("sluice-trace: no connection \(n) (the capture has \(result.connections.count))\n")
                return 2
            }
        }
        if json {
            writeOut(JSONReport.render(result, file: file, connections: shown))
        } else {
            writeOut(TextReport.render(result, file: file, connections: shown))
        }
        if let path = svg {
            guard let rec = recorder, let g = options.graphStream, let conn = result.connections.first(where: { $0.stream == g }) else {
                writeErr("sluice-trace: no connection to draw\n")
                return 2
            }
            let text = SVGGraph.render(rec, connection: conn, origin: result.firstTime ?? conn.firstTime)
            guard writeFile(path, text) else {
                writeErr("sluice-trace: cannot write \(path)\n")
                return 2
            }
        }
        let violations = shown.reduce(0) { $0 + $1.violationCounts.reduce(0, +) }
        return check && violations > 0 ? 1 : 0
    }

    private static func analyzeFailed(_ file: String) -> Int32 {
        writeErr("sluice-trace: cannot read \(file)\n")
        return 2
    }
}

enum TimelineText {
    static func line(_ e: TimelineEntry, origin: Instant) -> String {
        var t = fixed6((e.time - origin).secondsDouble)
        while t.count < 14 { t = " " + t }
        let dir = e.direction == 0 ? "A->B" : "B->A"
        return "\(t)  frame \(e.frame)  conn \(e.stream) \(dir)  \(e.kind)\(e.detail.isEmpty ? "" : "  \(e.detail)")\n"
    }
}

/// Seconds with exactly 6 decimals.
func fixed6(_ v: Double) -> String {
    let us = Int64((v * 1_000_000).rounded())
    var frac = String(abs(us % 1_000_000))
    while frac.count < 6 { frac = "0" + frac }
    return "\(us < 0 && us / 1_000_000 == 0 ? "-" : "")\(us / 1_000_000).\(frac)"
}

func writeStandardOutput(_ s: String) { writeAll(1, s) }
func writeErr(_ s: String) { writeAll(2, s) }

/// Writes all of `s` to `fd`; false when a write fails.
@discardableResult
private func writeAll(_ fd: Int32, _ s: String) -> Bool {
    var s = s
    var ok = true
    s.withUTF8 { buf in
        var off = 0
        while off < buf.count {
            guard let base = buf.baseAddress else { return }
            let n = Glibc.write(fd, base + off, buf.count - off)
            if n <= 0 { ok = false; return }
            off += n
        }
    }
    return ok
}

func writeFile(_ path: String, _ s: String) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return writeAll(fd, s)
}
