#if NIO
import SluiceCore

/// Why a Sluice channel failed.
public enum SluiceChannelError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The peer reset the connection (RFC 9293 §3.10.7.4).
    case connectionReset
    /// The peer refused the connection (RST in SYN-SENT) or it closed before it was established.
    case connectionRefused
    /// The connection timed out: retransmission limit, user timeout or keep-alive (RFC 9293 §3.8.3, §3.8.4).
    case timedOut(CloseReason)
    /// The endpoint refused the call (no free port, connection table full, ...).
    case endpoint(EndpointError)
    /// Sluice speaks IPv4 only: the address was of another family.
    case unsupportedAddress(String)

    public var description: String {
        switch self {
        case .connectionReset: "connection reset by peer"
        case .connectionRefused: "connection refused"
        case .timedOut(let reason): "connection timed out (\(reason))"
        case .endpoint(let error): "endpoint refused: \(error)"
        case .unsupportedAddress(let text): "'\(text)' is not an IPv4 address: Sluice speaks IPv4 only"
        }
    }
}
#endif
