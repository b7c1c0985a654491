#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CSluiceAllocCounter
import SluiceCore

/// `sluice-bench engine`: two endpoints in one process, joined by a single packet buffer (each
/// packet goes straight from one endpoint's `pollTransmit` into the other's `receive`), moving
/// `--mib` MiB one way on the real monotonic clock, as smoltcp's `loopback_benchmark` does: a
/// timer wait costs real time. The applications write as much as the send ring takes and read
/// everything there is, each turn of the loop.
///
/// The baseline, measured in the same run: smoltcp's `loopback_benchmark` (1 GiB, 64 KiB
/// buffers, MTU 65535; built offline by `../shared/tools/smoltcp-bench`), run as a child
/// process after Sluice's transfer; when it is not found (or `--smoltcp off`), copying the same
/// bytes twice through ring-sized buffers (the copies the engine cannot avoid). Both figures
/// are printed, with the ratio.
///
/// Also reported: heap allocations per data segment in steady state (counted by the malloc
/// interposer linked into this executable, from a quarter of the transfer to its end), and the
/// data segments that had to wait for a timer (sent right after a `handleTimeout` that followed
/// a turn of the loop in which nothing moved): both should be 0.
enum EngineBench {
    static let command = BenchCommand(
        name: "engine",
        summary: "two endpoints in one process, real clock: payload Gbit/s vs smoltcp's loopback_benchmark (same run)",
        usage: "[--mib 1024] [--buffer-kib 64] [--mtu 65535] [--smoltcp PATH|off] [--json]",
        run: { run($0) })

    /// Where `../shared/tools/smoltcp-bench` leaves the binary by default (its OUTDIR /tmp/smoltcp-bench).
    static let defaultSmoltcpPaths = ["/tmp/smoltcp-bench/bin/loopback_benchmark"]

    static func run(_ arguments: [String]) -> Int32 {
        let options = BenchOptions(arguments, known: ["--mib", "--buffer-kib", "--mtu", "--smoltcp"], flags: ["--json"])
        guard options.unknown.isEmpty,
              let mib = options.int("--mib", default: 1024), mib > 0, mib <= 1 << 16,
              let bufferKiB = options.int("--buffer-kib", default: 64), bufferKiB >= 4, bufferKiB <= 1 << 20,
              let mtu = options.int("--mtu", default: 65535), mtu >= 576, mtu <= 65535 else {
            return command.usageError()
        }
        let json = options.flag("--json")
        #if DEBUG
        if !json { print("warning: debug build; measure with `swift run -c release sluice-bench engine`") }
        #endif
        let total = mib << 20
        let bufferSize = bufferKiB << 10

        guard let result = transfer(total: total, bufferSize: bufferSize, mtu: mtu) else {
            print(json ? BenchJSON.failure(scenario: "engine", "transfer did not complete") : "engine: transfer did not complete")
            return 1
        }
        let gbps = Double(total) * 8 / result.seconds / 1e9
        let cpuGbps = Double(total) * 8 / Swift.max(result.cpuSeconds, 1e-9) / 1e9
        let memcpyGbps = memcpyBaseline(total: total, bufferSize: bufferSize)
        let smoltcp = smoltcpBaseline(options.string("--smoltcp"))
        let smoltcpCPUGbps = smoltcp.cpuSeconds.map { Double(smoltcpBytes) * 8 / Swift.max($0, 1e-9) / 1e9 }
        let baselineGbps = smoltcp.gbps ?? memcpyGbps
        let baselineName = smoltcp.gbps == nil ? "2x memcpy" : "smoltcp loopback_benchmark"
        let allocsPerSegment = result.steadyAllocations.map { Double($0) / Double(Swift.max(result.steadySegments, 1)) }

        if json {
            var o = BenchJSON(scenario: "engine", gbps: gbps, baseline: baselineGbps)
            o.add(["baseline": baselineName, "smoltcp_gbps": smoltcp.gbps, "cpu_gbps": cpuGbps,
                   "smoltcp_cpu_gbps": smoltcpCPUGbps, "cpu_ratio": smoltcpCPUGbps.map { cpuGbps / $0 },
                   "cpu_seconds": result.cpuSeconds, "memcpy_gbps": memcpyGbps, "mib": mib, "mtu": mtu,
                   "buffer_kib": bufferKiB, "seconds": result.seconds, "data_segments": result.segments,
                   "packets": result.packets, "ns_per_packet": result.seconds * 1e9 / Double(Swift.max(result.packets, 1)),
                   "allocs_per_segment": allocsPerSegment, "timer_waits": result.timerWaits,
                   "timer_waited_segments": result.timerWaitedSegments, "idle_seconds": result.idleSeconds])
            print(o.text)
            return 0
        }
        print("engine: \(formatted(gbps)) Gbit/s payload; \(mib) MiB, MTU \(mtu), rings \(bufferKiB) KiB, real clock")
        if let s = smoltcp.gbps {
            print("engine: baseline smoltcp loopback_benchmark \(formatted(s)) Gbit/s (same run); ratio \(formatted(gbps / s, 3))")
        }
        if let s = smoltcpCPUGbps {
            print("engine: per CPU second (a loaded machine steals wall time): Sluice \(formatted(cpuGbps)) Gbit/s, smoltcp \(formatted(s)) Gbit/s; ratio \(formatted(cpuGbps / s, 3))")
        } else {
            print("engine: per CPU second: \(formatted(cpuGbps)) Gbit/s")
        }
        if smoltcp.gbps == nil {
            print("engine: smoltcp baseline not run (\(smoltcp.note)); build it with ../shared/tools/smoltcp-bench")
        }
        print("engine: 2× memcpy through \(bufferKiB) KiB buffers \(formatted(memcpyGbps)) Gbit/s; ratio \(formatted(gbps / memcpyGbps, 3))")
        print("engine: \(result.segments) data segments, \(result.packets) packets both ways, \(formatted(result.seconds * 1e9 / Double(Swift.max(result.packets, 1)), 0)) ns per packet")
        print("engine: heap allocations per data segment (steady state): \(allocsPerSegment.map { formatted($0, 4) } ?? "not counted")")
        print("engine: data segments that waited on a timer: \(result.timerWaitedSegments) (after \(result.timerWaits) timer waits, \(formatted(result.idleSeconds * 1000, 3)) ms idle)")
        return 0
    }

    struct Result {
        var seconds = 0.0
        /// CPU time of the transferring thread.
        var cpuSeconds = 0.0
        var segments = 0
        var packets = 0
        var timerWaits = 0
        var timerWaitedSegments = 0
        var idleSeconds = 0.0
        /// Allocations and data segments from a quarter of the transfer to its end.
        var steadyAllocations: UInt64?
        var steadySegments = 0
    }

    /// The monotonic clock as an `Instant` (nanoseconds).
    static func monotonicNow() -> Instant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Instant(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }

    /// CPU time of the calling thread, in seconds.
    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// What smoltcp's `loopback_benchmark` moves: 1 GiB.
    static let smoltcpBytes = 1 << 30

    /// Payload bytes of an IPv4/TCP packet (0 for anything shorter than the headers say).
    static func payloadLength(_ p: UnsafeRawBufferPointer) -> Int {
        guard p.count >= 40 else { return 0 }
        let ihl = Int(p[0] & 0x0F) * 4
        guard p.count >= ihl + 20 else { return 0 }
        let doff = Int(p[ihl + 12] >> 4) * 4
        return Swift.max(0, p.count - ihl - doff)
    }

    static func transfer(total: Int, bufferSize: Int, mtu: Int) -> Result? {
        func config(_ address: IPv4Address, _ iss: UInt32) -> EndpointConfig {
            var c = EndpointConfig(localAddress: address) { _, _ in SequenceNumber(iss) }
            c.connection.sendBufferSize = bufferSize
            c.connection.receiveBufferSize = bufferSize
            c.connection.mtu = mtu
            return c
        }
        let addressB = IPv4Address(10, 9, 0, 2)
        let a = Endpoint(config: config(IPv4Address(10, 9, 0, 1), 1))
        let b = Endpoint(config: config(addressB, 2))
        do { try b.listen(port: 5001) } catch { return nil }
        let start = monotonicNow()
        let cpuStart = threadCPUSeconds()
        guard let client = try? a.connect(to: SocketAddress(addressB, 5001), at: start) else { return nil }

        let packet = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
        let appOut = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        let appIn = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { packet.deallocate(); appOut.deallocate(); appIn.deallocate() }
        appOut.initializeMemory(as: UInt8.self, repeating: 0x5A)
        var server: ConnectionID?
        var written = 0
        var received = 0
        var result = Result()
        var idleSince: Instant?
        var lastProgress = start
        let warmUp = total / 4
        var steadyStart: (allocations: UInt64, segments: Int)?

        while received < total {
            let now = monotonicNow()
            var timerRan = false
            if let d = a.nextDeadline, d <= now { a.handleTimeout(at: now); timerRan = true }
            if let d = b.nextDeadline, d <= now { b.handleTimeout(at: now); timerRan = true }
            var moved = true
            var anything = false
            var segmentsThisTurn = 0
            while moved {
                moved = false
                while written < total {
                    let want = Swift.min(appOut.count, total - written)
                    let n = a.write(client, UnsafeRawBufferPointer(rebasing: appOut[0..<want]))
                    if n == 0 { break }
                    written += n
                    moved = true
                }
                while let n = a.pollTransmit(into: packet, at: now) {
                    let bytes = UnsafeRawBufferPointer(rebasing: packet[0..<n])
                    b.receive(bytes, at: now)
                    result.packets += 1
                    if payloadLength(bytes) > 0 { segmentsThisTurn += 1 }
                    moved = true
                }
                while let n = b.pollTransmit(into: packet, at: now) {
                    a.receive(UnsafeRawBufferPointer(rebasing: packet[0..<n]), at: now)
                    result.packets += 1
                    moved = true
                }
                while a.pollEvent() != nil {}
                while b.pollEvent() != nil {}
                if server == nil { server = b.accept(port: 5001) }
                if let s = server {
                    while true {
                        let n = b.read(s, into: appIn)
                        if n == 0 { break }
                        received += n
                        moved = true
                    }
                }
                anything = anything || moved
            }
            result.segments += segmentsThisTurn
            if anything {
                if let since = idleSince {
                    result.idleSeconds += (now - since).secondsDouble
                    if timerRan && segmentsThisTurn > 0 {
                        result.timerWaits += 1
                        result.timerWaitedSegments += segmentsThisTurn
                    }
                    idleSince = nil
                }
                lastProgress = now
                if steadyStart == nil && received >= warmUp {
                    steadyStart = (sluice_allocation_count(), result.segments)
                }
            } else {
                if idleSince == nil { idleSince = now }
                if now - lastProgress > .seconds(30) { return nil }
            }
        }
        let end = monotonicNow()
        result.seconds = Swift.max((end - start).secondsDouble, 1e-9)
        result.cpuSeconds = threadCPUSeconds() - cpuStart
        if let s = steadyStart, s.allocations != UInt64.max {
            result.steadyAllocations = sluice_allocation_count() &- s.allocations
            result.steadySegments = result.segments - s.segments
        }
        return result
    }

    /// The two unavoidable copies (application → send ring, receive ring → application) of the
    /// same bytes, through buffers of the ring's size. Gbit/s of payload.
    static func memcpyBaseline(total: Int, bufferSize: Int) -> Double {
        let source = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        let ring = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { source.deallocate(); ring.deallocate() }
        source.initializeMemory(as: UInt8.self, repeating: 0x5A)
        ring.initializeMemory(as: UInt8.self, repeating: 0)
        let start = monotonicNow()
        var copied = 0
        while copied < total {
            ring.copyMemory(from: UnsafeRawBufferPointer(source))
            source.copyMemory(from: UnsafeRawBufferPointer(ring))
            copied += bufferSize
        }
        let seconds = Swift.max((monotonicNow() - start).secondsDouble, 1e-9)
        return Double(total) * 8 / seconds / 1e9
    }

    /// Runs smoltcp's `loopback_benchmark` (its own fixed setup: 1 GiB, 64 KiB buffers, MTU
    /// 65535) and reads its "bandwidth is N Gbps" line.
    /// Also returns the child's CPU time (user + system, `getrusage(RUSAGE_CHILDREN)`).
    static func smoltcpBaseline(_ requested: String?) -> (gbps: Double?, cpuSeconds: Double?, note: String) {
        if requested == "off" { return (nil, nil, "--smoltcp off") }
        let candidates = requested.map { [$0] } ?? defaultSmoltcpPaths
        guard let path = candidates.first(where: { access($0, X_OK) == 0 }) else {
            return (nil, nil, "no executable at \(candidates.joined(separator: ", "))")
        }
        func childCPU() -> Double {
            var usage = rusage()
            getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usage)
            return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
                + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        }
        let cpuBefore = childCPU()
        guard let pipe = popen("'\(path)' 2>/dev/null", "r") else { return (nil, nil, "could not start \(path)") }
        var output = ""
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), pipe) != nil {
            output += String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        let status = pclose(pipe)
        let cpu = childCPU() - cpuBefore
        guard status == 0, let range = output.firstRange(of: "bandwidth is ") else {
            return (nil, nil, "\(path) gave no bandwidth line (status \(status))")
        }
        let number = output[range.upperBound...].prefix { $0.isNumber || $0 == "." }
        guard let value = Double(number) else { return (nil, nil, "unreadable: \(output)") }
        return (value, cpu, path)
    }
}
