#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `sluice-bench memory`: peak RSS of `sluice-recv` (from `wait4`'s `ru_maxrss`) whose
/// application reads slower than the sender could send (`--read-rate`, default 1 Gbit/s), for
/// 10 MiB and for 1 GiB over the UDP-on-loopback link (no root needed), default buffers. Memory
/// must not grow with the transfer: target RSS(1 GiB) ≤ 1.2 × RSS(10 MiB).
///
/// `gbps` is the 1 GiB run's goodput, `baseline_gbps` the 10 MiB run's (same run); the memory
/// figures are `rss_small_kib`, `rss_large_kib` and `rss_ratio`.
enum MemoryBench {
    static let command = BenchCommand(
        name: "memory",
        summary: "peak RSS of sluice-recv with a slow reader, 10 MiB vs 1 GiB (UDP loopback)",
        usage: "[--small-mib 10] [--large-mib 1024] [--read-rate 1gbit] [--json]",
        run: { run($0) })

    struct Result {
        var rssKiB: Int
        var gbps: Double?
    }

    static func run(_ arguments: [String]) -> Int32 {
        let json = arguments.contains("--json")
        let options = BenchOptions(arguments.filter { $0 != "--json" }, known: ["--small-mib", "--large-mib", "--read-rate"])
        guard options.unknown.isEmpty, let small = options.int("--small-mib", default: 10), small > 0,
              let large = options.int("--large-mib", default: 1024), large > 0 else {
            print("usage: sluice-bench memory \(command.usage)")
            return 2
        }
        let readRate = options.string("--read-rate") ?? "1gbit"
        guard sluiceBinariesPresent("memory") else { return 2 }
        guard let directory = makeBenchDirectory("memory") else { return 1 }
        let stamp = benchStamp()
        let port = 20_000 + Int(getpid() % 20_000)
        guard let a = transfer(mib: small, readRate: readRate, port: port, directory: directory),
              let b = transfer(mib: large, readRate: readRate, port: port + 1, directory: directory) else {
            print("sluice-bench memory: a transfer failed (files in \(directory))")
            return 1
        }
        let ratio = Double(b.rssKiB) / Double(max(1, a.rssKiB))
        if json {
            var o = BenchJSON(scenario: "memory", gbps: b.gbps, baseline: a.gbps)
            o.add("small_mib", small)
            o.add("large_mib", large)
            o.add("read_rate", readRate)
            o.add("rss_small_kib", a.rssKiB)
            o.add("rss_large_kib", b.rssKiB)
            o.add("rss_ratio", ratio)
            o.add(stamp: stamp)
            print(o.text)
        } else {
            print("memory, sluice-recv peak RSS, reader at \(readRate), UDP loopback, \(stamp.date), \(stamp.machine):")
            print("  \(large) MiB   \(b.gbps.map { formatted($0) } ?? "?") Gbit/s   peak RSS \(b.rssKiB) KiB")
            print("  \(small) MiB   \(a.gbps.map { formatted($0) } ?? "?") Gbit/s   peak RSS \(a.rssKiB) KiB   (baseline, same run)")
            print("  RSS ratio \(large) MiB / \(small) MiB   \(formatted(ratio, 3))   (target <= 1.2)")
        }
        return 0
    }

    static func transfer(mib: Int, readRate: String, port: Int, directory: String) -> Result? {
        guard let receiver = BenchChild("recv-\(mib)", [benchBinary("sluice-recv"), "--listen", "10.0.0.2:\(port)",
                                                        "--read-rate", readRate, "--json", "--once"], directory: directory) else { return nil }
        guard receiver.waitForOutput(seconds: 10, { $0.stderr.contains("listening") }) else {
            receiver.wait(seconds: 1)
            return nil
        }
        let sender = runCommand([benchBinary("sluice-send"), "--connect", "10.0.0.2:\(port)", "--bytes", "\(mib << 20)", "--json"],
                                directory: directory, name: "send-\(mib)", seconds: 600)
        guard receiver.wait(seconds: 30) == 0, sender.status == 0, let line = firstJSONLine(receiver.stdout) else { return nil }
        return Result(rssKiB: receiver.maxRSSKiB, gbps: jsonNumber("goodput_bps", in: line).map { $0 / 1e9 })
    }
}
