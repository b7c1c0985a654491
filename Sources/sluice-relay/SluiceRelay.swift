import ArgumentParser
import SluiceCLI
import SluiceCore
import SluiceDrivers

/// sluice-relay: accepts TCP connections with Sluice on one side, connects to the next hop, and
/// forwards bytes both ways with bounded memory, so a slow consumer pushes back hop by hop.
@main
struct SluiceRelay: SluiceCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-relay",
        abstract: "Relay TCP connections with Sluice to a next hop, with bounded memory and hop-by-hop backpressure.",
        discussion: """
        For each connection accepted on --listen, the relay connects from the --listen address to \
        --connect and forwards both ways. It reads from one side only while its buffer toward the \
        other has room, so when the next hop stops reading, the relay's window toward its client \
        closes too. Per pair and direction it holds at most --rcvbuf + --buffer + --sndbuf bytes. \
        A FIN is relayed as a half-close; a RST on one side aborts the other.

        Over UDP on loopback (default) the relay binds UDP 127.0.0.1 at the TCP port of --listen \
        and sends to 127.0.0.1 at the TCP port of --connect. Over TUN (--tun NAME, root) one \
        device carries both sides: the relay owns the --listen address and connects from it.

        Sizes: bytes, or KiB / MiB / GiB. At the end of each pair: a summary on stderr, or with \
        --json one JSON object per pair on stdout (bytes_forwarded, bytes_returned, \
        peak_buffered_bytes, upstream_zero_window_episodes, downstream_zero_window_episodes, \
        sha256_forwarded). Ctrl-C once closes every pair gracefully (FIN); twice aborts (RST).
        Exit status: 0 when every pair closed normally, 130 when interrupted, 1 when a pair was \
        reset, 2 on a usage or setup error.
        """)

    @Option(help: ArgumentHelp("TCP address and port to accept connections on (IPv4); the relay owns this address.", valueName: "ip:port"),
            transform: { try flagValue(FlagValues.socketAddress($0)) })
    var listen: SocketAddress

    @Option(help: ArgumentHelp("TCP address and port of the next hop.", valueName: "ip:port"),
            transform: { try flagValue(FlagValues.socketAddress($0)) })
    var connect: SocketAddress

    @OptionGroup var transport: TransportOptions

    @Option(help: ArgumentHelp("Bytes the relay holds between the two connections, per direction (KiB/MiB allowed). Default 256KiB.", valueName: "bytes"),
            transform: { try flagValue(FlagValues.bufferSize($0, range: bufferSizeRange)) })
    var buffer: Int = 256 * 1024

    @Option(help: ArgumentHelp("Receive buffer of each connection (KiB/MiB allowed; 2 KiB to 1 GiB). Default 256KiB.", valueName: "bytes"),
            transform: { try flagValue(FlagValues.bufferSize($0, range: bufferSizeRange)) })
    var rcvbuf: Int = 256 * 1024

    @Option(help: ArgumentHelp("Send buffer of each connection (KiB/MiB allowed; 2 KiB to 1 GiB). Default 256KiB.", valueName: "bytes"),
            transform: { try flagValue(FlagValues.bufferSize($0, range: bufferSizeRange)) })
    var sndbuf: Int = 256 * 1024

    @Flag(help: "Exit after the first relayed pair has closed both ways.")
    var once = false

    func validate() throws {
        if listen == connect { throw ValidationError("--listen and --connect are the same address: the relay would connect to itself") }
        if transport.udpPort != nil { throw ValidationError("--udp-port does not apply: the relay binds the TCP port of --listen and sends to the TCP port of --connect") }
    }

    func run() throws {
        let json = transport.json
        let (listen, next) = (self.listen, self.connect)
        let tunnel = Self.orFail { () throws(LinkError) in
            if transport.tun != nil { return try transport.open(defaultUDPPort: listen.port, bind: true) }
            return try transport.open { () throws(LinkError) in try RelayLink(listenPort: listen.port, next: next) }
        }
        var config = EndpointConfig.commandLine(localAddress: listen.address)
        config.connection.receiveBufferSize = rcvbuf
        config.connection.sendBufferSize = sndbuf
        let loop = tunnel.runLoop(for: Endpoint(config: config))

        var options = RelayService.Options(listen: listen, next: next)
        options.bufferSize = buffer
        options.once = once
        options.json = json
        options.maxPairs = max(1, config.maxConnections / 2 - 1)
        let service = RelayService(options: options)
        Console.error("sluice-relay: relaying \(listen) -> \(next) over \(tunnel.link.label), buffer \(formatBytes(buffer)), rcvbuf \(formatBytes(rcvbuf)), sndbuf \(formatBytes(sndbuf))")
        try Self.runToEnd(service, on: loop, json: json) { _ in
            if let relayLink = tunnel.link as? RelayLink, relayLink.downstreamRefused, !json {
                Console.error("sluice-relay: nothing answered on UDP 127.0.0.1:\(next.port): start the next hop (sluice-recv or sluice-relay --listen \(next)) first")
            }
            return nil
        }
    }
}

