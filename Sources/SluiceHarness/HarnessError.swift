import SluiceCore

/// Why a harness run stopped. Thrown (never asserted) so that checks hold in release builds.
public enum HarnessError: Error, CustomStringConvertible {
    /// A node's `checkInvariants()` reported violations after a step.
    case invariantViolated(node: String, at: Instant, violations: [String])
    /// The harness's own check on the wire failed (e.g. data past the advertised right edge).
    case wireInvariantViolated(at: Instant, message: String)
    /// The run processed more events than its limit allows.
    case eventLimitExceeded(limit: Int, at: Instant)
    /// The run's virtual-time budget elapsed before its condition held.
    case timeLimitExceeded(limit: Instant, at: Instant, waitingFor: String)
    /// Nothing is left to do (no packet in flight, no deadline, no wakeup) but the run's
    /// condition does not hold: the simulated system is stuck.
    case idle(at: Instant, waitingFor: String)
    /// A node kept producing work at one instant without time advancing.
    case stalled(node: String, at: Instant)
    /// A receiving application got bytes that differ from the expected stream.
    case dataMismatch(node: String, offset: Int, expected: UInt8, got: UInt8, at: Instant)
    /// An application failed (e.g. `connect` or `listen` threw).
    case application(node: String, message: String, at: Instant)
    /// Misuse of the harness API (unknown node, missing link).
    case configuration(String)

    public var description: String {
        switch self {
        case let .invariantViolated(node, at, v):
            "invariant violated on \(node) at \(at): \(v.joined(separator: "; "))"
        case let .wireInvariantViolated(at, m):
            "wire invariant violated at \(at): \(m)"
        case let .eventLimitExceeded(limit, at):
            "event limit \(limit) exceeded at \(at)"
        case let .timeLimitExceeded(limit, at, w):
            "virtual time limit \(limit) reached at \(at), still waiting for \(w)"
        case let .idle(at, w):
            "idle at \(at): nothing left to do but still waiting for \(w)"
        case let .stalled(node, at):
            "\(node) keeps producing work at \(at) without time advancing"
        case let .dataMismatch(node, offset, e, g, at):
            "\(node) received byte \(g) at stream offset \(offset), expected \(e) (at \(at))"
        case let .application(node, m, at):
            "\(node): \(m) (at \(at))"
        case let .configuration(m):
            "harness misuse: \(m)"
        }
    }
}
