import Foundation

/// A path under the temporary directory, unique per call (tests run in parallel); nothing is
/// created there.
package func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory
        .appendingPathComponent("sluice-test-\(getpid())-\(UUID().uuidString)-\(name)").path
}

/// A fresh directory for one test's files, unique per call.
package func makeScratchDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("sluice-test-\(label)-\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The size of a file in bytes, 0 when it does not exist.
package func fileSize(_ url: URL) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int) ?? 0
}

/// A test's setup went wrong (a helper did not start, a tool failed): the message says how.
package struct SetupError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}
