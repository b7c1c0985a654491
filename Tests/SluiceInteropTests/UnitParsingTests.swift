import Testing
@testable import SluiceCLI
@testable import SluiceDrivers

@Suite struct UnitParsingTests {
    // MARK: - Sizes

    @Test(arguments: [
        ("65536", 65536), ("0", 0), ("64KiB", 65536), ("64 KiB", 65536), ("1MiB", 1_048_576),
        ("2GiB", 2_147_483_648), ("1.5KiB", 1536), ("100B", 100), (" 16KiB ", 16384), ("0.5", 0),
    ])
    func sizes(text: String, bytes: Int) throws {
        #expect(try parseByteSize(text) == bytes)
    }

    @Test func sizeErrorsNameTheFix() {
        #expect(throws: UnitParseError.unknownUnit(kind: "size", unit: "KB", accepted: "bytes (no unit), KiB, MiB or GiB")) {
            try parseByteSize("64KB")
        }
        #expect(throws: UnitParseError.notANumber(kind: "size", text: "lots")) { try parseByteSize("lots") }
        #expect(throws: UnitParseError.empty(kind: "size")) { try parseByteSize("  ") }
        #expect(throws: UnitParseError.negative(kind: "size", text: "-5")) { try parseByteSize("-5") }
        #expect(throws: UnitParseError.tooLarge(kind: "size", text: "9999999GiB")) { try parseByteSize("9999999GiB") }
        #expect(throws: UnitParseError.notANumber(kind: "size", text: "1.2.3KiB")) { try parseByteSize("1.2.3KiB") }
        let message = "\(UnitParseError.unknownUnit(kind: "size", unit: "KB", accepted: "bytes (no unit), KiB, MiB or GiB"))"
        #expect(message == "unknown size unit 'KB': use bytes (no unit), KiB, MiB or GiB")
        #expect(!message.contains("\n"))
    }

    // MARK: - Rates (bytes per second)

    @Test(arguments: [
        ("250000", 250_000.0), ("0", 0.0), ("8kbit", 1_000.0), ("8mbit", 1_000_000.0), ("8Mbit", 1_000_000.0),
        ("1gbit", 125_000_000.0), ("500KB", 500_000.0), ("2MB", 2_000_000.0), ("1GB", 1e9),
        ("1.5 mbit", 187_500.0), ("10B/s", 10.0),
    ])
    func rates(text: String, bytesPerSecond: Double) throws {
        #expect(try parseByteRate(text) == bytesPerSecond)
    }

    @Test func rateErrorsNameTheFix() {
        #expect(throws: UnitParseError.self) { try parseByteRate("10kb") }   // kilobit or kilobyte? refused
        #expect(throws: UnitParseError.self) { try parseByteRate("10KiB") }
        #expect(throws: UnitParseError.self) { try parseByteRate("fast") }
        #expect(throws: UnitParseError.self) { try parseByteRate("-1mbit") }
        let message = describeError { try parseByteRate("10kb") }
        #expect(message == "unknown rate unit 'kb': use bytes/s (no unit), kbit, mbit, gbit (bits/s) or KB, MB, GB (bytes/s)")
    }

    // MARK: - Formatting

    @Test func formatting() {
        #expect(formatFixed(1.005, 2) == "1.00" || formatFixed(1.005, 2) == "1.01")
        #expect(formatFixed(12.5, 0) == "13")
        #expect(formatFixed(0.25, 3) == "0.250")
        #expect(formatFixed(-1.5, 1) == "-1.5")
        #expect(formatBytes(512) == "512 B")
        #expect(formatBytes(65536) == "64.0 KiB")
        #expect(formatBytes(3 * 1_048_576 / 2) == "1.50 MiB")
        #expect(formatBitRate(12_345_678) == "12.35 Mbit/s")
        #expect(formatBitRate(2.5e9) == "2.50 Gbit/s")
    }
}

private func describeError(_ body: () throws -> Double) -> String {
    do { _ = try body(); return "no error" } catch { return "\(error)" }
}
