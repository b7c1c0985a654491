import Foundation
import Testing

/// Where the tests run: the CI flag, the repository, the built binaries, the tools on the machine.
package enum TestEnvironment {
    /// True where the `CI` environment variable is set (non-empty): a missing prerequisite is
    /// then a failure, not a skip.
    package static let isCI = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty } ?? false

    /// The repository root (this file is Tests/SluiceTestSupport/TestEnvironment.swift).
    package static let repository: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The committed captures and golden files (`Fixtures/` at the repository root).
    package static let fixtures: URL = repository.appendingPathComponent("Fixtures")

    /// A file under `Fixtures/` (`fixturePath("loss.pcap")`, `fixturePath("golden/x.json")`).
    package static func fixturePath(_ relative: String) -> String { fixtures.appendingPathComponent(relative).path }

    /// The build directory holding the executables (sluice-send, sluice-recv, …): next to the
    /// test bundle.
    package static let binaries: URL = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // `swift test` runs …/debug/SluicePackageTests.xctest (a file on Linux).
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir
    }()

    /// The path of a built executable (`binary("sluice-send")`).
    package static func binary(_ name: String) -> String { binaries.appendingPathComponent(name).path }

    /// A file of the repository (`repositoryPath("tools/interop/kernel-client.py")`).
    package static func repositoryPath(_ relative: String) -> String {
        repository.appendingPathComponent(relative).path
    }

    /// The full path of a program on PATH (or in the usual system directories), or nil when it
    /// is not installed.
    package static func which(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"]
        return directories.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// python3, for the kernel-side helper programs in tools/interop.
    package static let python: String = which("python3") ?? "python3"
}

/// The rule for tests that need something from the machine (root, /dev/net/tun, tshark, a built
/// binary): where it is missing they skip with a message naming it, except where `CI` is set,
/// where they fail.
///
/// Use it as a suite trait, `@Suite(Prerequisites.tshark.trait)`, and begin each test (or each
/// optional part of one) with `guard prerequisites.ready() else { return }`.
package struct Prerequisites: Sendable {
    /// What is missing, as one sentence (`"tests need tshark (apt-get install tshark)"`), or nil.
    package let missing: String?

    /// `what` names the tests (`"kernel-interop tests"`); `missing` lists what they lack, each
    /// with how to get it.
    package init(_ what: String, missing: [String]) {
        self.missing = missing.isEmpty ? nil : "\(what) need " + missing.joined(separator: ", ")
    }

    /// Run when everything is present, and in CI (where a missing prerequisite fails the test).
    package var shouldRun: Bool { missing == nil || TestEnvironment.isCI }

    /// `.enabled(if: shouldRun)` with the missing prerequisites as the skip message.
    package var trait: ConditionTrait { .enabled(if: shouldRun, Comment(rawValue: missing ?? "")) }

    /// True when everything is present. Otherwise false, after recording a failure in CI or
    /// printing the skip message elsewhere.
    package func ready() -> Bool {
        guard let missing else { return true }
        if TestEnvironment.isCI {
            Issue.record("CI is set but \(missing)")
        } else {
            print("skipping: \(missing)")
        }
        return false
    }

    /// tshark (the reference dissector).
    package static let tshark = Prerequisites("tshark tests", missing: Tshark.path == nil ? ["tshark (apt-get install tshark)"] : [])

    /// Of the executables `names`, those not built next to the test bundle, each with how to
    /// build it.
    package static func missingBinaries(_ names: [String]) -> [String] {
        names.filter { !FileManager.default.isExecutableFile(atPath: TestEnvironment.binary($0)) }
            .map { "\(TestEnvironment.binary($0)) (swift build --build-tests)" }
    }
}
