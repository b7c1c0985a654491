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

    /// Frame numbers matching a display filter, in file order.
    static func frames(_ file: String, filter: String) throws -> [Int] {
        let out = try run(["-r", file, "-Y", filter, "-T", "fields", "-e", "frame.number"])
        return out.split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
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
