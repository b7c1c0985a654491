import SluiceCore

/// Opens `--pcap FILE`. (Stub until SluicePcap's PcapWriter lands on main.)
package func openCapture(path: String) throws(LinkError) -> any PacketCapture {
    throw LinkError("--pcap is not available yet in this build")
}
