import SluiceCore

/// `sluice-bench engine`: two endpoints in one process, joined by a single packet buffer (each
/// packet goes straight from one endpoint's `pollTransmit` into the other's `receive`), moving
/// `--mib` MiB one way. Reports payload throughput per CPU second against a baseline measured in
/// the same run: copying the same bytes through a ring-sized buffer twice (into the send ring's
/// size of memory and out again), which is the copying the engine cannot avoid.
///
/// The loop allocates nothing itself, so running it under valgrind at two sizes gives the
/// engine's heap allocations per segment:
///
///     valgrind sluice-bench engine --mib 1   # "total heap usage: N allocs"
///     valgrind sluice-bench engine --mib 2   # (N2 − N1) / (segments2 − segments1)
enum EngineBench {
    static let command = BenchCommand(
        name: "engine",
        summary: "two endpoints in one process: payload Gbit/s vs a 2× memcpy baseline; segments moved",
        usage: "[--mib 64] [--buffer-kib 256] [--mtu 1500]",
        run: { run($0) })

    static func run(_ arguments: [String]) -> Int32 {
        let options = BenchOptions(arguments, known: ["--mib", "--buffer-kib", "--mtu"])
        guard options.unknown.isEmpty,
              let mib = options.int("--mib", default: 64), mib > 0, mib <= 1 << 16,
              let bufferKiB = options.int("--buffer-kib", default: 256), bufferKiB >= 4, bufferKiB <= 1 << 20,
              let mtu = options.int("--mtu", default: 1500), mtu >= 576, mtu <= 65535 else {
            print("usage: sluice-bench engine \(command.usage)")
            return 2
        }
        #if DEBUG
        print("warning: debug build; measure with `swift run -c release sluice-bench engine`")
        #endif
        let total = mib << 20
        let bufferSize = bufferKiB << 10

        let clock = ContinuousClock()
        let start = clock.now
        guard let result = transfer(total: total, bufferSize: bufferSize, mtu: mtu) else {
            print("engine: transfer did not complete")
            return 1
        }
        let engineSeconds = (clock.now - start).secondsDouble

        // Baseline: the two unavoidable copies (application → send ring, receive ring →
        // application) of the same bytes, through buffers of the ring's size.
        var source = [UInt8](repeating: 0x5A, count: bufferSize)
        var ring = [UInt8](repeating: 0, count: bufferSize)
        let baselineStart = clock.now
        var copied = 0
        while copied < total {
            source.withUnsafeBytes { s in ring.withUnsafeMutableBytes { $0.copyMemory(from: s) } }
            ring.withUnsafeBytes { r in source.withUnsafeMutableBytes { $0.copyMemory(from: r) } }
            copied += bufferSize
        }
        let baselineSeconds = Swift.max((clock.now - baselineStart).secondsDouble, 1e-9)

        let gbps = Double(total) * 8 / engineSeconds / 1e9
        let baselineGbps = Double(total) * 8 / baselineSeconds / 1e9
        print("engine: \(mib) MiB in \(result.segments) data segments (\(result.packets) packets both ways), MTU \(mtu), rings \(bufferKiB) KiB")
        print("engine: \(formatted(gbps)) Gbit/s payload; baseline 2× memcpy \(formatted(baselineGbps)) Gbit/s; ratio \(formatted(gbps / baselineGbps, 3))")
        print("engine: \(formatted(engineSeconds * 1e9 / Double(Swift.max(result.packets, 1)), 0)) ns per packet (send + receive, both endpoints)")
        return 0
    }

    struct Result {
        var segments = 0
        var packets = 0
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
        guard let client = try? a.connect(to: SocketAddress(addressB, 5001), at: .zero) else { return nil }

        var packet = [UInt8](repeating: 0, count: 65536)
        let appOut = [UInt8](repeating: 0x5A, count: 64 << 10)
        var appIn = [UInt8](repeating: 0, count: 64 << 10)
        var server: ConnectionID?
        var written = 0
        var received = 0
        var result = Result()
        var now = Instant.zero
        var idleRounds = 0

        while received < total {
            now += .microseconds(10)
            if let d = a.nextDeadline, d <= now { a.handleTimeout(at: now) }
            if let d = b.nextDeadline, d <= now { b.handleTimeout(at: now) }
            if written < total {
                let want = Swift.min(appOut.count, total - written)
                written += appOut.withUnsafeBytes { a.write(client, UnsafeRawBufferPointer(rebasing: $0[0..<want])) }
            }
            var moved = true
            var rounds = 0
            while moved {
                moved = false
                rounds += 1
                while let n = packet.withUnsafeMutableBytes({ a.pollTransmit(into: $0, at: now) }) {
                    packet.withUnsafeBytes { b.receive(UnsafeRawBufferPointer(rebasing: $0[0..<n]), at: now) }
                    result.packets += 1
                    if n > 40 + 40 { result.segments += 1 }
                    moved = true
                }
                while let n = packet.withUnsafeMutableBytes({ b.pollTransmit(into: $0, at: now) }) {
                    packet.withUnsafeBytes { a.receive(UnsafeRawBufferPointer(rebasing: $0[0..<n]), at: now) }
                    result.packets += 1
                    moved = true
                }
                while a.pollEvent() != nil {}
                while b.pollEvent() != nil {}
                if server == nil { server = b.accept(port: 5001) }
                if let s = server {
                    while true {
                        let n = appIn.withUnsafeMutableBytes { b.read(s, into: $0) }
                        if n == 0 { break }
                        received += n
                        moved = true
                    }
                }
            }
            idleRounds = rounds == 1 ? idleRounds + 1 : 0
            if idleRounds > 10_000_000 { return nil }
        }
        return result
    }
}
