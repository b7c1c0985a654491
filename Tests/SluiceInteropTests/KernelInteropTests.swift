import Foundation
import Testing
import SluiceTestSupport

/// Sluice against the Linux kernel's TCP over a TUN device, inside a network namespace each test
/// creates (tools/netns-tun; deleted on exit, also on failure). The kernel side is driven by
/// small Python programs (tools/interop/). Needs root, /dev/net/tun, tshark and python3: skipped
/// with a message where they are missing, failed when `CI` is set.
@Suite(InteropEnvironment.prerequisites.trait)
struct KernelInteropTests {
    // MARK: - Kernel client → sluice-recv (slow reader, small buffer)

    @Test(arguments: [(0, "k2s"), (2, "k2s-loss")])
    func kernelClientToSlowSluiceReceiver(lossPercent: Int, label: String) throws {
        guard InteropEnvironment.prerequisites.ready() else { return }
        try kernelToSluice(lossPercent: lossPercent, label: label)
    }

    // MARK: - sluice-send → kernel receiver (small SO_RCVBUF, reads in bursts with pauses)

    @Test(arguments: [(0, "s2k"), (2, "s2k-loss")])
    func sluiceSenderToPausingKernelReceiver(lossPercent: Int, label: String) throws {
        guard InteropEnvironment.prerequisites.ready() else { return }
        try sluiceToKernel(lossPercent: lossPercent, label: label)
    }

    // MARK: - Offload mode (--offload): TCP super-segments both ways

    @Test func kernelClientToSluiceReceiverOffload() throws {
        guard InteropEnvironment.prerequisites.ready() else { return }
        try offloadTransfer(toSluice: true, lossPercent: 0, label: "k2s-offload")
    }

    @Test func kernelClientToSluiceReceiverOffloadWithLoss() throws {
        guard InteropEnvironment.prerequisites.ready() else { return }
        try offloadTransfer(toSluice: true, lossPercent: 2, label: "k2s-offload-loss")
    }

    /// Without a capture nothing completes the kernel's partial checksums: the engine takes
    /// the packets on the kernel's word (`LinkChecksum.vouchedByLink`) and the bytes still match.
    @Test func kernelClientToSluiceReceiverOffloadUncaptured() throws {
        guard InteropEnvironment.prerequisites.ready() else { return }
        try offloadTransfer(toSluice: true, lossPercent: 0, label: "k2s-offload-nocap", capture: false)
    }

    @Test func sluiceSenderToKernelReceiverOffload() throws {
        guard InteropEnvironment.prerequisites.ready() else { return }
        try offloadTransfer(toSluice: false, lossPercent: 0, label: "s2k-offload")
    }

    @Test func sluiceSenderToKernelReceiverOffloadWithLoss() throws {
        guard InteropEnvironment.prerequisites.ready() else { return }
        try offloadTransfer(toSluice: false, lossPercent: 2, label: "s2k-offload-loss")
    }

    // MARK: - Scenarios

    /// 4 MB at full speed with `--offload` on a device whose TSO/GSO stay on: the bytes arrive
    /// intact (SHA-256 on both sides), the capture holds super-segments (IPv4 packets longer than
    /// the 1500-byte MTU) from the sending side, and tshark finds no bad checksum in it (the
    /// driver completes partial checksums in and writes complete ones into the capture). With
    /// loss, nftables drops whole super-segments; recovery still delivers every byte.
    private func offloadTransfer(toSluice: Bool, lossPercent: Int, label: String, capture: Bool = true) throws {
        let dir = try makeScratchDirectory(label)
        let namespace = try TestNamespace(lossPercent: lossPercent, offload: true)
        defer { namespace.close() }
        let pcap = dir.appendingPathComponent("sluice.pcap").path
        let pcapFlags = capture ? ["--pcap", pcap] : []
        let sluiceProcess: Child
        let kernelProcess: Child
        if toSluice {
            sluiceProcess = try namespace.spawn("sluice-recv", in: dir, binary("sluice-recv"), [
                "--tun", namespace.device, "--offload", "--listen", "\(namespace.sluiceAddress):5003",
                "--json", "--once",
            ] + pcapFlags)
            #expect(sluiceProcess.waitForOutput(seconds: 10) { $0.stderr.contains("listening") }, "\(sluiceProcess.transcript)")
            kernelProcess = try namespace.spawn("kernel-client", in: dir, TestEnvironment.python, [
                script("kernel-client.py"), "--connect", "\(namespace.sluiceAddress):5003",
                "--bytes", "4000000", "--seed", "\(lossPercent + 31)", "--timeout", "90",
            ])
        } else {
            kernelProcess = try namespace.spawn("kernel-receiver", in: dir, TestEnvironment.python, [
                script("kernel-receiver.py"), "--listen", "\(namespace.kernelAddress):5004", "--timeout", "90",
            ])
            #expect(kernelProcess.waitForOutput(seconds: 10) { $0.stdout.contains("listening") }, "\(kernelProcess.transcript)")
            sluiceProcess = try namespace.spawn("sluice-send", in: dir, binary("sluice-send"), [
                "--tun", namespace.device, "--offload", "--local", namespace.sluiceAddress,
                "--connect", "\(namespace.kernelAddress):5004",
                "--bytes", "4000000", "--seed", "\(lossPercent + 41)", "--json",
            ] + pcapFlags)
        }
        defer { sluiceProcess.kill(); kernelProcess.kill() }
        let first = toSluice ? kernelProcess : sluiceProcess
        let second = toSluice ? sluiceProcess : kernelProcess
        let firstStatus = first.wait(seconds: 100)
        let secondStatus = second.wait(seconds: 15)
        let transcript = sluiceProcess.transcript + kernelProcess.transcript
        #expect(firstStatus == 0, "\(transcript)")
        #expect(secondStatus == 0, "\(transcript)")
        let sluiceReport = try #require(sluiceProcess.jsonLines.first, "\(transcript)")
        let kernelReport = try #require(kernelProcess.jsonLines.first, "\(transcript)")
        #expect(sluiceReport["result"] as? String == "completed", "\(transcript)")
        #expect(sluiceReport["bytes"] as? Int == 4_000_000, "\(transcript)")
        #expect(kernelReport["bytes"] as? Int == 4_000_000, "\(transcript)")
        #expect(sluiceReport["sha256"] as? String == kernelReport["sha256"] as? String, "\(transcript)")
        guard capture else {
            print("interop \(label): \(sluiceReport["bytes"] ?? 0) bytes in \(sluiceReport["seconds"] ?? 0) s, no capture")
            try? FileManager.default.removeItem(at: dir)
            return
        }
        try expectCleanCapture(pcap)
        let sender = toSluice ? namespace.kernelAddress : namespace.sluiceAddress
        let superSegments = try Tshark.rows(pcap, fields: ["frame.number"], filter: "ip.src == \(sender) && ip.len > 1500",
                                            preferences: Tshark.checksumPreferences).count
        print("interop \(label): \(sluiceReport["bytes"] ?? 0) bytes in \(sluiceReport["seconds"] ?? 0) s, goodput \(sluiceReport["goodput_bps"] ?? 0) bit/s, \(superSegments) super-segments from \(sender), loss \(lossPercent)%")
        if lossPercent == 0 {
            #expect(superSegments >= 1, "no super-segment from \(sender) in \(pcap)")
        }
        try? FileManager.default.removeItem(at: dir)
    }

    /// The kernel sends 1 MB to sluice-recv, whose application reads 4 KiB at a time at
    /// 2 Mbit/s through a 16 KiB receive buffer: the transfer completes with identical bytes.
    private func kernelToSluice(lossPercent: Int, label: String) throws {
        try inNamespace(lossPercent: lossPercent, label: label) { dir, namespace in
            let pcap = dir.appendingPathComponent("sluice-recv.pcap").path
            let port = 5001
            let receiver = try namespace.spawn("sluice-recv", in: dir, binary("sluice-recv"), [
                "--tun", namespace.device, "--listen", "\(namespace.sluiceAddress):\(port)",
                "--rcvbuf", "16KiB", "--read-rate", "2mbit", "--read-chunk", "4KiB",
                "--pcap", pcap, "--json", "--once",
            ])
            defer { receiver.kill() }
            #expect(receiver.waitForOutput(seconds: 10) { $0.stderr.contains("listening") }, "\(receiver.transcript)")
            let client = try namespace.spawn("kernel-client", in: dir, TestEnvironment.python, [
                script("kernel-client.py"), "--connect", "\(namespace.sluiceAddress):\(port)",
                "--bytes", "1000000", "--seed", "\(lossPercent + 11)", "--timeout", "90",
            ])
            defer { client.kill() }
            let (sent, received, transcript) = try expectExits(client, status: 0, within: 100, then: receiver, status: 0, within: 10)
            #expect(received["result"] as? String == "completed", "\(transcript)")
            #expect(received["bytes"] as? Int == 1_000_000)
            #expect(received["sha256"] as? String == sent["sha256"] as? String, "\(transcript)")
            #expect((received["peak_buffer_bytes"] as? Int ?? .max) <= 16 * 1024, "receive buffer bound: \(transcript)")
            if lossPercent == 0 {
                // A 16 KiB buffer read at 2 Mbit/s against a kernel sender: the window closes.
                #expect((received["zero_window_episodes"] as? Int ?? 0) >= 1, "\(transcript)")
            }
            print("interop \(label): \(received["bytes"] ?? 0) bytes in \(received["seconds"] ?? 0) s, goodput \(received["goodput_bps"] ?? 0) bit/s, window updates \(received["window_updates_sent"] ?? 0), loss \(lossPercent)%")
            try expectCleanCapture(pcap)
        }
    }

    /// sluice-send offers 256 KiB to a kernel receiver with a 4 KiB SO_RCVBUF that reads 64 KiB,
    /// then sleeps 1.2 s, repeatedly: the window closes, Sluice probes with one byte at the
    /// window edge (tshark: `tcp.analysis.zero_window_probe`), the kernel answers each probe,
    /// and the bytes arrive intact.
    private func sluiceToKernel(lossPercent: Int, label: String) throws {
        try inNamespace(lossPercent: lossPercent, label: label) { dir, namespace in
            let pcap = dir.appendingPathComponent("sluice-send.pcap").path
            let port = 5002
            let server = try namespace.spawn("kernel-receiver", in: dir, TestEnvironment.python, [
                script("kernel-receiver.py"), "--listen", "\(namespace.kernelAddress):\(port)",
                "--rcvbuf", "4096", "--burst", "65536", "--pause", "1.2", "--timeout", "90",
            ])
            defer { server.kill() }
            #expect(server.waitForOutput(seconds: 10) { $0.stdout.contains("listening") }, "\(server.transcript)")
            let sender = try namespace.spawn("sluice-send", in: dir, binary("sluice-send"), [
                "--tun", namespace.device, "--local", namespace.sluiceAddress,
                "--connect", "\(namespace.kernelAddress):\(port)",
                "--bytes", "256KiB", "--seed", "\(lossPercent + 21)", "--pcap", pcap, "--json",
            ])
            defer { sender.kill() }
            let (sent, received, transcript) = try expectExits(sender, status: 0, within: 100, then: server, status: 0, within: 10)
            #expect(sent["result"] as? String == "completed", "\(transcript)")
            #expect(received["bytes"] as? Int == 256 * 1024, "\(transcript)")
            #expect(received["sha256"] as? String == sent["sha256"] as? String, "\(transcript)")
            let frames = try expectCleanCapture(pcap)
            let probes = frames.filter(\.zeroWindowProbe).count
            let answers = frames.filter(\.zeroWindowProbeAck).count
            print("interop \(label): \(sent["bytes"] ?? 0) bytes in \(sent["seconds"] ?? 0) s, goodput \(sent["goodput_bps"] ?? 0) bit/s, probes sent \(sent["probes_sent"] ?? 0) (tshark: \(probes) probes, \(answers) answered), retransmitted \(sent["retransmitted_bytes"] ?? 0) B, loss \(lossPercent)%")
            if lossPercent == 0 {
                // The receiver pauses 1.2 s with a full buffer at least 3 times: probes must appear,
                // and with no loss every one is answered.
                #expect(probes >= 1, "no zero-window probe in \(pcap)")
                #expect((sent["zero_window_episodes"] as? Int ?? 0) >= 1, "\(transcript)")
                #expect((sent["probes_answered"] as? Int ?? 0) >= 1, "\(transcript)")
                #expect(answers == probes, "\(probes) probes but \(answers) answers in \(pcap)")
            }
        }
    }

    // MARK: - Helpers

    /// Runs `body` with a fresh scratch directory and a fresh namespace (`lossPercent` loss);
    /// the namespace is deleted afterwards, also on failure, and the directory when `body`
    /// succeeded (kept for a look otherwise).
    private func inNamespace(lossPercent: Int, label: String, _ body: (URL, TestNamespace) throws -> Void) throws {
        let dir = try makeScratchDirectory(label)
        let namespace = try TestNamespace(lossPercent: lossPercent)
        defer { namespace.close() }
        try body(dir, namespace)
        try? FileManager.default.removeItem(at: dir)
    }

    private func binary(_ name: String) -> String { TestEnvironment.binary(name) }

    private func script(_ name: String) -> String { TestEnvironment.repositoryPath("tools/interop/\(name)") }

    /// tshark finds no malformed packet and no bad IPv4 or TCP checksum in a capture Sluice wrote.
    @discardableResult
    private func expectCleanCapture(_ pcap: String) throws -> [TsharkFrame] {
        #expect(FileManager.default.fileExists(atPath: pcap), "no capture at \(pcap)")
        let frames = try tsharkFrames(pcap)
        #expect(frames.count > 0, "empty capture \(pcap)")
        #expect(frames.filter(\.ipChecksumBad).count == 0, "bad IPv4 checksums in \(pcap)")
        #expect(frames.filter(\.tcpChecksumBad).count == 0, "bad TCP checksums in \(pcap)")
        #expect(try Tshark.rows(pcap, fields: ["frame.number"], filter: "_ws.malformed", preferences: Tshark.checksumPreferences).count == 0, "malformed packets in \(pcap)")
        return frames
    }
}
