import Testing
import SluiceCore

@Suite struct SendWindowTests {
    @Test func usableIsTheSmallerWindowMinusFlight() {
        #expect(SendWindow.usable(congestionWindow: 10_000, peerWindow: 20_000, bytesInFlight: 4000) == 6000)
        #expect(SendWindow.usable(congestionWindow: 30_000, peerWindow: 20_000, bytesInFlight: 4000) == 16_000)
        #expect(SendWindow.usable(congestionWindow: 30_000, peerWindow: 3000, bytesInFlight: 4000) == 0)
        #expect(SendWindow.peerUsable(peerWindow: 3000, bytesInFlight: 4000) == 0)
        #expect(SendWindow.peerUsable(peerWindow: 8000, bytesInFlight: 4000) == 4000)
    }
}

@Suite struct SenderSillyWindowAvoidanceTests {
    let t0 = Instant.milliseconds(1000)

    // MARK: - Rule 1: full segments

    @Test func fullSegmentGoesWhateverNagle() {
        var s = SenderSillyWindowAvoidance(nagle: true)
        #expect(s.decide(queued: 5000, usable: 5000, peerUsable: 5000, bytesInFlight: 3000, smallSegmentInFlight: false, mss: 1460, finQueued: false, now: t0) == .send(bytes: 1460))
    }

    // MARK: - Rule 2 and Nagle

    @Test func smallTailGoesWhenNothingIsUnacknowledged() {
        var s = SenderSillyWindowAvoidance(nagle: true)
        #expect(s.decide(queued: 500, usable: 5000, peerUsable: 5000, bytesInFlight: 0, smallSegmentInFlight: false, mss: 1460, finQueued: false, now: t0) == .send(bytes: 500))
    }

    @Test func nagleHoldsASmallSegmentWhileASmallOneIsUnacknowledged() {
        var on = SenderSillyWindowAvoidance(nagle: true)
        // 1460 bytes in flight in full segments: the 500-byte tail goes (Minshall).
        #expect(on.decide(queued: 500, usable: 5000, peerUsable: 5000, bytesInFlight: 1460, smallSegmentInFlight: false, mss: 1460, finQueued: false, now: t0) == .send(bytes: 500))
        // A small segment is unacknowledged: the next small one waits for the ACK.
        #expect(on.decide(queued: 500, usable: 5000, peerUsable: 5000, bytesInFlight: 1000, smallSegmentInFlight: true, mss: 1460, finQueued: false, now: t0) == .holdForAck)
        #expect(on.overrideDeadline == nil)   // Nagle waits for the ACK, not a timer
        // The FIN follows: Linux does not delay the last segment.
        #expect(on.decide(queued: 500, usable: 5000, peerUsable: 5000, bytesInFlight: 1000, smallSegmentInFlight: true, mss: 1460, finQueued: true, now: t0) == .send(bytes: 500))
        var off = SenderSillyWindowAvoidance(nagle: false)
        #expect(off.decide(queued: 500, usable: 5000, peerUsable: 5000, bytesInFlight: 1000, smallSegmentInFlight: true, mss: 1460, finQueued: false, now: t0) == .send(bytes: 500))
    }

    // MARK: - Rule 3: half the largest window

    @Test func halfTheLargestWindowGoes() {
        var s = SenderSillyWindowAvoidance(nagle: true)
        s.observePeerWindow(1800)
        #expect(s.decide(queued: 5000, usable: 900, peerUsable: 900, bytesInFlight: 0, smallSegmentInFlight: false, mss: 1460, finQueued: false, now: t0) == .send(bytes: 900))
        s.observePeerWindow(65535)
        #expect(s.maxPeerWindow == 65535)
        #expect(s.decide(queued: 5000, usable: 900, peerUsable: 900, bytesInFlight: 0, smallSegmentInFlight: false, mss: 1460, finQueued: false, now: t0) == .holdUntil(t0 + .milliseconds(200)))
    }

    // MARK: - Rule 4: the override timeout

    @Test func smallWindowSegmentWaitsForTheOverrideTimeout() {
        var s = SenderSillyWindowAvoidance(nagle: true)
        s.observePeerWindow(65535)
        let deadline = t0 + .milliseconds(200)
        #expect(s.decide(queued: 5000, usable: 300, peerUsable: 300, bytesInFlight: 0, smallSegmentInFlight: false, mss: 1460, finQueued: false, now: t0) == .holdUntil(deadline))
        // Asked again before the deadline: the same deadline (not re-armed).
        #expect(s.decide(queued: 5000, usable: 300, peerUsable: 300, bytesInFlight: 0, smallSegmentInFlight: false, mss: 1460, finQueued: false, now: t0 + .milliseconds(150)) == .holdUntil(deadline))
        #expect(s.decide(queued: 5000, usable: 300, peerUsable: 300, bytesInFlight: 0, smallSegmentInFlight: false, mss: 1460, finQueued: false, now: deadline) == .send(bytes: 300))
        #expect(s.overrideDeadline == nil)
        // A window that opens to a full segment before the deadline cancels the hold.
        _ = s.decide(queued: 5000, usable: 300, peerUsable: 300, bytesInFlight: 0, smallSegmentInFlight: false, mss: 1460, finQueued: false, now: deadline)
        #expect(s.decide(queued: 5000, usable: 2000, peerUsable: 2000, bytesInFlight: 0, smallSegmentInFlight: false, mss: 1460, finQueued: false, now: deadline) == .send(bytes: 1460))
    }

    @Test func overrideTimeoutIsConfigurable() {
        var s = SenderSillyWindowAvoidance(nagle: false, overrideTimeout: .seconds(1))
        s.observePeerWindow(65535)
        #expect(s.decide(queued: 5000, usable: 300, peerUsable: 300, bytesInFlight: 0, smallSegmentInFlight: false, mss: 1460, finQueued: false, now: t0) == .holdUntil(t0 + .seconds(1)))
    }

    // MARK: - Zero and full windows

    @Test func zeroWindowVersusFullWindow() {
        var s = SenderSillyWindowAvoidance()
        #expect(s.decide(queued: 5000, usable: 0, peerUsable: 0, bytesInFlight: 0, smallSegmentInFlight: false, mss: 1460, finQueued: false, now: t0) == .zeroWindow)
        #expect(s.decide(queued: 5000, usable: 0, peerUsable: 0, bytesInFlight: 2920, smallSegmentInFlight: false, mss: 1460, finQueued: false, now: t0) == .windowFull)
        // cwnd-limited (peer window open): not a zero window.
        #expect(s.decide(queued: 5000, usable: 0, peerUsable: 9000, bytesInFlight: 2920, smallSegmentInFlight: false, mss: 1460, finQueued: false, now: t0) == .windowFull)
        #expect(s.decide(queued: 0, usable: 9000, peerUsable: 9000, bytesInFlight: 0, smallSegmentInFlight: false, mss: 1460, finQueued: false, now: t0) == .idle)
    }
}
