#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CSluiceSystem
import SluiceCore

/// The UDP-on-loopback link: each raw IPv4 packet travels as one UDP datagram on 127.0.0.1, so
/// two Sluice processes can talk without root or a TUN device.
///
/// Contract (shared by sluice-send and sluice-recv):
/// - the receiving side binds UDP 127.0.0.1 at the TCP port it listens on (or `--udp-port`);
/// - the sending side sends from an ephemeral UDP port to 127.0.0.1 at the TCP port it connects
///   to (or `--udp-port`).
/// A bound link answers each TCP peer at the UDP address that peer's packets came from (learned
/// per TCP source address and port, in a table of at most `peerLimit` entries).
package final class UDPLink: PacketLink {
    package let fileDescriptor: Int32
    package let label: String
    /// Set when the kernel reported that nothing listens at the peer's UDP port.
    package private(set) var peerRefused = false

    private var peers = PeerTable<sockaddr_in>(limit: peerLimit)
    private var connected: Bool
    /// Per-datagram addresses for `recvmmsg` (sources) and `sendmmsg` (destinations).
    private let batchAddresses = UnsafeMutableBufferPointer<sockaddr_in>.allocate(capacity: Int(SLUICE_BATCH_MAX))

    /// Binds 127.0.0.1:`port` (the receiving side).
    package init(bindingLoopbackPort port: UInt16) throws(LinkError) {
        let fd = try UDPLink.makeSocket()
        if let code = UDPLink.attach(fd, port: port, { bind($0, $1, $2) }) {
            if code == EADDRINUSE {
                throw LinkError("UDP 127.0.0.1:\(port) is already in use: stop the other receiver or pick another port (--udp-port)")
            }
            throw .system("bind UDP 127.0.0.1:\(port)", code)
        }
        fileDescriptor = fd
        label = "udp 127.0.0.1:\(port)"
        connected = false
    }

    /// Sends to 127.0.0.1:`port` from an ephemeral port (the connecting side).
    package init(connectingToLoopbackPort port: UInt16) throws(LinkError) {
        let fd = try UDPLink.makeSocket()
        if let code = UDPLink.attach(fd, port: port, { connect($0, $1, $2) }) {
            throw .system("connect UDP 127.0.0.1:\(port)", code)
        }
        fileDescriptor = fd
        label = "udp 127.0.0.1:\(port)"
        connected = true
    }

    deinit {
        close(fileDescriptor)
        batchAddresses.deallocate()
    }

    /// `bind` or `connect` (`call`) `fd` to 127.0.0.1:`port`; on failure closes `fd` and returns
    /// the errno.
    private static func attach(_ fd: Int32, port: UInt16,
                               _ call: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32? {
        var address = loopback(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result != 0 else { return nil }
        let code = errno
        close(fd)
        return code
    }

    private static func makeSocket() throws(LinkError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("socket(AF_INET, SOCK_DGRAM)", errno) }
        guard setNonblocking(fd) else {
            let code = errno
            close(fd)
            throw .system("fcntl O_NONBLOCK", code)
        }
        // Room for a few windows of datagrams; as root the FORCE variants pass rmem_max.
        var size = Int32(socketBufferBytes)
        let length = socklen_t(MemoryLayout<Int32>.size)
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, length) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, length)
        }
        if setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, length) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, length)
        }
        return fd
    }

    package func receive(into buffer: UnsafeMutableRawBufferPointer) throws(LinkError) -> Int? {
        var from = sockaddr_in()
        var fromLength = socklen_t(MemoryLayout<sockaddr_in>.size)
        while true {
            let n = withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(fileDescriptor, buffer.baseAddress, buffer.count, 0, $0, &fromLength)
                }
            }
            if n >= 0 {
                if !connected { peers.learn(packet: UnsafeRawBufferPointer(rebasing: buffer[..<n]), from: from) }
                return n
            }
            switch errno {
            case EINTR: continue
            case EAGAIN: return nil
            case ECONNREFUSED:
                peerRefused = true
                return nil
            case let code: throw .system("recvfrom on \(label)", code)
            }
        }
    }

    package func send(_ packet: UnsafeRawBufferPointer) throws(LinkError) -> Bool {
        while true {
            let n: Int
            if connected {
                n = Glibc.send(fileDescriptor, packet.baseAddress, packet.count, 0)
            } else {
                guard var to = peers.address(for: packet) else { return false }
                n = withUnsafePointer(to: &to) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fileDescriptor, packet.baseAddress, packet.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            if n >= 0 { return true }
            switch errno {
            case EINTR: continue
            case EAGAIN, ENOBUFS: return false
            case ECONNREFUSED:
                peerRefused = true
                return false
            case let code: throw .system("send on \(label)", code)
            }
        }
    }

    /// Many datagrams per `recvmmsg` (one system call for up to `batch.capacity` packets).
    package func receive(batch: PacketBatch, forCapture: Bool) throws(LinkError) -> Int {
        batch.count = 0
        let n = sluice_recv_batch(fileDescriptor, batch.storage.baseAddress, UInt(batch.slotSize), UInt32(batch.capacity),
                                  batch.lengths.baseAddress, connected ? nil : batchAddresses.baseAddress)
        if n < 0 {
            if errno == ECONNREFUSED {
                peerRefused = true
                return 0
            }
            throw .system("recvmmsg on \(label)", errno)
        }
        batch.count = Int(n)
        if !connected {
            for i in 0..<batch.count { peers.learn(packet: batch.packet(i), from: batchAddresses[i]) }
        }
        return batch.count
    }

    /// Many datagrams per `sendmmsg`; a packet whose TCP peer has no known UDP address, or that
    /// finds the socket buffer full, is dropped (counted by the caller; TCP recovers it).
    package func send(batch: PacketBatch) throws(LinkError) -> Int {
        var dropped = 0
        var start = 0
        if !connected {
            // Destinations in place; packets to unknown peers are dropped by moving the rest up.
            var kept = 0
            for i in 0..<batch.count {
                guard let to = peers.address(for: batch.packet(i)) else {
                    dropped += 1
                    continue
                }
                if kept != i {
                    batch.slot(kept).copyMemory(from: batch.packet(i))
                    batch.lengths[kept] = batch.lengths[i]
                }
                batchAddresses[kept] = to
                kept += 1
            }
            batch.count = kept
        }
        while start < batch.count {
            let storage = batch.storage.baseAddress.map { UnsafeRawPointer($0 + start * batch.slotSize) }
            let lengths = batch.lengths.baseAddress.map { UnsafePointer($0 + start) }
            let addresses = connected ? nil : batchAddresses.baseAddress.map { UnsafePointer($0 + start) }
            let n = sluice_send_batch(fileDescriptor, storage, UInt(batch.slotSize), UInt32(batch.count - start), lengths, addresses)
            if n > 0 {
                start += Int(n)
                continue
            }
            if n < 0 {
                switch errno {
                case ENOBUFS: break
                case ECONNREFUSED: peerRefused = true
                case let code: throw .system("sendmmsg on \(label)", code)
                }
            }
            // The socket buffer is full (or the peer is gone): the rest is dropped.
            dropped += batch.count - start
            break
        }
        return dropped
    }

}

@available(*, unavailable)
extension UDPLink: Sendable {}

/// The TCP source (or destination) address and port of an IPv4/TCP packet; `nil` if it is not one.
package func tcpEndpoint(of packet: UnsafeRawBufferPointer, source: Bool) -> SocketAddress? {
    guard packet.count >= 20, packet[0] >> 4 == 4, packet[9] == 6 else { return nil }
    let headerLength = Int(packet[0] & 0x0f) * 4
    guard headerLength >= 20, packet.count >= headerLength + 4 else { return nil }
    let a = source ? 12 : 16
    let ip = UInt32(packet[a]) << 24 | UInt32(packet[a + 1]) << 16 | UInt32(packet[a + 2]) << 8 | UInt32(packet[a + 3])
    let p = headerLength + (source ? 0 : 2)
    let port = UInt16(packet[p]) << 8 | UInt16(packet[p + 1])
    return SocketAddress(IPv4Address(rawValue: ip), port)
}

private func loopback(port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)
    return address
}

/// The most TCP peers a bound link remembers (the engine's default connection limit).
private let peerLimit = 64
/// Socket buffer size: a few 256 KiB windows of datagrams, so loopback bursts are not dropped.
private let socketBufferBytes = 4 * 1024 * 1024
