import SluiceCore
import SluicePolicy
import Testing

/// Every transition of the circuit breaker, at explicit virtual times.
@Suite struct CircuitBreakerTests {
    static let ms = Instant.milliseconds
    static let config = CircuitBreaker.Configuration(failureThreshold: 3, coolDown: .seconds(2))

    /// A breaker opened by three failures at 0, 10, 20 ms (open until 2.02 s).
    func opened() -> CircuitBreaker {
        var b = CircuitBreaker(Self.config)
        for t in [0, 10, 20] as [Int64] {
            #expect(b.admit(at: Self.ms(t)) == .allowed)
            b.recordFailure(at: Self.ms(t))
        }
        #expect(b.state == .open(until: Self.ms(2_020)))
        return b
    }

    // MARK: - CLOSED

    @Test func closedCountsConsecutiveFailuresAndOpensAtTheThreshold() {
        var b = CircuitBreaker(Self.config)
        #expect(b.state == .closed(failures: 0))
        b.recordFailure(at: Self.ms(0))
        #expect(b.state == .closed(failures: 1))
        b.recordFailure(at: Self.ms(1))
        #expect(b.state == .closed(failures: 2))
        b.recordFailure(at: Self.ms(2))
        #expect(b.state == .open(until: Self.ms(2_002)))
        #expect(b.counters.opened == 1)
    }

    @Test func aSuccessResetsTheCount() {
        var b = CircuitBreaker(Self.config)
        b.recordFailure(at: Self.ms(0))
        b.recordFailure(at: Self.ms(1))
        b.recordSuccess(at: Self.ms(2))
        #expect(b.state == .closed(failures: 0))
        b.recordFailure(at: Self.ms(3))
        b.recordFailure(at: Self.ms(4))
        #expect(b.state == .closed(failures: 2))
        #expect(b.counters.opened == 0)
    }

    // MARK: - OPEN

    @Test func openFailsFastUntilTheCoolDownEnds() {
        var b = opened()
        #expect(b.admit(at: Self.ms(21)) == .rejected(retryAfter: Self.ms(2_020)))
        #expect(b.admit(at: Self.ms(2_019)) == .rejected(retryAfter: Self.ms(2_020)))
        #expect(b.counters.rejected == 2)
        #expect(b.state == .open(until: Self.ms(2_020)))
    }

    @Test func lateOutcomesWhileOpenChangeNothing() {
        var b = opened()
        b.recordSuccess(at: Self.ms(30))
        b.recordFailure(at: Self.ms(40))
        #expect(b.state == .open(until: Self.ms(2_020)))
    }

    // MARK: - HALF-OPEN

    @Test func afterTheCoolDownOneTrialGoesThrough() {
        var b = opened()
        #expect(b.admit(at: Self.ms(2_020)) == .trial)
        #expect(b.state == .halfOpen)
        // Others fail fast while the trial runs.
        #expect(b.admit(at: Self.ms(2_021)) == .rejected(retryAfter: nil))
        #expect(b.admit(at: Self.ms(2_500)) == .rejected(retryAfter: nil))
        #expect(b.counters.trials == 1)
        #expect(b.counters.rejected == 2)
    }

    @Test func aSuccessfulTrialCloses() {
        var b = opened()
        #expect(b.admit(at: Self.ms(3_000)) == .trial)
        b.recordSuccess(at: Self.ms(3_050))
        #expect(b.state == .closed(failures: 0))
        #expect(b.counters.closed == 1)
        #expect(b.admit(at: Self.ms(3_051)) == .allowed)
        // And it takes the full threshold to open again.
        b.recordFailure(at: Self.ms(3_060))
        #expect(b.state == .closed(failures: 1))
    }

    @Test func aFailedTrialReopensForAnotherCoolDown() {
        var b = opened()
        #expect(b.admit(at: Self.ms(3_000)) == .trial)
        b.recordFailure(at: Self.ms(3_100))
        #expect(b.state == .open(until: Self.ms(5_100)))
        #expect(b.counters.opened == 2)
        #expect(b.admit(at: Self.ms(5_099)) == .rejected(retryAfter: Self.ms(5_100)))
        #expect(b.admit(at: Self.ms(5_100)) == .trial)
        b.recordSuccess(at: Self.ms(5_200))
        #expect(b.state == .closed(failures: 0))
    }

    @Test func thresholdOfOneOpensOnTheFirstFailure() {
        var b = CircuitBreaker(CircuitBreaker.Configuration(failureThreshold: 1, coolDown: .milliseconds(500)))
        b.recordFailure(at: Self.ms(7))
        #expect(b.state == .open(until: Self.ms(507)))
        #expect(!b.admit(at: Self.ms(8)).isAllowed)
        #expect(b.admit(at: Self.ms(507)).isAllowed)
    }
}
