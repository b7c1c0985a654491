import SluiceCore
@testable import SluiceTrace

/// One crafted capture per `--check` rule: each breaks exactly that rule, at a known frame.
enum CheckScenarios {
    /// Receiver advertises 3000 bytes; the sender sends 4000.
    static func beyondWindow() -> (TraceScenario, frame: Int) {
        var s = TraceScenario()
        s.handshake(windowB: 3_000)
        s.data(atMs: 10, 1460, 1460, 1080)                        // frame 6: ends 1000 bytes past the edge
        s.send(.b, atMs: 12)
        s.close(atMs: 20)
        return (s, 6)
    }

    /// The receiver acknowledges the same data twice and pulls its right edge 3000 bytes back.
    static func windowShrank() -> (TraceScenario, frame: Int) {
        var s = TraceScenario()
        s.handshake(windowB: 8_000)
        s.data(atMs: 10, 1000)
        s.send(.b, atMs: 11)
        s.send(.b, atMs: 12, window: 5_000)                        // frame 6
        s.close(atMs: 20)
        return (s, 6)
    }

    /// A zero-window episode whose probe intervals go 200 ms, 400 ms, then 100 ms.
    static func persistIntervalShrank() -> (TraceScenario, frame: Int) {
        // B closes the window in frame 6; the probes are frames 7, 9, 11, 13 (the last is flagged).
        let intervals: [Double] = [200, 400, 100]
        let lastProbe = 212 + intervals.reduce(0, +)
        let s = TraceScenario.zeroWindowEpisode(window: 2_000, reopenAtMs: lastProbe + 100) { s in
            var t = 212.0
            s.probe(atMs: t)
            for gap in intervals {
                t += gap
                s.probe(atMs: t)
            }
        }
        return (s, 7 + 2 * intervals.count)
    }

    /// A one-byte probe the receiver never answers (the sender probes again 400 ms later).
    static func probeUnanswered() -> (TraceScenario, frame: Int) {
        let s = TraceScenario.zeroWindowEpisode(window: 2_000, reopenAtMs: 800) { s in
            s.probe(atMs: 212, answered: false)                    // frame 7: no answer
            s.probe(atMs: 612)                                     // frame 8
        }
        return (s, 7)
    }

    /// After a zero window, the receiver opens a 100-byte window (MSS 1460, max window 8000).
    static func sillyWindow() -> (TraceScenario, frame: Int) {
        var s = TraceScenario()
        s.handshake(windowB: 8_000)
        s.data(atMs: 10, 1600, 1600, 1600, 1600, 1600)
        s.send(.b, atMs: 12, window: 0)
        s.send(.b, atMs: 100, window: 100)                         // frame 10
        s.data(atMs: 101, 100)
        s.send(.b, atMs: 102, window: 8_000)
        s.close(atMs: 200)
        return (s, 10)
    }

    /// Two 100-byte segments back to back with the first unacknowledged and a wide window.
    static func tinySegment() -> (TraceScenario, frame: Int) {
        var s = TraceScenario()
        s.handshake()
        s.data(atMs: 10, 1460, 100, 100)                          // frame 6: the second 100 bytes
        s.send(.b, atMs: 12)
        s.close(atMs: 20)
        return (s, 6)
    }

    static var cases: [(ConformanceRule, () -> (TraceScenario, frame: Int))] {
        [(.beyondWindow, beyondWindow), (.windowShrank, windowShrank), (.persistIntervalShrank, persistIntervalShrank),
         (.probeUnanswered, probeUnanswered), (.sillyWindow, sillyWindow), (.tinySegment, tinySegment)]
    }
}
