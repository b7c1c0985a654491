import ArgumentParser
import SluiceCore
import SluiceCLI
import SluiceDrivers

/// sluice-recv: a Sluice TCP receiver whose application reads at a chosen pace.
@main
struct SluiceRecv: SluiceCommand {
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
            transform: { try flagValue(FlagValues.socketAddress($0)) })
    var listen: SocketAddress

    @OptionGroup var transport: TransportOptions
    @OptionGroup var offload: OffloadOption
    @OptionGroup var digest: DigestOption

    @Option(help: ArgumentHelp("Receive buffer per connection, in bytes (KiB/MiB allowed; 2 KiB to 1 GiB). Default 256KiB.", valueName: "bytes"),
            transform: { try flagValue(FlagValues.bufferSize($0, range: bufferSizeRange)) })
    var rcvbuf: Int?

    @Option(name: .customLong("read-rate"),
            help: ArgumentHelp("How fast the application reads, per connection: bytes/s, or kbit/mbit/gbit, KB/MB. Absent or 0: as fast as possible.", valueName: "rate"),
            transform: { try flagValue(FlagValues.rate($0)) })
    var readRate: Double??

    @Option(name: .customLong("read-chunk"),
            help: ArgumentHelp("Most bytes the application reads at once (the token bucket's burst), in bytes. Default 16KiB.", valueName: "bytes"),
            transform: { try flagValue(FlagValues.bufferSize($0, range: 1...(1 << 30))) })
    var readChunk: Int = 16 * 1024

    @Option(help: ArgumentHelp("Write the received bytes to this file (default: discard).", valueName: "file"))
    var output: String?

    @Flag(help: "Exit after the first connection closes.")
    var once = false

    func run() throws {
        let transport = Self.orFail { () throws(LinkError) in
            try self.transport.open(defaultUDPPort: listen.port, bind: true, offload: offload.enabled)
        }
        let outputFile = Self.orFail { () throws(LinkError) in try output.map { path throws(LinkError) in try OutputFile(path: path) } }
        let json = self.transport.json

        var config = EndpointConfig.commandLine(localAddress: listen.address)
        if let rcvbuf { config.connection.receiveBufferSize = rcvbuf }
        config.connection.segmentationOffloadBytes = transport.link.segmentationOffloadBytes
        let loop = transport.runLoop(for: Endpoint(config: config))

        var options = ReceiverApplication.Options(listen: listen)
        options.readRate = readRate ?? nil
        options.readChunk = readChunk
        options.once = once
        options.json = json
        options.digest = !digest.disabled
        let application = ReceiverApplication(options: options, output: outputFile)
        let pace = options.readRate.map { formatBitRate($0 * 8) } ?? "as fast as possible"
        Console.error("sluice-recv: listening on \(listen) over \(transport.link.label), reading \(pace)")
        try Self.runToEnd(application, on: loop, json: json) { $0.outputError?.description }
    }
}
