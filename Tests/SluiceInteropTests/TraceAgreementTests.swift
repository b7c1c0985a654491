import Foundation
import Testing
import SluiceTestSupport

/// `sluice-trace --json`'s split of the sender's time (`limited_s` of the sender's direction)
/// equals `sluice-send --json`'s own (`rwnd_limited_s`, `cwnd_limited_s` + `pacing_limited_s`,
/// `app_limited_s`) within 5% of the transfer's duration on the capture the sender wrote, and
/// within 10% on a capture taken at the receiver (plus the time the sender's run loop waited for
/// a CPU, `runqueue_wait_s`, during which its clock runs but it cannot act): over the UDP-on-loopback link (no root), and
/// over TUN against the Linux kernel (root; skipped with a message without it, failed in CI).
struct TraceAgreementTests {
    /// The sender's direction of `sluice-trace --json PCAP` (A→B: the sender opened the connection).
    static func traceSplit(_ pcap: String, in dir: URL, name: String) throws -> (rwnd: Double, cwnd: Double, app: Double, uncertain: Double, duration: Double) {
        let trace = try Child(name: name, directory: dir, executable: binary("sluice-trace"), arguments: ["--json", pcap])
        let status = trace.wait(seconds: 60)
        #expect(status == 0, "\(trace.transcript)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(trace.stdout.utf8)) as? [String: Any], "\(trace.transcript)")
        let connection = try #require((object["connections"] as? [[String: Any]])?.first, "no connection in \(pcap)")
        let direction = try #require((connection["directions"] as? [[String: Any]])?.first)
        let limited = try #require(direction["limited_s"] as? [String: Double], "\(direction)")
        return (limited["rwnd_limited"] ?? -1, limited["cwnd_limited"] ?? -1, limited["app_limited"] ?? -1,
                limited["uncertain"] ?? -1, connection["duration_s"] as? Double ?? 0)
    }

    /// Compares the trace's split with the sender's JSON summary.
    static func expectAgreement(_ pcap: String, sender: [String: Any], in dir: URL, tolerance: Double, label: String) throws {
        let t = try traceSplit(pcap, in: dir, name: "trace-\(label)")
        let rwnd = sender["rwnd_limited_s"] as? Double ?? -1
        let cwnd = (sender["cwnd_limited_s"] as? Double ?? -1) + (sender["pacing_limited_s"] as? Double ?? 0)
        let app = sender["app_limited_s"] as? Double ?? -1
        // The sender's accounting can be off by the time its run loop was runnable but had no
        // CPU (`runqueue_wait_s`: the tests run in parallel on two cores), beyond the tolerance.
        let waited = sender["runqueue_wait_s"] as? Double ?? 0
        let limit = tolerance * t.duration + waited
        var text = "\(label): duration \(t.duration) s (sender waited \(waited) s for a CPU); trace rwnd \(t.rwnd) cwnd \(t.cwnd) app \(t.app) uncertain \(t.uncertain); sender rwnd \(rwnd) cwnd+pacing \(cwnd) (pacing \(sender["pacing_limited_s"] ?? "?")) app \(app), srtt \(sender["srtt_ms"] ?? "?") ms, retransmitted \(sender["retransmitted_bytes"] ?? "?") B"
        let agrees = abs(t.rwnd - rwnd) <= limit && abs(t.cwnd - cwnd) <= limit && abs(t.app - app) <= limit && t.uncertain <= limit
        if !agrees {
            // Keep what disagreed (the scratch directory goes away with the test) for sluice-trace.
            let kept = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-agreement-failures")
            try? FileManager.default.createDirectory(at: kept, withIntermediateDirectories: true)
            let name = "\(label.replacingOccurrences(of: " ", with: "-").replacingOccurrences(of: ",", with: ""))-\(getpid()).pcap"
            let copy = kept.appendingPathComponent(name)
            try? FileManager.default.removeItem(at: copy)
            if (try? FileManager.default.copyItem(at: URL(fileURLWithPath: pcap), to: copy)) != nil { text += "; capture kept at \(copy.path)" }
        }
        print(text)
        #expect(t.duration > 0, "\(text)")
        // A pacer that holds data with nothing in flight is invisible in a capture (README,
        // "Limits of the inference"). Over TUN that happened after a 1 s handshake "RTT" (the
        // kernel's first SYN-ACK dropped before the device's qdisc was attached; answered
        // again after 1 s): TUNDevice now waits for the carrier, and the engine takes no sample
        // from a handshake ACK that arrives after its SYN timer expired. Holds after a loss stay
        // (SRTT then varies): the TUN loss test runs without the pacer.
        #expect(abs(t.rwnd - rwnd) <= limit, "rwnd_limited: \(text)")
        #expect(abs(t.cwnd - cwnd) <= limit, "cwnd_limited: \(text)")
        #expect(abs(t.app - app) <= limit, "app_limited: \(text)")
        #expect(t.uncertain <= limit, "uncertain: \(text)")
    }

    static func binary(_ name: String) -> String { TestEnvironment.binary(name) }
}

/// What the agreement tests need: the built binaries; over TUN also root and the tools.
enum TraceAgreementPrerequisites {
    static let udp = Prerequisites("trace agreement tests over UDP",
                                   missing: Prerequisites.missingBinaries(["sluice-send", "sluice-recv", "sluice-trace"]))
    static let tun = Prerequisites("trace agreement tests over TUN", missing:
        TestNamespace.missingPrerequisites(tools: ["ip", "nft", "ethtool", "python3", "tcpdump"])
            + Prerequisites.missingBinaries(["sluice-send", "sluice-trace"]))
}

/// Over the UDP-on-loopback link: a slow reader (the demo's shape, shorter).
@Suite(TraceAgreementPrerequisites.udp.trait)
struct TraceAgreementLoopbackTests {
    @Test func slowReaderOverUDP() throws {
        guard TraceAgreementPrerequisites.udp.ready() else { return }
        let dir = try makeScratchDirectory("agree-udp")
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try freeUDPPort()
        let sendPcap = dir.appendingPathComponent("send.pcap").path
        let recvPcap = dir.appendingPathComponent("recv.pcap").path
        let receiver = try Child(name: "recv", directory: dir, executable: TraceAgreementTests.binary("sluice-recv"), arguments: [
            "--listen", "10.0.0.2:\(port)", "--rcvbuf", "32KiB", "--read-rate", "2mbit", "--read-chunk", "32KiB",
            "--pcap", recvPcap, "--json", "--once",
        ])
        defer { receiver.kill() }
        #expect(receiver.waitForOutput(seconds: 10) { $0.stderr.contains("listening") }, "\(receiver.transcript)")
        let sender = try Child(name: "send", directory: dir, executable: TraceAgreementTests.binary("sluice-send"), arguments: [
            "--connect", "10.0.0.2:\(port)", "--bytes", "320KiB", "--seed", "12", "--pcap", sendPcap, "--json",
        ])
        defer { sender.kill() }
        #expect(sender.wait(seconds: 60) == 0, "\(sender.transcript)")
        #expect(receiver.wait(seconds: 10) == 0, "\(receiver.transcript)")
        let summary = try #require(sender.jsonLines.first, "\(sender.transcript)")
        try TraceAgreementTests.expectAgreement(sendPcap, sender: summary, in: dir, tolerance: 0.05, label: "udp slow reader, sender side")
        try TraceAgreementTests.expectAgreement(recvPcap, sender: summary, in: dir, tolerance: 0.10, label: "udp slow reader, receiver side")
    }
}

/// Over TUN against the Linux kernel: Sluice sends to a kernel receiver that reads in bursts
/// with pauses (a slow reader), without and with 2% loss each way, with `--pace off` (see the
/// sender's arguments). The receiver-side capture is tcpdump on the TUN device inside the
/// namespace (the kernel's end of the wire).
@Suite(TraceAgreementPrerequisites.tun.trait)
struct TraceAgreementKernelTests {
    @Test(arguments: [0, 2])
    func sluiceSenderToSlowKernelReader(lossPercent: Int) throws {
        guard TraceAgreementPrerequisites.tun.ready() else { return }
        let tcpdump = TestEnvironment.which("tcpdump") ?? "tcpdump"
        let label = "agree-tun-\(lossPercent)"
        let dir = try makeScratchDirectory(label)
        defer { try? FileManager.default.removeItem(at: dir) }
        let namespace = try TestNamespace(lossPercent: lossPercent)
        defer { namespace.close() }
        let sendPcap = dir.appendingPathComponent("send.pcap").path
        let kernelPcap = dir.appendingPathComponent("kernel.pcap").path
        let port = 5003
        let capture = try namespace.spawn("tcpdump", in: dir, tcpdump, ["-i", namespace.device, "-n", "-s", "128", "-U", "-w", kernelPcap, "tcp"])
        defer { capture.kill() }
        #expect(capture.waitForOutput(seconds: 10) { $0.stderr.contains("listening") }, "\(capture.transcript)")
        let server = try namespace.spawn("kernel-receiver", in: dir, TestEnvironment.python, [
            TestEnvironment.repositoryPath("tools/interop/kernel-receiver.py"),
            "--listen", "\(namespace.kernelAddress):\(port)", "--rcvbuf", "8192", "--burst", "65536", "--pause", "0.5",
            "--timeout", "90",
        ])
        defer { server.kill() }
        #expect(server.waitForOutput(seconds: 10) { $0.stdout.contains("listening") }, "\(server.transcript)")
        let sender = try namespace.spawn("sluice-send", in: dir, TraceAgreementTests.binary("sluice-send"), [
            "--tun", namespace.device, "--local", namespace.sluiceAddress,
            "--connect", "\(namespace.kernelAddress):\(port)",
            "--bytes", "256KiB", "--seed", "\(lossPercent + 31)", "--pcap", sendPcap, "--json",
            // No pacer: after a loss SRTT varies run to run, and with it how long the pacer holds
            // data with nothing in flight, which a capture cannot tell from an idle application
            // (README, "Limits of the inference"; two CI runs disagreed by 0.25 s of 2.4 s with
            // `--pace auto`). The loopback test keeps the default pacer.
            "--pace", "off",
        ])
        defer { sender.kill() }
        #expect(sender.wait(seconds: 100) == 0, "\(sender.transcript)")
        #expect(server.wait(seconds: 10) == 0, "\(server.transcript)")
        kill(capture.process.processIdentifier, SIGTERM)   // tcpdump writes what it has and exits
        capture.wait(seconds: 5)
        let summary = try #require(sender.jsonLines.first, "\(sender.transcript)")
        try TraceAgreementTests.expectAgreement(sendPcap, sender: summary, in: dir, tolerance: 0.05, label: "tun \(lossPercent)% loss, sender side")
        try TraceAgreementTests.expectAgreement(kernelPcap, sender: summary, in: dir, tolerance: 0.10, label: "tun \(lossPercent)% loss, kernel side")
    }
}
