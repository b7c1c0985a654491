import Foundation

/// tshark (Wireshark's dissector) as the reference the captures are checked against. Tests that
/// need it carry `Prerequisites.tshark.trait` (skipped where it is missing, failed in CI).
package enum Tshark {
    package static let path: String? = TestEnvironment.which("tshark")

    /// IPv4 and TCP checksum verification on.
    package static let checksumPreferences = ["ip.check_checksum:TRUE", "tcp.check_checksum:TRUE"]
    /// The same, and no TCP reassembly: a payload dissector guessing at the bulk stream (port
    /// 5001) would reassemble it and flag an identical retransmission as "new fragment overlaps
    /// old data".
    package static let standardPreferences = checksumPreferences + ["tcp.desegment_tcp_streams:FALSE"]

    /// Runs tshark with `arguments`; returns its standard output.
    package static func run(_ arguments: [String]) throws -> String {
        guard let path else { throw SetupError("tshark is not installed (apt-get install tshark)") }
        let (status, output) = try runTool(path, arguments)
        guard status == 0 else { throw SetupError("tshark \(arguments.joined(separator: " ")) failed (status \(status))") }
        return output
    }

    /// `fields` of every frame of `file` (after the optional display filter), one row per frame,
    /// the first occurrence of each field (empty where absent), with `preferences` set.
    package static func rows(_ file: String, fields: [String], filter: String? = nil,
                             preferences: [String] = standardPreferences) throws -> [[String]] {
        var arguments = ["-n", "-r", file]
        for p in preferences { arguments += ["-o", p] }
        arguments += ["-T", "fields", "-E", "separator=|", "-E", "occurrence=f"]
        if let filter { arguments += ["-Y", filter] }
        for f in fields { arguments += ["-e", f] }
        return try run(arguments).split(separator: "\n", omittingEmptySubsequences: true)
            .map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
    }

    /// For each field (such as `tcp.analysis.zero_window`), the frames where it is present, in
    /// file order: the packets `tshark -Y FIELD` lists. One tshark run for all fields, with
    /// tshark's default preferences.
    package static func frames(_ file: String, fields: [String]) throws -> [String: [Int]] {
        let rows = try rows(file, fields: ["frame.number"] + fields, preferences: [])
        var result: [String: [Int]] = [:]
        for f in fields { result[f] = [] }
        for row in rows {
            guard let frame = Int(row.first ?? "") else { continue }
            for (i, f) in fields.enumerated() where i + 1 < row.count && !row[i + 1].isEmpty {
                result[f, default: []].append(frame)
            }
        }
        return result
    }
}
