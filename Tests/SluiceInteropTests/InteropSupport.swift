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
    var number: Int
    var ipChecksumBad: Bool
    var tcpChecksumBad: Bool
    var zeroWindowProbe: Bool
    var zeroWindowProbeAck: Bool
}

/// Reads every frame's checksum verdicts (checking enabled) and zero-window-probe flags.
///
/// A TCP checksum of 0xFFFF where 0x0000 is due is not bad when the kernel sent it: Linux's
/// `skb_checksum_help` writes `CSUM_MANGLED_0` (0xFFFF) whenever a checksum folds to zero (about
/// one packet in 65,536), and in one's complement the two are the same zero (RFC 1071 §1,
/// RFC 1624 §3), so every receiver, Sluice included, accepts it. tshark flags it
/// (`tcp.checksum.ffff`, "see RFC 1624"). Sluice's own packets get no such pass: its encoder
/// writes 0x0000 (`ChecksumTests.linuxChecksumFFFFVerifiesAndSluiceWritesZero`).
func tsharkFrames(_ pcap: String, sluiceAddress: String = "10.0.0.1") throws -> [TsharkFrame] {
    let fields = ["frame.number", "ip.checksum.status", "tcp.checksum.status",
                  "tcp.analysis.zero_window_probe", "tcp.analysis.zero_window_probe_ack", "ip.src", "tcp.checksum.ffff"]
    return try Tshark.rows(pcap, fields: fields, preferences: Tshark.checksumPreferences).map { row in
        let f = row + Array(repeating: "", count: fields.count)
        let linuxZero = !f[6].isEmpty && f[5] != sluiceAddress
        // checksum status: 0 bad, 1 good, 2 unverified.
        return TsharkFrame(number: Int(f[0]) ?? 0, ipChecksumBad: f[1] == "0", tcpChecksumBad: f[2] == "0" && !linuxZero,
                           zeroWindowProbe: !f[3].isEmpty, zeroWindowProbeAck: !f[4].isEmpty)
    }
}
