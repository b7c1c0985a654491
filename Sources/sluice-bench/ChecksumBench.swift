import SluiceCore
import SluiceRandom

/// `sluice-bench checksum`: Internet checksum throughput on 1460-byte segments, the byte-pair
/// reference loop (`InternetChecksum.naiveSum`) against the 32-bit-load kernel
/// (`InternetChecksum.add`) in the same run, and the cost of encoding and decoding one packet.
enum ChecksumBench {
    static let command = BenchCommand(
        name: "checksum",
        summary: "Internet checksum GB/s (byte-pair loop vs fast) and encode/decode ns per packet",
        usage: "[--segment-size 1460] [--segments 64] [--rounds 5] [--seconds 0.3]",
        run: { run($0) })

    static func run(_ arguments: [String]) -> Int32 {
        let options = BenchOptions(arguments, known: ["--segment-size", "--segments", "--rounds", "--seconds"])
        guard options.unknown.isEmpty,
              let segmentSize = options.int("--segment-size", default: defaultSegmentSize), segmentSize > 0,
              segmentSize <= 65_495,
              let segments = options.int("--segments", default: defaultSegments), segments > 0,
              let rounds = options.int("--rounds", default: defaultRounds), rounds > 0,
              let seconds = options.double("--seconds", default: defaultSeconds), seconds > 0 else {
            return command.usageError()
        }
        #if DEBUG
        print("warning: debug build; measure with `swift run -c release sluice-bench checksum`")
        #endif

        // Deterministic data: seeded bytes, `segments` back-to-back segments (in cache).
        var bytes = SeededBytes(seed: 0x5EED)
        let data = bytes.next(segmentSize * segments)

        var sink: UInt64 = 0
        let result: Int32 = data.withUnsafeBytes { raw in
            // The two must agree before their speeds mean anything.
            for s in 0..<segments {
                let seg = UnsafeRawBufferPointer(rebasing: raw[(s * segmentSize)..<((s + 1) * segmentSize)])
                var c = InternetChecksum()
                c.add(seg)
                guard c.sum == InternetChecksum.naiveSum(seg) else {
                    print("error: fast and naive checksums differ on segment \(s)")
                    return 1
                }
            }
            var bestNaive = 0.0
            var bestFast = 0.0
            for _ in 0..<rounds {   // interleaved rounds: both see the same machine state
                bestNaive = max(bestNaive, throughput(raw, segmentSize, seconds, &sink, naive))
                bestFast = max(bestFast, throughput(raw, segmentSize, seconds, &sink, fast))
            }
            print("checksum, \(segmentSize)-byte segments, best of \(rounds) rounds of \(formatted(seconds, 2)) s:")
            print("  naive byte pairs   \(formatted(bestNaive / 1e9)) GB/s   (\(formatted(Double(segmentSize) / bestNaive * 1e9, 1)) ns/segment)")
            print("  fast 32-bit loads  \(formatted(bestFast / 1e9)) GB/s   (\(formatted(Double(segmentSize) / bestFast * 1e9, 1)) ns/segment)")
            print("  ratio fast/naive   \(formatted(bestFast / bestNaive))x   (required >= 2.4x)")
            return bestFast / bestNaive >= 2.4 ? 0 : 1
        }
        let codec = encodeDecode(segmentSize: min(segmentSize, 1460), rounds: rounds, seconds: seconds, sink: &sink)
        print("packet, \(min(segmentSize, 1460))-byte payload, TS option (ns/packet, best of \(rounds)):")
        print("  encode (headers + payload copy + both checksums)  \(formatted(codec.encode, 1))")
        print("  parse                                             \(formatted(codec.parse, 1))")
        print("  parse + verify both checksums                     \(formatted(codec.verify, 1))")
        print("  encode + parse + verify                           \(formatted(codec.encode + codec.verify, 1))")
        print("(sink \(sink & 0xFFFF))")
        return result
    }

    @inline(never) static func naive(_ seg: UnsafeRawBufferPointer) -> UInt16 {
        InternetChecksum.naiveSum(seg)
    }

    @inline(never) static func fast(_ seg: UnsafeRawBufferPointer) -> UInt16 {
        var c = InternetChecksum()
        c.add(seg)
        return c.sum
    }

    /// Bytes per second of `kernel` over the segments in `raw`, run for about `seconds`.
    static func throughput(
        _ raw: UnsafeRawBufferPointer, _ segmentSize: Int, _ seconds: Double, _ sink: inout UInt64,
        _ kernel: (UnsafeRawBufferPointer) -> UInt16
    ) -> Double {
        let clock = ContinuousClock()
        let segments = raw.count / segmentSize
        var bytes = 0
        let start = clock.now
        var elapsed = 0.0
        repeat {
            for _ in 0..<batch {
                for s in 0..<segments {
                    let seg = UnsafeRawBufferPointer(rebasing: raw[(s * segmentSize)..<((s + 1) * segmentSize)])
                    sink &+= UInt64(kernel(seg))
                }
            }
            bytes += batch * segments * segmentSize
            elapsed = (clock.now - start).seconds
        } while elapsed < seconds
        return Double(bytes) / elapsed
    }

    /// Nanoseconds per packet to encode, parse, and parse + verify a data packet.
    static func encodeDecode(segmentSize: Int, rounds: Int, seconds: Double, sink: inout UInt64)
        -> (encode: Double, parse: Double, verify: Double) {
        let ip = IPv4Header(source: IPv4Address(10, 0, 0, 1), destination: IPv4Address(10, 0, 0, 2))
        var tcp = TCPHeader(
            sourcePort: 40000, destinationPort: 5001, sequenceNumber: SequenceNumber(1),
            acknowledgmentNumber: SequenceNumber(1), flags: [.ack, .psh], window: 65535,
            options: TCPOptions(timestamps: TCPTimestamps(value: 1, echoReply: 2)))
        let payload = [UInt8](repeating: 0x5A, count: segmentSize)
        var buffer = [UInt8](repeating: 0, count: 1500 + 100)
        let clock = ContinuousClock()
        var best = (encode: Double.infinity, parse: Double.infinity, verify: Double.infinity)
        payload.withUnsafeBytes { source in
            buffer.withUnsafeMutableBytes { out in
                let packetView = UnsafeRawBufferPointer(out)
                var length = 0
                for _ in 0..<rounds {
                    // Encode.
                    var n = 0
                    var start = clock.now
                    var elapsed = 0.0
                    repeat {
                        for _ in 0..<packetBatch {
                            tcp.sequenceNumber += segmentSize
                            length = IPv4TCPPacket.encode(ip: ip, tcp: tcp, payloadLength: segmentSize, into: out) {
                                $0.copyMemory(from: source)
                            } ?? 0
                            sink &+= UInt64(out[36])
                        }
                        n += packetBatch
                        elapsed = (clock.now - start).seconds
                    } while elapsed < seconds
                    best.encode = min(best.encode, elapsed / Double(n) * 1e9)

                    let packet = UnsafeRawBufferPointer(rebasing: packetView[0..<length])
                    // Parse.
                    n = 0
                    start = clock.now
                    repeat {
                        for _ in 0..<packetBatch {
                            if let p = try? IPv4TCPPacket.parse(packet) { sink &+= UInt64(p.payloadRange.count) }
                        }
                        n += packetBatch
                        elapsed = (clock.now - start).seconds
                    } while elapsed < seconds
                    best.parse = min(best.parse, elapsed / Double(n) * 1e9)

                    // Parse and verify.
                    n = 0
                    start = clock.now
                    repeat {
                        for _ in 0..<packetBatch {
                            if let p = try? IPv4TCPPacket.parse(packet), p.verifyChecksums(in: packet).isValid {
                                sink &+= UInt64(p.payloadRange.count)
                            }
                        }
                        n += packetBatch
                        elapsed = (clock.now - start).seconds
                    } while elapsed < seconds
                    best.verify = min(best.verify, elapsed / Double(n) * 1e9)
                }
            }
        }
        return best
    }

    // Segment size: a 1500-byte Ethernet MTU minus 40 bytes of IPv4 and TCP headers (RFC 9293 §3.7.1).
    static let defaultSegmentSize = 1460
    // 64 segments = 93 KB: fits in L2, so the figure is the kernel, not memory bandwidth.
    static let defaultSegments = 64
    // Rounds and seconds per round: best-of-5 over 0.3 s smooths a shared 2-core machine's noise.
    static let defaultRounds = 5
    static let defaultSeconds = 0.3
    // Work between clock reads: a few thousand segments, so reading the clock costs < 0.1%.
    static let batch = 64
    static let packetBatch = 4096
}
