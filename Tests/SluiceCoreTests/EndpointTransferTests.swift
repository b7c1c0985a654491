import Testing
@testable import SluiceCore

/// Whole conversations between two endpoints on a simulated link: handshake, transfer, close.
@Suite struct EndpointTransferTests {
    static let addressA = IPv4Address(10, 1, 0, 1)
    static let addressB = IPv4Address(10, 1, 0, 2)

    static func config(_ address: IPv4Address, iss: UInt32, buffer: Int = 64 * 1024,
                       _ tweak: (inout ConnectionConfig) -> Void = { _ in }) -> EndpointConfig {
        var c = EndpointConfig(localAddress: address) { _, _ in SequenceNumber(iss) }
        c.connection.receiveBufferSize = buffer
        c.connection.sendBufferSize = buffer
        tweak(&c.connection)
        return c
    }

    /// Sends `total` bytes from A to B (B reads everything it can at every step), then both
    /// close. Returns what B read and the pair.
    static func transfer(total: Int, pair: EndpointPair, readChunk: Int = 1 << 20) -> (received: [UInt8], client: ConnectionID?, server: ConnectionID?) {
        let data = streamBytes(0..<total)
        do { try pair.b.listen(port: 80) } catch { Issue.record("listen: \(error)"); return ([], nil, nil) }
        guard let client = try? pair.a.connect(to: SocketAddress(addressB, 80), at: pair.now) else {
            Issue.record("connect failed"); return ([], nil, nil)
        }
        var server: ConnectionID?
        var written = 0
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: readChunk)
        var clientClosed = false
        var serverClosed = false
        var clientShut = false
        var serverShut = false
        let done = pair.run(until: .seconds(600)) {
            if server == nil { server = pair.b.accept(port: 80) }
            if written < total {
                written += data[written...].withUnsafeBytes { pair.a.write(client, $0) }
            } else if !clientShut {
                pair.a.close(client)
                clientShut = true
            }
            if let s = server {
                while true {
                    let n = chunk.withUnsafeMutableBytes { pair.b.read(s, into: $0) }
                    if n == 0 { break }
                    received.append(contentsOf: chunk[0..<n])
                }
                if pair.b.isAtEndOfStream(s) && !serverShut {
                    pair.b.close(s)
                    serverShut = true
                }
            }
            while let e = pair.a.pollEvent() { if case .closed = e { clientClosed = true } }
            while let e = pair.b.pollEvent() { if case .closed = e { serverClosed = true } }
            return clientClosed && serverClosed
        }
        #expect(done, "transfer did not finish: \(received.count) of \(total) bytes by \(pair.now)")
        #expect(pair.problems.isEmpty, "\(pair.problems)")
        return (received, client, server)
    }

    @Test func handshakeTransferAndClose() {
        let pair = EndpointPair(a: Self.config(Self.addressA, iss: 1000), b: Self.config(Self.addressB, iss: 900_000))
        let total = 300_000
        let (received, client, server) = Self.transfer(total: total, pair: pair)
        #expect(received.count == total)
        #expect(received == streamBytes(0..<total))
        // The active closer sits in TIME-WAIT for 60 s; the passive closer is released.
        #expect(client.flatMap { pair.a.state(of: $0) } == .timeWait)   // the handle lasts until TIME-WAIT ends
        #expect(server.flatMap { pair.b.state(of: $0) } == nil)
        #expect(pair.a.connectionCount == 1, "TIME-WAIT holds its slot")
        pair.run(until: pair.now + .seconds(61)) { pair.a.connectionCount == 0 }
        #expect(pair.a.connectionCount == 0)
        #expect(pair.b.connectionCount == 0)
        #expect(client.flatMap { pair.a.state(of: $0) } == nil)
    }

    /// RFC 9293 §3.4 / RFC 1982: sequence numbers wrap. Both ISSs a few KiB below 2^32.
    @Test func transferAcrossSequenceWrap() {
        let pair = EndpointPair(a: Self.config(Self.addressA, iss: UInt32.max - 3000),
                                b: Self.config(Self.addressB, iss: UInt32.max - 5000))
        let total = 200_000
        let (received, _, _) = Self.transfer(total: total, pair: pair)
        #expect(received == streamBytes(0..<total))
    }

    @Test func transferWithAllOptionsAndLoss() {
        let ca = Self.config(Self.addressA, iss: 77, buffer: 256 * 1024) { $0.windowScaleEnabled = true; $0.sackEnabled = true; $0.timestampsEnabled = true }
        let cb = Self.config(Self.addressB, iss: 4_000_000_000, buffer: 256 * 1024) { $0.windowScaleEnabled = true; $0.sackEnabled = true; $0.timestampsEnabled = true }
        let pair = EndpointPair(a: ca, b: cb, latency: .milliseconds(20))
        // Deterministic loss: every 37th packet.
        pair.shouldDrop = { $0 % 37 == 36 }
        let total = 1_000_000
        let (received, _, _) = Self.transfer(total: total, pair: pair)
        #expect(received == streamBytes(0..<total))
    }
}
