#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CSluiceSystem

/// SIGINT and SIGTERM delivered as readable data on a descriptor (`signalfd`), so the run loop's
/// `poll` wakes on Ctrl-C like on a packet and no handler runs at an arbitrary point.
///
/// Create it before any other thread starts: the signals are blocked in the calling thread and
/// the threads it later creates.
package final class InterruptSignals {
    package let fileDescriptor: Int32

    package init() throws(LinkError) {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        guard pthread_sigmask(SIG_BLOCK, &set, nil) == 0 else { throw .system("pthread_sigmask", errno) }
        let fd = signalfd(-1, &set, Int32(SFD_NONBLOCK | SFD_CLOEXEC))
        guard fd >= 0 else { throw .system("signalfd", errno) }
        fileDescriptor = fd
    }

    deinit { close(fileDescriptor) }

    /// How many interrupts arrived since the last call.
    package func drain() -> Int {
        var info = signalfd_siginfo()
        var count = 0
        while read(fileDescriptor, &info, MemoryLayout<signalfd_siginfo>.size) == MemoryLayout<signalfd_siginfo>.size {
            count += 1
        }
        return count
    }
}

@available(*, unavailable)
extension InterruptSignals: Sendable {}
