#if canImport(Glibc)
import Glibc
#endif
import SluiceCore
import SluiceHarness

/// `sluice-bench loopback`: goodput of an in-memory transfer through two endpoints joined by an
/// ideal harness link (no latency, no rate limit, no impairment), against a baseline measured in
/// the same run: the same bytes generated the same way, copied into a ring of the send buffer's
/// size and out again (what any stack must do at least: app → buffer → app).
///
/// Times are this thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not the wall clock: on a
/// shared machine the wall clock mostly measures the other processes. Rounds interleave the
/// baseline and the engine.
///
/// The harness's per-step checks (node invariants, wire window check, digest) are off, so the
/// figure is the engine plus the harness's event loop and one packet copy per link hop.
enum LoopbackBench {
    static let command = BenchCommand(
        name: "loopback",
        summary: "in-memory transfer goodput (two endpoints, ideal link) vs memcpy through a ring",
        usage: "[--mib 1024] [--buffer-kib 1024] [--mtu 1500] [--rounds 3] [--verify 0|1] [--checks 0|1]",
        run: { run($0) })

    static func run(_ arguments: [String]) -> Int32 {
        let options = BenchOptions(arguments, known: ["--mib", "--buffer-kib", "--mtu", "--rounds", "--verify", "--checks"])
        guard options.unknown.isEmpty,
              let mib = options.int("--mib", default: defaultMiB), mib > 0,
              let bufferKiB = options.int("--buffer-kib", default: defaultBufferKiB), bufferKiB > 0,
              let mtu = options.int("--mtu", default: defaultMTU), mtu >= 576, mtu <= 65535,
              let rounds = options.int("--rounds", default: defaultRounds), rounds > 0,
              let verify = options.int("--verify", default: 0),
              let checks = options.int("--checks", default: 0) else {
            return command.usageError()
        }
        #if DEBUG
        print("warning: debug build; measure with `swift run -c release sluice-bench loopback`")
        #endif
        let count = mib * 1024 * 1024
        let buffer = bufferKiB * 1024
        var bestBaseline = 0.0
        var bestEngine = 0.0
        var last: EngineRun?
        for _ in 0..<rounds {
            bestBaseline = max(bestBaseline, baseline(count: count, ring: buffer))
            guard let r = engine(count: count, buffer: buffer, mtu: mtu, verify: verify != 0, checks: checks != 0) else { return 1 }
            bestEngine = max(bestEngine, r.bitsPerSecond)
            last = r
        }
        guard let last else { return 1 }
        print("loopback, \(mib) MiB, buffers \(bufferKiB) KiB, MTU \(mtu), best of \(rounds) (thread CPU time):")
        print("  baseline: fill + copy through a ring   \(formatted(bestBaseline / 1e9)) Gbit/s")
        print("  engine: two endpoints, ideal link      \(formatted(bestEngine / 1e9)) Gbit/s goodput"
              + "  (\(last.dataSegments) data segments, \(last.packets) packets, \(formatted(last.nanosecondsPerSegment, 1)) ns/segment)")
        print("  ratio engine/baseline                  \(formatted(bestEngine / bestBaseline, 3))")
        print("  reference: smoltcp in-memory loopback 8.6 Gbit/s (another machine; compare the ratio)")
        print("  harness packet slots allocated: \(last.packetSlots) (recycled: allocations do not grow with the transfer)")
        return 0
    }

    /// Bits per second of: stream bytes generated into a 64 KiB chunk, written into a ring of
    /// `ring` bytes, read out into a 64 KiB buffer, until `count` bytes went through.
    static func baseline(count: Int, ring capacity: Int) -> Double {
        let stream = ByteStream(seed: 1)
        let ring = ByteRing(capacity: capacity)
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: defaultChunk, alignment: 16)
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: defaultChunk, alignment: 16)
        defer { chunk.deallocate(); out.deallocate() }
        var written = 0
        var read = 0
        var sink: UInt8 = 0
        let start = threadCPUSeconds()
        while read < count {
            if written < count {
                let n = min(defaultChunk, count - written, ring.freeSpace)
                if n > 0 {
                    stream.fill(UnsafeMutableRawBufferPointer(rebasing: chunk[0..<n]), from: written)
                    written += ring.write(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
                }
            }
            let m = ring.read(into: out)
            if m > 0 { sink ^= out[m - 1] }
            read += m
        }
        let elapsed = threadCPUSeconds() - start
        if sink == 0x5a { print("", terminator: "") }
        return Double(count) * 8 / elapsed
    }

    struct EngineRun {
        var bitsPerSecond: Double
        var dataSegments: Int
        var packets: Int
        var packetSlots: Int
        var nanosecondsPerSegment: Double
    }

    static func engine(count: Int, buffer: Int, mtu: Int, verify: Bool, checks: Bool) -> EngineRun? {
        var options = Harness.Options()
        options.checkNodeInvariants = checks
        options.checkWireInvariants = checks
        options.computeDigest = false
        let net = Harness(seed: 1, options: options)
        let configure: (inout EndpointConfig) -> Void = { c in
            c.connection.sendBufferSize = buffer
            c.connection.receiveBufferSize = buffer
            c.connection.mtu = mtu
        }
        let client = net.addEndpoint("client", address: IPv4Address(10, 0, 0, 1), configure: configure)
        let server = net.addEndpoint("server", address: IPv4Address(10, 0, 0, 2), configure: configure)
        let (forward, backward) = net.connect(client, server, .ideal)
        let stream = ByteStream(seed: 1)
        let receiver = BulkReceiver(.accept(port: 5001), expecting: verify ? stream : nil, count: count, computeDigest: false)
        let sender = BulkSender(.connect(to: SocketAddress(server.address, 5001)), count: count, stream: stream)
        let start = threadCPUSeconds()
        do {
            try net.attach(receiver, to: server)
            try net.attach(sender, to: client)
            try net.run(until: { _ in receiver.isComplete })
        } catch {
            print("error: \(error)")
            return nil
        }
        let elapsed = threadCPUSeconds() - start
        let segments = forward.counters.sent
        return EngineRun(bitsPerSecond: Double(count) * 8 / elapsed, dataSegments: segments,
                         packets: forward.counters.sent + backward.counters.sent, packetSlots: net.packetStorageSlots,
                         nanosecondsPerSegment: elapsed * 1e9 / Double(max(1, segments)))
    }
}

/// CPU time this thread has used, in seconds.
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// 1 GiB: long enough that setup is noise.
private let defaultMiB = 1024
/// 1 MiB send and receive buffers: a window large enough that the ideal link is never the limit.
private let defaultBufferKiB = 1024
private let defaultMTU = 1500
private let defaultRounds = 3
