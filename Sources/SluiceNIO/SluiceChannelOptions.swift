#if NIO
import NIOCore

/// Sluice's own channel options.
public enum SluiceChannelOption {
    /// `true`: `close()` aborts the connection with RST instead of a FIN (RFC 9293 §3.10.5),
    /// what `SO_LINGER` with a zero timeout does on a kernel socket. Default `false`.
    public static let abortOnClose = Types.AbortOnCloseOption()

    public enum Types {
        public struct AbortOnCloseOption: ChannelOption, Sendable {
            public typealias Value = Bool
            public init() {}
        }
    }
}

/// The options a `SluiceChannel` understands; any other option is refused with
/// `ChannelError.operationUnsupported`.
struct SluiceChannelOptions {
    var autoRead = true
    var allowRemoteHalfClosure = false
    var maxMessagesPerRead = 4
    var recvAllocator: RecvByteBufferAllocator = FixedSizeRecvByteBufferAllocator(capacity: defaultReadChunk)
    var abortOnClose = false
    var writeBufferWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 32 * 1024, high: 64 * 1024)
    var connectTimeout: TimeAmount?
    var bufferedWritableBytes = 0

    /// The largest buffer one `channelRead` carries.
    var readChunkSize: Int { max(1, recvAllocator.nextBufferSize() ?? defaultReadChunk) }

    mutating func set<Option: ChannelOption>(_ option: Option, value: Option.Value) throws {
        switch option {
        case is ChannelOptions.Types.AutoReadOption: autoRead = try cast(value)
        case is ChannelOptions.Types.AllowRemoteHalfClosureOption: allowRemoteHalfClosure = try cast(value)
        case is ChannelOptions.Types.MaxMessagesPerReadOption: maxMessagesPerRead = max(1, Int(try cast(value) as UInt))
        case is ChannelOptions.Types.RecvAllocatorOption: recvAllocator = try cast(value) as RecvByteBufferAllocator
        case is SluiceChannelOption.Types.AbortOnCloseOption: abortOnClose = try cast(value)
        // Accepted for compatibility: writability follows the send ring, not these marks.
        case is ChannelOptions.Types.WriteBufferWaterMarkOption: writeBufferWaterMark = try cast(value)
        case is ChannelOptions.Types.ConnectTimeoutOption: connectTimeout = try cast(value) as TimeAmount?
        default: throw ChannelError.operationUnsupported
        }
    }

    func get<Option: ChannelOption>(_ option: Option) throws -> Option.Value {
        let value: Any
        switch option {
        case is ChannelOptions.Types.AutoReadOption: value = autoRead
        case is ChannelOptions.Types.AllowRemoteHalfClosureOption: value = allowRemoteHalfClosure
        case is ChannelOptions.Types.MaxMessagesPerReadOption: value = UInt(maxMessagesPerRead)
        case is ChannelOptions.Types.RecvAllocatorOption: value = recvAllocator
        case is SluiceChannelOption.Types.AbortOnCloseOption: value = abortOnClose
        case is ChannelOptions.Types.WriteBufferWaterMarkOption: value = writeBufferWaterMark
        case is ChannelOptions.Types.ConnectTimeoutOption: value = connectTimeout as Any
        case is ChannelOptions.Types.BufferedWritableBytesOption: value = bufferedWritableBytes
        default: throw ChannelError.operationUnsupported
        }
        guard let typed = value as? Option.Value else { throw ChannelError.operationUnsupported }
        return typed
    }
}

private func cast<T>(_ value: Any) throws -> T {
    guard let typed = value as? T else { throw ChannelError.operationUnsupported }
    return typed
}

/// One `channelRead` carries at most this much by default: 64 KiB, NIO's largest adaptive
/// read buffer.
let defaultReadChunk = 64 * 1024
#endif
