import Foundation
import Testing
import SluiceRandom
import SluiceTestSupport

/// sluice-send and sluice-recv as a user runs them, over the UDP-on-loopback link (127.0.0.1
/// only; no root needed): content, JSON summaries, exit statuses, Ctrl-C, one-line flag errors.
@Suite(LoopbackEnvironment.prerequisites.trait)
struct LoopbackCLITests {
    @Test func slowReaderTransferIsIntactAndSummarised() throws {
        guard LoopbackEnvironment.prerequisites.ready() else { return }
        let dir = try makeScratchDirectory("udp-ok")
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try freeUDPPort()
        let output = dir.appendingPathComponent("received.bin").path
        let receiver = try Child(name: "recv", directory: dir, executable: binary("sluice-recv"), arguments: [
            "--listen", "10.0.0.2:\(port)", "--rcvbuf", "16KiB", "--read-rate", "4mbit", "--read-chunk", "8KiB",
            "--output", output, "--json", "--once",
        ])
        defer { receiver.kill() }
        #expect(receiver.waitForOutput(seconds: 10) { $0.stderr.contains("listening") }, "\(receiver.transcript)")
        let sender = try Child(name: "send", directory: dir, executable: binary("sluice-send"), arguments: [
            "--connect", "10.0.0.2:\(port)", "--bytes", "300KiB", "--seed", "9", "--json",
        ])
        defer { sender.kill() }
        let (sent, received, transcript) = try expectExits(sender, status: 0, within: 60, then: receiver, status: 0, within: 10)
        for key in ["bytes", "seconds", "goodput_bps", "sha256", "retransmitted_bytes", "zero_window_episodes",
                    "zero_window_seconds", "probes_sent", "window_updates_sent", "peak_buffer_bytes",
                    "rwnd_limited_s", "cwnd_limited_s", "pacing_limited_s", "app_limited_s"] {
            #expect(sent[key] != nil && received[key] != nil, "JSON key \(key) missing: \(transcript)")
        }
        #expect(sent["result"] as? String == "completed")
        #expect(received["result"] as? String == "completed")
        #expect(sent["bytes"] as? Int == 300 * 1024)
        #expect(received["bytes"] as? Int == 300 * 1024)
        #expect(received["sha256"] as? String == sent["sha256"] as? String)
        #expect((received["peak_buffer_bytes"] as? Int ?? .max) <= 16 * 1024)
        // The file holds the same bytes: SplitMix64 from seed 9, little-endian.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: output))
        #expect(bytes.count == 300 * 1024)
        var expected = SeededBytes(seed: 9)
        #expect(Array(bytes.prefix(8)) == expected.next(8))
        // 300 KiB at 4 Mbit/s (500 KB/s) takes at least half a second: the reader set the pace.
        #expect((received["seconds"] as? Double ?? 0) >= 0.5)
    }

    /// `--no-digest` on both sides (a throughput run): the summaries say `"sha256": null`, every
    /// byte still arrives, and the receiver's `--output` file holds the stream.
    @Test func noDigestCountsBytesOnly() throws {
        guard LoopbackEnvironment.prerequisites.ready() else { return }
        let dir = try makeScratchDirectory("udp-nodigest")
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try freeUDPPort()
        let output = dir.appendingPathComponent("received.bin").path
        let receiver = try Child(name: "recv", directory: dir, executable: binary("sluice-recv"), arguments: [
            "--listen", "10.0.0.2:\(port)", "--output", output, "--json", "--once", "--no-digest",
        ])
        defer { receiver.kill() }
        #expect(receiver.waitForOutput(seconds: 10) { $0.stderr.contains("listening") }, "\(receiver.transcript)")
        let sender = try Child(name: "send", directory: dir, executable: binary("sluice-send"), arguments: [
            "--connect", "10.0.0.2:\(port)", "--bytes", "3MiB", "--seed", "5", "--json", "--no-digest",
        ])
        defer { sender.kill() }
        let (sent, received, transcript) = try expectExits(sender, status: 0, within: 60, then: receiver, status: 0, within: 10)
        #expect(sent["sha256"] is NSNull && received["sha256"] is NSNull, "\(transcript)")
        #expect(sent["bytes"] as? Int == 3 << 20)
        #expect(received["bytes"] as? Int == 3 << 20)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: output))
        var expected = SeededBytes(seed: 5)
        #expect(Array(bytes) == expected.next(3 << 20))
    }

    @Test func firstInterruptClosesGracefullySecondResets() throws {
        guard LoopbackEnvironment.prerequisites.ready() else { return }
        let dir = try makeScratchDirectory("udp-int")
        defer { try? FileManager.default.removeItem(at: dir) }
        // One Ctrl-C: the sender stops writing, its queued bytes drain, FIN; exit 130.
        do {
            let (receiver, sender) = try startFlowingTransfer(in: dir, "1", readRate: "2mbit", sender: ["--sndbuf", "32KiB"])
            defer { receiver.kill(); sender.kill() }
            sender.signal(SIGINT)
            let (sent, received, transcript) = try expectExits(sender, status: 130, within: 30, then: receiver, status: 0, within: 10)
            #expect(sent["result"] as? String == "interrupted")
            #expect(received["result"] as? String == "completed")
            #expect(received["sha256"] as? String == sent["sha256"] as? String, "what was queued arrived: \(transcript)")
        }
        // Two Ctrl-Cs: RST; the receiver reports a reset and exits 1.
        do {
            let (receiver, sender) = try startFlowingTransfer(in: dir, "2", readRate: "100KB", sender: [])
            defer { receiver.kill(); sender.kill() }
            sender.signal(SIGINT)
            // A second SIGINT still pending when the first is read merges with it (standard
            // signals do not queue): give the sender a moment to take the first one.
            Thread.sleep(forTimeInterval: 0.5)
            sender.signal(SIGINT)
            let (sent, received, transcript) = try expectExits(sender, status: 130, within: 30, then: receiver, status: 1, within: 10)
            #expect(sent["result"] as? String == "aborted", "\(transcript)")
            #expect(received["result"] as? String == "reset", "\(transcript)")
        }
    }

    @Test(arguments: [
        (["sluice-send", "--connect", "10.0.0.2", "--bytes", "1"], "expected IP:PORT"),
        (["sluice-send", "--connect", "10.0.0.2:5001"], "--bytes N"),
        (["sluice-send", "--connect", "10.0.0.2:5001", "--bytes", "10KB"], "use bytes (no unit), KiB, MiB or GiB"),
        (["sluice-send", "--connect", "10.0.0.2:5001", "--bytes", "1", "--pace", "fast"], "or auto / off"),
        (["sluice-send", "--connect", "10.0.0.2:5001", "--bytes", "1", "--sndbuf", "1"], "out of range"),
        (["sluice-send", "--connect", "10.0.0.2:5001", "--file", "/nonexistent/file"], "cannot open --file"),
        (["sluice-recv", "--listen", "10.0.0.2:5001", "--read-rate", "1kb"], "unknown rate unit 'kb'"),
        (["sluice-recv", "--listen", "10.0.0.2:5001", "--rcvbuf", "lots"], "is not a size"),
        (["sluice-recv", "--listen", "10.0.0.2:5001", "--tun", "much-too-long-name"], "bad TUN device name"),
        (["sluice-recv", "--listen", "999.0.0.2:5001"], "not an IPv4 address"),
        (["sluice-recv"], "Missing expected argument '--listen"),
    ])
    func badFlagsGiveOneLineAndStatus2(arguments: [String], fragment: String) throws {
        guard LoopbackEnvironment.prerequisites.ready() else { return }
        let dir = try makeScratchDirectory("udp-flags")
        defer { try? FileManager.default.removeItem(at: dir) }
        let child = try Child(name: "cli", directory: dir, executable: binary(arguments[0]), arguments: Array(arguments.dropFirst()))
        #expect(child.wait(seconds: 10) == 2, "\(child.transcript)")
        let lines = child.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(child.transcript)")
        #expect(child.stderr.contains(fragment), "\(child.transcript)")
        #expect(child.stderr.hasPrefix("\(arguments[0]): error: "), "\(child.transcript)")
    }

    private func binary(_ name: String) -> String { TestEnvironment.binary(name) }

    /// sluice-recv (reading at `readRate` into received`tag`.bin, --once) and sluice-send
    /// (100 MiB, plus `sender` flags) on a fresh UDP port, returned once bytes reach the file.
    private func startFlowingTransfer(in dir: URL, _ tag: String, readRate: String, sender extra: [String]) throws -> (receiver: Child, sender: Child) {
        let port = try freeUDPPort()
        let output = dir.appendingPathComponent("received\(tag).bin")
        let receiver = try Child(name: "recv\(tag)", directory: dir, executable: binary("sluice-recv"), arguments: [
            "--listen", "10.0.0.2:\(port)", "--read-rate", readRate, "--json", "--once", "--output", output.path])
        #expect(receiver.waitForOutput(seconds: 10) { $0.stderr.contains("listening") })
        let sender: Child
        do {
            sender = try Child(name: "send\(tag)", directory: dir, executable: binary("sluice-send"), arguments: [
                "--connect", "10.0.0.2:\(port)", "--bytes", "100MiB", "--json"] + extra)
        } catch {
            receiver.kill()
            throw error
        }
        // Bytes in the receiver's output file: the connection is up and data flows.
        #expect(receiver.waitForOutput(seconds: 10) { _ in fileSize(output) > 0 })
        return (receiver, sender)
    }
}

enum LoopbackEnvironment {
    static let prerequisites = Prerequisites("loopback CLI tests", missing: Prerequisites.missingBinaries(["sluice-send", "sluice-recv"]))
}
