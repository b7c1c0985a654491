import SluiceCore
import Testing
@testable import SluiceHarness

/// `RawPacketNode`, the engine-less node of the link and harness tests: what it sends must be
/// exactly what was queued, or every digest and link test built on it measures garbage.
@Suite struct RawPacketNodeTests {
    /// Regression (release-only): `pollTransmit` used to copy from a pointer escaped out of
    /// `withUnsafeBytes { $0 }` after `outbox.removeFirst()` had dropped the outbox's reference,
    /// so the packet's array could be freed before the copy read it. In release builds the
    /// optimizer releases it right after the closure returns; glibc's `free` then writes the
    /// chunk's size into its last eight bytes (the next chunk's `prev_size`) when the chunk goes
    /// to an unsorted bin, so a packet ending there left with a wrong tail, and the harness
    /// digest of seed 99 differed between two runs in one process.
    ///
    /// Here the node holds the only reference to each packet, and the packets leave back to back
    /// with no allocation in between (so the allocator's per-size caches fill and later frees
    /// reach the bins that write into the chunk), in every length from a bare header to a full
    /// Ethernet frame (so some packet ends on every byte of a chunk's footer).
    @Test func pollTransmitWritesTheQueuedBytesWhenItHoldsTheOnlyReference() {
        let node = RawPacketNode()
        let lengths = Array(minimumLength...maximumLength)
        for (tag, length) in lengths.enumerated() {
            node.send(Self.packet(tag: tag, length: length))
        }
        let total = lengths.reduce(0, +)
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: total, alignment: 16)
        defer { out.deallocate() }
        var sizes: [Int] = []
        sizes.reserveCapacity(lengths.count + 1)
        var offset = 0
        while let n = node.pollTransmit(into: UnsafeMutableRawBufferPointer(rebasing: out[offset...]), at: .zero) {
            sizes.append(n)
            offset += n
            if offset >= total { break }
        }
        #expect(sizes == lengths)
        #expect(node.pollTransmit(into: out, at: .zero) == nil)
        var wrong: [String] = []
        offset = 0
        for (tag, length) in zip(sizes.indices, sizes) {
            let sent = Array(out[offset..<(offset + length)])
            if sent != Self.packet(tag: tag, length: length) {
                let first = zip(sent, Self.packet(tag: tag, length: length)).enumerated().first { $0.element.0 != $0.element.1 }
                wrong.append("packet \(tag) (\(length) B): first wrong byte at \(first?.offset ?? -1)")
            }
            offset += length
        }
        #expect(wrong.isEmpty, "\(wrong.count) packets differ from what was queued: \(wrong.prefix(5))")
    }

    /// A packet whose every byte depends on its tag and position (the node does not parse it).
    static func packet(tag: Int, length: Int) -> [UInt8] {
        (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ tag &* 7 &+ 1) }
    }
}

/// A bare IPv4 + TCP header.
private let minimumLength = 40
/// An Ethernet-sized IPv4 packet.
private let maximumLength = 1500
