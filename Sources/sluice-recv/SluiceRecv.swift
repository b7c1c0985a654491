import ArgumentParser
import SluiceCore
import SluiceDrivers

/// sluice-recv: a Sluice TCP receiver whose application reads at a chosen pace.
@main
struct SluiceRecv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-recv",
        abstract: "Accept TCP connections with Sluice and read them through a rate-limited reader.",
        discussion: """
        Over UDP on loopback (default) the receiver binds UDP 127.0.0.1 at the TCP port of --listen \
        (or --udp-port); run sluice-send --connect with the same IP:PORT. Over TUN (--tun NAME, needs \
        root or CAP_NET_ADMIN) Sluice owns the --listen address and the kernel is the peer (tools/netns-tun).

        Sizes: bytes, or KiB / MiB / GiB. Rates: bytes/s, or kbit / mbit / gbit (bits/s), or KB / MB (bytes/s).
        At exit: a summary on stderr, or with --json one JSON object per connection per line on stdout.
        Ctrl-C once closes gracefully (FIN); twice aborts (RST). Exit status 1 when a connection failed or was reset.
        """)

    @Option(help: ArgumentHelp("TCP address and port Sluice listens on (IPv4).", valueName: "ip:port"),
            transform: { try cli(FlagValues.socketAddress($0)) })
    var listen: SocketAddress

    @Option(help: ArgumentHelp("Use this TUN device (created if absent) instead of UDP on loopback.", valueName: "name"),
            transform: { try cli(FlagValues.tunName($0)) })
    var tun: String?

    @Option(name: .customLong("udp-port"),
            help: ArgumentHelp("UDP port to bind on 127.0.0.1 (default: the TCP port of --listen).", valueName: "port"),
            transform: { try cli(FlagValues.port($0)) })
    var udpPort: UInt16?

    @Option(help: ArgumentHelp("Receive buffer per connection, in bytes (KiB/MiB allowed; 2 KiB to 1 GiB). Default 256KiB.", valueName: "bytes"),
            transform: { try cli(FlagValues.bufferSize($0, range: bufferSizeRange)) })
    var rcvbuf: Int?

    @Option(name: .customLong("read-rate"),
            help: ArgumentHelp("How fast the application reads, per connection: bytes/s, or kbit/mbit/gbit, KB/MB. Absent or 0: as fast as possible.", valueName: "rate"),
            transform: { try cli(FlagValues.rate($0)) })
    var readRate: Double??

    @Option(name: .customLong("read-chunk"),
            help: ArgumentHelp("Most bytes the application reads at once (the token bucket's burst), in bytes. Default 16KiB.", valueName: "bytes"),
            transform: { try cli(FlagValues.bufferSize($0, range: 1...(1 << 30))) })
    var readChunk: Int = 16 * 1024

    @Option(help: ArgumentHelp("Write every packet sent and received to this pcap file (raw IPv4, ns timestamps).", valueName: "file"))
    var pcap: String?

    @Option(help: ArgumentHelp("Write the received bytes to this file (default: discard).", valueName: "file"))
    var output: String?

    @Flag(help: "Print one JSON object per connection (one per line) on stdout instead of the human summary.")
    var json = false

    @Flag(help: "Exit after the first connection closes.")
    var once = false

    func run() throws {
        let signals: InterruptSignals
        let link: any PacketLink
        let capture: (any PacketCapture)?
        let outputFile: OutputFile?
        do throws(LinkError) {
            signals = try InterruptSignals()
            link = try LinkChoice.open(tun: tun, udpPort: udpPort ?? listen.port, bind: true)
            capture = try pcap.map { path throws(LinkError) in try openCapture(path: path) }
            outputFile = try output.map { path throws(LinkError) in try OutputFile(path: path) }
        } catch {
            fail(error.description)
        }

        var config = EndpointConfig(localAddress: listen.address, initialSequenceNumber: InitialSequenceNumbers().function)
        if let rcvbuf { config.connection.receiveBufferSize = rcvbuf }
        let endpoint = Endpoint(config: config)

        var options = ReceiverApplication.Options(listen: listen)
        options.readRate = readRate ?? nil
        options.readChunk = readChunk
        options.once = once
        options.json = json
        let application = ReceiverApplication(options: options, output: outputFile)
        let loop = RunLoop(endpoint: endpoint, link: link, capture: capture, signals: signals)
        do {
            let pace = options.readRate.map { formatBitRate($0 * 8) } ?? "as fast as possible"
            Console.error("sluice-recv: listening on \(listen) over \(link.label), reading \(pace)")
        }
        do throws(LinkError) {
            try loop.run(application)
        } catch {
            fail(error.description)
        }
        if loop.nonIPv4Skipped > 0 || loop.linkDrops > 0, !json {
            Console.error("link: \(loop.nonIPv4Skipped) non-IPv4 packets skipped, \(loop.linkDrops) packets dropped for lack of room")
        }
        if let error = application.outputError { fail(error.description) }
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

/// Prints `sluice-recv: error: MESSAGE` and exits with status 2.
private func fail(_ message: String) -> Never {
    Console.error("sluice-recv: error: \(message)")
    SluiceRecv.exit(withError: ExitCode(2))
}

/// Turns a `FlagError` into what argument-parser shows after "The value 'x' is invalid for …".
private func cli<T>(_ body: @autoclosure () throws(FlagError) -> T) throws -> T {
    try body()
}
