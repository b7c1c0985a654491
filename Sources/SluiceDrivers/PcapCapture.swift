import SluicePcap
import SluiceCore

/// The run loop's capture is a pcap file: raw IPv4, nanosecond wall-clock timestamps, readable
/// by tcpdump, tshark, Wireshark and sluice-trace.
extension PcapWriter: PacketCapture {
    package func flushCapture() {
        do throws(PcapError) { try flush() } catch { Console.error("pcap: \(error)") }
    }
}

/// Opens `--pcap FILE` (created or truncated).
package func openCapture(path: String) throws(LinkError) -> any PacketCapture {
    do throws(PcapError) {
        return try PcapWriter(path: path)
    } catch {
        throw LinkError("cannot write --pcap '\(path)': \(error)")
    }
}
