#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import SluiceRandom

/// Where the sender's application bytes come from.
package protocol PayloadSource: AnyObject {
    /// Fills up to `buffer.count` bytes; returns how many, 0 at the end.
    func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(LinkError) -> Int
    /// The total length when known in advance.
    var totalBytes: Int? { get }
}

/// `count` deterministic pseudo-random bytes from `seed`: the little-endian bytes of successive
/// SplitMix64 outputs (`SeededBytes`), so any program can reproduce them.
package final class SeededPayload: PayloadSource {
    package let totalBytes: Int?
    private var remaining: Int
    private var bytes: SeededBytes

    package init(count: Int, seed: UInt64) {
        totalBytes = count
        remaining = count
        bytes = SeededBytes(seed: seed)
    }

    package func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(LinkError) -> Int {
        let n = min(buffer.count, remaining)
        bytes.fill(UnsafeMutableRawBufferPointer(rebasing: buffer[..<n]))
        remaining -= n
        return n
    }
}

/// The bytes of a file, read in chunks.
package final class FilePayload: PayloadSource {
    package let totalBytes: Int?
    private let fd: Int32
    private let path: String

    package init(path: String) throws(LinkError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw LinkError("cannot open --file '\(path)': \(errorText(errno))")
        }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG {
            totalBytes = Int(info.st_size)
        } else {
            totalBytes = nil
        }
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    package func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(LinkError) -> Int {
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw LinkError("reading --file '\(path)' failed: \(errorText(errno))")
        }
    }
}

/// Where the receiver's application bytes go (`--output FILE`).
package final class OutputFile {
    private let fd: Int32
    package let path: String

    package init(path: String) throws(LinkError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LinkError("cannot create --output '\(path)': \(errorText(errno))") }
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    package func write(_ bytes: UnsafeRawBufferPointer) throws(LinkError) {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw LinkError("writing --output '\(path)' failed: \(errorText(errno))")
            }
            offset += n
        }
    }
}

@available(*, unavailable) extension SeededPayload: Sendable {}
@available(*, unavailable) extension FilePayload: Sendable {}
@available(*, unavailable) extension OutputFile: Sendable {}
