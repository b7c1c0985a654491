#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CSluiceSystem

/// A Linux TUN device carrying raw IPv4 packets (`IFF_TUN | IFF_NO_PI`: no packet-information
/// header, one IP packet per `read`/`write`).
///
/// `init(name:)` attaches to the named device, creating it if absent (a created device is down
/// and has no address until someone configures it: tools/netns-tun does). The descriptor is
/// nonblocking; the run loop polls it.
///
/// With `offload` (`--offload`) the device is opened with `IFF_VNET_HDR` and
/// `TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4)`: packets carry a virtio-net header and may be TCP
/// super-segments both ways (`TUNOffload.swift`).
package final class TUNDevice: PacketLink {
    package let name: String
    package let fileDescriptor: Int32
    package let offload: Bool
    package var label: String { offload ? "tun \(name) (offload)" : "tun \(name)" }
    /// Offload mode: packets read whose checksum offsets did not fit them (dropped).
    package private(set) var badOffloadPackets = 0
    /// Offload mode: super-segments read and written.
    package private(set) var superSegmentsReceived = 0
    package private(set) var superSegmentsSent = 0
    /// The virtio-net header of the packet being read or written.
    private let vnetHeader = UnsafeMutableRawBufferPointer.allocate(byteCount: VirtioNetHeader.size, alignment: 8)

    package init(name: String, offload: Bool = false) throws(TUNError) {
        try TUNDevice.validate(name: name)
        let fd = open(tunClonePath, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            switch code {
            case ENOENT: throw .noCloneDevice
            case ENXIO, ENODEV: throw .moduleMissing
            case EPERM, EACCES: throw .notPermitted(name: name)
            default: throw .system(operation: "open \(tunClonePath)", code: code)
            }
        }
        // struct ifreq: ifr_name[IFNAMSIZ] then `short ifr_flags` (offsets checked by
        // _Static_assert in CSluiceSystem), little-endian on x86_64 and arm64.
        var request = [UInt8](repeating: 0, count: ifreqSize)
        for (i, byte) in name.utf8.enumerated() { request[i] = byte }
        let flags = UInt16(iffTun | iffNoPI | (offload ? iffVnetHeader : 0))
        request[interfaceNameSize] = UInt8(flags & 0xff)
        request[interfaceNameSize + 1] = UInt8(flags >> 8)
        let result = request.withUnsafeMutableBytes { ioctl(fd, tunSetInterface, $0.baseAddress!) }
        if result < 0 {
            let code = errno
            close(fd)
            switch code {
            case EPERM, EACCES: throw .notPermitted(name: name)
            case EBUSY: throw .busy(name: name)
            case EINVAL: throw .notATunDevice(name: name)
            default: throw .system(operation: "TUNSETIFF \(name)", code: code)
            }
        }
        if offload, sluice_tun_set_offload(fd, sluice_TUN_F_CSUM | sluice_TUN_F_TSO4) != 0 {
            let code = errno
            close(fd)
            throw .system(operation: "TUNSETOFFLOAD \(name) (TUN_F_CSUM | TUN_F_TSO4)", code: code)
        }
        guard setNonblocking(fd) else {
            let code = errno
            close(fd)
            throw .system(operation: "fcntl O_NONBLOCK", code: code)
        }
        self.name = name
        self.fileDescriptor = fd
        self.offload = offload
        TUNDevice.awaitCarrier(name: name)
    }

    /// Attaching the first descriptor turns the device's carrier on, but Linux attaches its
    /// queueing discipline only when the link watcher has seen that (`linkwatch_do_dev` →
    /// `dev_activate`, run from a work queue): until then every packet the kernel sends into the
    /// device is dropped unseen, even by tcpdump on it. A SYN written at once was answered into
    /// that gap in about 3 of 20 runs here, so the connection began with a 1 s SYN timeout. So
    /// when the device is up, wait (at most 1 s) until it is running. A device that is down
    /// has nothing to wait for (it drops packets until someone configures it anyway).
    private static func awaitCarrier(name: String) {
        _ = sluice_await_interface_running(name, 1000)
    }

    deinit {
        close(fileDescriptor)
        vnetHeader.deallocate()
    }

    /// Interface names are 1–15 bytes (IFNAMSIZ − 1) without `/`, `:` or whitespace
    /// (the kernel's `dev_valid_name`).
    package static func validate(name: String) throws(TUNError) {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count < interfaceNameSize, name != ".", name != "..",
              !bytes.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") || $0 <= 0x20 || $0 >= 0x7f })
        else { throw .badName(name: name) }
    }

    package func receive(into buffer: UnsafeMutableRawBufferPointer) throws(LinkError) -> Int? {
        if offload { return try receiveWithHeader(into: buffer, completingChecksum: true).map(\.length) }
        while true {
            let n = read(fileDescriptor, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            switch errno {
            case EINTR: continue
            case EAGAIN: return nil
            case let code: throw .system("read from tun \(name)", code)
            }
        }
    }

    package func send(_ packet: UnsafeRawBufferPointer) throws(LinkError) -> Bool {
        try send(packet, segmentSize: 0)
    }

    /// One read per packet. Offload mode: a packet the kernel flagged `NEEDS_CSUM` or
    /// `DATA_VALID` is vouched for (`LinkChecksum.vouchedByLink`): it came from the local
    /// stack, not a wire, so the engine does not read its payload for a checksum, and a partial
    /// checksum is completed only for the capture.
    package func receive(batch: PacketBatch, forCapture: Bool) throws(LinkError) -> Int {
        guard offload else { return try receiveOneAtATime(batch) }
        batch.count = 0
        while batch.count < batch.capacity {
            guard let (length, vouched) = try receiveWithHeader(into: batch.slot(batch.count), completingChecksum: forCapture) else { break }
            batch.lengths[batch.count] = UInt32(length)
            batch.checksums[batch.count] = vouched ? .vouchedByLink : .unverified
            batch.count += 1
        }
        return batch.count
    }

    /// Offload mode: the engine may make super-segments of up to one IPv4 packet (65,535 bytes),
    /// which the kernel's GSO takes as the segments they stand for.
    package var segmentationOffloadBytes: Int { offload ? 65_535 : 0 }

    package func send(batch: PacketBatch) throws(LinkError) -> Int {
        var dropped = 0
        for i in 0..<batch.count {
            let size = offload ? Int(batch.segmentSizes[i]) : 0
            if size > 0 {
                superSegmentsSent += 1
                VirtioNetHeader.makeChecksumPartial(UnsafeMutableRawBufferPointer(rebasing: batch.slot(i)[..<Int(batch.lengths[i])]))
            }
            if try !send(batch.packet(i), segmentSize: size) { dropped += 1 }
        }
        return dropped
    }

    /// Offload mode: one `readv` of the virtio-net header and the packet; a partial checksum is
    /// completed when `completingChecksum`. Returns the length, 0 (skipped by the run loop) for
    /// a packet too short or with bad offsets, and whether the kernel vouched for its checksum.
    private func receiveWithHeader(into buffer: UnsafeMutableRawBufferPointer,
                                   completingChecksum: Bool) throws(LinkError) -> (length: Int, vouched: Bool)? {
        var vectors = (iovec(iov_base: vnetHeader.baseAddress, iov_len: VirtioNetHeader.size),
                       iovec(iov_base: buffer.baseAddress, iov_len: buffer.count))
        while true {
            let n = withUnsafeMutableBytes(of: &vectors) { readv(fileDescriptor, $0.baseAddress?.assumingMemoryBound(to: iovec.self), 2) }
            if n >= 0 {
                let length = n - VirtioNetHeader.size
                guard length > 0 else { return (0, false) }
                let packet = UnsafeMutableRawBufferPointer(rebasing: buffer[..<length])
                let header = UnsafeRawBufferPointer(vnetHeader)
                guard VirtioNetHeader.checksumFits(header, packet: UnsafeRawBufferPointer(packet)) else {
                    badOffloadPackets += 1
                    return (0, false)
                }
                if completingChecksum { VirtioNetHeader.completeChecksum(header, packet: packet) }
                if vnetHeader[1] & 0x7f == VirtioNetHeader.gsoTCPv4 { superSegmentsReceived += 1 }
                return (length, VirtioNetHeader.vouchesForChecksum(header))
            }
            switch errno {
            case EINTR: continue
            case EAGAIN: return nil
            case let code: throw .system("read from tun \(name)", code)
            }
        }
    }

    /// Writes one packet (offload mode: after its virtio-net header, in one `writev`).
    private func send(_ packet: UnsafeRawBufferPointer, segmentSize: Int) throws(LinkError) -> Bool {
        while true {
            let n: Int
            if offload {
                VirtioNetHeader.write(into: vnetHeader, packet: packet, segmentSize: segmentSize)
                var vectors = (iovec(iov_base: vnetHeader.baseAddress, iov_len: VirtioNetHeader.size),
                               iovec(iov_base: UnsafeMutableRawPointer(mutating: packet.baseAddress), iov_len: packet.count))
                n = withUnsafeMutableBytes(of: &vectors) { writev(fileDescriptor, $0.baseAddress?.assumingMemoryBound(to: iovec.self), 2) }
            } else {
                n = write(fileDescriptor, packet.baseAddress, packet.count)
            }
            if n >= 0 { return true }
            switch errno {
            case EINTR: continue
            // EAGAIN: queue full; EIO: the device is down (packets are dropped, as on a wire).
            case EAGAIN, EIO, ENOBUFS: return false
            case let code: throw .system("write to tun \(name)", code)
            }
        }
    }
}

@available(*, unavailable)
extension TUNDevice: Sendable {}

/// Why a TUN device could not be opened; each message is one line naming the fix.
package enum TUNError: Error, CustomStringConvertible, Sendable {
    case noCloneDevice
    case moduleMissing
    case notPermitted(name: String)
    case busy(name: String)
    case badName(name: String)
    case notATunDevice(name: String)
    case system(operation: String, code: Int32)

    package var description: String {
        switch self {
        case .noCloneDevice:
            return "\(tunClonePath) does not exist: create it with `mknod /dev/net/tun c 10 200` (or load the module: `modprobe tun`)"
        case .moduleMissing:
            return "\(tunClonePath) has no driver behind it: load the TUN module with `modprobe tun`"
        case .notPermitted(let name):
            return "not permitted to open TUN device '\(name)': run as root (sudo) or grant CAP_NET_ADMIN (`setcap cap_net_admin+ep BINARY`)"
        case .busy(let name):
            return "TUN device '\(name)' is busy: another process has it open; stop it or choose another --tun name"
        case .badName(let name):
            return "bad TUN device name '\(name)': use 1-15 characters without '/', ':' or spaces (e.g. tun0)"
        case .notATunDevice(let name):
            return "'\(name)' exists but is not a TUN device (IFF_TUN, no packet info): delete it (`ip link del \(name)`) or choose another --tun name"
        case .system(let operation, let code):
            return "\(operation) failed: \(errorText(code))"
        }
    }
}

private let tunClonePath = "/dev/net/tun"
private let tunSetInterface: UInt = sluice_TUNSETIFF
private let iffTun = Int32(sluice_IFF_TUN)
private let iffNoPI = Int32(sluice_IFF_NO_PI)
private let iffVnetHeader = Int32(sluice_IFF_VNET_HDR)
private let interfaceNameSize = Int(sluice_IFNAMSIZ)
private let ifreqSize = Int(sluice_ifreq_size)
