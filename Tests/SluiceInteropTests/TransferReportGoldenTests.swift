import Testing
import SluiceTestSupport
@testable import SluiceDrivers

/// The `--json` summary of sluice-send and sluice-recv, byte for byte against Fixtures/golden/:
/// its keys, their order and the number formats (README, "The two programs") are a contract
/// other tools read.
@Suite struct TransferReportGoldenTests {
    /// A sender's report with every field set (awkward values: rounding, an escaped string).
    static var sender: TransferReport {
        var r = TransferReport(role: .sender)
        r.local = "10.0.0.1:40000"
        r.remote = "10.0.0.2:5001"
        r.result = "completed"
        r.bytes = 10_485_760
        r.seconds = 1.2345678
        r.sha256 = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
        r.retransmittedBytes = 14_480
        r.segmentsSent = 7_300
        r.segmentsReceived = 3_650
        r.zeroWindowEpisodes = 3
        r.zeroWindowSeconds = 0.5000004
        r.probesSent = 4
        r.probesAnswered = 3
        r.windowUpdatesSent = 0
        r.peakBufferBytes = 262_144
        r.rwndLimitedSeconds = 0.75
        r.cwndLimitedSeconds = 0.1234565
        r.pacingLimitedSeconds = 0.0000004
        r.appLimitedSeconds = 0
        r.smoothedRTTMilliseconds = 2.0005
        r.runQueueWaitSeconds = 0.0123455
        return r
    }

    /// A receiver's report that failed: no SRTT and no run-queue figure (the keys are absent), a non-finite time (written
    /// as 0), a control character in a string.
    static var receiver: TransferReport {
        var r = sender
        r.role = .receiver
        (r.local, r.remote) = ("10.0.0.2:5001", "10.0.0.1:40000\t\"x\"")
        r.result = "reset"
        r.zeroWindowSeconds = .infinity
        r.smoothedRTTMilliseconds = nil
        r.runQueueWaitSeconds = nil
        return r
    }

    @Test func senderJSONMatchesGolden() throws {
        try expectGolden(Self.sender.json + "\n", "golden/transfer-report-sender.json")
    }

    @Test func receiverJSONMatchesGolden() throws {
        try expectGolden(Self.receiver.json + "\n", "golden/transfer-report-receiver.json")
    }
}
