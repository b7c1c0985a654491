import ArgumentParser
import SluiceCore
import SluiceDrivers

/// The link and output flags every Sluice binary that moves packets takes: `--tun`, `--udp-port`,
/// `--pcap`, `--json`. Put it in a command with `@OptionGroup var transport: TransportOptions`.
package struct TransportOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Use this TUN device (created if absent) instead of UDP on loopback.", valueName: "name"),
            transform: { try flagValue(FlagValues.tunName($0)) })
    package var tun: String?

    @Option(name: .customLong("udp-port"),
            help: ArgumentHelp("UDP port on 127.0.0.1: the one a listener binds, the one a connecting side sends to (default: the TCP port of --listen / --connect).", valueName: "port"),
            transform: { try flagValue(FlagValues.port($0)) })
    package var udpPort: UInt16?

    @Option(help: ArgumentHelp("Write every packet sent and received to this pcap file (raw IPv4, ns timestamps).", valueName: "file"))
    package var pcap: String?

    @Flag(help: "Print the summary as JSON on stdout (one object per line, per connection) instead of the human summary.")
    package var json = false

    package init() {}

    /// Opens what these flags ask for: Ctrl-C handling, the link (`--tun`, or UDP on 127.0.0.1 at
    /// `--udp-port`, else `defaultUDPPort`; bound when `bind`, else sent to from an ephemeral
    /// port) and the `--pcap` capture. `offload` (`OffloadOption`) opens the TUN device in
    /// offload mode.
    package func open(defaultUDPPort: UInt16, bind: Bool, offload: Bool = false) throws(LinkError) -> Transport {
        try open { () throws(LinkError) in
            try LinkChoice.open(tun: tun, udpPort: udpPort ?? defaultUDPPort, bind: bind, offload: offload)
        }
    }

    /// The same with a link of the caller's making (a binary whose link is neither of the two
    /// standard shapes).
    package func open(link makeLink: () throws(LinkError) -> any PacketLink) throws(LinkError) -> Transport {
        let (signals, capture) = try openSignalsAndCapture()
        return Transport(signals: signals, link: try makeLink(), capture: capture)
    }

    /// Ctrl-C handling and the `--pcap` capture alone, for a binary that opens a link of another
    /// kind (sluice-http's NIO links). Signals first: `InterruptSignals` must exist before any
    /// other thread starts.
    package func openSignalsAndCapture() throws(LinkError) -> (signals: InterruptSignals, capture: (any PacketCapture)?) {
        let signals = try InterruptSignals()
        let capture = try pcap.map { path throws(LinkError) in try openCapture(path: path) }
        return (signals, capture)
    }
}

/// `--offload`: the TUN offload mode (`TUNDevice`), for binaries that run one connection's data
/// over `--tun`.
package struct OffloadOption: ParsableArguments {
    @Flag(name: .customLong("offload"),
          help: "With --tun: TUN offload mode (virtio-net header, checksum and TSO offload): TCP super-segments of up to 64 KiB both ways; the pcap holds them as read and written.")
    package var enabled = false

    package init() {}
}

/// `--no-digest`: count the stream's bytes without hashing them, for a throughput run (SHA-256
/// takes about a core at 11 Gbit/s here); check content in a run without the flag.
package struct DigestOption: ParsableArguments {
    @Flag(name: .customLong("no-digest"),
          help: "Count bytes only: skip the SHA-256 of the stream (a throughput run; check content in a run without this flag). The summary's sha256 is then null.")
    package var disabled = false

    package init() {}
}

/// `--local`: the TCP source address of a binary that connects out.
package struct LocalAddressOption: ParsableArguments {
    @Option(name: .customLong("local"),
            help: ArgumentHelp("TCP source address Sluice owns (IP, or IP:PORT to fix the port). Default 10.0.0.1.", valueName: "ip"),
            transform: { try flagValue(FlagValues.localAddress($0)) })
    package var address: SocketAddress = SocketAddress(IPv4Address(10, 0, 0, 1), 0)

    package init() {}
}

/// What `TransportOptions.open` opened: the pieces a `RunLoop` runs on.
package struct Transport {
    package let signals: InterruptSignals
    package let link: any PacketLink
    package let capture: (any PacketCapture)?

    /// A run loop for `endpoint` on this link, capture and signals.
    package func runLoop(for endpoint: Endpoint) -> RunLoop {
        RunLoop(endpoint: endpoint, link: link, capture: capture, signals: signals)
    }
}

/// Lets a `FlagError` through to argument-parser, which shows its description after
/// "The value 'x' is invalid for '--flag <unit>'". Use it in `@Option(transform:)`.
package func flagValue<T>(_ body: @autoclosure () throws(FlagError) -> T) throws -> T {
    try body()
}
