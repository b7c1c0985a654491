import Crypto
import Foundation
import SluiceRandom
import SluiceTestSupport
import Testing

/// sluice-http (NIOHTTP1 over Sluice over TUN) against curl from the Linux kernel's TCP, in a
/// namespace the test creates (prefix `s15-`; deleted on exit, also on failure). Needs root,
/// /dev/net/tun, tshark and curl: skipped with a message where they are missing, failed when
/// `CI` is set.
@Suite(HTTPKernelEnvironment.prerequisites.trait)
struct HTTPKernelTests {
    /// GET /bytes/10000000 arrives identical; POST /sink of 10 MB read at 1 Mbit/s closes
    /// Sluice's window (zero windows from Sluice to the kernel in the capture) and the answer
    /// carries the body's SHA-256.
    @Test func curlGetAndSlowPostOverTUN() throws {
        guard HTTPKernelEnvironment.prerequisites.ready() else { return }
        let dir = try makeScratchDirectory("s15-http")
        let namespace = try TestNamespace(lossPercent: 0, prefix: "s15-")
        defer { namespace.close() }
        let pcap = dir.appendingPathComponent("sluice-http.pcap").path
        let address = "\(namespace.sluiceAddress):8080"
        let server = try namespace.spawn("sluice-http", in: dir, TestEnvironment.binary("sluice-http"), [
            "--tun", namespace.device, "--listen", address, "--rcvbuf", "64KiB", "--read-rate", "1mbit",
            "--pcap", pcap, "--json", "--requests", "2",
        ])
        defer { server.kill() }
        #expect(server.waitForOutput(seconds: 10) { $0.stderr.contains("listening") }, "\(server.transcript)")
        let curl = TestEnvironment.which("curl") ?? "/usr/bin/curl"

        // GET: 10,000,000 bytes, byte i = i % 251.
        let downloaded = dir.appendingPathComponent("bytes.bin").path
        let get = try namespace.spawn("curl-get", in: dir, curl, [
            "-sS", "--fail", "--max-time", "60", "-o", downloaded, "http://\(address)/bytes/10000000",
        ])
        defer { get.kill() }
        #expect(get.wait(seconds: 70) == 0, "\(get.transcript)\(server.transcript)")
        let body = try Data(contentsOf: URL(fileURLWithPath: downloaded))
        #expect(body.count == 10_000_000)
        #expect(body.enumerated().allSatisfy { $0.element == UInt8($0.offset % 251) }, "GET body differs from i % 251")

        // POST: 10 MB of seeded bytes to a sink reading 1 Mbit/s (about 80 s).
        let upload = dir.appendingPathComponent("upload.bin")
        var seeded = SeededBytes(seed: 15)
        let payload = seeded.next(10_000_000)
        try Data(payload).write(to: upload)
        let expected = SHA256.hash(data: payload).map { String(format: "%02x", $0) }.joined()
        let post = try namespace.spawn("curl-post", in: dir, curl, [
            "-sS", "--fail", "--max-time", "200", "-H", "Expect:", "-H", "Content-Type: application/octet-stream",
            "--data-binary", "@\(upload.path)", "http://\(address)/sink",
        ])
        defer { post.kill() }
        #expect(post.wait(seconds: 210) == 0, "\(post.transcript)\(server.transcript)")
        #expect(post.stdout == "bytes=10000000 sha256=\(expected)\n", "\(post.transcript)")

        // --requests 2: the server closes its connections and exits 0 with a report per connection.
        #expect(server.wait(seconds: 20) == 0, "\(server.transcript)")
        let reports = server.jsonLines
        #expect(reports.count == 2, "\(server.transcript)")
        #expect(reports.contains { ($0["zero_window_episodes"] as? Int ?? 0) > 0 }, "\(server.transcript)")

        // The capture: zero windows sent by Sluice (10.0.0.1) to the kernel, clean checksums (see
        // tsharkFrames for Linux's 0xFFFF).
        let zeroWindows = try Tshark.rows(pcap, fields: ["frame.number"],
                                          filter: "ip.src == \(namespace.sluiceAddress) && tcp.analysis.zero_window").count
        #expect(zeroWindows > 0, "no zero window from Sluice in \(pcap)")
        let frames = try tsharkFrames(pcap, sluiceAddress: namespace.sluiceAddress)
        #expect(!frames.isEmpty)
        let badFrames = Set(frames.filter { $0.ipChecksumBad || $0.tcpChecksumBad }.map(\.number))
        if !badFrames.isEmpty {
            let details = try Tshark.rows(pcap, fields: badFrameFields, preferences: Tshark.checksumPreferences)
                .filter { badFrames.contains(Int($0.first ?? "") ?? 0) }.map { $0.joined(separator: " ") }
            Issue.record("bad checksum in \(pcap): \(details)")
        }
        print("s15-http: GET 10 MB and POST 10 MB at 1 Mbit/s; \(zeroWindows) zero windows from Sluice; \(frames.count) frames")
        if badFrames.isEmpty { try? FileManager.default.removeItem(at: dir) }
    }
}

/// What the kernel-interop report says about each frame with a bad checksum.
private let badFrameFields = ["frame.number", "frame.time_relative", "frame.len", "frame.cap_len", "ip.src", "ip.dst",
                              "ip.len", "ip.proto", "ip.checksum.status", "tcp.checksum.status", "tcp.checksum", "tcp.flags.str",
                              "tcp.seq_raw", "tcp.ack_raw", "tcp.len", "tcp.window_size_value"]

/// What the sluice-http kernel test needs: the TUN prerequisites, curl and sluice-http.
enum HTTPKernelEnvironment {
    static let prerequisites = Prerequisites("the sluice-http kernel test", missing:
        TestNamespace.missingPrerequisites(tools: ["ip", "tshark", "ethtool", "curl"])
            + Prerequisites.missingBinaries(["sluice-http"]))
}
