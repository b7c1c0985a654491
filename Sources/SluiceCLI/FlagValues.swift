import SluiceCore
import SluiceDrivers

/// A bad command-line value, with a one-line message naming the fix.
package struct FlagError: Error, CustomStringConvertible, Sendable {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// Flag values shared by sluice-send and sluice-recv, parsed with messages that say what to type.
package enum FlagValues {
    /// `IP:PORT` with a dotted-quad IPv4 address and a port 1–65535.
    package static func socketAddress(_ text: String) throws(FlagError) -> SocketAddress {
        guard let colon = text.lastIndex(of: ":") else {
            throw FlagError("expected IP:PORT, e.g. 10.0.0.2:5001 (IPv4 only)")
        }
        let ip = try address(String(text[..<colon]))
        guard let port = UInt16(text[text.index(after: colon)...]), port != 0 else {
            throw FlagError("bad port '\(text[text.index(after: colon)...])': use a number from 1 to 65535, e.g. 10.0.0.2:5001")
        }
        return SocketAddress(ip, port)
    }

    /// A dotted-quad IPv4 address (`10.0.0.1`).
    package static func address(_ text: String) throws(FlagError) -> IPv4Address {
        guard let ip = IPv4Address(text) else {
            throw FlagError("'\(text)' is not an IPv4 address: use dotted-quad form, e.g. 10.0.0.1")
        }
        return ip
    }

    /// `IP` or `IP:PORT` (port 0 or absent: an ephemeral port).
    package static func localAddress(_ text: String) throws(FlagError) -> SocketAddress {
        if text.contains(":") {
            guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
                throw FlagError("expected IP or IP:PORT, e.g. 10.0.0.1")
            }
            return SocketAddress(try address(String(text[..<colon])), port)
        }
        return SocketAddress(try address(text), 0)
    }

    /// A UDP port 1–65535.
    package static func port(_ text: String) throws(FlagError) -> UInt16 {
        guard let port = UInt16(text), port != 0 else {
            throw FlagError("use a port number from 1 to 65535")
        }
        return port
    }

    /// A buffer size within `range` bytes.
    package static func bufferSize(_ text: String, range: ClosedRange<Int>) throws(FlagError) -> Int {
        let bytes: Int
        do { bytes = try parseByteSize(text) } catch { throw FlagError(error.description) }
        guard range.contains(bytes) else {
            throw FlagError("\(bytes) bytes is out of range: use \(formatBytes(range.lowerBound)) to \(formatBytes(range.upperBound)), e.g. 64KiB")
        }
        return bytes
    }

    /// A byte count for `--bytes` (any size, units allowed).
    package static func byteCount(_ text: String) throws(FlagError) -> Int {
        do { return try parseByteSize(text) } catch { throw FlagError(error.description) }
    }

    /// A rate in bytes per second; 0 means unlimited (`nil`).
    package static func rate(_ text: String) throws(FlagError) -> Double? {
        let value: Double
        do { value = try parseByteRate(text) } catch { throw FlagError(error.description) }
        return value == 0 ? nil : value
    }

    /// `auto`, `off`, or a rate.
    package static func pace(_ text: String) throws(FlagError) -> PaceSetting {
        switch text.lowercased() {
        case "auto": return .auto
        case "off": return .off
        default:
            let value: Double
            do { value = try parseByteRate(text) } catch { throw FlagError("\(error.description), or auto / off") }
            guard value > 0 else { throw FlagError("a pacing rate must be above 0: use auto, off, or a rate such as 50mbit") }
            return .fixed(bytesPerSecond: value)
        }
    }

    /// A TUN device name.
    package static func tunName(_ text: String) throws(FlagError) -> String {
        do { try TUNDevice.validate(name: text) } catch { throw FlagError(error.description) }
        return text
    }
}

/// `--pace`: the sender's pacing mode (issue 5 item 6).
package enum PaceSetting: Hashable, Sendable, CustomStringConvertible {
    /// rate = ratio × cwnd / SRTT (2.0 in slow start, 1.2 in congestion avoidance).
    case auto
    /// No pacing: a window's worth may leave at once.
    case off
    /// A fixed rate in bytes per second.
    case fixed(bytesPerSecond: Double)

    package var description: String {
        switch self {
        case .auto: return "auto"
        case .off: return "off"
        case .fixed(let rate): return formatBitRate(rate * 8)
        }
    }
}

/// Bounds of --rcvbuf / --sndbuf: at least one 1460-byte segment and a little more; at most
/// 1 GiB, the largest window RFC 7323 §2.3 can express (shift 14: 65535 × 2^14).
package let bufferSizeRange = 2048...(1 << 30)

/// Puts `--pace` into the connection configuration (issue 5 item 6).
package func applyPacing(_ pace: PaceSetting, to config: inout ConnectionConfig) {
    switch pace {
    case .auto: config.flowControl.pacing = .automatic()
    case .off: config.flowControl.pacing = .off
    case .fixed(let rate): config.flowControl.pacing = .fixed(bytesPerSecond: Int(rate.rounded()))
    }
}
