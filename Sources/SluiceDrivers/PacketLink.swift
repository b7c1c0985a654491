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
