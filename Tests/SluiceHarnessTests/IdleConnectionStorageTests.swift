import SluiceCore
import SluiceHarness
import Testing

/// Many connections in one endpoint (the table raised), as `sluice-bench scale` runs them: none
/// holds ring storage while idle, never used or after it carried data that was all read, and
/// the endpoint keeps no more handed-back buffers than `maxCachedRingBuffers`. (The memory
/// figures themselves come from `sluice-bench scale` in release mode.)
@Suite struct IdleConnectionStorageTests {
    /// `pairs` connections between a client and a server endpoint; each pair then carries
    /// `bytes` (checked as read). Returns the endpoints once all is read and quiet.
    static func run(pairs: Int, bytes: Int, cachedRings: Int,
                    idle: (Endpoint, Endpoint) -> Void) throws -> (Endpoint, Endpoint) {
        var options = Harness.Options()
        options.checkNodeInvariants = false   // O(connections) per step; checked at the end
        let net = Harness(seed: 61, options: options)
        let serverAddress = IPv4Address(10, 6, 0, 2)
        func configure(_ c: inout EndpointConfig) {
            c.maxConnections = pairs
            c.maxPendingEvents = 4 * pairs + 16
            c.maxCachedRingBuffers = cachedRings
        }
        let client = net.addEndpoint("client", address: IPv4Address(10, 6, 0, 1), configure: configure)
        let server = net.addEndpoint("server", address: serverAddress, configure: configure)
        _ = net.connect(client, server, LinkConfig(latency: .microseconds(100)))
        let a = try #require(client.endpoint)
        let b = try #require(server.endpoint)
        try b.listen(port: 7001, backlog: pairs)
        var clients: [ConnectionID] = []
        for _ in 0..<pairs { clients.append(try a.connect(to: SocketAddress(serverAddress, 7001), at: net.now)) }
        var servers: [ConnectionID] = []
        try net.run(until: { _ in
            while let s = b.accept(port: 7001) { servers.append(s) }
            return servers.count == pairs
        }, timeLimit: .seconds(10), "every connection to be accepted")
        try net.runUntilIdle(timeLimit: .seconds(1))
        idle(a, b)

        // Pair i carries bytes (i + k) mod 251, so a buffer reused across pairs would show.
        var scratch = [UInt8](repeating: 0, count: 64 << 10)
        for (i, c) in clients.enumerated() {
            let chunk = (0..<bytes).map { UInt8(truncatingIfNeeded: (i + $0) % 251) }
            #expect(chunk.withUnsafeBytes { a.write(c, $0) } == bytes)
        }
        var received = [Int](repeating: 0, count: pairs)
        try net.run(until: { _ in
            for (i, s) in servers.enumerated() {
                while true {
                    let n = scratch.withUnsafeMutableBytes { b.read(s, into: $0) }
                    if n == 0 { break }
                    let tuple = try #require(b.tuple(of: s))
                    // The client's connections were made in order: its ports tell the pair.
                    let pair = Int(tuple.remote.port - a.config.ephemeralPorts.lowerBound)
                    for k in 0..<n where scratch[k] != UInt8(truncatingIfNeeded: (pair + received[i] + k) % 251) {
                        Issue.record("pair \(pair): byte \(received[i] + k) differs")
                        break
                    }
                    received[i] += n
                }
            }
            return received.reduce(0, +) == pairs * bytes
        }, timeLimit: .seconds(30), "every byte to be read")
        try net.runUntilIdle(timeLimit: .seconds(1))
        #expect(a.checkInvariants().isEmpty)
        #expect(b.checkInvariants().isEmpty)
        return (a, b)
    }

    @Test(arguments: [0, 3, 8])
    func idleConnectionsHoldNoRingStorage(cachedRings: Int) throws {
        let (a, b) = try Self.run(pairs: 200, bytes: 20_000, cachedRings: cachedRings) { a, b in
            #expect(a.connectionCount == 200 && b.connectionCount == 200)
            #expect(a.ringsHoldingStorage == 0)
            #expect(b.ringsHoldingStorage == 0)
        }
        #expect(a.ringsHoldingStorage == 0)
        #expect(b.ringsHoldingStorage == 0)
        // The bound holds. The client's 200 send rings all held data at once, so its pool is
        // full; the server's reader drains each receive ring as it fills, and the next ring
        // takes the same buffer back: one is kept.
        #expect(a.ringPool.cachedCount == cachedRings)
        #expect(a.ringPool.cachedBytes == cachedRings * a.config.connection.sendBufferSize)
        #expect(b.ringPool.cachedCount == Swift.min(1, cachedRings))
    }
}
