#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Something that carries raw IPv4 packets to and from the engine: a TUN device or the
/// UDP-on-loopback link. One packet per call, nonblocking.
///
/// Not thread-safe: the run loop's thread owns a link.
package protocol PacketLink: AnyObject {
    /// The nonblocking descriptor the run loop polls for readability.
    var fileDescriptor: Int32 { get }
    /// A short description for messages (`tun sl1234`, `udp 127.0.0.1:5001`).
    var label: String { get }
    /// Reads one packet into `buffer`; `nil` when nothing is waiting.
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws(LinkError) -> Int?
    /// Sends one packet. Returns `false` when the packet was dropped because the link had no
    /// room (TCP recovers it like any loss); throws on a hard error.
    func send(_ packet: UnsafeRawBufferPointer) throws(LinkError) -> Bool
    /// Reads up to `batch.capacity` packets into `batch` (setting `batch.count`, and
    /// `batch.checksums` for a packet whose TCP checksum the link vouches for); 0 when nothing
    /// is waiting. With `forCapture` a packet whose checksum the sender left to offload gets it
    /// completed, so the capture holds valid packets.
    func receive(batch: PacketBatch, forCapture: Bool) throws(LinkError) -> Int
    /// Sends the `batch.count` packets of `batch`; returns how many the link had no room for
    /// (dropped, left to TCP like any loss); throws on a hard error.
    func send(batch: PacketBatch) throws(LinkError) -> Int
    /// The largest super-segment (IPv4 packet) the link splits itself, for
    /// `ConnectionConfig.segmentationOffloadBytes`; 0 when every packet must fit the MTU.
    var segmentationOffloadBytes: Int { get }
}

extension PacketLink {
    /// Plain links carry packets as they are.
    package var segmentationOffloadBytes: Int { 0 }

    /// One `receive(into:)` per packet (links without a batch system call).
    package func receive(batch: PacketBatch, forCapture: Bool) throws(LinkError) -> Int {
        try receiveOneAtATime(batch)
    }

    /// Fills `batch` with one `receive(into:)` per packet, until nothing waits or it is full.
    package func receiveOneAtATime(_ batch: PacketBatch) throws(LinkError) -> Int {
        batch.count = 0
        while batch.count < batch.capacity, let n = try receive(into: batch.slot(batch.count)) {
            batch.lengths[batch.count] = UInt32(n)
            batch.count += 1
        }
        return batch.count
    }

    /// One `send(_:)` per packet.
    package func send(batch: PacketBatch) throws(LinkError) -> Int {
        var dropped = 0
        for i in 0..<batch.count {
            if try !send(batch.packet(i)) { dropped += 1 }
        }
        return dropped
    }
}

/// A link failure that stops the run loop, with a one-line message naming the fix.
package struct LinkError: Error, CustomStringConvertible, Sendable {
    package var description: String
    package init(_ description: String) { self.description = description }

    /// `operation failed: strerror(errno)`.
    package static func system(_ operation: String, _ code: Int32) -> LinkError {
        LinkError("\(operation) failed: \(errorText(code))")
    }
}

/// `strerror(code)` as a Swift string.
package func errorText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}

/// Sets `O_NONBLOCK` on `fd`.
package func setNonblocking(_ fd: Int32) -> Bool {
    let flags = fcntl(fd, F_GETFL)
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0
}
