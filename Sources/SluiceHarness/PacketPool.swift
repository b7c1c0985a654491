/// Storage for packets in flight on the links, recycled so that steady-state traffic allocates
/// nothing per packet (the harness must not hide the engine's own allocation behaviour).
/// Slots come in power-of-two size classes from 128 bytes to 64 KiB.
final class PacketPool {
    private var buffers: [UnsafeMutableRawPointer] = []
    private var lengths: [Int] = []
    private var classes: [Int] = []
    private var free: [[Int]] = Array(repeating: [], count: maxClass + 1)

    init() {}

    deinit {
        for b in buffers { b.deallocate() }
    }

    /// Copies `bytes` into a slot and returns the slot's index.
    func store(_ bytes: UnsafeRawBufferPointer) -> Int {
        let c = Self.sizeClass(bytes.count)
        let slot: Int
        if let s = free[c].popLast() {
            slot = s
        } else {
            let p = UnsafeMutableRawPointer.allocate(byteCount: 1 << c, alignment: 16)
            buffers.append(p)
            lengths.append(0)
            classes.append(c)
            slot = buffers.count - 1
        }
        if let base = bytes.baseAddress, bytes.count > 0 {
            buffers[slot].copyMemory(from: base, byteCount: bytes.count)
        }
        lengths[slot] = bytes.count
        return slot
    }

    func bytes(_ slot: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: buffers[slot], count: lengths[slot])
    }

    func release(_ slot: Int) {
        free[classes[slot]].append(slot)
    }

    /// Slots ever allocated (the pool's high-water mark).
    var capacity: Int { buffers.count }

    private static func sizeClass(_ n: Int) -> Int {
        var c = minClass
        while (1 << c) < n && c < maxClass { c += 1 }
        return c
    }
}

/// 128 bytes: a pure ACK with options fits.
private let minClass = 7
/// 64 KiB: the largest IPv4 packet.
private let maxClass = 16
