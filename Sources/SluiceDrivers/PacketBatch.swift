import CSluiceSystem
import SluiceCore

/// Fixed slots for moving many packets per system call (`recvmmsg`/`sendmmsg` on the UDP link,
/// a read or write loop on a TUN device): `capacity` slots of `slotSize` bytes, allocated once,
/// each with its packet's length. The run loop fills it from `pollTransmit` or from the link and
/// walks it; nothing is allocated per packet.
///
/// Not thread-safe: the run loop's thread owns it.
package final class PacketBatch {
    package let capacity: Int
    package let slotSize: Int
    /// The slots, back to back (slot `i` starts at `i × slotSize`).
    package let storage: UnsafeMutableRawBufferPointer
    /// The length of the packet in each slot (`UInt32`, as the C batch calls take them).
    package let lengths: UnsafeMutableBufferPointer<UInt32>
    /// For each slot, 0 for a plain packet, or the segment size (the kernel's `gso_size`) of a
    /// TCP super-segment (`Endpoint.pollTransmitPacket`; the TUN offload mode writes it as one).
    package let segmentSizes: UnsafeMutableBufferPointer<UInt16>
    /// For each slot of a received packet, whether the link vouched for its TCP checksum (the
    /// TUN offload mode, `TUNDevice`); `.unverified` unless a link sets it.
    package let checksums: UnsafeMutableBufferPointer<LinkChecksum>
    /// How many slots hold packets.
    package var count = 0

    package init(capacity: Int = PacketBatch.defaultCapacity, slotSize: Int = PacketBatch.defaultSlotSize) {
        self.capacity = max(1, min(capacity, Int(SLUICE_BATCH_MAX)))
        self.slotSize = max(1, slotSize)
        storage = .allocate(byteCount: self.capacity * self.slotSize, alignment: 16)
        lengths = .allocate(capacity: self.capacity)
        lengths.initialize(repeating: 0)
        segmentSizes = .allocate(capacity: self.capacity)
        segmentSizes.initialize(repeating: 0)
        checksums = .allocate(capacity: self.capacity)
        checksums.initialize(repeating: .unverified)
    }

    deinit {
        storage.deallocate()
        lengths.deallocate()
        segmentSizes.deallocate()
        checksums.deallocate()
    }

    /// The whole of slot `i`, to write a packet into.
    package func slot(_ i: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: storage[(i * slotSize)..<((i + 1) * slotSize)])
    }

    /// The packet in slot `i`.
    package func packet(_ i: Int) -> UnsafeRawBufferPointer {
        let start = i * slotSize
        return UnsafeRawBufferPointer(rebasing: storage[start..<(start + Int(lengths[i]))])
    }

    /// Larger than any IPv4 packet (65535) plus a virtio-net header, so no packet is truncated.
    package static let defaultSlotSize = 65_536 + 64
    /// Packets per system call: enough to amortize the call (≈135 ns, FIELD-NOTES.md) over many
    /// packets, small enough that a batch of full-size slots stays in a few MiB.
    package static let defaultCapacity = 64
}

@available(*, unavailable)
extension PacketBatch: Sendable {}
