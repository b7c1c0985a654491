import ArgumentParser
import SluiceCore
import SluiceCLI
import SluiceDrivers
import SluicePolicy

/// sluice-send: a Sluice TCP sender that writes as fast as the connection accepts.
@main
struct SluiceSend: SluiceCommand {
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
            transform: { try flagValue(FlagValues.socketAddress($0)) })
    var connect: SocketAddress

    @OptionGroup var source: LocalAddressOption
    @OptionGroup var transport: TransportOptions
    @OptionGroup var offload: OffloadOption
    @OptionGroup var digest: DigestOption

    @Option(help: ArgumentHelp("Send this many deterministic pseudo-random bytes (KiB/MiB/GiB allowed).", valueName: "bytes"),
            transform: { try flagValue(FlagValues.byteCount($0)) })
    var bytes: Int?

    @Option(help: ArgumentHelp("Seed of the --bytes payload (SplitMix64; the same seed gives the same bytes).", valueName: "n"))
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Send the contents of this file instead of --bytes.", valueName: "path"))
    var file: String?

    @Option(help: ArgumentHelp("Send buffer, in bytes (KiB/MiB allowed; 2 KiB to 1 GiB). Default 256KiB.", valueName: "bytes"),
            transform: { try flagValue(FlagValues.bufferSize($0, range: bufferSizeRange)) })
    var sndbuf: Int?

    @Option(help: ArgumentHelp("Pacing: auto (ratio × cwnd / SRTT), off, or a fixed rate (bytes/s, or kbit/mbit/gbit, KB/MB). Default auto.", valueName: "auto|off|rate"),
            transform: { try flagValue(FlagValues.pace($0)) })
    var pace: PaceSetting = .auto

    @Option(help: ArgumentHelp("Retry a refused (RST to the SYN) or timed-out connection attempt up to N times. Default 0.", valueName: "n"))
    var retries: Int = 0

    @Option(name: .customLong("retry-base"),
            help: ArgumentHelp("Backoff base: the wait before the k-th retry (k from 0) is uniform in [0, min(cap, base·2^k)] (full jitter). Default 100ms.", valueName: "duration"),
            transform: { try flagValue(FlagValues.duration($0)) })
    var retryBase: Duration = .milliseconds(100)

    @Option(name: .customLong("retry-cap"),
            help: ArgumentHelp("Backoff cap: no retry waits longer. Default 10s.", valueName: "duration"),
            transform: { try flagValue(FlagValues.duration($0)) })
    var retryCap: Duration = .seconds(10)

    @Option(name: .customLong("connect-timeout"),
            help: ArgumentHelp("An attempt with no SYN-ACK by then has failed (and is retried if --retries allows). Default 5s.", valueName: "duration"),
            transform: { try flagValue(FlagValues.duration($0)) })
    var connectTimeout: Duration = .seconds(5)

    func validate() throws {
        switch (bytes, file) {
        case (nil, nil): throw ValidationError("say what to send: --bytes N (e.g. 10MiB) or --file PATH")
        case (.some, .some): throw ValidationError("give either --bytes or --file, not both")
        default: break
        }
        if file != nil, seed != 0 { throw ValidationError("--seed applies to --bytes only; drop it with --file") }
        if retries < 0 || retries > 1000 { throw ValidationError("--retries takes 0 to 1000, e.g. --retries 5") }
        if retryBase > retryCap { throw ValidationError("--retry-base (\(formatDuration(retryBase))) is above --retry-cap (\(formatDuration(retryCap))): lower the base or raise the cap") }
        if connectTimeout <= .zero { throw ValidationError("--connect-timeout must be above 0, e.g. 5s") }
    }

    func run() throws {
        let transport = Self.orFail { () throws(LinkError) in
            try self.transport.open(defaultUDPPort: connect.port, bind: false, offload: offload.enabled)
        }
        let payload: any PayloadSource = Self.orFail { () throws(LinkError) in
            if let file { return try FilePayload(path: file) }
            return SeededPayload(count: bytes ?? 0, seed: seed)
        }
        let local = source.address
        let json = self.transport.json

        var config = EndpointConfig.commandLine(localAddress: local.address)
        if let sndbuf { config.connection.sendBufferSize = sndbuf }
        config.connection.segmentationOffloadBytes = transport.link.segmentationOffloadBytes
        applyPacing(pace, to: &config.connection)
        let loop = transport.runLoop(for: Endpoint(config: config))
        // A pacing sender sleeps between segments and must run as soon as it wakes up.
        if pace != .off { loop.schedulerSlice = RunLoop.pacingSchedulerSlice }

        var options = SenderApplication.Options(remote: connect, local: local)
        options.json = json
        options.digest = !digest.disabled
        options.retry = RetryPolicy(base: retryBase, cap: retryCap, maxRetries: retries)
        options.connectTimeout = connectTimeout
        let application = SenderApplication(options: options, payload: payload)
        if !json || Console.standardErrorIsTerminal {
            let size = payload.totalBytes.map { formatBytes($0) } ?? "the file"
            Console.error("sluice-send: sending \(size) from \(local.address) to \(connect) over \(transport.link.label), pacing \(pace)")
        }
        let udpPort = self.transport.udpPort ?? connect.port
        try Self.runToEnd(application, on: loop, json: json) { application in
            if let udp = transport.link as? UDPLink, udp.peerRefused, application.report?.succeeded != true {
                Console.error("sluice-send: nothing answered on UDP 127.0.0.1:\(udpPort): start `sluice-recv --listen \(connect)` first")
            }
            if let failure = application.connectFailure {
                Console.error("sluice-send: error: \(failure)")   // exit status 1: the connection failed
            }
            return application.payloadError?.description
        }
    }
}
