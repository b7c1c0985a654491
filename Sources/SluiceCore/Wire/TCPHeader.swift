/// TCP control bits (RFC 9293 §3.1, RFC 3168 for ECE/CWR).
public struct TCPFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let psh = TCPFlags(rawValue: 0x08)
    public static let ack = TCPFlags(rawValue: 0x10)
    public static let urg = TCPFlags(rawValue: 0x20)
    public static let ece = TCPFlags(rawValue: 0x40)
    public static let cwr = TCPFlags(rawValue: 0x80)

    public var description: String {
        var s = ""
        let names: [(TCPFlags, Character)] = [(.syn, "S"), (.fin, "F"), (.rst, "R"), (.psh, "P"), (.ack, "."), (.urg, "U"), (.ece, "E"), (.cwr, "W")]
        for (f, c) in names where contains(f) { s.append(c) }
        return s.isEmpty ? "none" : s
    }
}

/// One SACK block (RFC 2018 §3): the peer holds `[left, right)`.
public struct SACKBlock: Hashable, Sendable, CustomStringConvertible {
    public var left: SequenceNumber
    public var right: SequenceNumber
    @inlinable public init(left: SequenceNumber, right: SequenceNumber) {
        self.left = left
        self.right = right
    }
    public var description: String { "\(left)-\(right)" }
}

/// Up to four SACK blocks stored inline (the most that fit in 40 bytes of options), so that a
/// parsed or built header never allocates.
public struct SACKBlocks: RandomAccessCollection, Hashable, Sendable {
    public static let capacity = 4
    @usableFromInline internal var storage: (SACKBlock, SACKBlock, SACKBlock, SACKBlock)
    @usableFromInline internal var _count: Int
    public var count: Int { _count }

    @inlinable public init() {
        let z = SACKBlock(left: SequenceNumber(0), right: SequenceNumber(0))
        storage = (z, z, z, z)
        _count = 0
    }

    public init(_ blocks: some Sequence<SACKBlock>) {
        self.init()
        for b in blocks { append(b) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(i: Int) -> SACKBlock {
        get {
            precondition(i >= 0 && i < count, "SACKBlocks index out of range")
            switch i {
            case 0: return storage.0
            case 1: return storage.1
            case 2: return storage.2
            default: return storage.3
            }
        }
        set {
            precondition(i >= 0 && i < count, "SACKBlocks index out of range")
            switch i {
            case 0: storage.0 = newValue
            case 1: storage.1 = newValue
            case 2: storage.2 = newValue
            default: storage.3 = newValue
            }
        }
    }

    /// Appends a block; returns `false` (and stores nothing) when four are already held.
    @discardableResult
    public mutating func append(_ block: SACKBlock) -> Bool {
        guard count < Self.capacity else { return false }
        _count += 1
        self[_count - 1] = block
        return true
    }

    public mutating func removeAll() { _count = 0 }

    /// Keeps only the first `n` blocks.
    public mutating func truncate(to n: Int) { _count = Swift.max(0, Swift.min(_count, n)) }

    public static func == (a: SACKBlocks, b: SACKBlocks) -> Bool { a.elementsEqual(b) }
    public func hash(into h: inout Hasher) {
        h.combine(count)
        for b in self { h.combine(b) }
    }
}

/// The RFC 7323 §3 timestamps option: TSval and TSecr.
public struct TCPTimestamps: Hashable, Sendable {
    public var value: UInt32
    public var echoReply: UInt32
    @inlinable public init(value: UInt32, echoReply: UInt32) {
        self.value = value
        self.echoReply = echoReply
    }
}

/// The TCP options Sluice understands (RFC 9293 §3.2, RFC 7323, RFC 2018). Unknown options are
/// skipped by their length when parsing and never emitted.
public struct TCPOptions: Hashable, Sendable {
    /// Maximum segment size (kind 2), SYN only.
    public var maximumSegmentSize: UInt16?
    /// Window scale shift (kind 3), SYN only. Values above 14 are kept as received; the engine
    /// clamps them to 14 (RFC 7323 §2.3).
    public var windowScale: UInt8?
    /// SACK-permitted (kind 4), SYN only.
    public var sackPermitted: Bool
    /// SACK blocks (kind 5).
    public var sackBlocks: SACKBlocks
    /// Timestamps (kind 8).
    public var timestamps: TCPTimestamps?

    @inlinable public init(
        maximumSegmentSize: UInt16? = nil,
        windowScale: UInt8? = nil,
        sackPermitted: Bool = false,
        sackBlocks: SACKBlocks = SACKBlocks(),
        timestamps: TCPTimestamps? = nil
    ) {
        self.maximumSegmentSize = maximumSegmentSize
        self.windowScale = windowScale
        self.sackPermitted = sackPermitted
        self.sackBlocks = sackBlocks
        self.timestamps = timestamps
    }
}

/// The checked meaning of a TCP header (RFC 9293 §3.1). The window is the raw 16-bit field,
/// before any window scaling.
public struct TCPHeader: Hashable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequenceNumber: SequenceNumber
    public var acknowledgmentNumber: SequenceNumber
    public var flags: TCPFlags
    /// The raw (unscaled) window field.
    public var window: UInt16
    /// The checksum as found on the wire when parsed; ignored (computed) when encoding.
    public var checksum: UInt16
    public var urgentPointer: UInt16
    public var options: TCPOptions

    @inlinable public init(
        sourcePort: UInt16, destinationPort: UInt16,
        sequenceNumber: SequenceNumber, acknowledgmentNumber: SequenceNumber = SequenceNumber(0),
        flags: TCPFlags, window: UInt16, checksum: UInt16 = 0, urgentPointer: UInt16 = 0,
        options: TCPOptions = TCPOptions()
    ) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequenceNumber = sequenceNumber
        self.acknowledgmentNumber = acknowledgmentNumber
        self.flags = flags
        self.window = window
        self.checksum = checksum
        self.urgentPointer = urgentPointer
        self.options = options
    }
}

/// The checked meaning of an IPv4 header (RFC 791). Options are not emitted; when parsing they
/// are skipped by the header length.
public struct IPv4Header: Hashable, Sendable {
    public var source: IPv4Address
    public var destination: IPv4Address
    /// Transport protocol number (6 for TCP).
    public var protocolNumber: UInt8
    public var timeToLive: UInt8
    /// DSCP and ECN (the old TOS byte).
    public var typeOfService: UInt8
    public var identification: UInt16
    public var dontFragment: Bool
    /// Header length in bytes (IHL × 4). 20 when encoding.
    public var headerLength: Int
    /// Total length as found on the wire; computed when encoding.
    public var totalLength: UInt16
    /// The checksum as found on the wire; computed when encoding.
    public var checksum: UInt16

    @inlinable public init(
        source: IPv4Address, destination: IPv4Address, protocolNumber: UInt8 = 6,
        timeToLive: UInt8 = 64, typeOfService: UInt8 = 0, identification: UInt16 = 0,
        dontFragment: Bool = true, headerLength: Int = 20, totalLength: UInt16 = 0, checksum: UInt16 = 0
    ) {
        self.source = source
        self.destination = destination
        self.protocolNumber = protocolNumber
        self.timeToLive = timeToLive
        self.typeOfService = typeOfService
        self.identification = identification
        self.dontFragment = dontFragment
        self.headerLength = headerLength
        self.totalLength = totalLength
        self.checksum = checksum
    }
}

/// An IPv4 packet carrying TCP, parsed without copying: the payload is named by its byte range
/// in the buffer that was parsed.
public struct IPv4TCPPacket: Hashable, Sendable {
    public var ip: IPv4Header
    public var tcp: TCPHeader
    /// Where the TCP payload lies in the parsed buffer.
    public var payloadRange: Range<Int>
    @inlinable public init(ip: IPv4Header, tcp: TCPHeader, payloadRange: Range<Int>) {
        self.ip = ip
        self.tcp = tcp
        self.payloadRange = payloadRange
    }
    public var payloadLength: Int { payloadRange.count }
}
