import ArgumentParser
import SluiceCore
import SluiceDrivers

/// sluice-send: a Sluice TCP sender that writes as fast as the connection accepts.
@main
struct SluiceSend: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-send",
        abstract: "Open a TCP connection with Sluice and send a payload as fast as the receiver lets it.",
        discussion: """
        Over UDP on loopback (default) packets go to UDP 127.0.0.1 at the TCP port of --connect (or \
        --udp-port), where sluice-recv --listen with the same IP:PORT waits. Over TUN (--tun NAME, \
        needs root or CAP_NET_ADMIN) Sluice owns the --local address and the kernel is the peer \
        (tools/netns-tun).

        Sizes: bytes, or KiB / MiB / GiB. Rates: bytes/s, or kbit / mbit / gbit (bits/s), or KB / MB (bytes/s).
        At exit: a summary on stderr, or with --json one JSON object on stdout.
        Ctrl-C once stops writing and closes gracefully (FIN); twice aborts (RST).
        Exit status: 0 when every byte was delivered and the connection closed normally, 130 when \
        interrupted, 1 when it failed or was reset, 2 on a usage or setup error.
        """)

    @Option(help: ArgumentHelp("TCP address and port of the receiver (IPv4).", valueName: "ip:port"),
            transform: { try cli(FlagValues.socketAddress($0)) })
    var connect: SocketAddress

    @Option(help: ArgumentHelp("TCP source address Sluice owns (IP, or IP:PORT to fix the port). Default 10.0.0.1.", valueName: "ip"),
            transform: { try cli(FlagValues.localAddress($0)) })
    var local: SocketAddress = SocketAddress(IPv4Address(10, 0, 0, 1), 0)

    @Option(help: ArgumentHelp("Use this TUN device (created if absent) instead of UDP on loopback.", valueName: "name"),
            transform: { try cli(FlagValues.tunName($0)) })
    var tun: String?

    @Option(name: .customLong("udp-port"),
            help: ArgumentHelp("UDP port on 127.0.0.1 to send to (default: the TCP port of --connect).", valueName: "port"),
            transform: { try cli(FlagValues.port($0)) })
    var udpPort: UInt16?

    @Option(help: ArgumentHelp("Send this many deterministic pseudo-random bytes (KiB/MiB/GiB allowed).", valueName: "bytes"),
            transform: { try cli(FlagValues.byteCount($0)) })
    var bytes: Int?

    @Option(help: ArgumentHelp("Seed of the --bytes payload (SplitMix64; the same seed gives the same bytes).", valueName: "n"))
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Send the contents of this file instead of --bytes.", valueName: "path"))
    var file: String?

    @Option(help: ArgumentHelp("Send buffer, in bytes (KiB/MiB allowed; 2 KiB to 1 GiB). Default 256KiB.", valueName: "bytes"),
            transform: { try cli(FlagValues.bufferSize($0, range: bufferSizeRange)) })
    var sndbuf: Int?

    @Option(help: ArgumentHelp("Pacing: auto (ratio × cwnd / SRTT), off, or a fixed rate (bytes/s, or kbit/mbit/gbit, KB/MB). Default auto.", valueName: "auto|off|rate"),
            transform: { try cli(FlagValues.pace($0)) })
    var pace: PaceSetting = .auto

    @Option(help: ArgumentHelp("Write every packet sent and received to this pcap file (raw IPv4, ns timestamps).", valueName: "file"))
    var pcap: String?

    @Flag(help: "Print the summary as one JSON object (one line) on stdout instead of the human summary.")
    var json = false

    func validate() throws {
        switch (bytes, file) {
        case (nil, nil): throw ValidationError("say what to send: --bytes N (e.g. 10MiB) or --file PATH")
        case (.some, .some): throw ValidationError("give either --bytes or --file, not both")
        default: break
        }
        if file != nil, seed != 0 { throw ValidationError("--seed applies to --bytes only; drop it with --file") }
    }

    func run() throws {
        let signals: InterruptSignals
        let link: any PacketLink
        let capture: (any PacketCapture)?
        let payload: any PayloadSource
        do throws(LinkError) {
            signals = try InterruptSignals()
            if let file { payload = try FilePayload(path: file) } else { payload = SeededPayload(count: bytes ?? 0, seed: seed) }
            link = try LinkChoice.open(tun: tun, udpPort: udpPort ?? connect.port, bind: false)
            capture = try pcap.map { path throws(LinkError) in try openCapture(path: path) }
        } catch {
            fail(error.description)
        }

        var config = EndpointConfig(localAddress: local.address, initialSequenceNumber: InitialSequenceNumbers().function)
        if let sndbuf { config.connection.sendBufferSize = sndbuf }
        applyPacing(pace, to: &config.connection)
        let endpoint = Endpoint(config: config)

        var options = SenderApplication.Options(remote: connect, local: local)
        options.json = json
        let application = SenderApplication(options: options, payload: payload)
        let loop = RunLoop(endpoint: endpoint, link: link, capture: capture, signals: signals)
        if !json || Console.standardErrorIsTerminal {
            let size = payload.totalBytes.map { formatBytes($0) } ?? "the file"
            Console.error("sluice-send: sending \(size) from \(local.address) to \(connect) over \(link.label), pacing \(pace)")
        }
        do throws(LinkError) {
            try loop.run(application)
        } catch {
            fail(error.description)
        }
        if let error = application.payloadError { fail(error.description) }
        if let udp = link as? UDPLink, udp.peerRefused, application.report?.succeeded != true {
            Console.error("sluice-send: nothing answered on UDP 127.0.0.1:\(udpPort ?? connect.port): start `sluice-recv --listen \(connect)` first")
        }
        if loop.nonIPv4Skipped > 0 || loop.linkDrops > 0, !json {
            Console.error("link: \(loop.nonIPv4Skipped) non-IPv4 packets skipped, \(loop.linkDrops) packets dropped for lack of room")
        }
        throw ExitCode(application.exitStatus)
    }

    /// One-line errors: argument-parser's message without the usage block.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .success || error is ExitCode { exit(withError: error) }
            fail(message(for: error))
        }
    }
}

/// Prints `sluice-send: error: MESSAGE` and exits with status 2.
private func fail(_ message: String) -> Never {
    Console.error("sluice-send: error: \(message)")
    SluiceSend.exit(withError: ExitCode(2))
}

/// Lets a `FlagError` through to argument-parser, which appends its description to
/// "The value 'x' is invalid for '--flag <unit>'".
private func cli<T>(_ body: @autoclosure () throws(FlagError) -> T) throws -> T {
    try body()
}
