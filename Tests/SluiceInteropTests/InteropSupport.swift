import Foundation
import Testing
import SluiceTestSupport

/// What the kernel-interop tests need from the machine: root, /dev/net/tun, the tools and the
/// built binaries. Missing ones skip the tests with a message, or fail them where `CI` is set.
enum InteropEnvironment {
    static let prerequisites = Prerequisites("kernel-interop tests", missing:
        TestNamespace.missingPrerequisites(tools: ["ip", "tshark", "nft", "ethtool", "python3"])
            + Prerequisites.missingBinaries(["sluice-send", "sluice-recv"]))
}

/// What tshark says about each frame of a capture (one tshark run).
struct TsharkFrame {
    var ipChecksumBad: Bool
    var tcpChecksumBad: Bool
    var zeroWindowProbe: Bool
    var zeroWindowProbeAck: Bool
}

/// Reads every frame's checksum verdicts (checking enabled) and zero-window-probe flags.
func tsharkFrames(_ pcap: String) throws -> [TsharkFrame] {
    let fields = ["frame.number", "ip.checksum.status", "tcp.checksum.status",
                  "tcp.analysis.zero_window_probe", "tcp.analysis.zero_window_probe_ack"]
    return try Tshark.rows(pcap, fields: fields, preferences: Tshark.checksumPreferences).map { row in
        let f = row + Array(repeating: "", count: fields.count)
        // checksum status: 0 bad, 1 good, 2 unverified.
        return TsharkFrame(ipChecksumBad: f[1] == "0", tcpChecksumBad: f[2] == "0",
                           zeroWindowProbe: !f[3].isEmpty, zeroWindowProbeAck: !f[4].isEmpty)
    }
}
