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

    static func run(_ arguments: [String]) -> Int32 {
        let options = BenchOptions(arguments, known: ["--small-mib", "--large-mib", "--read-rate"], flags: ["--json"])
        let json = options.flag("--json")
        guard options.unknown.isEmpty, let small = options.int("--small-mib", default: 10), small > 0,
              let large = options.int("--large-mib", default: 1024), large > 0 else {
            return command.usageError()
        }
        let readRate = options.string("--read-rate") ?? "1gbit"
        guard sluiceBinariesPresent("memory") else { return 2 }
        guard let directory = makeBenchDirectory("memory") else { return 1 }
        let stamp = benchStamp()
        guard let a = transfer(mib: small, readRate: readRate, port: benchBasePort, directory: directory),
              let b = transfer(mib: large, readRate: readRate, port: benchBasePort + 1, directory: directory) else {
            print("sluice-bench memory: a transfer failed (files in \(directory))")
            return 1
        }
        let ratio = Double(b.receiverPeakRSSKiB) / Double(max(1, a.receiverPeakRSSKiB))
        if json {
            var o = BenchJSON(scenario: "memory", gbps: b.gbps, baseline: a.gbps)
            o.add(["small_mib": small, "large_mib": large, "read_rate": readRate,
                   "rss_small_kib": a.receiverPeakRSSKiB, "rss_large_kib": b.receiverPeakRSSKiB, "rss_ratio": ratio])
            o.print(stamp: stamp)
        } else {
            print("memory, sluice-recv peak RSS, reader at \(readRate), UDP loopback, \(stamp.date), \(stamp.machine):")
            print("  \(large) MiB   \(b.gbps.map { formatted($0) } ?? "?") Gbit/s   peak RSS \(b.receiverPeakRSSKiB) KiB")
            print("  \(small) MiB   \(a.gbps.map { formatted($0) } ?? "?") Gbit/s   peak RSS \(a.receiverPeakRSSKiB) KiB   (baseline, same run)")
            print("  RSS ratio \(large) MiB / \(small) MiB   \(formatted(ratio, 3))   (target <= 1.2)")
        }
        return 0
    }

    /// A transfer of `mib` MiB to a receiver reading at `readRate`; nil unless it reported.
    static func transfer(mib: Int, readRate: String, port: Int, directory: String) -> LoopbackTransfer? {
        let t = loopbackTransfer(label: "\(mib)", port: port, receiverFlags: ["--read-rate", readRate],
                                 senderFlags: ["--bytes", "\(mib << 20)"], seconds: 600, directory: directory)
        return t?.summary == nil ? nil : t
    }
}
