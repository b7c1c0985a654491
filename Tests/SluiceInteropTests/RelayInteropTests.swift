import Foundation
import Testing
import SluiceTestSupport

/// sluice-relay against the Linux kernel over one TUN device (inside a namespace each test
/// makes, names prefixed `s11-`), and sluice-send's retries against a kernel port nobody
/// listens on. Needs root, /dev/net/tun, tshark and python3: skipped with a message where they
/// are missing, failed when `CI` is set.
@Suite(RelayInteropEnvironment.prerequisites.trait)
struct RelayInteropTests {
    static var prerequisites: Prerequisites { RelayInteropEnvironment.prerequisites }

    /// A kernel client sends 2 MB through sluice-relay (default flags) to a kernel server that
    /// reads slowly from a 4 KiB SO_RCVBUF: the bytes arrive intact, the relay's capture shows
    /// it advertising a zero window to the client, and its peak RSS stays under 100 MiB.
    @Test func kernelClientThroughRelayToSlowKernelServer() throws {
        guard Self.prerequisites.ready() else { return }
        let dir = try makeScratchDirectory("s11-relay")
        let namespace = try TestNamespace(lossPercent: 0, prefix: "s11-")
        defer { namespace.close() }
        let pcap = dir.appendingPathComponent("relay.pcap").path
        let (listenPort, serverPort) = (6100, 6101)
        let server = try namespace.spawn("kernel-server", in: dir, TestEnvironment.python, [
            script("kernel-receiver.py"), "--listen", "\(namespace.kernelAddress):\(serverPort)",
            "--rcvbuf", "4096", "--burst", "65536", "--pause", "0.05", "--timeout", "90",
        ])
        defer { server.kill() }
        #expect(server.waitForOutput(seconds: 10) { $0.stdout.contains("listening") }, "\(server.transcript)")
        let relay = try namespace.spawn("sluice-relay", in: dir, TestEnvironment.binary("sluice-relay"), [
            "--tun", namespace.device, "--listen", "\(namespace.sluiceAddress):\(listenPort)",
            "--connect", "\(namespace.kernelAddress):\(serverPort)", "--once", "--json", "--pcap", pcap,
        ])
        defer { relay.kill() }
        #expect(relay.waitForOutput(seconds: 10) { $0.stderr.contains("relaying") }, "\(relay.transcript)")
        let client = try namespace.spawn("kernel-client", in: dir, TestEnvironment.python, [
            script("kernel-client.py"), "--connect", "\(namespace.sluiceAddress):\(listenPort)",
            "--bytes", "2000000", "--seed", "11", "--timeout", "90",
        ])
        defer { client.kill() }
        // Peak RSS of the relay (VmHWM), read until it exits.
        var peakRSSKiB = 0
        let deadline = Date().addingTimeInterval(100)
        while relay.process.isRunning, Date() < deadline {
            if let kib = highWaterMarkKiB(pid: relay.process.processIdentifier) { peakRSSKiB = max(peakRSSKiB, kib) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let relayStatus = relay.wait(seconds: 5)
        let clientStatus = client.wait(seconds: 10)
        let serverStatus = server.wait(seconds: 10)
        let transcript = relay.transcript + client.transcript + server.transcript
        #expect(relayStatus == 0, "\(transcript)")
        #expect(clientStatus == 0, "\(transcript)")
        #expect(serverStatus == 0, "\(transcript)")
        let sent = try #require(client.jsonLines.first, "\(transcript)")
        let received = try #require(server.jsonLines.first, "\(transcript)")
        let pair = try #require(relay.jsonLines.first, "\(transcript)")
        #expect(received["bytes"] as? Int == 2_000_000, "\(transcript)")
        #expect(received["sha256"] as? String == sent["sha256"] as? String, "\(transcript)")
        #expect(pair["sha256_forwarded"] as? String == sent["sha256"] as? String, "\(transcript)")
        #expect(pair["bytes_forwarded"] as? Int == 2_000_000, "\(transcript)")
        #expect((pair["upstream_zero_window_episodes"] as? Int ?? 0) >= 1, "\(transcript)")
        // The relay's capture: zero windows from the relay's listening side to the client.
        let zeroWindows = try Tshark.rows(pcap, fields: ["frame.number"],
                                          filter: "tcp.analysis.zero_window && ip.src == \(namespace.sluiceAddress) && tcp.srcport == \(listenPort)")
        #expect(zeroWindows.count >= 1, "no zero window from the relay to the client in \(pcap)")
        #expect(peakRSSKiB > 0 && peakRSSKiB < 100 * 1024, "relay peak RSS \(peakRSSKiB) KiB")
        print("relay interop: 2 MB intact, relay zero windows to the client (tshark) \(zeroWindows.count), pair \(pair), peak RSS \(peakRSSKiB) KiB")
        try? FileManager.default.removeItem(at: dir)
    }

    /// sluice-send --retries 5 against a kernel port with no listener (the kernel answers each
    /// SYN with RST): exactly 6 attempts (6 SYNs in the capture, each refused), exit status 1,
    /// and the one-line message.
    @Test func refusedConnectionIsRetriedFiveTimes() throws {
        guard Self.prerequisites.ready() else { return }
        let dir = try makeScratchDirectory("s11-retry")
        let namespace = try TestNamespace(lossPercent: 0, prefix: "s11-")
        defer { namespace.close() }
        let pcap = dir.appendingPathComponent("send.pcap").path
        let sender = try namespace.spawn("sluice-send", in: dir, TestEnvironment.binary("sluice-send"), [
            "--tun", namespace.device, "--local", namespace.sluiceAddress,
            "--connect", "\(namespace.kernelAddress):6199", "--bytes", "1KiB",
            "--retries", "5", "--retry-base", "20ms", "--retry-cap", "200ms", "--pcap", pcap,
        ])
        defer { sender.kill() }
        let status = sender.wait(seconds: 60)
        #expect(status == 1, "\(sender.transcript)")
        let lines = sender.stderr.split(separator: "\n").filter { $0.contains("attempts failed") }
        #expect(lines == ["sluice-send: error: 6 attempts failed: 6 refused (RST to the SYN), 0 timed out (no SYN-ACK within 5s) connecting to \(namespace.kernelAddress):6199"],
                "\(sender.transcript)")
        // Each attempt is a new connection (a new ephemeral port); a SYN the kernel missed may be
        // retransmitted within its attempt, so attempts are counted by port.
        let syns = try Tshark.rows(pcap, fields: ["tcp.srcport"], filter: "tcp.flags.syn == 1 && tcp.flags.ack == 0")
        let resets = try Tshark.rows(pcap, fields: ["tcp.dstport"], filter: "tcp.flags.reset == 1 && ip.src == \(namespace.kernelAddress)")
        let attemptPorts = Set(syns.compactMap(\.first))
        #expect(attemptPorts.count == 6, "SYNs from \(attemptPorts.count) ports in \(pcap): \(syns)")
        #expect(Set(resets.compactMap(\.first)) == attemptPorts, "RSTs \(resets) for SYNs \(syns) in \(pcap)")
        try? FileManager.default.removeItem(at: dir)
    }

    private func script(_ name: String) -> String { TestEnvironment.repositoryPath("tools/interop/\(name)") }

    /// VmHWM (peak resident set) of `pid` in KiB, from /proc.
    private func highWaterMarkKiB(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }
}

/// What the relay interop tests need from the machine.
enum RelayInteropEnvironment {
    static let prerequisites = Prerequisites("relay interop tests", missing:
        TestNamespace.missingPrerequisites(tools: ["ip", "tshark", "ethtool", "python3"])
            + Prerequisites.missingBinaries(["sluice-send", "sluice-relay"]))
}
