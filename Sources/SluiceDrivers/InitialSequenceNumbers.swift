@preconcurrency import Crypto
import SluiceCore

/// The RFC 6528 initial sequence number generator the drivers inject into the engine
/// (`EndpointConfig.initialSequenceNumber`).
///
/// RFC 6528 §3: `ISN = M + F(localip, localport, remoteip, remoteport, secretkey)`, where `M` is
/// a timer that ticks every 4 microseconds and `F` is a keyed pseudo-random function. Here `F` is
/// the first 32 bits of HMAC-SHA256 over the 4-tuple, keyed with 256 random bits drawn once per
/// generator (so per process), and `M` is the driver's monotonic clock in 4 µs ticks. A new
/// incarnation of the same 4-tuple therefore starts at a sequence number that keeps growing with
/// time (RFC 9293 §3.4.1), while an off-path attacker cannot predict it.
package struct InitialSequenceNumbers: Sendable {
    private let key: SymmetricKey

    /// A generator with a fresh random key.
    package init() { key = SymmetricKey(size: .bits256) }

    /// A generator with a chosen key (tests).
    package init(key: [UInt8]) { self.key = SymmetricKey(data: key) }

    /// `M + F(4-tuple)` at `now`.
    package func isn(for tuple: FourTuple, at now: Instant) -> SequenceNumber {
        let ticks = UInt32(truncatingIfNeeded: now.nanoseconds / nanosecondsPerTick)
        return SequenceNumber(ticks &+ hash(tuple))
    }

    /// `F`: the first 32 bits of HMAC-SHA256(key, local ip ‖ local port ‖ remote ip ‖ remote port).
    package func hash(_ tuple: FourTuple) -> UInt32 {
        var message = [UInt8]()
        message.reserveCapacity(12)
        for address in [tuple.local, tuple.remote] {
            let ip = address.address.rawValue
            message += [UInt8(ip >> 24), UInt8(ip >> 16 & 0xff), UInt8(ip >> 8 & 0xff), UInt8(ip & 0xff)]
            message += [UInt8(address.port >> 8), UInt8(address.port & 0xff)]
        }
        let code = HMAC<SHA256>.authenticationCode(for: message, using: key)
        var value: UInt32 = 0
        for (i, byte) in code.enumerated() where i < 4 { value = value << 8 | UInt32(byte) }
        return value
    }

    /// The closure `EndpointConfig` takes.
    package var function: @Sendable (FourTuple, Instant) -> SequenceNumber {
        let generator = self
        return { tuple, now in generator.isn(for: tuple, at: now) }
    }
}

/// RFC 6528 §3 (after RFC 793): `M` ticks every 4 microseconds.
private let nanosecondsPerTick: Int64 = 4_000
