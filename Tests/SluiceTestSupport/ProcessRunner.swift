import Foundation
import Testing

/// Runs a program (a full path) to its end; returns its exit status and standard output
/// (standard error is discarded).
package func runTool(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A child process that runs beside the test, its output going to files in a directory;
/// killed by its PID only.
package final class Child {
    package let process = Process()
    package let stdoutPath: String
    package let stderrPath: String
    package let name: String

    package init(name: String, directory: URL, executable: String, arguments: [String]) throws {
        self.name = name
        stdoutPath = directory.appendingPathComponent("\(name).out").path
        stderrPath = directory.appendingPathComponent("\(name).err").path
        FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = FileHandle(forWritingAtPath: stdoutPath)
        let err = FileHandle(forWritingAtPath: stderrPath)
        out.map { closeOnExec($0.fileDescriptor) }
        err.map { closeOnExec($0.fileDescriptor) }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    package var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    package var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits until `predicate` holds for the output, or the process exits, or `seconds` pass.
    package func waitForOutput(seconds: Double, _ predicate: (Child) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if predicate(self) { return true }
            if !process.isRunning { return predicate(self) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    /// Waits for exit up to `seconds`; kills the process (by PID) past that. Returns the status,
    /// or `nil` when it had to be killed.
    @discardableResult
    package func wait(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            kill()
            return nil
        }
        return process.terminationStatus
    }

    /// Sends `signal` to this child (by PID).
    package func signal(_ signal: Int32) {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, signal)
    }

    package func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The JSON objects printed on standard output, one per line.
    package var jsonLines: [[String: Any]] {
        stdout.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("{") else { return nil }
            return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }

    /// Everything this child said, for failure messages.
    package var transcript: String { "--- \(name) stdout:\n\(stdout)--- \(name) stderr:\n\(stderr)" }
}

/// Sets FD_CLOEXEC so processes started later (by any test) do not inherit `fd`.
package func closeOnExec(_ fd: Int32) {
    _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
}

/// Waits for `first` to exit (up to `firstSeconds`), then for `second` (up to `secondSeconds`);
/// expects their exit statuses and returns the first JSON object each printed on standard
/// output, with both transcripts for failure messages.
package func expectExits(
    _ first: Child, status firstStatus: Int32, within firstSeconds: Double,
    then second: Child, status secondStatus: Int32, within secondSeconds: Double,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> (first: [String: Any], second: [String: Any], transcript: String) {
    let firstExit = first.wait(seconds: firstSeconds)
    let secondExit = second.wait(seconds: secondSeconds)
    let transcript = first.transcript + second.transcript
    #expect(firstExit == firstStatus, "\(transcript)", sourceLocation: sourceLocation)
    #expect(secondExit == secondStatus, "\(transcript)", sourceLocation: sourceLocation)
    let firstReport = try #require(first.jsonLines.first, "\(transcript)", sourceLocation: sourceLocation)
    let secondReport = try #require(second.jsonLines.first, "\(transcript)", sourceLocation: sourceLocation)
    return (firstReport, secondReport, transcript)
}
