import Foundation
import Testing
import SluiceTestSupport
import SluiceTrace

/// `sluice-trace --json` on the committed captures, byte for byte against Fixtures/golden/: the
/// JSON is a contract (README, "--json schema"), so any change to a key, its order or a number's
/// format shows here. When the analysis changes a figure on purpose, rewrite the golden files
/// (SLUICE_UPDATE_GOLDEN=1) in the same commit and say why.
@Suite struct TraceJSONGoldenTests {
    static let captures = ["loss.pcap", "plain-ethernet.pcap", "plain-sll2.pcap", "zero-window.pcap", "zero-window.pcapng"]

    @Test(arguments: captures)
    func jsonReportMatchesGolden(capture: String) throws {
        try expectGolden(try Self.traceJSON(capture, check: false), "golden/trace-\(capture).json")
    }

    /// With `--check`: the violation lists and counts are part of the JSON too.
    @Test func checkedJSONReportMatchesGolden() throws {
        try expectGolden(try Self.traceJSON("zero-window.pcap", check: true), "golden/trace-zero-window.pcap-check.json")
    }

    /// What `sluice-trace Fixtures/NAME --json [--check]` prints from the repository root. The
    /// report's `file` key holds the path as given; the test gives the absolute path (tests do
    /// not change directory) and puts the relative one back in that one value.
    static func traceJSON(_ capture: String, check: Bool) throws -> String {
        var out = ""
        let path = TestEnvironment.fixturePath(capture)
        let status = SluiceTraceCLI.run(file: path, json: true, timeline: false, svg: nil,
                                        check: check, connection: nil, output: { out += $0 })
        #expect(status == 0, "sluice-trace exit status for \(capture)")
        return out.replacingOccurrences(of: "\"file\": \"\(path)\"", with: "\"file\": \"Fixtures/\(capture)\"")
    }
}
