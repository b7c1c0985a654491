import Foundation
import Glibc

/// A path under the temporary directory, unique per call (tests run in parallel).
func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory
        .appendingPathComponent("sluice-harness-\(getpid())-\(UUID().uuidString)-\(name)").path
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

/// tshark's fields for every packet of `file`, with checksum validation on.
func tsharkRows(_ tshark: String, file: String, fields: [String], filter: String? = nil) throws -> [[String]] {
    var args = ["-n", "-r", file, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
                "-o", "tcp.analyze_sequence_numbers:TRUE",
                // A payload dissector guessing at the bulk stream (port 5001) would reassemble it
                // and flag an identical retransmission as "new fragment overlaps old data".
                "-o", "tcp.desegment_tcp_streams:FALSE",
                "-T", "fields", "-E", "separator=|"]
    if let filter { args += ["-Y", filter] }
    for f in fields { args += ["-e", f] }
    let (status, out) = try runTool(tshark, args)
    guard status == 0 else { throw TsharkFailed(status: status) }
    return out.split(separator: "\n", omittingEmptySubsequences: true)
        .map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
}

struct TsharkFailed: Error { var status: Int32 }
