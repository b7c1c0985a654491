import Foundation
import Testing

/// Golden files: output that must stay the same byte for byte (a JSON contract other tools
/// read). `expectGolden(text, "golden/name.json")` compares `text` with the file under
/// `Fixtures/`; with `SLUICE_UPDATE_GOLDEN=1` in the environment it writes the file instead (then
/// review the diff and commit it with the reason for the change).
package func expectGolden(_ text: String, _ relativePath: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let path = TestEnvironment.fixturePath(relativePath)
    if ProcessInfo.processInfo.environment["SLUICE_UPDATE_GOLDEN"] == "1" {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return
    }
    guard let golden = FileManager.default.contents(atPath: path) else {
        Issue.record("no golden file \(path): run with SLUICE_UPDATE_GOLDEN=1 to create it", sourceLocation: sourceLocation)
        return
    }
    let expected = String(decoding: golden, as: UTF8.self)
    guard text != expected else { return }
    let got = text.split(separator: "\n", omittingEmptySubsequences: false)
    let want = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let line = (0..<min(got.count, want.count)).first { got[$0] != want[$0] } ?? min(got.count, want.count)
    let show = { (lines: [Substring]) in line < lines.count ? String(lines[line]) : "<end>" }
    Issue.record("""
        output differs from \(relativePath) at line \(line + 1) (SLUICE_UPDATE_GOLDEN=1 rewrites it):
          golden: \(show(want))
          actual: \(show(got))
        """, sourceLocation: sourceLocation)
}
