import SluiceCore

/// Sends `count` bytes of a `ByteStream` as fast as the send buffer takes them: it writes
/// whenever the harness services its node, and a `write` that returns less than offered is
/// backpressure (it tries again later). Then it finishes with `finish` (default `close`).
/// With `bursts`, the application has only `bytes` more to offer every `period` (from the
/// moment the connection is established): an application that writes in bursts.
public final class BulkSender: HarnessApplication {
    public let stream: ByteStream
    public let count: Int
    public let finish: FinishAction
    public let bursts: (bytes: Int, period: Duration)?
    private var burstOrigin: Instant?
    private var slot: ConnectionSlot
    private let chunk: UnsafeMutableRawBufferPointer
    /// Stream offset of `chunk`'s first byte, and how many bytes of it are valid.
    private var chunkOffset = 0
    private var chunkValid = 0
    private var finished = false

    /// Bytes accepted by the endpoint so far.
    public private(set) var bytesWritten = 0
    /// Calls to `write` that accepted nothing (the send buffer was full).
    public private(set) var blockedWrites = 0
    /// When the last byte was accepted.
    public private(set) var doneWritingAt: Instant?

    public init(_ role: ConnectionRole, count: Int, stream: ByteStream, finish: FinishAction = .close, chunkSize: Int = defaultChunk,
                bursts: (bytes: Int, period: Duration)? = nil) {
        self.slot = ConnectionSlot(role: role)
        self.bursts = bursts
        self.count = count
        self.stream = stream
        self.finish = finish
        self.chunk = .allocate(byteCount: max(1, chunkSize), alignment: 16)
    }

    deinit { chunk.deallocate() }

    public var connection: ConnectionID? { slot.id }
    public var connectedAt: Instant? { slot.connectedAt }
    public var closedAt: Instant? { slot.closedAt }
    public var closeReason: CloseReason? { slot.closeReason }
    public var wasReset: Bool { slot.wasReset }
    public var isDoneWriting: Bool { bytesWritten == count }

    public func start(_ c: NodeContext) throws { try slot.start(c) }

    public func handle(_ event: EndpointEvent, _ c: NodeContext) throws {
        _ = slot.handle(event, c)
    }

    public func poll(_ c: NodeContext) throws -> Bool {
        slot.acceptIfNeeded(c)
        guard let id = slot.id, slot.established, !finished else { return false }
        var acted = false
        var limit = count
        if let b = bursts, b.bytes > 0, b.period > .zero {
            let origin = burstOrigin ?? c.now
            burstOrigin = origin
            let periods = Int((c.now - origin) / b.period)
            limit = min(count, (periods + 1) * b.bytes)
            if limit < count { c.wake(at: origin + b.period * (periods + 1)) }
        }
        while bytesWritten < limit {
            if bytesWritten >= chunkOffset + chunkValid {
                chunkOffset = bytesWritten
                chunkValid = min(chunk.count, count - bytesWritten)
                stream.fill(UnsafeMutableRawBufferPointer(rebasing: chunk[0..<chunkValid]), from: chunkOffset)
            }
            let from = bytesWritten - chunkOffset
            let upTo = min(chunkValid, limit - chunkOffset)
            let n = c.endpoint.write(id, UnsafeRawBufferPointer(rebasing: chunk[from..<upTo]))
            if n <= 0 {
                blockedWrites += 1
                break
            }
            bytesWritten += n
            acted = true
        }
        if bytesWritten == count {
            finished = true
            doneWritingAt = c.now
            finish.apply(to: c.endpoint, id)
            acted = true
        }
        return acted
    }
}

@available(*, unavailable)
extension BulkSender: Sendable {}

/// 64 KiB: a few segments' worth per `write` call, like a typical socket write.
public let defaultChunk = 64 * 1024
