import Foundation
import Testing
import SluiceTestSupport
@testable import SluiceTrace

/// Every event count (and the very frames flagged) equals tshark 4.0's on the same capture:
/// the kernel fixtures under Fixtures/ and crafted harness-style traces.
@Suite struct WiresharkParityTests {
    /// Compares the frames flagged for each Wireshark-defined event with tshark's display filter.
    static func expectParity(_ path: String, name: String) throws {
        let ours = try FlaggedFrames(path: path)
        let events = TraceEvent.allCases.filter { $0.tsharkFilter != nil }
        let reference = try Tshark.frames(path, fields: events.compactMap(\.tsharkFilter))
        for event in events {
            guard let filter = event.tsharkFilter else { continue }
            let theirs = reference[filter] ?? []
            let mine = ours.frames[event] ?? []
            #expect(mine == theirs, "\(name): \(event.name): sluice-trace flags \(mine.count) frames, tshark \(theirs.count); only ours \(Array(Set(mine).subtracting(theirs)).sorted().prefix(10)), only tshark \(Array(Set(theirs).subtracting(mine)).sorted().prefix(10))")
        }
    }

    @Test(arguments: Scenarios.parityCases.map(\.0))
    func craftedTraceMatchesTshark(name: String) throws {
        guard Prerequisites.tshark.ready() else { return }
        guard let scenario = Scenarios.parityCases.first(where: { $0.0 == name })?.1 else { return }
        let path = try scenario.write(name: name)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.expectParity(path, name: name)
    }

    @Test func craftedTracesCoverEveryEvent() throws {
        // The crafted set must flag each event at least once, or parity proves little.
        var seen = Set<TraceEvent>()
        for (name, scenario) in Scenarios.parityCases {
            let path = try scenario.write(name: "cover-\(name)")
            defer { try? FileManager.default.removeItem(atPath: path) }
            let ours = try FlaggedFrames(path: path)
            for (e, frames) in ours.frames where !frames.isEmpty { seen.insert(e) }
        }
        let required: [TraceEvent] = [.zeroWindow, .zeroWindowProbe, .zeroWindowProbeAck, .windowFull, .windowUpdate,
                                      .retransmission, .fastRetransmission, .outOfOrder, .duplicateAck, .keepAlive]
        for e in required { #expect(seen.contains(e), "no crafted trace flags \(e.name)") }
    }

    /// Every capture committed under Fixtures/ (the kernel traces and Sluice's own).
    @Test func fixturesMatchTshark() throws {
        guard Prerequisites.tshark.ready() else { return }
        let files = Fixtures.captures()
        if files.isEmpty { print("note: no capture files under Fixtures/ yet") }
        for f in files { try Self.expectParity(f, name: (f as NSString).lastPathComponent) }
    }
}

enum Fixtures {
    /// The repository's Fixtures/ directory, found from this source file.
    static var directory: URL { TestEnvironment.fixtures }

    /// Every .pcap / .pcapng under Fixtures/, sorted.
    static func captures() -> [String] {
        guard let e = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { return [] }
        var out: [String] = []
        for case let url as URL in e where ["pcap", "pcapng"].contains(url.pathExtension) { out.append(url.path) }
        return out.sorted()
    }
}
