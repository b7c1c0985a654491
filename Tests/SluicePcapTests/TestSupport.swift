import Foundation
import SluiceCore
import SluiceTestSupport
@testable import SluicePcap

/// Known-good IPv4/TCP packets (10.0.0.1:40000 -> 10.0.0.2:5001), with correct IPv4 and TCP
/// checksums, made with a short Python script (struct + the RFC 1071 sum) while the wire encoder
/// was still being written.
enum KnownPackets {
    static let syn: [UInt8] = hex("4500003c00014000400626b90a0000010a0000029c401389000003e800000000a002faf0855a0000020405b40402080a000000010000000001030307")
    static let synAck: [UInt8] = hex("4500003c00004000400626ba0a0000020a00000113899c4000002328000003e9a012fe885e870000020405b40402080a000000020000000101030307")
    static let ack: [UInt8] = hex("4500003400024000400626c00a0000010a0000029c401389000003e900002329801001f689e400000101080a0000000300000002")
    static let data: [UInt8] = hex("45000098000340004006265b0a0000010a0000029c401389000003e900002329801801f6eda900000101080a0000000400000002000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60616263")
    static let fin: [UInt8] = hex("4500003400044000400626be0a0000010a0000029c4013890000044d00002329801101f6897d00000101080a0000000500000002")

    static let all = [syn, synAck, ack, data, fin]

    static func hex(_ s: String) -> [UInt8] { hexBytes(s) }
}

/// One record copied out of the reader, for comparisons.
struct ReadPacket: Equatable, CustomStringConvertible {
    var frameNumber: Int
    var timestamp: Instant
    var bytes: [UInt8]
    var originalLength: Int
    var description: String { "#\(frameNumber) @\(timestamp.nanoseconds)ns \(bytes.count)/\(originalLength) B" }
}

/// Reads every IPv4/TCP packet of a file.
func readAll(_ reader: PcapReader) throws -> [ReadPacket] {
    var out: [ReadPacket] = []
    while let r = try reader.next() {
        out.append(ReadPacket(frameNumber: r.frameNumber, timestamp: r.timestamp,
                              bytes: Array(r.packet), originalLength: r.originalLength))
    }
    return out
}
