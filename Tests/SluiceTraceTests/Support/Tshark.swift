import Foundation
import Testing

/// Runs tshark (Wireshark 4.0 here) as the reference. Tests that need it skip with a message
/// when it is missing, and fail when the CI environment variable is set.
enum Tshark {
    static let path: String? = ["/usr/bin/tshark", "/usr/local/bin/tshark"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Returns false (after recording a failure under CI) when tshark is missing.
    static func available() -> Bool {
        if path != nil { return true }
        if ProcessInfo.processInfo.environment["CI"] != nil {
            Issue.record("tshark is missing and CI is set: install it (tools/test does)")
        } else {
            print("skipping: tshark not installed (apt-get install tshark)")
        }
        return false
    }

    /// For each field (such as `tcp.analysis.zero_window`), the frames where it is present, in
    /// file order: the packets `tshark -Y FIELD` lists. One tshark run for all fields.
    static func frames(_ file: String, fields: [String]) throws -> [String: [Int]] {
        var args = ["-r", file, "-T", "fields", "-E", "occurrence=f", "-E", "separator=/t", "-e", "frame.number"]
        for f in fields { args += ["-e", f] }
        let out = try run(args)
        var result: [String: [Int]] = [:]
        for f in fields { result[f] = [] }
        for line in out.split(separator: "\n", omittingEmptySubsequences: true) {
            let cols = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard let frame = Int(cols.first ?? "") else { continue }
            for (i, f) in fields.enumerated() where i + 1 < cols.count && !cols[i + 1].isEmpty {
                result[f, default: []].append(frame)
            }
        }
        return result
    }

    static func run(_ args: [String]) throws -> String {
        guard let exe = path else { return "" }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
