import CPcap
import Glibc

/// What went wrong opening, reading or writing a capture file.
///
/// `description` is one line that a command-line tool can print as it is
/// (`x.pcap: not a pcap or pcapng file (unknown file format)`).
public enum PcapError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file does not exist.
    case fileNotFound(path: String)
    /// The file exists but libpcap does not recognise it as pcap or pcapng.
    case notAPcap(path: String, reason: String)
    /// The capture's link type (a `DLT_*` value from `pcap_datalink`) is not one the reader
    /// can take an IPv4 packet out of.
    case unsupportedLinkType(path: String, linkType: Int32, name: String)
    /// The file could not be opened or created for another reason (permissions, a directory, ...).
    case openFailed(path: String, reason: String)
    /// Reading failed part-way, typically a file cut short in the middle of a packet
    /// (a capture killed while writing). Frames before `frameNumber` were read.
    case readFailed(path: String, frameNumber: Int, reason: String)
    /// Writing (or flushing buffered packets) failed, e.g. the disk is full.
    case writeFailed(path: String, reason: String)
    /// The snap length is not in `1...262144`.
    case invalidSnapLength(Int)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): no such file"
        case .notAPcap(let path, let reason):
            return "\(path): not a pcap or pcapng file (\(reason))"
        case .unsupportedLinkType(let path, let linkType, let name):
            return "\(path): unsupported link type \(name) (DLT \(linkType)); "
                + "supported: RAW, IPV4, EN10MB (Ethernet), LINUX_SLL, LINUX_SLL2, NULL, LOOP"
        case .openFailed(let path, let reason):
            return "\(path): cannot open: \(reason)"
        case .readFailed(let path, let frameNumber, let reason):
            return "\(path): read failed at frame \(frameNumber): \(reason)"
        case .writeFailed(let path, let reason):
            return "\(path): write failed: \(reason)"
        case .invalidSnapLength(let n):
            return "invalid snap length \(n): must be 1...\(maximumSnapLength)"
        }
    }
}

/// The text in libpcap's error buffer (a C string, NUL-terminated within the buffer).
func errorBufferText(_ buffer: UnsafeMutableBufferPointer<CChar>) -> String {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return "" }
    buffer[buffer.count - 1] = 0
    return String(cString: base)
}

/// The `strerror` text for an `errno` value.
func errnoText(_ code: Int32) -> String {
    guard let s = strerror(code) else { return "errno \(code)" }
    return String(cString: s)
}

// MARK: - Constants

/// libpcap's upper bound on a snap length (`MAXIMUM_SNAPLEN` in libpcap 1.10's pcap-int.h).
let maximumSnapLength = 262_144
