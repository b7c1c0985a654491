import Testing
import SluiceCore
import SluiceHarness
@testable import SluiceTrace

/// `TraceSegment(commonCase:)`, the trace's in-place decoding of the common packet, only ever
/// accepts what `IPv4TCPPacket.parse` accepts, with the same fields; the parser stays the one
/// judge of everything else.
@Suite struct TraceSegmentDecodeTests {
    /// Every field the analysis reads.
    static func fields(_ s: TraceSegment) -> String {
        "\(s.frame) \(s.time.nanoseconds) \(s.source) \(s.destination) \(s.seq) \(s.ack) \(s.flags.rawValue) "
            + "\(s.window) \(s.length) \(String(describing: s.windowScale)) "
            + "\(String(describing: s.maximumSegmentSize)) \(String(describing: s.timestampValue))"
    }

    /// The segment as the parser decodes it, or nil when it refuses the bytes.
    static func parsed(_ bytes: UnsafeRawBufferPointer) -> TraceSegment? {
        guard let p = try? IPv4TCPPacket.parse(bytes, allowingTruncatedPayload: true) else { return nil }
        return TraceSegment(frame: 7, time: Instant(nanoseconds: 99), packet: p)
    }

    static func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16) ?? 0)
            i = j
        }
        return out
    }

    /// A data segment with NOP, NOP, timestamps; a pure ACK without options; a SYN with its
    /// options; an IPv4 header with options.
    static let templates: [[UInt8]] = [
        hex("45000098000340004006265b0a0000010a0000029c401389000003e900002329801801f6eda900000101080a00000004000000020001020304050607"),
        hex("4500002800024000400626c00a0000010a0000029c401389000003e9000023295010fff689e40000"),
        hex("4500003c00014000400626b90a0000010a0000029c401389000003e800000000a002faf0855a0000020405b40402080a000000010000000001030307"),
        hex("4600002c00024000400626c001010101" + "0a0000010a000002" + "9c401389000003e9000023295010fff689e40000"),
    ]

    @Test func commonPacketsDecodeAsTheParserDoes() {
        for (i, t) in Self.templates.enumerated() {
            t.withUnsafeBytes { b in
                let fast = TraceSegment(commonCase: b, frame: 7, time: Instant(nanoseconds: 99))
                #expect((fast != nil) == (i < 2), "template \(i)")   // the first two are the common case
                if let f = fast, let p = Self.parsed(b) { #expect(Self.fields(f) == Self.fields(p)) }
            }
        }
    }

    /// Mutated and cut templates: whenever the in-place decoding accepts, the parser accepts too
    /// and yields the same segment.
    @Test func mutatedPacketsNeverDisagreeWithTheParser() {
        let seed: UInt64 = 0x5EED_0012
        print("TraceSegmentDecodeTests seed \(seed)")
        var rng = SplitMix64(seed: seed)
        var accepted = 0, refused = 0
        for n in 0..<50_000 {
            var bytes = Self.templates[n % Self.templates.count]
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                // Mostly the header bytes the decoding looks at.
                let k = Int.random(in: 0..<min(bytes.count, 56), using: &rng)
                bytes[k] = Bool.random(using: &rng) ? UInt8.random(in: 0...255, using: &rng) : bytes[k] ^ (1 << UInt8.random(in: 0...7, using: &rng))
            }
            if Int.random(in: 0..<4, using: &rng) == 0 { bytes.removeLast(Int.random(in: 0...bytes.count, using: &rng)) }
            bytes.withUnsafeBytes { b in
                guard let fast = TraceSegment(commonCase: b, frame: 7, time: Instant(nanoseconds: 99)) else {
                    refused += 1
                    return
                }
                accepted += 1
                guard let p = Self.parsed(b) else {
                    Issue.record("accepted what the parser refuses: \(bytes) (seed \(seed), case \(n))")
                    return
                }
                #expect(Self.fields(fast) == Self.fields(p), "case \(n)")
            }
        }
        #expect(accepted > 1000 && refused > 1000)
    }
}
