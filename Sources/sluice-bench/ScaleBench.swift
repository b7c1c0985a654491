#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CSluiceMalloc
import SluiceCore

/// `sluice-bench scale`: `--connections` connection pairs between two endpoints in one process
/// (each endpoint's table raised to hold them), on a virtual clock (time plays no part here).
/// Reports, from glibc's allocator (`mallinfo2`) and the kernel (`/proc/self/statm`):
/// - heap bytes per idle connection once all are established and nothing was sent (rings take
///   memory only while they hold data, so this is the connection state alone);
/// - resident bytes per idle pair after every pair carried `--kib` KiB once (all read), before
///   and after `malloc_trim(0)` (freed ring memory that stays resident counts);
/// - aggregate payload throughput with all pairs sending `--kib` KiB at once (CPU-bound, one
///   thread), against the engine scenario's figure for one connection in the same run.
enum ScaleBench {
    static let command = BenchCommand(
        name: "scale",
        summary: "N idle connections in one endpoint: heap per connection, RSS per pair after activity, all-active Gbit/s",
        usage: "[--connections 10000] [--kib 64] [--buffer-kib 256] [--json]",
        run: { run($0) })

    static func run(_ arguments: [String]) -> Int32 {
        let options = BenchOptions(arguments, known: ["--connections", "--kib", "--buffer-kib"], flags: ["--json"])
        guard options.unknown.isEmpty,
              let n = options.int("--connections", default: 10_000), n > 0, n <= 16_000,
              let kib = options.int("--kib", default: 64), kib > 0, kib <= 1024,
              let bufferKiB = options.int("--buffer-kib", default: 256), bufferKiB >= 4, bufferKiB <= 4096 else {
            return command.usageError()
        }
        let json = options.flag("--json")
        guard let r = measure(connections: n, bytesPerPair: kib << 10, bufferSize: bufferKiB << 10) else {
            print(json ? BenchJSON.failure(scenario: "scale", "connections did not complete") : "scale: connections did not complete")
            return 1
        }
        // Baseline in the same run: one connection moving the same total, same buffers.
        let total = n * (kib << 10)
        let single = EngineBench.transfer(total: total, bufferSize: bufferKiB << 10, mtu: 1500)
        let singleGbps = single.map { Double(total) * 8 / $0.seconds / 1e9 }
        let perConnection = Double(r.heapEstablished - r.heapStart) / Double(2 * n)
        let rssIdle = Double(Int(r.rssEstablished) - Int(r.rssStart)) / Double(n)
        let rssAfter = Double(Int(r.rssAfterActivity) - Int(r.rssStart)) / Double(n)
        let rssTrimmed = Double(Int(r.rssAfterTrim) - Int(r.rssStart)) / Double(n)
        if json {
            var o = BenchJSON(scenario: "scale", gbps: r.activeGbps, baseline: singleGbps)
            o.add(["baseline": "one connection, same bytes", "connections": n, "kib_per_pair": kib, "buffer_kib": bufferKiB,
                   "heap_bytes_per_idle_connection": perConnection, "rss_bytes_per_idle_pair": rssIdle,
                   "rss_bytes_per_idle_pair_after_activity": rssAfter, "rss_bytes_per_idle_pair_after_trim": rssTrimmed,
                   "heap_bytes_per_idle_connection_after_activity": Double(r.heapAfterActivity - r.heapStart) / Double(2 * n)])
            print(o.text)
            return 0
        }
        print("scale: \(formatted(r.activeGbps)) Gbit/s payload with \(n) pairs active at once (\(kib) KiB each, rings \(bufferKiB) KiB)")
        if let s = singleGbps {
            print("scale: baseline one connection, same \(formatted(Double(total) / 1_048_576, 1)) MiB: \(formatted(s)) Gbit/s (same run); ratio \(formatted(r.activeGbps / s, 3))")
        }
        print("scale: heap per idle connection (mallinfo2, \(2 * n) connections): \(formatted(perConnection, 0)) B")
        print("scale: RSS per idle pair: never used \(formatted(rssIdle, 0)) B; after \(kib) KiB each \(formatted(rssAfter, 0)) B; after malloc_trim \(formatted(rssTrimmed, 0)) B")
        print("scale: heap per idle connection after activity: \(formatted(Double(r.heapAfterActivity - r.heapStart) / Double(2 * n), 0)) B")
        return 0
    }

    struct Figures {
        var heapStart = 0, heapEstablished = 0, heapAfterActivity = 0
        var rssStart = 0, rssEstablished = 0, rssAfterActivity = 0, rssAfterTrim = 0
        var activeGbps = 0.0
    }

    static func measure(connections n: Int, bytesPerPair: Int, bufferSize: Int) -> Figures? {
        func config(_ address: IPv4Address) -> EndpointConfig {
            var c = EndpointConfig(localAddress: address) { tuple, _ in SequenceNumber(UInt32(tuple.local.port) &* 2_654_435_761) }
            c.maxConnections = n
            c.maxPendingEvents = 4 * n + 16
            c.connection.sendBufferSize = bufferSize
            c.connection.receiveBufferSize = bufferSize
            return c
        }
        var f = Figures()
        _ = sluice_heap_trim()
        f.heapStart = sluice_heap_in_use()
        f.rssStart = sluice_resident_bytes()
        let addressB = IPv4Address(10, 9, 0, 2)
        let a = Endpoint(config: config(IPv4Address(10, 9, 0, 1)))
        let b = Endpoint(config: config(addressB))
        // The tables themselves belong to the endpoints, not to the connections.
        f.heapStart = sluice_heap_in_use()
        f.rssStart = sluice_resident_bytes()
        do { try b.listen(port: 5001, backlog: n) } catch { return nil }
        var clients: [ConnectionID] = []
        var servers: [ConnectionID] = []
        clients.reserveCapacity(n)
        servers.reserveCapacity(n)
        let packet = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { packet.deallocate(); chunk.deallocate() }
        chunk.initializeMemory(as: UInt8.self, repeating: 0x5A)
        var now = Instant.zero

        /// Moves packets both ways until nothing moves; runs `app` between rounds.
        func pump(_ app: () -> Bool) {
            var moved = true
            while moved {
                moved = false
                now += .microseconds(10)
                if let d = a.nextDeadline, d <= now { a.handleTimeout(at: now) }
                if let d = b.nextDeadline, d <= now { b.handleTimeout(at: now) }
                while let len = a.pollTransmit(into: packet, at: now) {
                    b.receive(UnsafeRawBufferPointer(rebasing: packet[0..<len]), at: now)
                    moved = true
                }
                while let len = b.pollTransmit(into: packet, at: now) {
                    a.receive(UnsafeRawBufferPointer(rebasing: packet[0..<len]), at: now)
                    moved = true
                }
                while a.pollEvent() != nil {}
                while b.pollEvent() != nil {}
                while let s = b.accept(port: 5001) { servers.append(s); moved = true }
                if app() { moved = true }
            }
        }

        for _ in 0..<n {
            guard let c = try? a.connect(to: SocketAddress(addressB, 5001), at: now) else { return nil }
            clients.append(c)
        }
        pump { false }
        guard servers.count == n else { return nil }
        f.heapEstablished = sluice_heap_in_use()
        f.rssEstablished = sluice_resident_bytes()

        // Every pair carries `bytesPerPair` once, a batch of pairs at a time (bounded memory).
        let batch = 256
        var start = 0
        while start < n {
            let range = start..<Swift.min(n, start + batch)
            var sent = [Int](repeating: 0, count: range.count)
            pump {
                var any = false
                for (k, i) in range.enumerated() {
                    while sent[k] < bytesPerPair {
                        let w = a.write(clients[i], UnsafeRawBufferPointer(rebasing: chunk[0..<Swift.min(chunk.count, bytesPerPair - sent[k])]))
                        if w == 0 { break }
                        sent[k] += w
                        any = true
                    }
                    while b.read(servers[i], into: chunk) > 0 { any = true }
                }
                return any
            }
            start = range.upperBound
        }
        pump { false }
        f.heapAfterActivity = sluice_heap_in_use()
        f.rssAfterActivity = sluice_resident_bytes()
        _ = sluice_heap_trim()
        f.rssAfterTrim = sluice_resident_bytes()

        // All pairs at once.
        var sent = [Int](repeating: 0, count: n)
        var received = 0
        let t0 = EngineBench.monotonicNow()
        pump {
            var any = false
            for i in 0..<n {
                while sent[i] < bytesPerPair {
                    let w = a.write(clients[i], UnsafeRawBufferPointer(rebasing: chunk[0..<Swift.min(chunk.count, bytesPerPair - sent[i])]))
                    if w == 0 { break }
                    sent[i] += w
                    any = true
                }
                while true {
                    let r = b.read(servers[i], into: chunk)
                    if r == 0 { break }
                    received += r
                    any = true
                }
            }
            return any
        }
        let seconds = Swift.max((EngineBench.monotonicNow() - t0).secondsDouble, 1e-9)
        guard received == n * bytesPerPair else { return nil }
        f.activeGbps = Double(received) * 8 / seconds / 1e9
        return f
    }
}
