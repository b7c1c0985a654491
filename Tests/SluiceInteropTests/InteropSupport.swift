import Foundation
import Testing

/// What the kernel-interop tests need from the machine, and where the built binaries are.
///
/// The tests skip with a message where root, /dev/net/tun, tshark, python3 or the built binaries
/// are missing, but fail instead when the `CI` environment variable is set.
enum InteropEnvironment {
    static let isCI = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty } ?? false

    /// The repository root (this file is Tests/SluiceInteropTests/InteropSupport.swift).
    static let repository: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The build directory holding sluice-send and sluice-recv: next to the test bundle.
    static let binaries: URL = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // `swift test` runs …/debug/SluicePackageTests.xctest (a file on Linux).
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir
    }()

    static let python: String = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"

    /// Why the tests cannot run here, or `nil` when they can.
    static let missing: String? = {
        var missing: [String] = []
        if getuid() != 0 { missing.append("root (network namespaces, TUN)") }
        if !FileManager.default.fileExists(atPath: "/dev/net/tun") { missing.append("/dev/net/tun (mknod /dev/net/tun c 10 200)") }
        for tool in ["ip", "tshark", "nft", "ethtool", "python3"] where which(tool) == nil {
            missing.append("\(tool) (tools/test installs it)")
        }
        for binary in ["sluice-send", "sluice-recv"]
        where !FileManager.default.isExecutableFile(atPath: binaries.appendingPathComponent(binary).path) {
            missing.append("\(binaries.path)/\(binary) (swift build --build-tests)")
        }
        return missing.isEmpty ? nil : "kernel-interop tests need " + missing.joined(separator: ", ")
    }()

    /// Run when everything is present, and in CI (where a missing prerequisite fails the test).
    static let shouldRun = missing == nil || isCI

    /// Records the failure in CI when a prerequisite is missing; returns false then.
    static func ready() -> Bool {
        guard let missing else { return true }
        Issue.record("CI is set but \(missing)")
        return false
    }

    static func which(_ tool: String) -> String? {
        for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"] {
            let path = dir + "/" + tool
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

/// A child process whose output goes to files; killed by its PID only.
final class Child {
    let process = Process()
    let stdoutPath: String
    let stderrPath: String
    let name: String

    init(name: String, directory: URL, executable: String, arguments: [String]) throws {
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

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits until `predicate` holds for the output, or the process exits, or `seconds` pass.
    func waitForOutput(seconds: Double, _ predicate: (Child) -> Bool) -> Bool {
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
    func wait(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            kill()
            return nil
        }
        return process.terminationStatus
    }

    func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The JSON objects printed on standard output, one per line.
    var jsonLines: [[String: Any]] {
        stdout.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("{") else { return nil }
            return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }

    /// Everything this child said, for failure messages.
    var transcript: String { "--- \(name) stdout:\n\(stdout)--- \(name) stderr:\n\(stderr)" }
}

/// A network namespace with a TUN device made by tools/netns-tun --hold; it is deleted when
/// `close()` closes the script's standard input (and also if this process dies: the pipe closes).
final class TestNamespace {
    let name: String
    let device: String
    let kernelAddress = "10.0.0.2"
    let sluiceAddress = "10.0.0.1"
    private let holder = Process()
    private let input = Pipe()
    private let output = Pipe()

    init(lossPercent: Int) throws {
        holder.executableURL = InteropEnvironment.repository.appendingPathComponent("tools/netns-tun")
        holder.arguments = ["--loss", "\(lossPercent)", "--hold"]
        holder.standardInput = input
        holder.standardOutput = output
        // Children of other tests must not inherit our end of the holder's stdin, or the holder
        // would see EOF only when they exit.
        closeOnExec(input.fileHandleForWriting.fileDescriptor)
        closeOnExec(output.fileHandleForReading.fileDescriptor)
        try holder.run()
        var line = Data()
        while true {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        let words = String(decoding: line, as: UTF8.self).split(separator: " ")
        guard words.count == 3, words[0] == "ready" else {
            holder.waitUntilExit()
            throw SetupError("tools/netns-tun did not start (status \(holder.terminationStatus)): '\(String(decoding: line, as: UTF8.self))'")
        }
        name = String(words[1])
        device = String(words[2])
    }

    /// Runs `executable` inside the namespace.
    func spawn(_ name: String, in directory: URL, _ executable: String, _ arguments: [String]) throws -> Child {
        try Child(name: name, directory: directory, executable: InteropEnvironment.which("ip") ?? "/usr/sbin/ip",
                  arguments: ["netns", "exec", self.name, executable] + arguments)
    }

    /// Deletes the namespace and the device; waits until they are gone.
    func close() {
        try? input.fileHandleForWriting.close()
        holder.waitUntilExit()
    }
}

/// Sets FD_CLOEXEC so processes started later (by any test) do not inherit `fd`.
func closeOnExec(_ fd: Int32) {
    _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
}

struct SetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A fresh directory for one test's files.
func makeScratchDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("sluice-interop-\(label)-\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Counts the frames of `pcap` that match a tshark display filter.
func tsharkCount(_ pcap: String, filter: String) throws -> Int {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: InteropEnvironment.which("tshark") ?? "/usr/bin/tshark")
    process.arguments = ["-n", "-r", pcap, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
                         "-Y", filter, "-T", "fields", "-e", "frame.number"]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw SetupError("tshark -r \(pcap) -Y '\(filter)' failed (\(process.terminationStatus))") }
    return String(decoding: data, as: UTF8.self).split(separator: "\n").count
}

/// What tshark says about each frame of a capture (one tshark run).
struct TsharkFrame {
    var ipChecksumBad: Bool
    var tcpChecksumBad: Bool
    var zeroWindowProbe: Bool
    var zeroWindowProbeAck: Bool
}

/// Reads every frame's checksum verdicts (checking enabled) and zero-window-probe flags.
func tsharkFrames(_ pcap: String) throws -> [TsharkFrame] {
    let fields = ["frame.number", "ip.checksum.status", "tcp.checksum.status",
                  "tcp.analysis.zero_window_probe", "tcp.analysis.zero_window_probe_ack"]
    let process = Process()
    process.executableURL = URL(fileURLWithPath: InteropEnvironment.which("tshark") ?? "/usr/bin/tshark")
    process.arguments = ["-n", "-r", pcap, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
                         "-T", "fields", "-E", "separator=|", "-E", "occurrence=f"] + fields.flatMap { ["-e", $0] }
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw SetupError("tshark -r \(pcap) failed (\(process.terminationStatus))") }
    return String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
        let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init) + Array(repeating: "", count: fields.count)
        // checksum status: 0 bad, 1 good, 2 unverified.
        return TsharkFrame(ipChecksumBad: f[1] == "0", tcpChecksumBad: f[2] == "0",
                           zeroWindowProbe: !f[3].isEmpty, zeroWindowProbeAck: !f[4].isEmpty)
    }
}
