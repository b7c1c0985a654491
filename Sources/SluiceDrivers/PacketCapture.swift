import SluiceCore

/// Where the run loop records every packet it sends and receives (a pcap file).
package protocol PacketCapture: AnyObject {
    /// Records one IPv4 packet with its wall-clock time.
    func write(_ packet: UnsafeRawBufferPointer, timestamp: Instant)
    /// Pushes buffered records to storage; errors are reported, not thrown, at the end.
    func flushCapture()
}
