import Foundation
import SluiceCore
@testable import SluicePcap

/// Known-good IPv4/TCP packets (10.0.0.1:40000 -> 10.0.0.2:5001), with correct IPv4 and TCP
/// checksums, made with a short Python script (struct + the RFC 1071 sum) while the wire encoder
/// was still being written.
enum KnownPackets {
    static let syn: [UInt8] = hex("4500003c00014000400626b90a0000010a0000029c401389000003e800000000a002faf0855a0000020405b40402080a000000010000000001030307")
    static let synAck: [UInt8] = hex("4500003c00004000400626ba0a0000020a00000113899c4000002328000003e9a012fe885e870000020405b40402080a000000020000000101030307")
    static let ack: [UInt8] = hex("4500003400024000400626c00a0000010a0000029c401389000003e900002329801001f689e400000101080a0000000300000002")
    static let data: [UInt8] = hex("45000098000340004006265b0a0000010a0000029c401389000003e900002329801801f6eda900000101080a0000000400000002000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60616263")
    static let fin: [UInt8] = hex("4500003400044000400626be0a0000010a0000029c4013890000044d00002329801101f6897d00000101080a0000000500000002")

    static let all = [syn, synAck, ack, data, fin]

    static func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16) ?? 0)
            i = j
        }
        return out
    }
}

/// A path under the temporary directory, unique per call (tests run in parallel).
func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory
        .appendingPathComponent("sluice-pcap-\(getpid())-\(UUID().uuidString)-\(name)").path
}

/// One record copied out of the reader, for comparisons.
struct ReadPacket: Equatable, CustomStringConvertible {
    var frameNumber: Int
    var timestamp: Instant
    var bytes: [UInt8]
    var originalLength: Int
    var description: String { "#\(frameNumber) @\(timestamp.nanoseconds)ns \(bytes.count)/\(originalLength) B" }
}

/// Reads every IPv4/TCP packet of a file.
func readAll(_ reader: PcapReader) throws -> [ReadPacket] {
    var out: [ReadPacket] = []
    while let r = try reader.next() {
        out.append(ReadPacket(frameNumber: r.frameNumber, timestamp: r.timestamp,
                              bytes: Array(r.packet), originalLength: r.originalLength))
    }
    return out
}

/// The full path of a program on PATH, or nil when it is not installed.
func findTool(_ name: String) -> String? {
    let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin")
        .split(separator: ":")
    return paths.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// Runs a program (a full path); returns its exit status and standard output.
func runTool(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// True where the `CI` environment variable is set: a missing tool is then a failure, not a skip.
let isCI = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty } ?? false

/// tshark, if installed.
let tsharkPath = findTool("tshark")

/// Runs tshark with IPv4 and TCP checksum verification on, printing `fields` (comma-separated,
/// one line a frame, after the optional display filter); returns the rows.
func tsharkRows(_ tshark: String, file: String, fields: [String], filter: String? = nil) throws -> [[String]] {
    var args = ["-r", file, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
                "-T", "fields", "-E", "separator=,", "-E", "occurrence=f"]
    if let filter { args += ["-Y", filter] }
    for f in fields { args += ["-e", f] }
    let (status, output) = try runTool(tshark, args)
    guard status == 0 else { throw TsharkFailed(status: status, file: file) }
    return output.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
}

struct TsharkFailed: Error { var status: Int32; var file: String }
