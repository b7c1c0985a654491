import Foundation

/// The resident set of a process, in bytes: now (`VmRSS`) and at its peak (`VmHWM`), from
/// Linux's `/proc/PID/status` (fields separated by a tab and spaces); this process when `pid`
/// is nil. `nil` where unavailable (the process has exited, or not Linux).
package func residentSet(of pid: Int32? = nil) -> (current: Int, peak: Int)? {
    let path = "/proc/\(pid.map { String($0) } ?? "self")/status"
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    var current: Int?, peak: Int?
    for line in text.split(separator: "\n") {
        let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count >= 2, let kib = Int(parts[1]) else { continue }
        if parts[0] == "VmRSS:" { current = kib << 10 }
        if parts[0] == "VmHWM:" { peak = kib << 10 }
    }
    guard let current, let peak else { return nil }
    return (current, peak)
}
