/// The Internet checksum (RFC 1071): the 16-bit ones' complement of the ones' complement sum
/// of the data taken as big-endian 16-bit words, an odd final byte padded with a zero byte.
///
/// An accumulator, so that discontiguous pieces (the TCP pseudo-header of RFC 9293 §3.1, the
/// header, a payload in two ring pieces) are summed without copying. Pieces may have odd
/// lengths: a piece that starts at an odd position in the stream is summed as if even and its
/// folded sum byte-swapped (RFC 1071 §2(B), byte-order independence).
///
/// Speed (RFC 1071 §2(B)–(C)): the data is loaded as unaligned native-order 32-bit words and
/// summed into a 64-bit accumulator (deferred carries); the sum is folded to 16 bits and
/// converted to network order once, at the end. `InternetChecksum.naiveSum` is the byte-pair
/// reference this must match.
public struct InternetChecksum: Hashable, Sendable {
    /// Sum of the bytes added so far as native-order 16-bit words, the carries not yet folded.
    @usableFromInline internal var accumulator: UInt64
    /// Whether an odd number of bytes has been added (the next byte is a word's low byte).
    @usableFromInline internal var isOdd: Bool

    @inlinable public init() {
        accumulator = 0
        isOdd = false
    }

    /// Adds `bytes` at the current position of the stream.
    @inlinable public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        guard count > 0, let base = bytes.baseAddress else { return }
        var piece = Self.fold(Self.nativeSum(base, count))
        if isOdd { piece = UInt64(UInt16(truncatingIfNeeded: piece).byteSwapped) }
        accumulator &+= piece
        if count & 1 == 1 { isOdd.toggle() }
    }

    /// Adds the bytes of `array` at the current position of the stream.
    @inlinable public mutating func add(_ array: [UInt8]) {
        array.withUnsafeBytes { add($0) }
    }

    /// Adds a 16-bit field, written big-endian, at the current position of the stream.
    @inlinable public mutating func add(_ word: UInt16) {
        var native = UInt64(word.bigEndian)              // as a native load of its two wire bytes
        if isOdd { native = UInt64(word.bigEndian.byteSwapped) }
        accumulator &+= native
    }

    /// Adds a 32-bit field, written big-endian, at the current position of the stream.
    @inlinable public mutating func add(_ word: UInt32) {
        add(UInt16(truncatingIfNeeded: word >> 16))
        add(UInt16(truncatingIfNeeded: word))
    }

    /// Adds the TCP pseudo-header (RFC 9293 §3.1): source and destination address, a zero byte,
    /// the protocol number (6) and the TCP length (header plus payload, in bytes).
    @inlinable public mutating func addPseudoHeader(
        source: IPv4Address, destination: IPv4Address, protocolNumber: UInt8 = 6, length: Int
    ) {
        add(source.rawValue)
        add(destination.rawValue)
        add(UInt16(protocolNumber))
        add(UInt16(truncatingIfNeeded: length))
    }

    /// The ones' complement sum of everything added, folded to 16 bits (not complemented).
    /// Data whose embedded checksum is right sums to `0xFFFF` (RFC 1071 §1 (3)).
    @inlinable public var sum: UInt16 {
        UInt16(bigEndian: UInt16(truncatingIfNeeded: Self.fold(accumulator)))
    }

    /// The value to put in a checksum field: the ones' complement of `sum`.
    @inlinable public var checksum: UInt16 { ~sum }

    /// Whether data that includes its own checksum field verifies (its sum is all ones).
    @inlinable public var isValid: Bool { sum == 0xFFFF }

    /// The checksum of one contiguous buffer.
    @inlinable public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        var c = InternetChecksum()
        c.add(bytes)
        return c.checksum
    }

    /// The checksum of an array (tests and tools).
    @inlinable public static func checksum(_ array: [UInt8]) -> UInt16 {
        array.withUnsafeBytes { checksum($0) }
    }

    // MARK: - Kernels

    /// Folds a 64-bit sum of 16-bit words to 16 bits with end-around carry (RFC 1071 §2(C)).
    @inlinable internal static func fold(_ value: UInt64) -> UInt64 {
        var s = (value & 0xFFFF_FFFF) &+ (value >> 32)   // < 2^33
        s = (s & 0xFFFF_FFFF) &+ (s >> 32)               // < 2^32
        s = (s & 0xFFFF) &+ (s >> 16)                    // < 2^17
        s = (s & 0xFFFF) &+ (s >> 16)                    // <= 0xFFFF
        return s
    }

    /// The unfolded sum of `count` bytes as native-order 16-bit words, the last odd byte padded
    /// with zero. 32-bit loads into a 64-bit accumulator: 2^32 loads before it could overflow,
    /// far beyond any buffer here (a 64 KiB packet is 2^14 loads).
    @inlinable internal static func nativeSum(_ base: UnsafeRawPointer, _ count: Int) -> UInt64 {
        // The plain counted loop is the form LLVM vectorizes (zero-extend and add); a
        // hand-unrolled while loop measured slower (sluice-bench checksum).
        let words = count / 4
        var a: UInt64 = 0
        for k in 0..<words {
            a &+= UInt64(base.loadUnaligned(fromByteOffset: k &* 4, as: UInt32.self))
        }
        var i = words &* 4
        if i &+ 2 <= count {
            a &+= UInt64(base.loadUnaligned(fromByteOffset: i, as: UInt16.self))
            i &+= 2
        }
        if i < count {
            // The last byte is the high-order (first) byte of a word padded with zero.
            let last = base.load(fromByteOffset: i, as: UInt8.self)
            a &+= UInt64((UInt16(last) << 8).bigEndian)
        }
        return a
    }

    /// The reference implementation: big-endian byte pairs summed one at a time into a `UInt64`
    /// (RFC 1071 §4.1). Slow and obviously right; tests and `sluice-bench` compare against it.
    /// Returns the folded sum (not complemented), like `sum`.
    package static func naiveSum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        var sum: UInt64 = 0
        let pairs = bytes.count / 2
        for k in 0..<pairs {
            sum &+= UInt64(bytes[2 * k]) << 8 | UInt64(bytes[2 * k + 1])
        }
        if bytes.count % 2 == 1 { sum &+= UInt64(bytes[bytes.count - 1]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return UInt16(sum)
    }
}
