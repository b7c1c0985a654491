import SluiceCore

/// Collects the points of one connection's time-sequence graph, in bounded memory.
///
/// Ordinary data segments and ACK points are kept up to `pointLimit` per direction; past it,
/// every other one is dropped and only every 2nd (then 4th, ...) new one is kept, so the graph
/// thins evenly over the whole connection. Marked segments (retransmissions, probes,
/// out-of-order) are kept up to `markLimit` per direction and counted beyond.
package struct TimeSequenceRecorder: Sendable {
    package enum Kind: UInt8, Sendable {
        case data, retransmission, outOfOrder, probe, linuxProbe
    }
    package struct Segment: Sendable {
        package var time: Int64
        package var seq: Int64
        package var length: Int64
        package var kind: Kind
    }
    package struct AckPoint: Sendable {
        package var time: Int64
        package var ack: Int64
        /// ACK + advertised window, or nil when the window was not known.
        package var rightEdge: Int64?
        package var zeroWindow: Bool
    }
    package struct Direction: Sendable {
        /// Data sent in this direction.
        package var segments: [Segment] = []
        package var marks: [Segment] = []
        package var droppedMarks = 0
        /// ACKs and windows sent by the receiver of this direction's data.
        package var acks: [AckPoint] = []
        var segmentStride = 1
        var segmentCounter = 0
        var ackStride = 1
        var ackCounter = 0
        /// Sequence unwrapping: the first sequence number seen, and the last one unwrapped.
        var base: UInt32? = nil
        var lastRaw: UInt32 = 0
        var lastUnwrapped: Int64 = 0

        mutating func keepSegment(_ s: Segment, limit: Int) {
            TimeSequenceRecorder.keep(s, in: &segments, stride: &segmentStride, counter: &segmentCounter, limit: limit)
        }
        mutating func keepAck(_ p: AckPoint, limit: Int) {
            TimeSequenceRecorder.keep(p, in: &acks, stride: &ackStride, counter: &ackCounter, limit: limit)
        }

        mutating func unwrap(_ x: UInt32) -> Int64 {
            guard base != nil else {
                base = x
                lastRaw = x
                lastUnwrapped = 0
                return 0
            }
            let v = lastUnwrapped + Int64(Int32(bitPattern: x &- lastRaw))
            lastRaw = x
            lastUnwrapped = v
            return v
        }
    }

    package var directions = [Direction(), Direction()]
    package var startTime: Int64? = nil
    package let pointLimit: Int
    package let markLimit: Int

    package init(pointLimit: Int = 40_000, markLimit: Int = 20_000) {
        self.pointLimit = pointLimit
        self.markLimit = markLimit
    }

    package mutating func record(_ s: TraceSegment, outcome: PacketOutcome) {
        let t = s.time.nanoseconds
        if startTime == nil { startTime = t }
        let d = outcome.direction
        let flags = outcome.analysis.flags
        // This packet's data, in its own direction's sequence space.
        if s.length > 0 || s.isSYN || outcome.isLinuxProbe {
            let seq = directions[d].unwrap(s.seq)
            var kind = Kind.data
            if flags.contains(.zeroWindowProbe) { kind = .probe }
            else if outcome.isLinuxProbe { kind = .linuxProbe }
            else if !flags.isDisjoint(with: .anyRetransmission) { kind = .retransmission }
            else if flags.contains(.outOfOrder) { kind = .outOfOrder }
            let seg = Segment(time: t, seq: seq + (s.isSYN ? 1 : 0), length: Int64(s.length), kind: kind)
            if kind == .data {
                if s.length > 0 { directions[d].keepSegment(seg, limit: pointLimit) }
            } else if directions[d].marks.count < markLimit {
                directions[d].marks.append(seg)
            } else {
                directions[d].droppedMarks += 1
            }
        }
        // This packet's ACK and window, in the other direction's sequence space.
        if s.hasACK && !s.isRST && directions[1 - d].base != nil {
            let ack = directions[1 - d].unwrap(s.ack)
            let edge = outcome.rightEdge.map { ack + Int64(Int32(bitPattern: $0 &- s.ack)) }
            let p = AckPoint(time: t, ack: ack, rightEdge: edge, zeroWindow: s.window == 0)
            directions[1 - d].keepAck(p, limit: pointLimit)
        }
    }

    fileprivate static func keep<T>(_ v: T, in array: inout [T], stride: inout Int, counter: inout Int, limit: Int) {
        counter += 1
        guard counter % stride == 0 else { return }
        array.append(v)
        if array.count >= limit {
            var thinned: [T] = []
            thinned.reserveCapacity(limit / 2 + 1)
            for (i, x) in array.enumerated() where i % 2 == 0 { thinned.append(x) }
            array = thinned
            stride *= 2
        }
    }
}
