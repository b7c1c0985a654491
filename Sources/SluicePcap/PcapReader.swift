import CPcap
import Glibc
import SluiceCore

/// One IPv4/TCP packet read from a capture.
///
/// `packet` is a view into libpcap's read buffer: it is valid only until the next call to
/// `PcapReader.next()` or `close()`. Copy it (`Array(record.packet)`) to keep it.
public struct PcapRecord {
    /// The 1-based number of the frame in the file, counting every frame, also the skipped
    /// ones: the same as tshark's `frame.number`.
    public var frameNumber: Int
    /// The capture timestamp, in nanoseconds since the Unix epoch (or the writer's origin).
    public var timestamp: Instant
    /// The captured bytes of the IPv4 packet, from the IPv4 header on. Link-layer padding
    /// (short Ethernet frames) is cut off using the IPv4 total length.
    public var packet: UnsafeRawBufferPointer
    /// How long the IPv4 packet was on the wire. Larger than `packet.count` when the capture's
    /// snap length cut the packet short.
    public var originalLength: Int

    /// The capture holds only the first part of the packet (snap length).
    public var isTruncated: Bool { packet.count < originalLength }
}

@available(*, unavailable, message: "the packet view is valid only until the reader's next call")
extension PcapRecord: Sendable {}

/// Reads IPv4/TCP packets from a pcap or pcapng file through libpcap, one at a time.
///
/// Memory is bounded by the largest frame (libpcap's buffer, up to the file's snap length) and
/// two 64 KiB read buffers: a 1 GiB capture is streamed, never loaded. Timestamps are read at
/// nanosecond precision whatever the file's own precision. Classic pcap files are read record
/// by record from a buffer of the reader's own (`PcapFileRecords`), with libpcap reading any
/// record that one does not take; pcapng files and standard input through libpcap alone.
///
/// Link types, by the `DLT_*` value `pcap_datalink` returns: RAW (12, also 14) and IPV4 (228),
/// EN10MB (Ethernet, with 802.1Q/802.1ad VLAN tags), LINUX_SLL (113), LINUX_SLL2 (276,
/// `tcpdump -i any`), NULL (0) and LOOP (108). Any other link type is refused when opening.
///
/// Frames that do not hold an IPv4 packet carrying TCP are skipped and counted in `skipped`
/// with their reason; they never stop the reader. The reader checks only the IP version, the
/// protocol byte and the fragment offset: decoding the headers (and judging them malformed) is
/// the wire decoder's job.
///
/// Not thread-safe: one thread owns a reader (it is not `Sendable`).
public final class PcapReader {
    /// The file being read (`"-"` is standard input).
    public let path: String
    /// The link type, as the `DLT_*` value `pcap_datalink` returns.
    public let linkType: Int32
    /// The link type's name as libpcap spells it (`"EN10MB"`, `"LINUX_SLL2"`, `"RAW"`).
    public let linkTypeName: String
    /// The file's snap length: the most bytes of a frame it may hold.
    public let snapLength: Int
    // The state `next()` touches for every frame skips Swift's run-time exclusivity checks
    // (`@exclusivity(unchecked)`): a reader belongs to one thread (it is not `Sendable`) and
    // `next()` never re-enters itself, so no two accesses can overlap; the checks cost about a
    // tenth of sluice-trace's instructions on a large capture (issue 12).

    /// Frames read so far, skipped ones included: the last frame's number.
    @exclusivity(unchecked) public private(set) var framesRead = 0
    /// IPv4/TCP packets returned by `next()` so far.
    @exclusivity(unchecked) public private(set) var packetsReturned = 0
    /// Frames passed over, by reason.
    @exclusivity(unchecked) public private(set) var skipped = PcapSkipCounts()

    private let link: LinkLayer
    @exclusivity(unchecked) private var handle: OpaquePointer?   // pcap_t
    /// The stdio buffer of the capture's stream; freed after `pcap_close` closes the stream.
    private var stdioBuffer: UnsafeMutableRawPointer?
    /// The records of a classic pcap file, read without libpcap (nil: libpcap reads every frame).
    @exclusivity(unchecked) private var records: PcapFileRecords?

    /// Opens a capture; `"-"` reads standard input.
    ///
    /// - Throws: `PcapError.fileNotFound`, `.notAPcap`, `.openFailed`, `.unsupportedLinkType`.
    public convenience init(path: String) throws(PcapError) {
        try self.init(path: path, readingClassicRecords: true)
    }

    /// `readingClassicRecords: false` leaves every frame to libpcap (tests compare the two).
    init(path: String, readingClassicRecords: Bool) throws(PcapError) {
        self.path = path
        let errorBuffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: Int(PCAP_ERRBUF_SIZE))
        errorBuffer.initialize(repeating: 0)
        defer { errorBuffer.deallocate() }
        guard let (p, stdioBuffer) = Self.open(path: path, errorBuffer: errorBuffer.baseAddress) else {
            throw Self.openError(path: path, libpcapMessage: errorBufferText(errorBuffer))
        }
        let dlt = pcap_datalink(p)
        let name = pcap_datalink_val_to_name(dlt).map { String(cString: $0) } ?? "unknown"
        guard let link = LinkLayer(dlt: dlt) else {
            pcap_close(p)
            stdioBuffer?.deallocate()
            throw .unsupportedLinkType(path: path, linkType: dlt, name: name)
        }
        self.handle = p
        self.stdioBuffer = stdioBuffer
        self.link = link
        self.linkType = dlt
        self.linkTypeName = name
        self.snapLength = Int(pcap_snapshot(p))
        if readingClassicRecords, path != "-", let file = pcap_file(p) {
            records = PcapFileRecords(fd: fileno(file), snapLength: snapLength)
        }
    }

    deinit {
        close()
    }

    /// The next IPv4/TCP packet, or `nil` at the end of the file (or after `close()`).
    ///
    /// Frames that are not IPv4/TCP are skipped and counted in `skipped`. The record's `packet`
    /// is valid until the next call to `next()` or `close()`.
    ///
    /// - Throws: `PcapError.readFailed` when the file is damaged part-way (typically cut short
    ///   in the middle of a frame); the packets before it were returned, and later calls
    ///   return `nil`.
    public func next() throws(PcapError) -> PcapRecord? {
        while let p = handle {
            switch records?.next() {
            case .record(let frame, let wireLength, let time)?:
                framesRead += 1
                if let record = classify(frame: frame, wireLength: wireLength, time: time) {
                    packetsReturned += 1
                    return record
                }
                continue
            case .end?:
                return nil
            case .irregular(let offset)?:
                // libpcap reads this record (or reports why it cannot) from its own stream.
                if fseeko(pcap_file(p), off_t(offset), SEEK_SET) != 0 { throw failAfterSeek(frameNumber: framesRead + 1) }
            case nil:
                break
            }
            var headerPointer: UnsafeMutablePointer<pcap_pkthdr>?
            var dataPointer: UnsafePointer<UInt8>?
            let status = pcap_next_ex(p, &headerPointer, &dataPointer)
            switch status {
            case 1:
                break
            case PCAP_ERROR_BREAK:   // -2: end of file
                return nil
            default:
                let reason = String(cString: pcap_geterr(p))
                close()
                throw .readFailed(path: path, frameNumber: framesRead + 1, reason: reason)
            }
            framesRead += 1
            if records != nil {
                let offset = ftello(pcap_file(p))
                guard offset >= 0 else { throw failAfterSeek(frameNumber: framesRead + 1) }
                records?.resume(at: Int64(offset))
            }
            guard let header = headerPointer?.pointee, let data = dataPointer else {
                skipped.truncated += 1
                continue
            }
            let frame = UnsafeRawBufferPointer(start: data, count: Int(header.caplen))
            if let record = classify(frame: frame, wireLength: Int(header.len), time: Self.instant(header.ts)) {
                packetsReturned += 1
                return record
            }
        }
        return nil
    }

    /// Closes the file. Later calls to `next()` return `nil`.
    public func close() {
        guard let p = handle else { return }
        handle = nil
        pcap_close(p)
        stdioBuffer?.deallocate()
        stdioBuffer = nil
        dropRecords()
    }

    /// The stream's position could not be set or read (`errno`): the reader stops.
    private func failAfterSeek(frameNumber: Int) -> PcapError {
        let reason = errnoText(errno)
        close()
        return .readFailed(path: path, frameNumber: frameNumber, reason: reason)
    }

    /// Frees the classic-file reader (when the file is closed).
    private func dropRecords() {
        records?.release()
        records = nil
    }

    /// Turns a frame into a record, or counts why it is skipped and returns `nil`.
    private func classify(frame: UnsafeRawBufferPointer, wireLength: Int, time: Instant) -> PcapRecord? {
        let offset: Int
        switch link.ipv4Offset(in: frame) {
        case .accept(let o): offset = o
        case .skip(let reason):
            skipped[reason] += 1
            return nil
        }
        let ip = UnsafeRawBufferPointer(rebasing: frame[offset...])
        let totalLength: Int
        switch classifyIPv4(ip) {
        case .accept(let t): totalLength = t
        case .skip(let reason):
            skipped[reason] += 1
            return nil
        }
        var original = Swift.max(wireLength - offset, ip.count)
        var captured = ip.count
        // Cut link padding (an Ethernet frame is at least 60 bytes) using the IPv4 total length,
        // when that length is plausible; otherwise leave the bytes for the decoder to judge.
        if totalLength >= 20, totalLength <= original {
            original = totalLength
            captured = Swift.min(captured, totalLength)
        }
        return PcapRecord(
            frameNumber: framesRead,
            timestamp: time,
            packet: UnsafeRawBufferPointer(rebasing: ip[0..<captured]),
            originalLength: original)
    }

    /// A timestamp read at nanosecond precision (`tv_usec` holds nanoseconds), saturating
    /// instead of trapping on absurd values from a damaged file.
    static func instant(_ t: timeval) -> Instant {
        let (ns, overflow) = Int64(t.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return Instant(nanoseconds: t.tv_sec < 0 ? .min : .max) }
        let (sum, overflow2) = ns.addingReportingOverflow(Int64(t.tv_usec))
        if overflow2 { return Instant(nanoseconds: t.tv_sec < 0 ? .min : .max) }
        return Instant(nanoseconds: sum)
    }

    /// Opens `path` for libpcap. A file's stream reads through a buffer of its own
    /// (`readBufferSize` bytes, returned to be freed after `pcap_close`; glibc's default is the
    /// file system's 4 KiB block, a `read` system call every few dozen header-only frames, and
    /// glibc ignores a size given without a buffer; 64 KiB as `PcapFileRecords.bufferSize`,
    /// measured cheaper in system time than 1 MiB). `"-"` is standard input as libpcap opens it.
    private static func open(path: String, errorBuffer: UnsafeMutablePointer<CChar>?)
        -> (OpaquePointer, UnsafeMutableRawPointer?)? {
        let precision = UInt32(PCAP_TSTAMP_PRECISION_NANO)
        if path == "-" {
            return pcap_open_offline_with_tstamp_precision(path, precision, errorBuffer).map { ($0, nil) }
        }
        guard let file = fopen(path, "rb") else { return nil }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: readBufferSize, alignment: 16)
        _ = setvbuf(file, buffer.assumingMemoryBound(to: CChar.self), _IOFBF, readBufferSize)
        guard let p = pcap_fopen_offline_with_tstamp_precision(file, precision, errorBuffer) else {
            fclose(file)   // libpcap leaves the stream open when it refuses it
            buffer.deallocate()
            return nil
        }
        return (p, buffer)   // pcap_close closes the stream
    }

    private static let readBufferSize = PcapFileRecords.bufferSize

    /// Sorts libpcap's open failure into the typed error a CLI can print in one line.
    private static func openError(path: String, libpcapMessage: String) -> PcapError {
        if path != "-" {
            var info = stat()
            if stat(path, &info) != 0 {
                let code = errno
                return code == ENOENT
                    ? .fileNotFound(path: path)
                    : .openFailed(path: path, reason: errnoText(code))
            }
            if info.st_mode & S_IFMT == S_IFDIR {
                return .openFailed(path: path, reason: "is a directory")
            }
            if access(path, R_OK) != 0 {
                return .openFailed(path: path, reason: errnoText(errno))
            }
        }
        // The file is there and readable: libpcap refused its contents.
        var reason = libpcapMessage
        if reason.hasPrefix("\(path): ") { reason.removeFirst(path.count + 2) }
        return .notAPcap(path: path, reason: reason)
    }
}

@available(*, unavailable, message: "a PcapReader belongs to one thread")
extension PcapReader: Sendable {}
