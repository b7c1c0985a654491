/// Window scaling (RFC 7323 §2): the 16-bit window field counts units of 2^shift bytes.
///
/// The shift we offer on our SYN is chosen from the receive buffer: the smallest shift that lets
/// the field cover the whole buffer, at most 14 (RFC 7323 §2.3: "the shift count MUST be limited
/// to 14"). Negotiation (both SYNs carry the option, else both shifts are 0) happens in the
/// engine's SYN handling; these helpers only do the arithmetic.
public enum WindowScale {
    /// The largest shift RFC 7323 §2.3 allows.
    public static let maximumShift = 14

    /// The smallest shift `s` with `bufferSize >> s <= 65535`, capped at 14 (RFC 7323 §2.3).
    ///
    /// 64 KiB − 1 → 0, 64 KiB → 1, 16 MiB → 9, 1 GiB → 14.
    public static func shift(forBufferSize bufferSize: Int) -> Int {
        var shift = 0
        while shift < maximumShift && (bufferSize >> shift) > Int(UInt16.max) {
            shift += 1
        }
        return shift
    }

    /// A received shift is clamped to 14: RFC 7323 §2.3, "If a Window Scale option is received
    /// with a shift.cnt value larger than 14, the TCP SHOULD log the error but MUST use 14".
    public static func clampReceived(_ shift: UInt8) -> Int {
        min(Int(shift), maximumShift)
    }

    /// The window in bytes that a received field means (RFC 7323 §2.3: the field of every
    /// segment except a SYN is shifted left by the peer's shift).
    @inlinable public static func bytes(field: UInt16, shift: Int) -> Int {
        Int(field) << shift
    }
}
