#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `sluice-bench veth`: the kernel's own TCP, kernel↔kernel over a veth pair between two
/// namespaces this run creates (`s10d-va<PID>`, `s10d-vb<PID>`), measured with iperf3 (Debian),
/// with every offload off (`ethtool -K … tso gso gro tx rx off`) and with the defaults (on).
/// It is the same-run baseline of `tun`; alone it prints both figures (no Sluice figure: `gbps`
/// is the offloads-off figure, which is the baseline of the plain TUN mode). Needs root.
enum VethBench {
    static let command = BenchCommand(
        name: "veth",
        summary: "kernel<->kernel TCP over veth between two namespaces (iperf3), offloads off and on",
        usage: "[--seconds 5] [--json]",
        run: { run($0) })

    static func run(_ arguments: [String]) -> Int32 {
        let options = BenchOptions(arguments, known: ["--seconds"], flags: ["--json"])
        let json = options.flag("--json")
        guard options.unknown.isEmpty, let seconds = options.int("--seconds", default: 5), seconds > 0 else {
            return command.usageError()
        }
        guard isRoot else {
            print("sluice-bench veth: needs root (it creates network namespaces and a veth pair); run it as root (sudo)")
            return 2
        }
        guard let directory = makeBenchDirectory("veth") else { return 1 }
        let stamp = benchStamp()
        guard let off = measure(offloads: false, seconds: seconds, directory: directory),
              let on = measure(offloads: true, seconds: seconds, directory: directory) else {
            print("sluice-bench veth: iperf3 over veth failed (files in \(directory))")
            return 1
        }
        if json {
            var o = BenchJSON(scenario: "veth", gbps: off, baseline: on)
            o.add(["offloads_off_gbps": off, "offloads_on_gbps": on, "seconds": seconds])
            o.print(stamp: stamp)
        } else {
            print("veth, kernel<->kernel TCP (iperf3, \(seconds) s each), \(stamp.date), \(stamp.machine):")
            print("  offloads off   \(formatted(off)) Gbit/s")
            print("  offloads on    \(formatted(on)) Gbit/s")
            print("  ratio off/on   \(formatted(off / on, 3))")
        }
        return 0
    }

    /// One iperf3 run from `s10d-va<PID>` to `s10d-vb<PID>`; Gbit/s received, or nil.
    static func measure(offloads: Bool, seconds: Int, directory: String) -> Double? {
        guard let a = BenchNamespace(tag: "va", directory: directory) else { return nil }
        defer { a.remove() }
        guard let b = BenchNamespace(tag: "vb", directory: directory) else { return nil }
        defer { b.remove() }
        let ifa = "s10d-a\(getpid())"
        let ifb = "s10d-b\(getpid())"
        guard runCommand(["ip", "link", "add", ifa, "type", "veth", "peer", "name", ifb], directory: directory).status == 0 else { return nil }
        runCommand(["ip", "link", "set", ifa, "netns", a.name], directory: directory)
        runCommand(["ip", "link", "set", ifb, "netns", b.name], directory: directory)
        for (ns, dev, ip) in [(a, ifa, "10.77.0.1/24"), (b, ifb, "10.77.0.2/24")] {
            ns.exec(["ip", "addr", "add", ip, "dev", dev])
            ns.exec(["ip", "link", "set", dev, "up"])
            if !offloads {
                ns.exec(["ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off", "tx", "off", "rx", "off"])
            }
        }
        guard let server = b.spawn("iperf3-server-\(offloads ? "on" : "off")", ["iperf3", "-s", "-1", "-B", "10.77.0.2", "-p", "5201"]) else { return nil }
        defer { server.wait(seconds: 5) }
        _ = server.waitForOutput(seconds: 5) { $0.stdout.contains("listening") }
        let client = a.exec(["iperf3", "-c", "10.77.0.2", "-p", "5201", "-t", "\(seconds)", "-J"], seconds: Double(seconds) + 30)
        guard client.status == 0, let at = client.output.firstRange(of: "\"sum_received\"") else { return nil }
        return jsonNumber("bits_per_second", in: client.output[at.upperBound...]).map { $0 / 1e9 }
    }
}
