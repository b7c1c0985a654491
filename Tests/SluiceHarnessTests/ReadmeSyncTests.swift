import Foundation
import Testing

/// The README's "Embedding the harness in your tests" example is this package's
/// `ReadmeExampleTests.swift`, character for character, so the README never shows code that
/// does not compile or pass.
@Test func readmeExampleIsTheCompiledTest() throws {
    let here = URL(fileURLWithPath: #filePath)
    let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    let example = try String(contentsOf: here.deletingLastPathComponent().appendingPathComponent("ReadmeExampleTests.swift"), encoding: .utf8)
    let section = try #require(readme.range(of: "## Embedding the harness in your tests"))
    let rest = readme[section.upperBound...]
    let open = try #require(rest.range(of: "```swift\n"))
    let close = try #require(rest[open.upperBound...].range(of: "```\n"))
    #expect(String(rest[open.upperBound..<close.lowerBound]) == example)
}
