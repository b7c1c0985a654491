import SluiceCore
import SluicePcap

/// Reads a capture (pcap or pcapng, `-` for standard input) through the pcap layer and feeds
/// every IPv4/TCP packet to an analyzer, in capture order, one packet in memory at a time.
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
                analyzer.process(s)
                continue
            }
            do {
                let packet = try IPv4TCPPacket.parse(r.packet, allowingTruncatedPayload: true)
                analyzer.process(TraceSegment(frame: r.frameNumber, time: r.timestamp, packet: packet))
            } catch {
                undecodable += 1
            }
        }
        var result = analyzer.finish()
        var reasons: [(String, Int)] = []
        for reason in PcapSkipReason.allCases where reader.skipped[reason] > 0 {
            reasons.append(("\(reason)", reader.skipped[reason]))
        }
        if undecodable > 0 { reasons.append(("undecodable TCP/IPv4 header", undecodable)) }
        if let e = readError { reasons.append(("read stopped: \(e)", 0)) }
        result.skippedFrames = reader.skipped.total + undecodable
        result.skippedReasons = reasons
        return (result, analyzer.recorder)
    }
}
