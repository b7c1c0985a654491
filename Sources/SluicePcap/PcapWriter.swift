import CPcap
import Glibc
import SluiceCore

/// Writes raw IPv4 packets to a pcap file through libpcap, with nanosecond timestamps.
///
/// The file has link type RAW (`DLT_RAW`, stored as `LINKTYPE_RAW`, 101) and nanosecond
/// precision (magic `0xa1b23c4d`), so tcpdump, tshark and Wireshark read it as it is.
/// Timestamps are `Instant`s: the harness passes virtual time, drivers pass a real clock.
///
/// With a snap length shorter than a packet, only the first `snapLength` bytes are kept and the
/// record's original length says how long the packet was, so a long capture can keep headers
/// only (120 bytes covers IPv4 + TCP with the largest options).
///
/// `write` allocates nothing: libpcap copies the record into its stdio buffer. I/O errors from
/// buffered writes surface at `flush()` or `close()`.
///
/// Not thread-safe: one thread owns a writer (it is not `Sendable`).
public final class PcapWriter {
    /// The file being written (`"-"` is standard output).
    public let path: String
    /// The most bytes of each packet that are stored.
    public let snapLength: Int
    /// Packets written so far.
    public private(set) var packetsWritten: Int = 0

    private var handle: OpaquePointer?   // pcap_t, from pcap_open_dead
    private var dumper: OpaquePointer?   // pcap_dumper_t

    /// Creates (or truncates) a pcap file at `path`; `"-"` writes to standard output.
    ///
    /// - Parameters:
    ///   - path: the file to create.
    ///   - snapLength: the most bytes of each packet to keep, `1...262144`.
    /// - Throws: `PcapError.invalidSnapLength`, `.openFailed` (the file cannot be created).
    public convenience init(path: String, snapLength: Int = 65535) throws(PcapError) {
        try self.init(path: path, snapLength: snapLength, linkType: DLT_RAW)
    }

    /// Writes files of another link type (`DLT_*`): tests use it to make Ethernet, SLL, SLL2
    /// and NULL captures; the caller then writes whole frames.
    init(path: String, snapLength: Int, linkType: Int32) throws(PcapError) {
        guard snapLength >= 1, snapLength <= maximumSnapLength else {
            throw .invalidSnapLength(snapLength)
        }
        self.path = path
        self.snapLength = snapLength
        guard let p = pcap_open_dead_with_tstamp_precision(
            linkType, Int32(snapLength), UInt32(PCAP_TSTAMP_PRECISION_NANO))
        else {
            throw .openFailed(path: path, reason: "pcap_open_dead failed for link type \(linkType)")
        }
        guard let d = pcap_dump_open(p, path) else {
            let reason = String(cString: pcap_geterr(p))
            pcap_close(p)
            throw .openFailed(path: path, reason: reason)
        }
        handle = p
        dumper = d
    }

    deinit {
        try? close()
    }

    /// Appends one packet (starting at its IPv4 header) with its timestamp.
    ///
    /// Stores `min(packet.count, snapLength)` bytes and records `packet.count` as the original
    /// length. Writing after `close()` does nothing.
    ///
    /// The pcap record stores 32-bit seconds, which libpcap reads back as signed: an instant
    /// before 0 is written as 0, one past 2^31 s (January 2038) as the last nanosecond of
    /// second 2^31 − 1.
    public func write(_ packet: UnsafeRawBufferPointer, timestamp: Instant) {
        guard let dumper else { return }
        // The pcap record stores 32-bit seconds: clamp instead of wrapping.
        let ns = Swift.min(Swift.max(timestamp.nanoseconds, 0), Self.latestTimestampNanoseconds)
        let seconds = ns / 1_000_000_000
        let fraction = ns % 1_000_000_000
        let length = UInt32(clamping: packet.count)
        var header = pcap_pkthdr()
        header.ts.tv_sec = Int(seconds)
        header.ts.tv_usec = Int(fraction)   // nanoseconds: the dumper was opened with NANO precision
        header.caplen = Swift.min(length, UInt32(snapLength))
        header.len = length
        let user = UnsafeMutablePointer<UInt8>(dumper)
        if let base = packet.baseAddress {
            pcap_dump(user, &header, base.assumingMemoryBound(to: UInt8.self))
        } else {
            var empty: UInt8 = 0
            pcap_dump(user, &header, &empty)
        }
        packetsWritten += 1
    }

    /// Appends one packet held in an array. See `write(_:timestamp:)`.
    public func write(_ packet: [UInt8], timestamp: Instant) {
        packet.withUnsafeBytes { write($0, timestamp: timestamp) }
    }

    /// Pushes buffered packets to the file.
    ///
    /// - Throws: `PcapError.writeFailed` if the data could not be written.
    public func flush() throws(PcapError) {
        guard let dumper else { return }
        if pcap_dump_flush(dumper) != 0 {
            throw .writeFailed(path: path, reason: errnoText(errno))
        }
    }

    /// Flushes and closes the file. Later calls (and `deinit`) do nothing.
    ///
    /// - Throws: `PcapError.writeFailed` if buffered data could not be written; the file is
    ///   closed anyway.
    public func close() throws(PcapError) {
        guard let d = dumper, let p = handle else { return }
        dumper = nil
        handle = nil
        let flushed = pcap_dump_flush(d) == 0
        let code = errno
        pcap_dump_close(d)
        pcap_close(p)
        if !flushed {
            throw .writeFailed(path: path, reason: errnoText(code))
        }
    }
}

extension PcapWriter {
    /// The last instant a pcap record holds that libpcap reads back unchanged: 2^31 − 1 seconds
    /// and 999,999,999 ns (libpcap 1.10 sf-pcap.c reads the seconds field as `bpf_int32`).
    static let latestTimestampNanoseconds = Int64(Int32.max) * 1_000_000_000 + 999_999_999
}

@available(*, unavailable, message: "a PcapWriter belongs to one thread")
extension PcapWriter: Sendable {}
