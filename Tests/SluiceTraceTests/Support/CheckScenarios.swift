import SluiceCore
@testable import SluiceTrace

/// One crafted capture per `--check` rule: each breaks exactly that rule, at a known frame.
enum CheckScenarios {
    /// Receiver advertises 3000 bytes; the sender sends 4000.
    static func beyondWindow() -> (TraceScenario, frame: Int) {
        var s = TraceScenario()
        s.handshake(windowA: 64_000, windowB: 3_000)
        s.send(.a, atMs: 10, window: 64_000, length: 1460)
        s.send(.a, atMs: 10.1, window: 64_000, length: 1460)
        s.send(.a, atMs: 10.2, window: 64_000, length: 1080)     // frame 6: ends 1000 bytes past the edge
        s.send(.b, atMs: 12, window: 3_000)
        s.close(atMs: 20, windowB: 3_000)
        return (s, 6)
    }

    /// The receiver acknowledges the same data twice and pulls its right edge 3000 bytes back.
    static func windowShrank() -> (TraceScenario, frame: Int) {
        var s = TraceScenario()
        s.handshake(windowA: 64_000, windowB: 8_000)
        s.send(.a, atMs: 10, window: 64_000, length: 1000)
        s.send(.b, atMs: 11, window: 8_000)
        s.send(.b, atMs: 12, window: 5_000)                        // frame 6
        s.close(atMs: 20, windowB: 5_000)
        return (s, 6)
    }

    /// A zero-window episode whose probe intervals go 200 ms, 400 ms, then 100 ms.
    static func persistIntervalShrank() -> (TraceScenario, frame: Int) {
        var s = TraceScenario()
        s.handshake(windowA: 64_000, windowB: 2_000)
        s.send(.a, atMs: 10, window: 64_000, length: 1000)
        s.send(.a, atMs: 10.1, window: 64_000, length: 1000)
        s.send(.b, atMs: 12, window: 0)                            // frame 6
        var t = 212.0
        var frame = 0
        for (i, gap) in [0.0, 200, 400, 100].enumerated() {
            t += gap
            s.send(.a, atMs: t, window: 64_000, length: 1, advance: false)   // frames 7, 9, 11, 13
            s.send(.b, atMs: t + 1, window: 0)
            if i == 3 { frame = 7 + 2 * i }
        }
        s.send(.b, atMs: t + 100, window: 2_000)
        s.send(.a, atMs: t + 101, window: 64_000, length: 1000)
        s.send(.b, atMs: t + 102, window: 2_000)
        s.close(atMs: t + 200, windowB: 2_000)
        return (s, frame)
    }

    /// A one-byte probe the receiver never answers (the sender probes again 400 ms later).
    static func probeUnanswered() -> (TraceScenario, frame: Int) {
        var s = TraceScenario()
        s.handshake(windowA: 64_000, windowB: 2_000)
        s.send(.a, atMs: 10, window: 64_000, length: 1000)
        s.send(.a, atMs: 10.1, window: 64_000, length: 1000)
        s.send(.b, atMs: 12, window: 0)
        s.send(.a, atMs: 212, window: 64_000, length: 1, advance: false)   // frame 7: no answer
        s.send(.a, atMs: 612, window: 64_000, length: 1, advance: false)   // frame 8
        s.send(.b, atMs: 613, window: 0)
        s.send(.b, atMs: 800, window: 2_000)
        s.send(.a, atMs: 801, window: 64_000, length: 1000)
        s.send(.b, atMs: 802, window: 2_000)
        s.close(atMs: 900, windowB: 2_000)
        return (s, 7)
    }

    /// After a zero window, the receiver opens a 100-byte window (MSS 1460, max window 8000).
    static func sillyWindow() -> (TraceScenario, frame: Int) {
        var s = TraceScenario()
        s.handshake(windowA: 64_000, windowB: 8_000)
        for i in 0..<5 { s.send(.a, atMs: 10 + Double(i) * 0.1, window: 64_000, length: 1600) }
        s.send(.b, atMs: 12, window: 0)
        s.send(.b, atMs: 100, window: 100)                         // frame 10
        s.send(.a, atMs: 101, window: 64_000, length: 100)
        s.send(.b, atMs: 102, window: 8_000)
        s.close(atMs: 200, windowB: 8_000)
        return (s, 10)
    }

    /// Two 100-byte segments back to back with the first unacknowledged and a wide window.
    static func tinySegment() -> (TraceScenario, frame: Int) {
        var s = TraceScenario()
        s.handshake(windowA: 64_000, windowB: 64_000)
        s.send(.a, atMs: 10, window: 64_000, length: 1460)
        s.send(.a, atMs: 10.1, window: 64_000, length: 100)
        s.send(.a, atMs: 10.2, window: 64_000, length: 100)       // frame 6
        s.send(.b, atMs: 12, window: 64_000)
        s.close(atMs: 20)
        return (s, 6)
    }

    static var cases: [(ConformanceRule, () -> (TraceScenario, frame: Int))] {
        [(.beyondWindow, beyondWindow), (.windowShrank, windowShrank), (.persistIntervalShrank, persistIntervalShrank),
         (.probeUnanswered, probeUnanswered), (.sillyWindow, sillyWindow), (.tinySegment, tinySegment)]
    }
}
