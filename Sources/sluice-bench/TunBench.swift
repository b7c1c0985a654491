#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `sluice-bench tun`: Sluice against the Linux kernel over a TUN device in a namespace this run
/// creates (`s10d-t<PID>`, device of the same name), both directions, plain mode and `--offload`,
/// with the binaries' default flags (256 KiB buffers, `--pace auto`) and `--no-digest`: both sides
/// only count bytes, as iperf3 does for the veth baseline (a Python peer on the kernel side;
/// content is checked by the kernel-interop tests instead, SHA-256 on both sides).
///
/// Baselines: kernel↔kernel over veth measured in the same run (`veth`: offloads off for the
/// plain mode, on for the offload mode), and lwIP 2.1.3 over TUN from issue 10 (not this run,
/// this machine: kernel→lwIP 1.38/1.87, lwIP→kernel 2.14/2.18 Gbit/s; the better run is used).
/// Needs root.
enum TunBench {
    static let command = BenchCommand(
        name: "tun",
        summary: "sluice-send/sluice-recv against the kernel over TUN, plain and --offload, vs veth (same run) and lwIP",
        usage: "[--mib 512] [--veth-seconds 3] [--modes plain,offload] [--json]",
        run: { run($0) })

    /// lwIP 2.1.3 over TUN, issue 10's figures (better of two runs), Gbit/s.
    static let lwipKernelToStack = 1.87
    static let lwipStackToKernel = 2.18

    struct Row {
        var mode: String
        var direction: String
        var gbps: Double?
        var kernelGbps: Double?
        var report: String
        /// CPU seconds (user + system) of the Sluice process (its hashing thread included) and
        /// of the kernel-side peer (its system time includes the kernel's TCP work done in its
        /// context; the part done in Sluice's `write`/`read` calls counts for Sluice), and the
        /// transfer's seconds: with 2 cores, (sluice + peer) / (2 × seconds) is how busy the
        /// machine was.
        var sluiceCPUSeconds: Double?
        var kernelCPUSeconds: Double?
        var seconds: Double?

        /// "CPU: sluice 1.17 s + kernel peer 0.68 s in 1.03 s (90% of 2 cores)".
        var cpuLine: String? {
            guard let s = sluiceCPUSeconds, let k = kernelCPUSeconds, let t = seconds, t > 0 else { return nil }
            let cores = Double(max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
            return "CPU: sluice \(formatted(s)) s + kernel peer \(formatted(k)) s in \(formatted(t)) s (\(formatted(100 * (s + k) / (cores * t), 0))% of \(Int(cores)) cores)"
        }

        /// One element of the JSON `rows` array, against the veth and lwIP baselines.
        func json(veth: Double?, lwip: Double) -> BenchJSON {
            var r = BenchJSON(["mode": mode, "direction": direction, "gbps": gbps, "kernel_peer_gbps": kernelGbps,
                               "veth_gbps": veth, "ratio_veth": gbps.flatMap { g in veth.map { g / $0 } },
                               "lwip_gbps": lwip, "ratio_lwip": gbps.map { $0 / lwip },
                               "sluice_cpu_s": sluiceCPUSeconds, "kernel_peer_cpu_s": kernelCPUSeconds])
            r.add("sluice", raw: report.isEmpty ? "null" : report)
            return r
        }
    }

    static func run(_ arguments: [String]) -> Int32 {
        let options = BenchOptions(arguments, known: ["--mib", "--veth-seconds", "--modes"], flags: ["--json"])
        let json = options.flag("--json")
        guard options.unknown.isEmpty, let mib = options.int("--mib", default: 512), mib > 0,
              let vethSeconds = options.int("--veth-seconds", default: 3), vethSeconds >= 0 else {
            return command.usageError()
        }
        let modes = (options.string("--modes") ?? "plain,offload").split(separator: ",").map(String.init)
        guard !modes.isEmpty, modes.allSatisfy({ $0 == "plain" || $0 == "offload" }) else {
            print("sluice-bench tun: --modes takes plain, offload or plain,offload")
            return 2
        }
        guard isRoot else {
            print("sluice-bench tun: needs root (it creates a network namespace and a TUN device); run it as root (sudo). Nothing was measured.")
            return 2
        }
        guard sluiceBinariesPresent("tun") else { return 2 }
        guard let directory = makeBenchDirectory("tun") else { return 1 }
        let stamp = benchStamp()
        let peer = writeKernelPeer(in: directory)
        #if DEBUG
        print("warning: debug build; measure with `swift build -c release` binaries")
        #endif
        var rows: [Row] = []
        for mode in modes {
            guard let namespace = BenchNamespace(tag: "t", directory: directory) else {
                print("sluice-bench tun: cannot create namespace (files in \(directory))")
                return 1
            }
            defer { namespace.remove() }
            let device = namespace.name
            namespace.exec(["ip", "tuntap", "add", "dev", device, "mode", "tun"])
            namespace.exec(["ip", "link", "set", device, "mtu", "1500"])
            namespace.exec(["ip", "addr", "add", "10.0.0.2/24", "dev", device])
            namespace.exec(["ip", "link", "set", device, "up"])
            if mode == "plain" { namespace.exec(["ethtool", "-K", device, "gso", "off", "tso", "off"]) }
            let extra = (mode == "offload" ? ["--offload"] : []) + ["--no-digest"]
            rows.append(sluiceToKernel(namespace, device: device, peer: peer, bytes: mib << 20, extra: extra, mode: mode))
            rows.append(kernelToSluice(namespace, device: device, peer: peer, bytes: mib << 20, extra: extra, mode: mode))
        }
        var vethOff: Double?
        var vethOn: Double?
        if vethSeconds > 0 {
            if modes.contains("plain") { vethOff = VethBench.measure(offloads: false, seconds: vethSeconds, directory: directory) }
            if modes.contains("offload") { vethOn = VethBench.measure(offloads: true, seconds: vethSeconds, directory: directory) }
        }
        func baseline(_ row: Row) -> Double? { row.mode == "plain" ? vethOff : vethOn }
        func lwip(_ row: Row) -> Double { row.direction == "kernel->sluice" ? lwipKernelToStack : lwipStackToKernel }
        let plain = rows.filter { $0.mode == "plain" }.compactMap(\.gbps)
        let headline = plain.min() ?? rows.compactMap(\.gbps).min()
        if json {
            var o = BenchJSON(scenario: "tun", gbps: headline, baseline: vethOff ?? vethOn)
            o.add(["mib": mib, "veth_offloads_off_gbps": vethOff, "veth_offloads_on_gbps": vethOn,
                   "rows": rows.map { $0.json(veth: baseline($0), lwip: lwip($0)) }])
            o.print(stamp: stamp)
        } else {
            print("tun, \(mib) MiB each way, default flags, \(stamp.date), \(stamp.machine):")
            for row in rows {
                let g = row.gbps.map { formatted($0) } ?? "failed"
                var line = "  \(row.mode.padding(8))\(row.direction.padding(16))\(g) Gbit/s"
                if let b = baseline(row), let s = row.gbps {
                    line += "   veth kernel<->kernel (offloads \(row.mode == "plain" ? "off" : "on"), same run) \(formatted(b)) -> ratio \(formatted(s / b, 2))"
                }
                if let s = row.gbps { line += "   lwIP (issue 10) \(formatted(lwip(row))) -> \(formatted(s / lwip(row), 2))x" }
                print(line)
                if let cpu = row.cpuLine { print("          \(cpu)") }
            }
            if rows.contains(where: { $0.gbps == nil }) { print("  (files of the failed runs: \(directory))") }
        }
        return rows.allSatisfy { $0.gbps != nil } ? 0 : 1
    }

    /// sluice-send → a kernel sink at 10.0.0.2:5002.
    static func sluiceToKernel(_ ns: BenchNamespace, device: String, peer: String, bytes: Int, extra: [String], mode: String) -> Row {
        var row = Row(mode: mode, direction: "sluice->kernel", report: "")
        guard let sink = ns.spawn("sink-\(mode)", ["/usr/bin/python3", peer, "sink", "10.0.0.2:5002"]) else { return row }
        defer { sink.wait(seconds: 10) }
        guard sink.waitForOutput(seconds: 10, { $0.stdout.contains("listening") }) else { return row }
        guard let sender = ns.spawn("send-\(mode)", [benchBinary("sluice-send"), "--tun", device, "--local", "10.0.0.1",
                                                     "--connect", "10.0.0.2:5002", "--bytes", "\(bytes)", "--json"] + extra) else { return row }
        sender.wait(seconds: 300)
        sink.wait(seconds: 10)
        if let line = firstJSONLine(sender.stdout) {
            row.report = String(line)
            if jsonValue("result", in: line) == "completed" { row.gbps = jsonNumber("goodput_bps", in: line).map { $0 / 1e9 } }
            row.seconds = jsonNumber("seconds", in: line)
        }
        row.sluiceCPUSeconds = sender.cpuSeconds
        row.kernelCPUSeconds = sink.cpuSeconds
        if let k = firstJSONLine(sink.stdout), let b = jsonNumber("bytes", in: k), let s = jsonNumber("seconds", in: k), s > 0 {
            row.kernelGbps = b * 8 / s / 1e9
        }
        return row
    }

    /// A kernel source → sluice-recv at 10.0.0.1:5001.
    static func kernelToSluice(_ ns: BenchNamespace, device: String, peer: String, bytes: Int, extra: [String], mode: String) -> Row {
        var row = Row(mode: mode, direction: "kernel->sluice", report: "")
        guard let receiver = ns.spawn("recv-\(mode)", [benchBinary("sluice-recv"), "--tun", device, "--listen", "10.0.0.1:5001",
                                                       "--json", "--once"] + extra) else { return row }
        defer { receiver.wait(seconds: 10) }
        guard receiver.waitForOutput(seconds: 10, { $0.stderr.contains("listening") }) else { return row }
        guard let source = ns.spawn("source-\(mode)", ["/usr/bin/python3", peer, "source", "10.0.0.1:5001", "\(bytes)"]) else { return row }
        source.wait(seconds: 300)
        receiver.wait(seconds: 20)
        if let line = firstJSONLine(receiver.stdout) {
            row.report = String(line)
            if jsonValue("result", in: line) == "completed" { row.gbps = jsonNumber("goodput_bps", in: line).map { $0 / 1e9 } }
            row.seconds = jsonNumber("seconds", in: line)
        }
        row.sluiceCPUSeconds = receiver.cpuSeconds
        row.kernelCPUSeconds = source.cpuSeconds
        if let k = firstJSONLine(source.stdout), let b = jsonNumber("bytes", in: k), let s = jsonNumber("seconds", in: k), s > 0 {
            row.kernelGbps = b * 8 / s / 1e9
        }
        return row
    }
}
