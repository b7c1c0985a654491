import SluiceCore

/// When a receiving application reads.
public struct ReadPolicy: Sendable, Hashable {
    /// Most bytes one `read` call asks for (1 gives a byte-at-a-time reader).
    public var readSize: Int
    /// With a period, the reader takes at most `bytesPerPeriod` in each period (ticks at
    /// application start + k × period; a budget left unused expires at the next tick).
    /// Without one, it reads whatever is there each time its node is serviced.
    public var period: Duration?
    public var bytesPerPeriod: Int
    /// Intervals (absolute virtual times) in which the reader reads nothing.
    public var pauses: [ReadPause]

    public init(readSize: Int = defaultChunk, period: Duration? = nil, bytesPerPeriod: Int = .max, pauses: [ReadPause] = []) {
        self.readSize = readSize
        self.period = period
        self.bytesPerPeriod = bytesPerPeriod
        self.pauses = pauses
    }

    /// Reads everything as soon as it is there.
    public static let greedy = ReadPolicy()

    /// Reads at most `bytes` every `period`, and nothing during `pauses`.
    public static func throttled(_ bytes: Int, every period: Duration, pauses: [ReadPause] = [], readSize: Int = defaultChunk) -> ReadPolicy {
        ReadPolicy(readSize: readSize, period: period, bytesPerPeriod: bytes, pauses: pauses)
    }
}

/// A pause of the reading application: from `start` for `duration`.
public struct ReadPause: Sendable, Hashable {
    public var start: Instant
    public var duration: Duration
    public init(at start: Instant, for duration: Duration) {
        self.start = start
        self.duration = duration
    }
    public var end: Instant { start + duration }
}

/// Reads a connection into a sink: checks every byte against an expected `ByteStream` (the
/// run stops with `.dataMismatch` at the first wrong byte), keeps a digest of what it got and,
/// if asked, the bytes themselves. At end of stream it finishes with `finish` (default `close`).
public final class BulkReceiver: HarnessApplication {
    public let expected: ByteStream?
    public let expectedCount: Int?
    public let policy: ReadPolicy
    public let finish: FinishAction
    public let keepData: Bool
    public let computeDigest: Bool
    private var slot: ConnectionSlot
    private let buffer: UnsafeMutableRawBufferPointer
    private var nextTick: Instant?
    private var budget = 0
    private var finished = false

    public private(set) var bytesRead = 0
    /// Number of `read` calls that returned bytes.
    public private(set) var reads = 0
    /// FNV-1a 64 of the bytes read, in order (with `computeDigest`).
    public private(set) var digest: UInt64 = 0xcbf2_9ce4_8422_2325
    /// The bytes read (only with `keepData`).
    public private(set) var received: [UInt8] = []
    /// When the end of the stream (the peer's FIN) was read.
    public private(set) var endOfStreamAt: Instant?

    public init(_ role: ConnectionRole, expecting stream: ByteStream? = nil, count: Int? = nil,
                policy: ReadPolicy = .greedy, finish: FinishAction = .close, keepData: Bool = false,
                computeDigest: Bool = true) {
        self.slot = ConnectionSlot(role: role)
        self.expected = stream
        self.expectedCount = count
        self.policy = policy
        self.finish = finish
        self.keepData = keepData
        self.computeDigest = computeDigest
        self.buffer = .allocate(byteCount: max(1, policy.readSize), alignment: 16)
    }

    deinit { buffer.deallocate() }

    public var connection: ConnectionID? { slot.id }
    public var connectedAt: Instant? { slot.connectedAt }
    public var closedAt: Instant? { slot.closedAt }
    public var closeReason: CloseReason? { slot.closeReason }
    public var wasReset: Bool { slot.wasReset }
    /// The peer's FIN has been read and, with an expected count, exactly that many bytes came.
    public var isComplete: Bool { endOfStreamAt != nil && (expectedCount.map { $0 == bytesRead } ?? true) }

    public func start(_ c: NodeContext) throws {
        try slot.start(c)
        if policy.period != nil { nextTick = c.now }
    }

    public func handle(_ event: EndpointEvent, _ c: NodeContext) throws {
        _ = slot.handle(event, c)
    }

    public func poll(_ c: NodeContext) throws -> Bool {
        slot.acceptIfNeeded(c)
        guard let id = slot.id, !finished else { return false }
        let allowance = currentAllowance(c)
        var acted = false
        var left = allowance
        while left > 0 {
            let want = min(left, buffer.count)
            let n = c.endpoint.read(id, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
            if n <= 0 { break }
            try consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), c)
            left -= n
            acted = true
        }
        if policy.period != nil { budget = left }
        if left > 0 && isAtEndOfStream(id, c) {
            finished = true
            endOfStreamAt = c.now
            if let want = expectedCount, want != bytesRead {
                throw HarnessError.application(node: c.node.name, message: "stream ended after \(bytesRead) bytes, expected \(want)", at: c.now)
            }
            finish.apply(to: c.endpoint, id)
            acted = true
        }
        return acted
    }

    /// Bytes the reader may take now; schedules its next tick.
    private func currentAllowance(_ c: NodeContext) -> Int {
        guard let period = policy.period, var tick = nextTick else { return .max }
        if c.now >= tick {
            let paused = policy.pauses.contains { c.now >= $0.start && c.now < $0.end }
            budget = paused ? 0 : policy.bytesPerPeriod
            while tick <= c.now { tick = tick + period }
            nextTick = tick
        }
        c.wake(at: tick)
        return budget
    }

    private func consume(_ bytes: UnsafeRawBufferPointer, _ c: NodeContext) throws {
        if let limit = expectedCount, bytesRead + bytes.count > limit {
            throw HarnessError.application(node: c.node.name, message: "received more than the \(limit) bytes expected", at: c.now)
        }
        if let expected, let bad = expected.firstMismatch(bytes, at: bytesRead) {
            throw HarnessError.dataMismatch(node: c.node.name, offset: bad, expected: expected.byte(at: bad),
                                            got: bytes[bad - bytesRead], at: c.now)
        }
        if computeDigest {
            var h = digest
            for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
            digest = h
        }
        if keepData { received.append(contentsOf: bytes) }
        bytesRead += bytes.count
        reads += 1
    }

    /// The peer has closed its direction and every byte before its FIN has been read.
    private func isAtEndOfStream(_ id: ConnectionID, _ c: NodeContext) -> Bool {
        c.endpoint.isAtEndOfStream(id) || (c.endpoint.state(of: id) == nil && slot.closeReason != nil)
    }
}

@available(*, unavailable)
extension BulkReceiver: Sendable {}
