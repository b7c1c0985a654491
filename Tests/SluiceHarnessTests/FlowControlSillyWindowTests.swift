import SluiceCore
import SluiceHarness
import Testing

/// Issue 5: "a reader that reads one byte at a time: every advance of the right edge is
/// ≥ min(buffer/2, MSS), and the sender sends no segment smaller than MSS while more data is
/// queued (except as the override timeout allows)" (RFC 9293 §3.8.6.2, RFC 1122 §4.2.3.3–4).
@Suite struct FlowControlSillyWindowTests {
    @Test func oneByteReaderSeesNoSillyWindow() throws {
        let buffer = 4 * 1024
        // Each read call takes one byte; ten calls a millisecond.
        let s = try FlowScenario(
            seed: 31, count: 24 * 1024,
            link: LinkConfig(latency: .milliseconds(2), rate: 100_000_000),
            readPolicy: ReadPolicy(readSize: 1, period: .milliseconds(1), bytesPerPeriod: 10),
            receiver: { $0.receiveBufferSize = buffer })
        try s.runToCompletion(timeLimit: .seconds(60))
        #expect(s.bulkReceiver.isComplete)
        #expect(s.receiverShift == 0)

        // Every advance of the right edge is at least min(buffer / 2, MSS).
        let threshold = min(buffer / 2, 1460)
        let edges = s.advertisedEdges
        var advances: [Int] = []
        for (a, b) in zip(edges, edges.dropFirst()) where b.edge != a.edge {
            advances.append(b.edge - a.edge)
        }
        #expect(advances.count > 10)
        #expect(advances.allSatisfy { $0 >= threshold }, "advances: \(advances.filter { $0 < threshold })")

        // No sub-MSS segment while more data is queued, unless the override timeout let it go
        // (then at least 200 ms after the previous data segment).
        let data = s.dataDepartures
        let fullSize = data.map(\.segment.payloadLength).max() ?? 0
        #expect(fullSize >= 1400)
        let last = data.last?.segment
        var silly: [String] = []
        for (prev, d) in zip(data, data.dropFirst()) where d.segment.payloadLength < fullSize {
            let end = d.segment.sequenceNumber + d.segment.payloadLength
            let isTail = last.map { end == $0.sequenceNumber + $0.payloadLength } ?? false
            if isTail { continue }
            if d.time - prev.time >= SenderSillyWindowAvoidance.defaultOverrideTimeout { continue }
            silly.append("\(d.time): \(d.segment.payloadLength) B")
        }
        #expect(silly.isEmpty, "sub-MSS segments: \(silly)")
    }
}
