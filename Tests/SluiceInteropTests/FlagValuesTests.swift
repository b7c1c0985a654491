import Testing
import SluiceCore
@testable import SluiceCLI
@testable import SluiceDrivers

/// Every bad flag value gets a one-line message that says what to type instead.
@Suite struct FlagValuesTests {
    @Test func goodValues() throws {
        #expect(try FlagValues.socketAddress("10.0.0.2:5001") == SocketAddress(IPv4Address(10, 0, 0, 2), 5001))
        #expect(try FlagValues.localAddress("10.0.0.1") == SocketAddress(IPv4Address(10, 0, 0, 1), 0))
        #expect(try FlagValues.localAddress("10.0.0.1:4000") == SocketAddress(IPv4Address(10, 0, 0, 1), 4000))
        #expect(try FlagValues.bufferSize("64KiB", range: bufferSizeRange) == 65536)
        #expect(try FlagValues.rate("0") == nil)
        #expect(try FlagValues.rate("8mbit") == 1_000_000)
        #expect(try FlagValues.pace("auto") == .auto)
        #expect(try FlagValues.pace("OFF") == .off)
        #expect(try FlagValues.pace("50mbit") == .fixed(bytesPerSecond: 6_250_000))
        #expect(try FlagValues.port("5001") == 5001)
    }

    @Test(arguments: [
        ("socket", "10.0.0.2", "expected IP:PORT, e.g. 10.0.0.2:5001 (IPv4 only)"),
        ("socket", "10.0.0.2:0", "bad port '0': use a number from 1 to 65535, e.g. 10.0.0.2:5001"),
        ("socket", "10.0.0.2:70000", "bad port '70000': use a number from 1 to 65535, e.g. 10.0.0.2:5001"),
        ("socket", "host:80", "'host' is not an IPv4 address: use dotted-quad form, e.g. 10.0.0.1"),
        ("local", "10.0.0", "'10.0.0' is not an IPv4 address: use dotted-quad form, e.g. 10.0.0.1"),
        ("buffer", "1", "1 bytes is out of range: use 2.0 KiB to 1.00 GiB, e.g. 64KiB"),
        ("buffer", "2GiB", "2147483648 bytes is out of range: use 2.0 KiB to 1.00 GiB, e.g. 64KiB"),
        ("buffer", "64kb", "unknown size unit 'kb': use bytes (no unit), KiB, MiB or GiB"),
        ("rate", "fast", "'fast' is not a rate: give a number with an optional unit, e.g. '10mbit', '500KB' or '250000' (bytes/s)"),
        ("pace", "0", "a pacing rate must be above 0: use auto, off, or a rate such as 50mbit"),
        ("pace", "sometimes", "'sometimes' is not a rate: give a number with an optional unit, e.g. '10mbit', '500KB' or '250000' (bytes/s), or auto / off"),
        ("port", "0", "use a port number from 1 to 65535"),
        ("tun", "much-too-long-name", "bad TUN device name 'much-too-long-name': use 1-15 characters without '/', ':' or spaces (e.g. tun0)"),
    ])
    func badValues(kind: String, text: String, message: String) {
        do throws(FlagError) {
            switch kind {
            case "socket": _ = try FlagValues.socketAddress(text)
            case "local": _ = try FlagValues.localAddress(text)
            case "buffer": _ = try FlagValues.bufferSize(text, range: bufferSizeRange)
            case "rate": _ = try FlagValues.rate(text)
            case "pace": _ = try FlagValues.pace(text)
            case "port": _ = try FlagValues.port(text)
            default: _ = try FlagValues.tunName(text)
            }
            Issue.record("'\(text)' was accepted as a \(kind)")
        } catch {
            #expect(error.description == message)
            #expect(!error.description.contains("\n"))
        }
    }
}
