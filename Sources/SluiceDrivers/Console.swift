#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Writes to standard error and standard output without touching the `stdout`/`stderr` globals
/// (Swift 6 strict concurrency), and the live progress line on a terminal.
package enum Console {
    /// Whether standard error is a terminal (progress lines only then).
    package static var standardErrorIsTerminal: Bool { isatty(2) == 1 }

    package static func error(_ line: String) { put(2, line + "\n") }
    package static func output(_ line: String) { put(1, line + "\n") }

    /// Rewrites the current terminal line on standard error.
    package static func progress(_ line: String) { put(2, "\r" + line + "\u{1B}[K") }
    /// Clears the progress line.
    package static func clearProgress() { put(2, "\r\u{1B}[K") }

    private static func put(_ fd: Int32, _ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }
}

extension Console {
    /// Clears a progress line before a report is printed (terminals only).
    package static func clearProgressIfTerminal() {
        if standardErrorIsTerminal { clearProgress() }
    }
}
