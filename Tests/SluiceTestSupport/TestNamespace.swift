import Foundation

/// A network namespace with a TUN device made by tools/netns-tun --hold (root): the kernel side
/// is `kernelAddress`, Sluice owns `sluiceAddress`. Deleted when `close()` closes the script's
/// standard input (and also if this process dies: the pipe closes). Its names are unique per
/// process and namespace (the script's own PID).
package final class TestNamespace {
    package let name: String
    package let device: String
    package let kernelAddress = "10.0.0.2"
    package let sluiceAddress = "10.0.0.1"
    private let holder = Process()
    private let input = Pipe()
    private let output = Pipe()

    /// `prefix`: the namespace's and device's names start with it (a suite's own, e.g. `s15-`).
    /// `offload`: TSO/GSO stay on for the device (tools/netns-tun --offload).
    package init(lossPercent: Int, prefix: String? = nil, offload: Bool = false) throws {
        holder.executableURL = TestEnvironment.repository.appendingPathComponent("tools/netns-tun")
        holder.arguments = ["--loss", "\(lossPercent)", "--hold"] + (prefix.map { ["--prefix", $0] } ?? [])
            + (offload ? ["--offload"] : [])
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
    package func spawn(_ name: String, in directory: URL, _ executable: String, _ arguments: [String]) throws -> Child {
        try Child(name: name, directory: directory, executable: TestEnvironment.which("ip") ?? "/usr/sbin/ip",
                  arguments: ["netns", "exec", self.name, executable] + arguments)
    }

    /// Deletes the namespace and the device; waits until they are gone.
    package func close() {
        try? input.fileHandleForWriting.close()
        holder.waitUntilExit()
    }

    /// What TUN tests need from the machine besides tools/netns-tun.
    package static func missingPrerequisites(tools: [String]) -> [String] {
        var missing: [String] = []
        if getuid() != 0 { missing.append("root (network namespaces, TUN)") }
        if !FileManager.default.fileExists(atPath: "/dev/net/tun") { missing.append("/dev/net/tun (mknod /dev/net/tun c 10 200)") }
        for tool in tools where TestEnvironment.which(tool) == nil {
            missing.append("\(tool) (tools/test installs it)")
        }
        return missing
    }
}

/// A UDP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it back, close).
package func freeUDPPort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { throw SetupError("socket failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard ok else { throw SetupError("bind 127.0.0.1:0 failed") }
    return UInt16(bigEndian: address.sin_port)
}
