#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import SluiceHarness

/// `sluice-bench overload`: the overload experiment (`OverloadExperiment`): real Sluice
/// connections in the harness on virtual time, a server of fixed capacity, clients arriving
/// open-loop from 0.25× to 3× capacity, each mode at each load. Deterministic per seed; the
/// figures are virtual-time figures, so the machine's load does not change them.
enum OverloadBench {
    static let command = BenchCommand(
        name: "overload",
        summary: "goodput vs offered load: implicit, explicit, explicit+impatient, explicit+polite",
        usage: "[--json] [--svg FILE] [--capacity 50] [--seconds 60] [--warmup 10] [--seed 1] [--loads 0.25,0.5,...] [--modes implicit,...]",
        run: { run($0) })

    static let defaultLoads = [0.25, 0.5, 1.0, 1.25, 1.5, 2.0, 3.0]

    static func run(_ arguments: [String]) -> Int32 {
        let options = BenchOptions(arguments, known: ["--svg", "--capacity", "--seconds", "--warmup", "--seed", "--loads", "--modes"],
                                   flags: ["--json"])
        let json = options.flag("--json")
        var config = OverloadConfig()
        guard options.unknown.isEmpty,
              let capacity = options.int("--capacity", default: config.capacity), capacity >= 1, capacity <= 10_000,
              let seconds = options.int("--seconds", default: 60), seconds >= 1, seconds <= 3600,
              let warmup = options.int("--warmup", default: 10), warmup >= 0, warmup <= 3600,
              let seed = options.int("--seed", default: 1), seed >= 0,
              let loads = parseList(options.string("--loads"), default: defaultLoads, Double.init),
              let modes = parseList(options.string("--modes"), default: OverloadMode.allCases, OverloadMode.init(rawValue:)),
              loads.allSatisfy({ $0 > 0 && $0 <= 20 }) else {
            return command.usageError()
        }
        config.capacity = capacity
        config.measured = .seconds(seconds)
        config.warmUp = .seconds(warmup)
        config.seed = UInt64(seed)

        var rows: [OverloadRow] = []
        if !json {
            print("overload: capacity \(capacity) req/s, deadline 1 s, \(warmup) s warm-up + \(seconds) s measured (virtual time), seed \(seed)")
            print("mode".padding(20) + "offered  through  goodput  p50_ms    p99_ms    shed    retries")
        }
        for mode in modes {
            for load in loads {
                let row: OverloadRow
                do {
                    row = try OverloadExperiment.run(mode: mode, offeredRPS: load * Double(capacity), config: config)
                } catch {
                    print("overload: \(mode.rawValue) at \(load)×: \(error)")
                    return 1
                }
                rows.append(row)
                if !json {
                    print(mode.rawValue.padding(20) + formatted(row.offeredRPS, 1).padding(9) + formatted(row.throughputRPS, 1).padding(9)
                          + formatted(row.goodputRPS, 1).padding(9) + (row.p50ms.map { formatted($0, 1) } ?? "-").padding(10)
                          + (row.p99ms.map { formatted($0, 1) } ?? "-").padding(10) + "\(row.shed)".padding(8) + "\(row.retries)")
                }
            }
        }
        if json { print(jsonReport(capacity: capacity, rows: rows)) }
        if let path = options.string("--svg") {
            let svg = OverloadChart.svg(capacity: capacity, rows: rows)
            guard writeFile(path, svg) else {
                print("overload: cannot write \(path)")
                return 2
            }
            if !json { print("overload: wrote \(path) (view: rsvg-convert \(path) -o overload.png)") }
        }
        return 0
    }

    /// `{"scenario":"overload","capacity_rps":C,"rows":[{...}, ...]}` on one line.
    static func jsonReport(capacity: Int, rows: [OverloadRow]) -> String {
        BenchJSON(["scenario": "overload", "capacity_rps": capacity, "rows": rows.map { r in
            BenchJSON(["mode": r.mode.rawValue, "offered_rps": r.offeredRPS, "throughput_rps": r.throughputRPS,
                       "goodput_rps": r.goodputRPS, "p50_ms": r.p50ms, "p99_ms": r.p99ms, "shed": r.shed, "retries": r.retries,
                       "requests": r.requests, "timed_out": r.timedOut, "breaker_rejections": r.breakerRejections])
        }]).text
    }

    private static func parseList<T>(_ text: String?, default value: [T], _ parse: (String) -> T?) -> [T]? {
        guard let text else { return value }
        let items = text.split(separator: ",").map { parse(String($0)) }
        guard !items.isEmpty, items.allSatisfy({ $0 != nil }) else { return nil }
        return items.compactMap { $0 }
    }

    private static func writeFile(_ path: String, _ text: String) -> Bool {
        guard let f = fopen(path, "w") else { return false }
        defer { fclose(f) }
        let bytes = Array(text.utf8)
        return fwrite(bytes, 1, bytes.count, f) == bytes.count
    }
}
