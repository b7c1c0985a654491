import Foundation
import Testing
import SluiceTestSupport

/// Sluice against the Linux kernel over a TUN device while hostile traffic arrives, and the long
/// soak. Each test makes its own namespace (tools/netns-tun). Needs root, /dev/net/tun, tshark
/// and python3: skipped with a message where they are missing, failed when `CI` is set. The soak
/// runs only with `SLUICE_SOAK=1` (several minutes; `SLUICE_SOAK_SECONDS` sets how long).
@Suite(InteropEnvironment.prerequisites.trait)
struct HostileInteropTests {
    static let soakEnabled = ProcessInfo.processInfo.environment["SLUICE_SOAK"] == "1"
    static let soakSeconds = ProcessInfo.processInfo.environment["SLUICE_SOAK_SECONDS"].flatMap(Double.init) ?? 240

    /// The spray of issue 13, tried as a new user would: the kernel sends 3 MB to
    /// `sluice-recv --rcvbuf 65536 --read-rate 1000000` while tools/interop/spray.py sends blind
    /// RSTs, SYNs and data on the connection's 4-tuple, out-of-window data, bad checksums,
    /// garbage and SYNs with odd options (3,000 packets a second): the bytes arrive identical
    /// (SHA-256 on both sides) and sluice-recv's peak RSS stays under 200 MiB.
    @Test func kernelTransferSurvivesASpray() throws {
        guard InteropEnvironment.prerequisites.ready() else { return }
        let dir = try makeScratchDirectory("s13-spray")
        let namespace = try TestNamespace(lossPercent: 0, prefix: "s13-")
        defer { namespace.close() }
        let port = 5013
        let receiver = try namespace.spawn("sluice-recv", in: dir, binary("sluice-recv"), [
            "--tun", namespace.device, "--listen", "\(namespace.sluiceAddress):\(port)",
            "--rcvbuf", "65536", "--read-rate", "1000000", "--json", "--once",
        ])
        defer { receiver.kill() }
        #expect(receiver.waitForOutput(seconds: 10) { $0.stderr.contains("listening") }, "\(receiver.transcript)")
        let spray = try namespace.spawn("spray", in: dir, TestEnvironment.python, [
            script("spray.py"), "--target", "\(namespace.sluiceAddress):\(port)", "--source", namespace.kernelAddress,
            "--seconds", "6", "--rate", "3000", "--seed", "13",
        ])
        defer { spray.kill() }
        let client = try namespace.spawn("kernel-client", in: dir, TestEnvironment.python, [
            script("kernel-client.py"), "--connect", "\(namespace.sluiceAddress):\(port)",
            "--bytes", "3000000", "--seed", "13", "--timeout", "90",
        ])
        defer { client.kill() }
        let peak = Self.peakResidentSet(of: receiver, seconds: 100)
        let clientStatus = client.wait(seconds: 10)
        let sprayStatus = spray.wait(seconds: 20)
        let transcript = receiver.transcript + client.transcript + spray.transcript
        #expect(clientStatus == 0, "\(transcript)")
        #expect(sprayStatus == 0, "\(transcript)")
        let sent = try #require(client.jsonLines.first, "\(transcript)")
        let received = try #require(receiver.jsonLines.first, "\(transcript)")
        let sprayed = try #require(spray.jsonLines.first, "\(transcript)")
        #expect(received["result"] as? String == "completed", "\(transcript)")
        #expect(received["bytes"] as? Int == 3_000_000)
        #expect(received["sha256"] as? String == sent["sha256"] as? String, "\(transcript)")
        #expect((sprayed["sent"] as? Int ?? 0) > 3000, "\(transcript)")
        #expect(peak > 0 && peak <= 200 << 20, "peak RSS \(peak) bytes")
        print("spray: \(sprayed["sent"] ?? 0) hostile packets \(sprayed["by_kind"] ?? [:]); \(received["bytes"] ?? 0) bytes in \(received["seconds"] ?? 0) s, sha256 equal, sluice-recv peak RSS \(peak >> 20) MiB")
        try? FileManager.default.removeItem(at: dir)
    }

    /// The soak: the kernel streams to sluice-recv through a TUN device losing 1% of packets
    /// each way for `SLUICE_SOAK_SECONDS` (240 by default): content identical (SHA-256), and the
    /// resident set flat (the highest RSS in the second half no more than 8 MiB above the
    /// highest in the first half). `SLUICE_SOAK=1 swift test --filter tunSoak`.
    @Test(.enabled(if: soakEnabled, "set SLUICE_SOAK=1 to run the soak (minutes)"))
    func tunSoakAgainstTheKernelWithLoss() throws {
        guard InteropEnvironment.prerequisites.ready() else { return }
        let dir = try makeScratchDirectory("s13-soak")
        let namespace = try TestNamespace(lossPercent: 1, prefix: "s13-")
        defer { namespace.close() }
        let port = 5014
        let receiver = try namespace.spawn("sluice-recv", in: dir, binary("sluice-recv"), [
            "--tun", namespace.device, "--listen", "\(namespace.sluiceAddress):\(port)",
            "--rcvbuf", "256KiB", "--json", "--once",
        ])
        defer { receiver.kill() }
        #expect(receiver.waitForOutput(seconds: 10) { $0.stderr.contains("listening") }, "\(receiver.transcript)")
        let client = try namespace.spawn("kernel-client", in: dir, TestEnvironment.python, [
            script("kernel-client.py"), "--connect", "\(namespace.sluiceAddress):\(port)",
            "--seconds", "\(Self.soakSeconds)", "--seed", "14", "--timeout", "\(Self.soakSeconds + 120)",
        ])
        defer { client.kill() }
        var samples: [(Double, Int)] = []
        let start = Date()
        while receiver.process.isRunning, Date().timeIntervalSince(start) < Self.soakSeconds + 150 {
            if let rss = residentSet(of: receiver.process.processIdentifier) {
                samples.append((Date().timeIntervalSince(start), rss.current))
            }
            Thread.sleep(forTimeInterval: 1)
        }
        let clientStatus = client.wait(seconds: 30)
        let transcript = receiver.transcript + client.transcript
        #expect(clientStatus == 0, "\(transcript)")
        let sent = try #require(client.jsonLines.first, "\(transcript)")
        let received = try #require(receiver.jsonLines.first, "\(transcript)")
        #expect(received["result"] as? String == "completed", "\(transcript)")
        #expect(received["sha256"] as? String == sent["sha256"] as? String, "\(transcript)")
        #expect(received["bytes"] as? Int == sent["bytes"] as? Int)
        let half = samples.count / 2
        let firstHalf = samples.prefix(half).map(\.1).max() ?? 0
        let secondHalf = samples.suffix(from: half).map(\.1).max() ?? 0
        #expect(samples.count >= 10 && secondHalf <= firstHalf + 8 << 20,
                "RSS first half max \(firstHalf), second half max \(secondHalf)")
        print("TUN soak: \(received["bytes"] ?? 0) bytes in \(received["seconds"] ?? 0) s with 1% loss, retransmitted \(received["retransmitted_bytes"] ?? 0) B, sha256 equal; RSS max first half \(firstHalf >> 10) KiB, second half \(secondHalf >> 10) KiB (\(samples.count) samples)")
        try? FileManager.default.removeItem(at: dir)
    }

    // MARK: - Helpers

    /// Polls the child's peak RSS (VmHWM) every 50 ms until it exits or `seconds` pass.
    static func peakResidentSet(of child: Child, seconds: Double) -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        var peak = 0
        while child.process.isRunning, Date() < deadline {
            if let rss = residentSet(of: child.process.processIdentifier) { peak = max(peak, rss.peak) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return peak
    }

    private func binary(_ name: String) -> String { TestEnvironment.binary(name) }

    private func script(_ name: String) -> String { TestEnvironment.repositoryPath("tools/interop/\(name)") }
}
