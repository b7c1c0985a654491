#if NIO
#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import ArgumentParser
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import SluiceCLI
import SluiceCore
import SluiceDrivers
import SluiceNIO

/// sluice-http: an HTTP/1.1 server (NIOHTTP1) over Sluice connections on a NIO event loop.
@main
struct SluiceHTTP: SluiceCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-http",
        abstract: "Serve HTTP/1.1 with SwiftNIO over Sluice TCP connections.",
        discussion: """
        GET /bytes/N answers N bytes where byte i is i % 251. POST /sink reads the body (at most \
        --read-rate bytes per second; absent: as fast as possible) and answers "bytes=N sha256=HEX".

        Over UDP on loopback (default) it binds UDP 127.0.0.1 at the TCP port of --listen (or \
        --udp-port). Over TUN (--tun NAME, needs root or CAP_NET_ADMIN) Sluice owns the --listen \
        address and the kernel is the peer (tools/netns-tun): curl http://IP:PORT/bytes/1000.

        Sizes: bytes, or KiB / MiB / GiB. Rates: bytes/s, or kbit / mbit / gbit (bits/s), or KB / MB (bytes/s).
        At exit: a summary per connection on stderr, or with --json one JSON object per connection per line on stdout.
        Ctrl-C once closes every connection gracefully (FIN); twice exits at once.
        Exit status 1 when a connection was reset or timed out; 2 on a usage or setup error.
        """)

    @OptionGroup var transport: TransportOptions

    @Option(help: ArgumentHelp("TCP address and port Sluice listens on (IPv4).", valueName: "ip:port"),
            transform: { try flagValue(FlagValues.socketAddress($0)) })
    var listen: SluiceCore.SocketAddress

    @Option(help: ArgumentHelp("Receive buffer per connection, in bytes (KiB/MiB allowed; 2 KiB to 1 GiB). Default 256KiB.", valueName: "bytes"),
            transform: { try flagValue(FlagValues.bufferSize($0, range: bufferSizeRange)) })
    var rcvbuf: Int?

    @Option(help: ArgumentHelp("Send buffer per connection, in bytes (KiB/MiB allowed; 2 KiB to 1 GiB). Default 256KiB.", valueName: "bytes"),
            transform: { try flagValue(FlagValues.bufferSize($0, range: bufferSizeRange)) })
    var sndbuf: Int?

    @Option(name: .customLong("read-rate"),
            help: ArgumentHelp("How fast POST /sink reads, per connection: bytes/s, or kbit/mbit/gbit, KB/MB. Absent or 0: as fast as possible.", valueName: "rate"),
            transform: { try flagValue(FlagValues.rate($0)) })
    var readRate: Double??

    @Option(help: ArgumentHelp("Exit after this many requests were answered (default: run until Ctrl-C).", valueName: "n"))
    var requests: Int?

    func run() throws {
        // Signals before NIO starts its threads.
        let (signals, capture) = Self.orFail { () throws(LinkError) in try transport.openSignalsAndCapture() }
        var config = EndpointConfig.commandLine(localAddress: listen.address)
        if let rcvbuf { config.connection.receiveBufferSize = rcvbuf }
        if let sndbuf { config.connection.sendBufferSize = sndbuf }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let server = HTTPServer(readRate: readRate ?? nil, requestLimit: requests, json: transport.json, eventLoop: loop)
        let linkLabel: String
        do {
            let link: SluiceLink
            if let tun = transport.tun {
                link = try TUNLink.open(name: tun, on: loop).wait()
                linkLabel = "tun \(tun)"
            } else {
                let port = transport.udpPort ?? listen.port
                link = try UDPLoopbackLink.bind(port: port, on: loop).wait()
                linkLabel = "udp 127.0.0.1:\(port)"
            }
            try server.start(config: config, link: link, port: listen.port, capture: capture, signals: signals).wait()
        } catch {
            Self.fail("\(error)")
        }
        let pace = (readRate ?? nil).map { formatBitRate($0 * 8) } ?? "as fast as possible"
        Console.error("sluice-http: listening on \(listen) over \(linkLabel), POST /sink reads \(pace)")
        let status = (try? server.finished.wait()) ?? 1
        capture?.flushCapture()
        try? group.syncShutdownGracefully()
        throw ExitCode(status)
    }
}
#else
@main
struct SluiceHTTPWithoutNIO {
    static func main() {
        print("sluice-http was built without the NIO package trait: rebuild with it (it is on by default).")
    }
}
#endif
