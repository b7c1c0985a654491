import SluiceCore
@testable import SluiceTrace

/// The crafted conversations. Each one exercises a set of events whose counts tshark must
/// agree with, or breaks one `--check` rule.
enum Scenarios {
    /// Window 4000, no scaling: fill the window, receiver closes it, sender sends one-byte
    /// probes answered with zero windows, then the window reopens and data resumes.
    static func zeroWindowOneByteProbes() -> TraceScenario {
        TraceScenario.zeroWindowEpisode(window: 4_000, reopenAtMs: 1600, ackAfterMs: 2) { s in
            for t in [212.0, 613, 1414] { s.probe(atMs: t) }           // probes, each acked
        }
    }

    /// Linux-style probes: empty segments at SND.UNA − 1 (tshark: keep_alive), answered by the
    /// receiver repeating its zero-window ACK.
    static func zeroWindowLinuxProbes() -> TraceScenario {
        TraceScenario.zeroWindowEpisode(window: 2_000, reopenAtMs: 2000, ackAfterMs: 2) { s in
            for (i, t) in [212.0, 612, 1412].enumerated() { s.probe(atMs: t, linux: true, answered: i < 2) }
        }
    }

    /// Loss: segment 3 of 8 is missing; three duplicate ACKs; a fast retransmission within
    /// 20 ms; an out-of-order segment; a timeout retransmission; a spurious one; keep-alives.
    static func lossAndRecovery() -> TraceScenario {
        var s = TraceScenario()
        s.handshake()
        let base = s.nextA
        for i in 0..<8 where i != 2 {
            s.send(.a, atMs: 10 + Double(i) * 0.1, seq: base &+ UInt32(i * 1000), length: 1000)
        }
        s.nextA = base &+ 8000
        s.send(.b, atMs: 11, ack: base &+ 1000)
        s.send(.b, atMs: 11.1, ack: base &+ 2000)
        s.send(.b, atMs: 11.2, ack: base &+ 2000)   // dup 1
        s.send(.b, atMs: 11.3, ack: base &+ 2000)   // dup 2
        s.send(.b, atMs: 11.4, ack: base &+ 2000)   // dup 3
        s.send(.a, atMs: 12, seq: base &+ 2000, length: 1000)   // fast retransmission
        s.send(.b, atMs: 13, ack: base &+ 8000)
        // Out of order: 9th and 10th segments swapped, 0.5 ms apart.
        s.send(.a, atMs: 20, seq: base &+ 9000, length: 1000)
        s.send(.a, atMs: 20.5, seq: base &+ 8000, length: 1000)
        s.nextA = base &+ 10_000
        s.send(.b, atMs: 21, ack: base &+ 10_000)
        // Timeout retransmission: 11th segment resent 300 ms later.
        s.send(.a, atMs: 30, length: 1000)
        s.send(.a, atMs: 330, seq: base &+ 10_000, length: 1000)
        s.send(.b, atMs: 331, ack: base &+ 11_000)
        // Spurious: the same segment again after it was acknowledged.
        s.send(.a, atMs: 400, seq: base &+ 10_000, length: 1000)
        s.send(.b, atMs: 401, ack: base &+ 11_000)
        // Keep-alive and its ACK.
        s.send(.a, atMs: 5400, seq: s.nextA &- 1, advance: false)
        s.send(.b, atMs: 5401)
        // A window update.
        s.send(.b, atMs: 5500, window: 65_000)
        s.close(atMs: 5600)
        return s
    }

    /// Window scaling on both sides (shift 7), a receiver that advertises exactly what the
    /// sender then fills (window full), and a capture that starts mid-connection (no SYN:
    /// unknown scale) as a second connection.
    static func scaledWindows() -> TraceScenario {
        var s = TraceScenario()
        s.handshake(windowA: 500, windowB: 4096, scaleA: 7, scaleB: 7)
        // B's window 32 << 7 = 4096 bytes.
        s.send(.b, atMs: 5, window: 32)
        s.data(atMs: 10, 1024, 1024, 1024, 1024)
        s.send(.b, atMs: 12)
        s.data(atMs: 20, 1024, 1024, 1024, 1024)
        s.send(.b, atMs: 22)
        s.close(atMs: 30)
        return s
    }

    /// A capture that starts after the handshake: the window scale is unknown (tshark then
    /// flags no window_full), windows are raw; a zero window, a probe and a dup ACK follow.
    static func midStream() -> TraceScenario {
        var s = TraceScenario()
        s.windowA = 500
        s.data(atMs: 0, 1000, 1000)
        s.send(.b, atMs: 1, window: 16)
        s.data(atMs: 2, 1000, 1000)
        s.send(.b, atMs: 3, window: 0)
        s.probe(atMs: 203)
        s.send(.b, atMs: 300, window: 16)
        s.send(.b, atMs: 301)                                          // dup ACK
        s.data(atMs: 302, 1000)
        s.send(.b, atMs: 303)
        return s
    }

    /// A clean transfer: handshake, data paced by ACKs inside the window, close.
    static func cleanTransfer() -> TraceScenario {
        var s = TraceScenario()
        s.handshake(windowB: 30_000)
        var t = 10.0
        for _ in 0..<50 {
            s.data(atMs: t, 1460, 1460, spacingMs: 0.05)
            s.send(.b, atMs: t + 1)
            t += 2
        }
        s.close(atMs: t + 5)
        return s
    }

    static var parityCases: [(String, TraceScenario)] {
        [("zero-window-one-byte-probes", zeroWindowOneByteProbes()),
         ("zero-window-linux-probes", zeroWindowLinuxProbes()),
         ("loss-and-recovery", lossAndRecovery()),
         ("scaled-windows", scaledWindows()),
         ("mid-stream", midStream()),
         ("clean-transfer", cleanTransfer())]
    }
}
