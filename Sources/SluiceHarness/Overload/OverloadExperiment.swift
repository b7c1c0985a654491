#if canImport(Glibc)
import Glibc
#endif
import SluiceCore
import SluiceRandom

/// The overload experiment: real Sluice connections in the harness, on virtual time,
/// deterministic per seed. A server of fixed capacity (`OverloadServer`) and clients arriving
/// open-loop (Poisson) at an offered rate, spread over `clientAddresses` endpoints
/// (`OverloadClient`), each with its own link to the server. Figures cover the measured window
/// after the warm-up.
public enum OverloadExperiment {
    public static let serverAddress = IPv4Address(10, 60, 0, 1)
    static let port: UInt16 = 8080

    /// Runs one mode at `offeredRPS` requests per second and returns its row.
    public static func run(mode: OverloadMode, offeredRPS: Double, config: OverloadConfig) throws -> OverloadRow {
        var options = Harness.Options()
        // Thousands of connections: the per-step checks would dominate; the engine's
        // invariants are exercised by the harness tests.
        options.checkNodeInvariants = false
        options.checkWireInvariants = false
        options.computeDigest = false
        // Applications call only their own endpoint (arrivals are scheduled actions).
        options.cacheDeadlines = true
        let net = Harness(seed: config.seed, options: options)
        let start = Instant.zero + config.warmUp
        let window = start..<(start + config.measured)

        let serverNode = net.addEndpoint("server", address: serverAddress) {
            $0.maxConnections = serverConnections
            $0.maxPendingResets = 1024
            $0.connection.receiveBufferSize = 4096
            $0.connection.sendBufferSize = max(8192, config.responseBytes)
        }
        let server = OverloadServer(config: config, mode: mode, port: port, window: window)
        try net.attach(server, to: serverNode)

        var clients: [(node: HarnessNode, app: OverloadClient)] = []
        for k in 0..<max(1, config.clientAddresses) {
            let address = IPv4Address(rawValue: IPv4Address(10, 61, 0, 0).rawValue + UInt32(k) + 1)
            let node = net.addEndpoint("client\(k)", address: address) {
                $0.maxConnections = clientConnections
                $0.connection.receiveBufferSize = max(8192, config.responseBytes)
                $0.connection.sendBufferSize = 4096
            }
            net.connect(node, serverNode, config.link)
            let app = OverloadClient(config: config, mode: mode, server: SocketAddress(serverAddress, port),
                                     window: window, seed: config.seed &+ UInt64(k) &* 0x9E37_79B9)
            try net.attach(app, to: node)
            clients.append((node, app))
        }

        // Open-loop arrivals: exponential gaps at the offered rate, round-robin over addresses.
        var arrivals = Xoshiro256(seed: config.seed ^ 0xA771_7A15)
        let end = window.upperBound
        var next = 0
        func scheduleArrival(after t: Instant) {
            let gap = -log1p(-arrivals.nextUnit()) / max(offeredRPS, 1e-9)
            let at = t + .nanoseconds(Int64(gap * 1e9))
            guard at < end else { return }
            net.schedule(at: at) { h in
                let (node, app) = clients[next % clients.count]
                next += 1
                if let endpoint = node.endpoint {
                    app.begin(NodeContext(harness: h, node: node, endpoint: endpoint))
                }
                scheduleArrival(after: at)
            }
        }
        scheduleArrival(after: .zero)
        try net.run(until: end)

        let seconds = config.measured.secondsValue
        let latencies = server.latencies.sorted()
        func percentile(_ p: Double) -> Double? {
            guard !latencies.isEmpty else { return nil }
            let i = min(latencies.count - 1, Int((p * Double(latencies.count)).rounded(.up)) - 1)
            return latencies[max(0, i)].secondsValue * 1000
        }
        return OverloadRow(
            mode: mode, offeredRPS: offeredRPS,
            throughputRPS: Double(server.completed) / seconds,
            goodputRPS: Double(clients.reduce(0) { $0 + $1.app.goodput }) / seconds,
            p50ms: percentile(0.5), p99ms: percentile(0.99),
            shed: server.shedInWindow,
            retries: clients.reduce(0) { $0 + $1.app.retries },
            requests: clients.reduce(0) { $0 + $1.app.started },
            timedOut: clients.reduce(0) { $0 + $1.app.timedOut },
            breakerRejections: clients.reduce(0) { $0 + $1.app.breakerRejections })
    }
}

/// The server's connection table: the implicit server holds every client still waiting
/// (offered rate × deadline) plus those whose FIN is in flight.
private let serverConnections = 512
/// Each client address: its requests under way plus its TIME-WAITs (60 s of its completions);
/// a full table recycles the oldest TIME-WAIT (`Endpoint.freeSlot`).
private let clientConnections = 256
