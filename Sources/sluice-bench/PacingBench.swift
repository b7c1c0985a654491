#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import SluiceCore
import SluicePcap

/// `sluice-bench pacing`: `sluice-send --pace RATE` to `sluice-recv` (reading as fast as it can)
/// over the UDP-on-loopback link on the real clock, at 10, 50 and 200 Mbit/s. From the sender's
/// pcap: the payload bytes it sent in each 10 ms bin, from one round trip after its first data
/// segment to its last (the last, partial bin left out), against rate × 10 ms. Prints the largest
/// deviation of a bin, in percent and in bytes. Targets (issue 10): every bin within ±10 % at
/// 50 and 200 Mbit/s, within one segment (1448 bytes) at 10 Mbit/s.
///
/// `gbps` is the payload rate achieved over the bins at the highest rate, `baseline_gbps` that
/// rate as configured (the ratio shows how close the average is).
enum PacingBench {
    static let command = BenchCommand(
        name: "pacing",
        summary: "fixed-rate pacing accuracy over UDP loopback, real clock: largest deviation per 10 ms bin",
        usage: "[--rates 10,50,200] [--seconds 3] [--json]",
        run: { run($0) })

    struct Result {
        var mbit: Int
        var bins: Int
        var expectedBytes: Double
        var maxDeviationBytes: Double
        var achievedGbps: Double
        var maxDeviationPercent: Double { 100 * maxDeviationBytes / expectedBytes }
        var target: String { mbit <= 10 ? "<= 1 segment (1448 B)" : "<= 10 %" }
        var met: Bool { mbit <= 10 ? maxDeviationBytes <= 1448 : maxDeviationPercent <= 10 }

        /// One element of the JSON `rates` array.
        var json: BenchJSON {
            BenchJSON(["mbit": mbit, "achieved_gbps": achievedGbps, "bins": bins, "expected_bytes_per_bin": expectedBytes,
                       "max_deviation_bytes": maxDeviationBytes, "max_deviation_percent": maxDeviationPercent, "met": met])
        }
    }

    static func run(_ arguments: [String]) -> Int32 {
        let options = BenchOptions(arguments, known: ["--rates", "--seconds"], flags: ["--json"])
        let json = options.flag("--json")
        let rates = (options.string("--rates") ?? "10,50,200").split(separator: ",").compactMap { Int($0) }
        guard options.unknown.isEmpty, !rates.isEmpty, rates.allSatisfy({ $0 > 0 }),
              let seconds = options.double("--seconds", default: 3), seconds > 0.1 else {
            return command.usageError()
        }
        guard sluiceBinariesPresent("pacing") else { return 2 }
        guard let directory = makeBenchDirectory("pacing") else { return 1 }
        let stamp = benchStamp()
        var results: [Result] = []
        for (i, mbit) in rates.enumerated() {
            guard let r = measure(mbit: mbit, seconds: seconds, port: benchBasePort + 2 + i, directory: directory) else {
                print("sluice-bench pacing: the \(mbit) Mbit/s run failed (files in \(directory))")
                return 1
            }
            results.append(r)
        }
        let top = results.max(by: { $0.mbit < $1.mbit })
        if json {
            var o = BenchJSON(scenario: "pacing", gbps: top?.achievedGbps, baseline: top.map { Double($0.mbit) / 1000 })
            o.add(["bin_ms": 10, "rates": results.map(\.json)])
            o.print(stamp: stamp)
        } else {
            print("pacing, UDP loopback, real clock, 10 ms bins after the first round trip, \(stamp.date), \(stamp.machine):")
            for r in results {
                print("  \(String(r.mbit).padding(4))Mbit/s   achieved \(formatted(r.achievedGbps * 1000, 2)) Mbit/s   \(r.bins) bins of \(Int(r.expectedBytes)) B"
                      + "   largest deviation \(formatted(r.maxDeviationPercent, 1)) % (\(Int(r.maxDeviationBytes)) B)   target \(r.target): \(r.met ? "met" : "NOT met")")
            }
        }
        return 0
    }

    static func measure(mbit: Int, seconds: Double, port: Int, directory: String) -> Result? {
        let rateBytes = Double(mbit) * 1e6 / 8
        let bytes = Int(rateBytes * seconds)
        let pcap = "\(directory)/send-\(mbit).pcap"
        guard loopbackTransfer(label: "\(mbit)", port: port, senderFlags: ["--bytes", "\(bytes)", "--pace", "\(mbit)mbit", "--pcap", pcap],
                               seconds: seconds * 3 + 30, directory: directory) != nil else { return nil }
        return analyse(pcap: pcap, rateBytesPerSecond: rateBytes, mbit: mbit)
    }

    /// Bins the sender's data segments (source 10.0.0.1) of `pcap`.
    static func analyse(pcap: String, rateBytesPerSecond: Double, mbit: Int) -> Result? {
        guard let reader = try? PcapReader(path: pcap) else { return nil }
        defer { reader.close() }
        var firstSent: Int64?
        var firstHeard: Int64?
        var data: [(t: Int64, bytes: Int)] = []
        let sender: UInt32 = 0x0a00_0001
        while let record = try? reader.next() {
            let p = record.packet
            guard p.count >= 40 else { continue }
            let ihl = Int(p[0] & 0x0f) * 4
            let total = Int(p[2]) << 8 | Int(p[3])
            let source = UInt32(p[12]) << 24 | UInt32(p[13]) << 16 | UInt32(p[14]) << 8 | UInt32(p[15])
            guard p.count >= ihl + 20 else { continue }
            let thl = Int(p[ihl + 12] >> 4) * 4
            let t = record.timestamp.nanoseconds
            if source == sender {
                if firstSent == nil { firstSent = t }
                let payload = total - ihl - thl
                if payload > 0 { data.append((t, payload)) }
            } else if firstHeard == nil {
                firstHeard = t
            }
        }
        guard let s = firstSent, let h = firstHeard, let first = data.first, let last = data.last else { return nil }
        let rtt = max(0, h - s)
        let start = first.t + rtt
        let bin: Int64 = 10_000_000
        let binCount = Int((last.t - start) / bin)
        guard binCount > 0 else { return nil }
        var bins = [Int](repeating: 0, count: binCount)
        for d in data where d.t >= start {
            let k = Int((d.t - start) / bin)
            if k < binCount { bins[k] += d.bytes }
        }
        let expected = rateBytesPerSecond * 0.010
        let worst = bins.map { abs(Double($0) - expected) }.max() ?? 0
        let achieved = Double(bins.reduce(0, +)) * 8 / (Double(binCount) * 0.010) / 1e9
        return Result(mbit: mbit, bins: binCount, expectedBytes: expected, maxDeviationBytes: worst, achievedGbps: achieved)
    }
}
