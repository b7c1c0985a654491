#if canImport(Glibc)
@preconcurrency import Glibc
#endif

// What the driver scenarios (`tun`, `veth`, `memory`, `pacing`) share: starting the built
// binaries and kernel tools as child processes (their output to files, their peak RSS from
// `wait4`), a sluice-send → sluice-recv transfer over UDP loopback, network namespaces named
// with this process's ID and the prefix `s10d-`, and reading the binaries' JSON lines.

/// A child process started with `posix_spawn`; standard output and error go to files.
final class BenchChild {
    let pid: pid_t
    let name: String
    let stdoutPath: String
    let stderrPath: String
    /// Filled by `wait`: exit status (128 + signal when killed), peak RSS in KiB, and the CPU
    /// time (user + system, all its threads) it used.
    private(set) var status: Int32?
    private(set) var maxRSSKiB: Int = 0
    private(set) var cpuSeconds: Double = 0

    init?(_ name: String, _ arguments: [String], directory: String) {
        self.name = name
        stdoutPath = "\(directory)/\(name).out"
        stderrPath = "\(directory)/\(name).err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), nil]
        defer { for p in argv + envp { free(p) } }
        var child: pid_t = 0
        let result = posix_spawnp(&child, arguments[0], &actions, nil, &argv, &envp)
        guard result == 0 else {
            print("sluice-bench: cannot start \(arguments[0]): \(String(cString: strerror(result)))")
            return nil
        }
        pid = child
    }

    /// Waits up to `seconds` for the child to exit; kills it (by PID) past that. Returns the
    /// exit status, or nil when it had to be killed.
    @discardableResult
    func wait(seconds: Double) -> Int32? {
        if let status { return status }
        let deadline = monotonicSeconds() + seconds
        var killed = false
        while true {
            var raw: Int32 = 0
            var usage = rusage()
            let r = wait4(pid, &raw, killed ? 0 : WNOHANG, &usage)
            if r == pid {
                reaped(raw, usage)
                return killed ? nil : status
            }
            if r < 0 && errno != EINTR { return nil }
            if !killed && monotonicSeconds() > deadline {
                kill(pid, SIGKILL)
                killed = true
            } else if !killed {
                usleep(20_000)
            }
        }
    }

    var stdout: String { readTextFile(stdoutPath) }
    var stderr: String { readTextFile(stderrPath) }

    /// Waits until `predicate` holds for standard error (or output), the child exits, or `seconds` pass.
    func waitForOutput(seconds: Double, _ predicate: (BenchChild) -> Bool) -> Bool {
        let deadline = monotonicSeconds() + seconds
        while monotonicSeconds() < deadline {
            if predicate(self) { return true }
            var raw: Int32 = 0
            var usage = rusage()
            if wait4(pid, &raw, WNOHANG, &usage) == pid {
                reaped(raw, usage)
                return predicate(self)
            }
            usleep(20_000)
        }
        return false
    }

    /// Records what `wait4` said of the exited child.
    private func reaped(_ raw: Int32, _ usage: rusage) {
        maxRSSKiB = Int(usage.ru_maxrss)
        cpuSeconds = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        let signal = raw & 0x7f
        status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }

    var transcript: String { "--- \(name) stdout:\n\(stdout)--- \(name) stderr:\n\(stderr)" }
}

/// One sluice-send → sluice-recv transfer over the UDP-on-loopback link (no root): sluice-recv
/// listens on 10.0.0.2:`port` with `receiverFlags` (and `--json --once`), sluice-send connects
/// with `senderFlags` (and `--json`), within `seconds`. Nil unless both exited 0 (their files
/// stay in `directory`).
func loopbackTransfer(label: String, port: Int, receiverFlags: [String] = [], senderFlags: [String],
                      seconds: Double, directory: String) -> LoopbackTransfer? {
    let listen = [benchBinary("sluice-recv"), "--listen", "10.0.0.2:\(port)"]
    guard let receiver = BenchChild("recv-\(label)", listen + receiverFlags + ["--json", "--once"], directory: directory) else {
        return nil
    }
    guard receiver.waitForOutput(seconds: 10, { $0.stderr.contains("listening") }) else {
        receiver.wait(seconds: 1)
        return nil
    }
    let sender = runCommand([benchBinary("sluice-send"), "--connect", "10.0.0.2:\(port)"] + senderFlags + ["--json"],
                            directory: directory, name: "send-\(label)", seconds: seconds)
    guard receiver.wait(seconds: 30) == 0, sender.status == 0 else { return nil }
    return LoopbackTransfer(summary: firstJSONLine(receiver.stdout), senderSummary: firstJSONLine(sender.output),
                            receiverPeakRSSKiB: receiver.maxRSSKiB)
}

/// What a `loopbackTransfer` leaves: sluice-recv's and sluice-send's JSON summary lines and the
/// receiver's peak RSS.
struct LoopbackTransfer {
    var summary: Substring?
    var senderSummary: Substring?
    var receiverPeakRSSKiB: Int
    /// The receiver's goodput, Gbit/s.
    var gbps: Double? { summary.flatMap { jsonNumber("goodput_bps", in: $0) }.map { $0 / 1e9 } }
}

/// Seconds the hypervisor gave this machine's CPUs to others (`steal`, the eighth value of the
/// `cpu` line of /proc/stat, in clock ticks, all CPUs together); nil when unreadable. A run
/// whose steal grew was descheduled by the host, which no program inside can prevent.
func hostStealSeconds() -> Double? {
    guard let file = fopen("/proc/stat", "r") else { return nil }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 512)
    guard fgets(&line, Int32(line.count), file) != nil else { return nil }
    let text = String(decoding: line.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let fields = text.split(separator: " ")
    guard fields.first == "cpu", fields.count > 8, let ticks = Double(fields[8]) else { return nil }
    return ticks / Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
}

/// The first UDP port of this run's loopback transfers (the next ones follow it), from the
/// process ID so that concurrent runs do not collide.
let benchBasePort = 20_000 + Int(getpid() % 20_000)

/// Runs a command to completion (up to `seconds`); returns its status and standard output.
@discardableResult
func runCommand(_ arguments: [String], directory: String, name: String = "cmd", seconds: Double = 30) -> (status: Int32?, output: String) {
    guard let child = BenchChild(name, arguments, directory: directory) else { return (nil, "") }
    let status = child.wait(seconds: seconds)
    return (status, child.stdout + child.stderr)
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func readTextFile(_ path: String) -> String {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        bytes += chunk[..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// A fresh scratch directory under /tmp for one scenario's files.
func makeBenchDirectory(_ scenario: String) -> String? {
    var template = Array("/tmp/s10d-bench-\(scenario)-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
        guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
        return String(cString: result)
    }
    return made
}

/// The directory of the running sluice-bench: sluice-send and sluice-recv are built next to it.
let benchBinaryDirectory: String = {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { return "." }
    let path = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
}()

func benchBinary(_ name: String) -> String { "\(benchBinaryDirectory)/\(name)" }

/// Whether sluice-send and sluice-recv are built next to sluice-bench (says what to do if not).
func sluiceBinariesPresent(_ scenario: String) -> Bool {
    for binary in ["sluice-send", "sluice-recv"] where access(benchBinary(binary), X_OK) != 0 {
        print("sluice-bench \(scenario): \(benchBinary(binary)) is missing: swift build -c release")
        return false
    }
    return true
}

/// The first value of `"key": value` in JSON text (numbers and strings; no Foundation).
func jsonValue(_ key: String, in text: Substring) -> Substring? {
    guard let range = text.firstRange(of: "\"\(key)\":") else { return nil }
    var rest = text[range.upperBound...].drop(while: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
    if rest.first == "\"" {
        rest = rest.dropFirst()
        return rest.prefix(while: { $0 != "\"" })
    }
    return rest.prefix(while: { "0123456789.eE+-".contains($0) })
}

func jsonNumber(_ key: String, in text: Substring) -> Double? { jsonValue(key, in: text).flatMap { Double($0) } }

/// The first line of `text` that is a JSON object.
func firstJSONLine(_ text: String) -> Substring? {
    text.split(separator: "\n").first(where: { $0.hasPrefix("{") })
}

extension String {
    func replacingOccurrences(_ a: Character, _ b: Character) -> String { String(map { $0 == a ? b : $0 }) }
}

/// Whether this process is root (namespaces, TUN devices, veth pairs need it).
var isRoot: Bool { geteuid() == 0 }

/// A network namespace this run creates (`s10d-` + a tag + PID), deleted by `remove()`.
struct BenchNamespace {
    let name: String
    let directory: String

    init?(tag: String, directory: String) {
        name = "s10d-\(tag)\(getpid())"
        self.directory = directory
        guard runCommand(["ip", "netns", "add", name], directory: directory).status == 0 else { return nil }
        _ = exec(["ip", "link", "set", "lo", "up"])
        _ = exec(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"])
    }

    /// Runs a command inside the namespace to completion.
    @discardableResult
    func exec(_ arguments: [String], seconds: Double = 30) -> (status: Int32?, output: String) {
        runCommand(["ip", "netns", "exec", name] + arguments, directory: directory, seconds: seconds)
    }

    /// Starts a command inside the namespace.
    func spawn(_ label: String, _ arguments: [String]) -> BenchChild? {
        BenchChild(label, ["ip", "netns", "exec", name] + arguments, directory: directory)
    }

    func remove() { runCommand(["ip", "netns", "del", name], directory: directory) }
}

/// The kernel-side peers: Python programs that only count bytes (no hashing: FIELD-NOTES.md,
/// a hashing peer tops out near 9.7 Gbit/s here). `sink LISTEN`: accept one connection, read
/// until EOF; `source CONNECT BYTES`: send BYTES (a 1 MiB block repeated), half-close, wait for
/// EOF. Each prints "listening" (sink) and then one JSON line {"bytes", "seconds"}.
let kernelPeerProgram = """
import socket, sys, time
mode, address = sys.argv[1], sys.argv[2]
host, port = address.rsplit(":", 1)
if mode == "sink":
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, int(port))); ls.listen(1); ls.settimeout(120)
    print("listening", flush=True)
    c, _ = ls.accept(); c.settimeout(120)
    buf = bytearray(1 << 20); total = 0; start = time.monotonic()
    while True:
        n = c.recv_into(buf)
        if not n: break
        total += n
    secs = time.monotonic() - start; c.close()
else:
    count = int(sys.argv[3]); block = memoryview(bytes(range(256)) * 4096)
    deadline = time.monotonic() + 30
    while True:
        s = socket.socket()
        try:
            s.connect((host, int(port))); break
        except OSError:
            s.close()
            if time.monotonic() > deadline: raise
            time.sleep(0.05)
    s.settimeout(120); total = 0; start = time.monotonic()
    while total < count:
        total += s.send(block[:min(len(block), count - total)])
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536): pass
    secs = time.monotonic() - start; s.close()
print('{"bytes": %d, "seconds": %.6f}' % (total, secs), flush=True)
"""

/// Writes the kernel peer program into `directory`; returns its path.
func writeKernelPeer(in directory: String) -> String {
    let path = "\(directory)/kernel-peer.py"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if fd >= 0 {
        let bytes = Array(kernelPeerProgram.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
    return path
}

/// "Mon Nov 30 2026 14:50 UTC"-style stamp and the machine line for the results table.
func benchStamp() -> (date: String, machine: String) {
    var t = time(nil)
    var parts = tm()
    gmtime_r(&t, &parts)
    var buffer = [CChar](repeating: 0, count: 64)
    let n = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M UTC", &parts)
    let date = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var name = utsname()
    uname(&name)
    let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    var loads = [Double](repeating: 0, count: 3)
    getloadavg(&loads, 3)
    let machine = "\(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores, Linux \(release), load \(formatted(loads[0], 1))"
    return (date, machine)
}
