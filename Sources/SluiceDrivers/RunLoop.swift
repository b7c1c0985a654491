#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CSluiceSystem
import SluiceCore

/// An application on top of the engine, driven by `RunLoop`: sluice-send's writer, sluice-recv's
/// reader.
package protocol LinkApplication: AnyObject {
    /// Called once before the first packet (listen or connect here).
    func start(_ endpoint: Endpoint, at now: Instant) throws(LinkError)
    /// One event from the engine.
    func handle(_ event: EndpointEvent, _ endpoint: Endpoint, at now: Instant)
    /// Moves application data (write into / read out of the engine). Returns when it wants to
    /// run again even without an event (a token bucket refilling), or `nil`.
    func service(_ endpoint: Endpoint, at now: Instant) -> Instant?
    /// The user pressed Ctrl-C (or sent SIGTERM) for the `count`-th time.
    func interrupt(count: Int, _ endpoint: Endpoint, at now: Instant)
    /// The loop stops when this becomes true.
    var isDone: Bool { get }
    /// The live progress line (a terminal only).
    func progressLine(_ endpoint: Endpoint, at now: Instant) -> String
    /// The process exit status once done: 0 completed, 1 failed or reset, 130 interrupted.
    var exitStatus: Int32 { get }
}

/// The drivers' event loop, shared by sluice-send and sluice-recv. It follows the call order
/// documented on `Endpoint`:
///
/// 1. drain the readable packets from the link in batches (`recvmmsg` on UDP; up to
///    `packetsPerWakeup`; non-IPv4 ones are skipped and counted), feeding each to
///    `receive(_:at:)` with the batch's `now` and writing it to the capture;
/// 2. run `handleTimeout(at:)` when `nextDeadline` has passed;
/// 3. alternate between the application (events, reads, writes) and a batch of
///    `pollTransmit(into:at:)` (sent with one `sendmmsg` on UDP) until neither has anything to do,
///    so the application refills the send ring after every batch; every packet sent is captured;
/// 4. sleep in `ppoll` on the link and the signal descriptor until the earliest of
///    `nextDeadline`, the application's own wake-up and the next progress refresh.
///
/// Not thread-safe: the thread that calls `run` owns the loop, its endpoint and its link.
package final class RunLoop {
    package let endpoint: Endpoint
    package let link: any PacketLink
    package let capture: (any PacketCapture)?
    package let signals: InterruptSignals?
    package let clock = MonotonicClock()
    /// Show a progress line (only when standard error is a terminal).
    package var showsProgress: Bool
    /// The scheduler time slice `run` asks the kernel for (`sluice_set_scheduler_slice`), or `nil`
    /// to leave the thread's scheduling alone. A pacing sender sets `pacingSchedulerSlice`: its
    /// wake-ups must not wait for another task's slice to end (see there).
    package var schedulerSlice: Duration?
    /// The slice the kernel reports in effect once `run` asked for one; `nil` when it was not
    /// asked for or the kernel refused (then the default slice applies: nothing else changes).
    package private(set) var schedulerSliceInEffect: Duration?

    package private(set) var packetsReceived = 0
    package private(set) var packetsSent = 0
    /// Packets from the link that were not IPv4 (IPv6 router solicitations on a fresh TUN).
    package private(set) var nonIPv4Skipped = 0
    /// Packets the link had no room for (counted, left to TCP to recover like any loss).
    package private(set) var linkDrops = 0
    package private(set) var interrupts = 0

    private let receiveBatch = PacketBatch()
    private let transmitBatch = PacketBatch()
    private let wallClockOffset: Int64
    private var pollDescriptors: [pollfd]

    package init(endpoint: Endpoint, link: any PacketLink, capture: (any PacketCapture)?, signals: InterruptSignals?,
                 showsProgress: Bool = Console.standardErrorIsTerminal) {
        self.endpoint = endpoint
        self.link = link
        self.capture = capture
        self.signals = signals
        self.showsProgress = showsProgress
        wallClockOffset = wallClockNanoseconds() - MonotonicClock().now().nanoseconds
        pollDescriptors = [pollfd(fd: link.fileDescriptor, events: Int16(POLLIN), revents: 0)]
        if let signals { pollDescriptors.append(pollfd(fd: signals.fileDescriptor, events: Int16(POLLIN), revents: 0)) }
    }

    /// Runs until `application.isDone`; throws when the link fails.
    package func run(_ application: some LinkApplication) throws(LinkError) {
        // Wake up when the pacer asks, not up to 50 µs later (the default timer slack).
        _ = sluice_set_timer_slack(timerSlackNanoseconds)
        if let slice = schedulerSlice {
            let granted = sluice_set_scheduler_slice(UInt64(max(0, slice.nanosecondsClamped)))
            schedulerSliceInEffect = granted > 0 ? .nanoseconds(granted) : nil
        }
        try application.start(endpoint, at: clock.now())
        var nextProgress = clock.now()
        defer {
            if showsProgress { Console.clearProgress() }
            capture?.flushCapture()
        }
        while !application.isDone {
            // 1. Packets in.
            var drained = 0
            while drained < packetsPerWakeup {
                let n = try link.receive(batch: receiveBatch, forCapture: capture != nil)
                if n == 0 { break }
                drained += n
                let now = clock.now()
                for i in 0..<n {
                    let packet = receiveBatch.packet(i)
                    guard packet.count > 0, packet[0] >> 4 == 4 else {
                        nonIPv4Skipped += 1
                        continue
                    }
                    packetsReceived += 1
                    capture?.write(packet, timestamp: wallTime(now))
                    endpoint.receive(packet, at: now, checksum: receiveBatch.checksums[i])
                }
                if n < receiveBatch.capacity { break }
            }
            if let signals {
                let count = signals.drain()
                for _ in 0..<count {
                    interrupts += 1
                    application.interrupt(count: interrupts, endpoint, at: clock.now())
                }
            }
            // 2. Timers.
            var now = clock.now()
            if let deadline = endpoint.nextDeadline, deadline <= now {
                endpoint.handleTimeout(at: now)
            }
            // 3. Application and transmit, until quiet.
            var wake: Instant?
            var busy = false
            for _ in 0..<roundsPerWakeup {
                busy = false
                while let event = endpoint.pollEvent() {
                    busy = true
                    application.handle(event, endpoint, at: now)
                }
                wake = application.service(endpoint, at: now)
                if try transmit(at: now) > 0 { busy = true }
                if !busy { break }
                now = clock.now()
            }
            if showsProgress, now >= nextProgress {
                Console.progress(application.progressLine(endpoint, at: now))
                nextProgress = now + progressInterval
            }
            if application.isDone { break }
            // 4. Sleep.
            var until = earliest(endpoint.nextDeadline, wake)
            if showsProgress { until = earliest(until, nextProgress) }
            // Still busy (packets left in the link or the engine): only look for packets and signals.
            try sleep(until: drained >= packetsPerWakeup || busy ? now : until)
        }
        // Send what the last step queued (a final ACK, FIN or RST).
        _ = try transmit(at: clock.now())
    }

    /// One batch of `pollTransmit` (up to the batch's capacity), sent with one link call;
    /// returns how many packets it held (super-segments count once).
    private func transmit(at now: Instant) throws(LinkError) -> Int {
        let batch = transmitBatch
        batch.count = 0
        while batch.count < batch.capacity, let packet = endpoint.pollTransmitPacket(into: batch.slot(batch.count), at: now) {
            batch.lengths[batch.count] = UInt32(packet.length)
            batch.segmentSizes[batch.count] = UInt16(clamping: packet.segmentSize)
            batch.count += 1
        }
        guard batch.count > 0 else { return 0 }
        let produced = batch.count
        if let capture {
            // The capture shows when the batch left, not when it was computed.
            let departure = wallTime(clock.now())
            for i in 0..<produced { capture.write(batch.packet(i), timestamp: departure) }
        }
        let dropped = try link.send(batch: batch)
        linkDrops += dropped
        packetsSent += produced - dropped
        return produced
    }

    /// Blocks in `ppoll` until a packet or signal arrives or `until` passes (`nil`: no deadline).
    private func sleep(until: Instant?) throws(LinkError) {
        var wait: Int64 = -1
        if let until { wait = max(0, until.nanoseconds - clock.now().nanoseconds) }
        let result = sluice_poll_nanoseconds(&pollDescriptors, UInt(pollDescriptors.count), wait)
        if result < 0, errno != EINTR { throw .system("ppoll", errno) }
    }

    private func wallTime(_ now: Instant) -> Instant {
        Instant(nanoseconds: now.nanoseconds &+ wallClockOffset)
    }
}

@available(*, unavailable)
extension RunLoop: Sendable {}

private func earliest(_ a: Instant?, _ b: Instant?) -> Instant? {
    switch (a, b) {
    case let (a?, b?): return min(a, b)
    case let (a?, nil): return a
    case let (nil, b?): return b
    case (nil, nil): return nil
    }
}

extension RunLoop {
    /// The slice a pacing sender asks for: the kernel's minimum (0.1 ms), about what one wake-up
    /// of the loop takes. With the default slice a pacing wake-up that lands on a CPU running
    /// another task can wait for that task's slice to end: 1-4 ms, 10-40 % of a 10 ms bin at
    /// 200 Mbit/s. With this slice the waker preempts at once (EEVDF's short-slice preemption);
    /// the loop's share of the CPU is unchanged (that is set by weight, not slice). Measured on
    /// this 2-core VM (Linux 6.18) with two compilers running (load 3), `sluice-bench pacing`
    /// three times each, alternated: 41 of 2,691 bins off target with the slice, 78 without.
    /// It does not help against a kernel thread that runs for milliseconds without a
    /// preemption point (the VM's kdamond.0 runs about 3 ms at a time, five times a second).
    package static let pacingSchedulerSlice: Duration = .microseconds(100)
}

/// The run loop's timer slack: 1 µs instead of Linux's 50 µs default (a pacer at 200 Mbit/s
/// releases a segment every 58 µs).
private let timerSlackNanoseconds: UInt = 1_000
/// Packets handled per direction before the loop looks at timers and the application again, so a
/// flood in one direction cannot starve the other (the TUN figures in FIELD-NOTES.md: ≈0.5 M
/// packets/s, so 256 packets is about half a millisecond).
private let packetsPerWakeup = 256
/// Application/transmit alternations per wake-up before sleeping anyway.
private let roundsPerWakeup = 64
/// "A few times a second" (issue 6).
private let progressInterval: Duration = .milliseconds(250)
