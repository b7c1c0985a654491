import Crypto
import Foundation
import SluiceHarness
import SluiceTestSupport
import Testing
@testable import SluiceCore

/// The soak: 10 GiB through the harness over a link with random loss, reordering, duplication
/// and corruption. Content identical (SHA-256 of what was read against SHA-256 of the stream,
/// and every byte compared), memory flat (resident set sampled every GiB). Minutes of CPU: runs
/// only with `SLUICE_SOAK=1`, in release:
/// `SLUICE_SOAK=1 swift test -c release -Xswiftc -enable-testing --filter HarnessSoak`
/// (`SLUICE_SOAK_GIB` changes the size).
@Suite struct HarnessSoakTests {
    static let enabled = ProcessInfo.processInfo.environment["SLUICE_SOAK"] == "1"
    static let gibibytes = ProcessInfo.processInfo.environment["SLUICE_SOAK_GIB"].flatMap(Int.init) ?? 10

    @Test(.enabled(if: enabled, "set SLUICE_SOAK=1 to run the 10 GiB soak (minutes)"))
    func tenGiBThroughAnImpairedLink() throws {
        let seed: UInt64 = 1330
        let count = Self.gibibytes << 30
        print("harness soak seed \(seed): \(Self.gibibytes) GiB")
        let net = Harness(seed: seed)
        let client = net.addEndpoint("client", address: IPv4Address(10, 0, 0, 1))
        let server = net.addEndpoint("server", address: IPv4Address(10, 0, 0, 2))
        let link = LinkConfig(latency: .milliseconds(2), rate: 2_000_000_000, queueLimit: .packets(1000),
                              lossProbability: 0.005, mtu: 1500, reorderProbability: 0.005, reorderDelay: .microseconds(300),
                              duplicateProbability: 0.002, corruptProbability: 0.001)
        let (forward, backward) = net.connect(client, server, link)
        let stream = ByteStream(seed: seed)
        let receiver = HashingReceiver(port: 5001, stream: stream)
        let sender = BulkSender(.connect(to: SocketAddress(server.address, 5001)), count: count, stream: stream)
        try net.attach(receiver, to: server)
        try net.attach(sender, to: client)
        net.options.maxEvents = .max
        let started = Date()
        try net.run(until: { _ in receiver.isComplete }, timeLimit: .seconds(4 * 3600))
        let seconds = Date().timeIntervalSince(started)
        let expected = receiver.expectedDigest
        print("harness soak: \(receiver.bytes) bytes in \(net.now) virtual, \(Int(seconds)) s real; sha256 read \(receiver.digest), stream \(expected)")
        print("harness soak: forward [\(forward.counters)], backward [\(backward.counters)]")
        print("harness soak: RSS per GiB (MiB): \(receiver.residentSamples.map { $0 >> 20 })")
        #expect(receiver.bytes == count)
        #expect(receiver.mismatchAt == nil)
        #expect(receiver.digest == expected)
        #expect(forward.counters.droppedLoss > 0 && forward.counters.reordered > 0 && forward.counters.duplicated > 0 && forward.counters.corrupted > 0)
        // Memory flat: after the first GiB (allocations warm), the resident set grows by less than 16 MiB.
        let warm = receiver.residentSamples.first ?? 0
        #expect((receiver.residentSamples.max() ?? 0) <= warm + 16 << 20, "\(receiver.residentSamples)")
    }
}

/// Accepts one connection on `port`, reads everything, hashes what it read (SHA-256), compares
/// each byte with `stream` (hashing that too), samples the resident set every GiB, and closes at
/// the end of the stream.
final class HashingReceiver: HarnessApplication {
    let port: UInt16
    let stream: ByteStream
    private var id: ConnectionID?
    private var hasher = SHA256()
    private var expectedHasher = SHA256()
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
    private let expectedBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
    private(set) var bytes = 0
    private(set) var mismatchAt: Int?
    private(set) var isComplete = false
    private(set) var digest = ""
    private(set) var expectedDigest = ""
    private(set) var residentSamples: [Int] = []

    init(port: UInt16, stream: ByteStream) {
        self.port = port
        self.stream = stream
    }

    deinit {
        buffer.deallocate()
        expectedBuffer.deallocate()
    }

    func start(_ c: NodeContext) throws { try c.endpoint.listen(port: port) }

    func handle(_ event: EndpointEvent, _ c: NodeContext) throws {
        if case .acceptable = event, id == nil { id = c.endpoint.accept(port: port) }
    }

    func poll(_ c: NodeContext) throws -> Bool {
        guard let id, !isComplete else { return false }
        var acted = false
        while true {
            let n = c.endpoint.read(id, into: buffer)
            guard n > 0 else { break }
            let got = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            let want = UnsafeMutableRawBufferPointer(rebasing: expectedBuffer[0..<n])
            stream.fill(want, from: bytes)
            hasher.update(bufferPointer: got)
            expectedHasher.update(bufferPointer: UnsafeRawBufferPointer(want))
            if mismatchAt == nil, let a = got.baseAddress, let b = want.baseAddress, memcmp(a, b, n) != 0 { mismatchAt = bytes }
            if (bytes + n) >> 30 != bytes >> 30, let rss = residentSet() { residentSamples.append(rss.current) }
            bytes += n
            acted = true
        }
        if c.endpoint.isAtEndOfStream(id) {
            isComplete = true
            digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            expectedDigest = expectedHasher.finalize().map { String(format: "%02x", $0) }.joined()
            c.endpoint.close(id)
            acted = true
        }
        return acted
    }
}
