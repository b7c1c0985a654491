import Foundation
import Testing
@testable import SluiceTrace

@Suite struct ConformanceCheckTests {
    static func check(_ path: String) throws -> TraceResult {
        var o = TraceOptions()
        o.check = true
        return try TraceFile.analyze(path: path, options: o).0
    }

    @Test(arguments: CheckScenarios.cases.map(\.0.name))
    func eachRuleIsFoundInItsCraftedTrace(rule name: String) throws {
        guard let (rule, make) = CheckScenarios.cases.first(where: { $0.0.name == name }) else { return }
        let (scenario, frame) = make()
        let path = try scenario.write(name: "check-\(name)")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try Self.check(path)
        let found = r.connections.flatMap(\.violations)
        #expect(found.map(\.rule) == [rule], "\(name): found \(found.map { "\($0.rule.name)@\($0.frame): \($0.detail)" })")
        #expect(found.first?.frame == frame, "\(name): violation at frame \(found.first?.frame ?? -1), expected \(frame)")
        // The CLI exits non-zero.
        #expect(SluiceTraceCLI.run(file: path, json: true, timeline: false, svg: nil, check: true, connection: nil, output: { _ in }) == 1)
    }

    @Test(arguments: Scenarios.parityCases.map(\.0).filter { $0 != "loss-and-recovery" })
    func cleanCraftedTracesHaveNoViolations(name: String) throws {
        guard let scenario = Scenarios.parityCases.first(where: { $0.0 == name })?.1 else { return }
        let path = try scenario.write(name: "clean-\(name)")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try Self.check(path)
        let found = r.connections.flatMap(\.violations)
        #expect(found.isEmpty, "\(name): \(found.map { "\($0.rule.name)@\($0.frame): \($0.detail)" })")
    }

    /// The kernel and Sluice captures under Fixtures/ (not the crafted ones under
    /// Fixtures/trace/, which break rules on purpose) conform.
    /// Without the handshake the window scale is unknown: reported as such, rules that need it
    /// are not applied.
    @Test func unknownWindowScaleIsReported() throws {
        let path = try Scenarios.midStream().write(name: "unknown-scale")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try Self.check(path)
        #expect(r.connections.count == 1)
        #expect(r.connections.first?.ab.windowScaleState == -1)
        #expect(r.connections.first?.ba.windowScaleState == -1)
        var text = ""
        _ = SluiceTraceCLI.run(file: path, json: false, timeline: false, svg: nil, check: false, connection: nil, output: { text += $0 })
        #expect(text.contains("window scale unknown (handshake not captured)"))
    }

    @Test func fixturesHaveNoViolations() throws {
        for f in Fixtures.captures() where !f.contains("/trace/") {
            let r = try Self.check(f)
            let found = r.connections.flatMap(\.violations)
            #expect(found.isEmpty, "\((f as NSString).lastPathComponent): \(found.prefix(5).map { "\($0.rule.name)@\($0.frame): \($0.detail)" })")
        }
    }
}
