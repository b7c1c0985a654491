// libFuzzer target: the IPv4/TCP decoder and encoder.
//
// Property: whatever the bytes, `parse` returns a value or throws a `WireError` (never traps);
// for a packet it accepted, encode → decode gives the same decoded values (the fields the
// encoder writes: addresses, TTL, TOS, identification, DF; every TCP field but the checksum;
// the options, with SACK blocks cut to those that fit in 40 bytes beside the others, as
// `TCPOptions.encodedSACKBlockCount` documents; the payload), the re-encoded packet's checksums
// verify, and encoding into a buffer one byte short fails cleanly.
import SluiceCore

@_cdecl("LLVMFuzzerTestOneInput")
public func wireFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    // A truncated capture's view of the same bytes must not trap either.
    let truncated = try? IPv4TCPPacket.parse(input, allowingTruncatedPayload: true)
    if let t = truncated {
        _ = t.wirePayloadLength
        _ = t.tcpHeaderLength
    }
    guard let packet = try? IPv4TCPPacket.parse(input) else { return 0 }
    _ = packet.verifyChecksums(in: input)
    let payload = Array(input[packet.payloadRange])

    let ip = IPv4Header(source: packet.ip.source, destination: packet.ip.destination,
                        timeToLive: packet.ip.timeToLive, typeOfService: packet.ip.typeOfService,
                        identification: packet.ip.identification, dontFragment: packet.ip.dontFragment)
    let bytes = IPv4TCPPacket.encode(ip: ip, tcp: packet.tcp, payload: payload)
    let expectedLength = IPv4TCPPacket.encodedLength(options: packet.tcp.options, payloadLength: payload.count)
    guard expectedLength <= 0xFFFF else {
        check(bytes.isEmpty, "a packet over 65,535 bytes was encoded")
        return 0
    }
    check(bytes.count == expectedLength, "encoded \(bytes.count) bytes, encodedLength says \(expectedLength)")

    let again: IPv4TCPPacket
    do {
        again = try IPv4TCPPacket.parse(bytes)
    } catch {
        fail("the encoder's own packet does not decode: \(error)")
    }
    check(again.verifyChecksums(in: bytes).isValid, "checksums of the encoded packet do not verify")
    check(again.ip.source == packet.ip.source && again.ip.destination == packet.ip.destination,
          "addresses changed")
    check(again.ip.timeToLive == packet.ip.timeToLive && again.ip.typeOfService == packet.ip.typeOfService
          && again.ip.identification == packet.ip.identification && again.ip.dontFragment == packet.ip.dontFragment,
          "IPv4 fields changed")
    var expected = packet.tcp
    expected.options.sackBlocks.truncate(to: packet.tcp.options.encodedSACKBlockCount)
    expected.checksum = again.tcp.checksum
    check(again.tcp == expected, "TCP header changed: \(packet.tcp) -> \(again.tcp)")
    check(Array(bytes[again.payloadRange]) == payload, "payload changed")

    // One byte too small: nothing written, no trap.
    var short = [UInt8](repeating: 0, count: Swift.max(0, bytes.count - 1))
    let written = short.withUnsafeMutableBytes {
        IPv4TCPPacket.encode(ip: ip, tcp: packet.tcp, payloadLength: payload.count, into: $0) { _ in }
    }
    check(written == nil, "encoded into a buffer one byte too small")
    return 0
}

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fail(message()) }
}

func fail(_ message: String) -> Never {
    fatalError("fuzz-wire: property violated: \(message)")
}
