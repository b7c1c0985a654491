import SluiceCore
import SluicePcap

/// Reads a capture (pcap or pcapng, `-` for standard input) through the pcap layer and feeds
/// every IPv4/TCP packet to an analyzer (or to any consumer: `readSegments`), in capture order,
/// one packet in memory at a time.
package enum TraceFile {
    /// Why a file could not be analysed.
    package struct Failure: Error, CustomStringConvertible {
        package var description: String
    }

    /// Analyses `path` and returns the result; `configure` may set the analyzer's timeline sink.
    package static func analyze(
        path: String, options: TraceOptions, configure: (TraceAnalyzer) -> Void = { _ in }
    ) throws(Failure) -> (TraceResult, TimeSequenceRecorder?) {
        let analyzer = TraceAnalyzer(options: options)
        configure(analyzer)
        let skipped = try readSegments(path: path) { analyzer.process($0) }
        var result = analyzer.finish()
        result.skippedFrames = skipped.frames
        result.skippedReasons = skipped.reasons
        return (result, analyzer.recorder)
    }

    /// What `readSegments` could not hand over: frames skipped and why.
    package struct Skipped {
        package var frames = 0
        /// Each reason with its count (0 for a read that stopped early).
        package var reasons: [(String, Int)] = []
    }

    /// Reads `path` and calls `body` with every IPv4/TCP segment, in capture order; returns what
    /// was skipped (other link or network types, undecodable headers, a read that stopped).
    package static func readSegments(path: String, _ body: (TraceSegment) -> Void) throws(Failure) -> Skipped {
        let reader: PcapReader
        do { reader = try PcapReader(path: path) } catch { throw Failure(description: "\(error)") }
        defer { reader.close() }
        var undecodable = 0
        var readError: String? = nil
        while true {
            let record: PcapRecord?
            do { record = try reader.next() } catch {
                readError = "\(error)"
                break
            }
            guard let r = record else { break }
            if let s = TraceSegment(commonCase: r.packet, frame: r.frameNumber, time: r.timestamp) {
                body(s)
                continue
            }
            do {
                let packet = try IPv4TCPPacket.parse(r.packet, allowingTruncatedPayload: true)
                body(TraceSegment(frame: r.frameNumber, time: r.timestamp, packet: packet))
            } catch {
                undecodable += 1
            }
        }
        var skipped = Skipped(frames: reader.skipped.total + undecodable)
        for reason in PcapSkipReason.allCases where reader.skipped[reason] > 0 {
            skipped.reasons.append(("\(reason)", reader.skipped[reason]))
        }
        if undecodable > 0 { skipped.reasons.append(("undecodable TCP/IPv4 header", undecodable)) }
        if let e = readError { skipped.reasons.append(("read stopped: \(e)", 0)) }
        return skipped
    }
}
