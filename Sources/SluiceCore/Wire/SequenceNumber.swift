/// A TCP sequence number: a point on the 2^32 circle (RFC 9293 §3.4, RFC 1982).
///
/// Arithmetic wraps. Order is modular: `a.isBefore(b)` when the signed 32-bit distance from
/// `a` to `b` is positive, so it is meaningful only for points less than 2^31 apart. That is not a
/// total order, so the type is deliberately not `Comparable`.
public struct SequenceNumber: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32

    @inlinable public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The point `n` bytes after `self` (wrapping).
    @inlinable public static func + (lhs: SequenceNumber, rhs: Int) -> SequenceNumber {
        SequenceNumber(lhs.rawValue &+ UInt32(truncatingIfNeeded: rhs))
    }
    /// The point `n` bytes before `self` (wrapping).
    @inlinable public static func - (lhs: SequenceNumber, rhs: Int) -> SequenceNumber {
        SequenceNumber(lhs.rawValue &- UInt32(truncatingIfNeeded: rhs))
    }
    @inlinable public static func += (lhs: inout SequenceNumber, rhs: Int) { lhs = lhs + rhs }
    @inlinable public static func -= (lhs: inout SequenceNumber, rhs: Int) { lhs = lhs - rhs }

    /// The signed distance from `rhs` to `lhs`: `lhs - rhs` as an `Int32`, widened.
    /// Positive when `lhs` is after `rhs`.
    @inlinable public static func - (lhs: SequenceNumber, rhs: SequenceNumber) -> Int {
        Int(Int32(bitPattern: lhs.rawValue &- rhs.rawValue))
    }

    /// `self < other` in modular order (RFC 1982 §3.2).
    @inlinable public func isBefore(_ other: SequenceNumber) -> Bool {
        Int32(bitPattern: rawValue &- other.rawValue) < 0
    }
    /// `self <= other` in modular order.
    @inlinable public func isBeforeOrEqual(_ other: SequenceNumber) -> Bool {
        Int32(bitPattern: rawValue &- other.rawValue) <= 0
    }
    /// `self > other` in modular order.
    @inlinable public func isAfter(_ other: SequenceNumber) -> Bool { other.isBefore(self) }
    /// `self >= other` in modular order.
    @inlinable public func isAfterOrEqual(_ other: SequenceNumber) -> Bool { other.isBeforeOrEqual(self) }

    /// `lower <= self < upper` in modular order (RFC 9293 §3.4 "=<" / "<" tests).
    @inlinable public func isIn(_ lower: SequenceNumber, _ upper: SequenceNumber) -> Bool {
        (rawValue &- lower.rawValue) < (upper.rawValue &- lower.rawValue)
    }

    /// The later of two points (modular).
    @inlinable public static func max(_ a: SequenceNumber, _ b: SequenceNumber) -> SequenceNumber {
        a.isBefore(b) ? b : a
    }
    /// The earlier of two points (modular).
    @inlinable public static func min(_ a: SequenceNumber, _ b: SequenceNumber) -> SequenceNumber {
        a.isBefore(b) ? a : b
    }

    public var description: String { String(rawValue) }
}
