import ArgumentParser
import SluiceTrace
import Glibc

@main
struct SluiceTraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-trace",
        abstract: "Who held the flow back, when, and for how long: flow-control analysis of a TCP capture.",
        discussion: """
        FILE is a pcap or pcapng capture (link type RAW, IPv4, Ethernet, Linux SLL or SLL2), or - for \
        standard input. Event counts use Wireshark 4.0's definitions and equal tshark's \
        tcp.analysis.* display-filter counts. Exit status: 0, 1 when --check found violations, 2 on errors.
        """)

    @Argument(help: "Capture file (pcap or pcapng), or - for standard input.")
    var file: String

    @Flag(help: "Print one JSON object (schema in README.md, section sluice-trace) instead of the text report.")
    var json = false

    @Flag(help: "Print the flow-control events in time order before the report (ignored with --json).")
    var timeline = false

    @Option(help: "Write a time-sequence graph (SVG) of one connection: --connection N, else the one with the most data.")
    var svg: String?

    @Flag(help: "Check flow-control conformance; list violations; exit 1 if any.")
    var check = false

    @Option(help: "Report only connection N (tshark's tcp.stream numbering: order of first appearance).")
    var connection: Int?

    mutating func run() throws {
        let code = SluiceTraceCLI.run(file: file, json: json, timeline: timeline, svg: svg, check: check, connection: connection)
        if code != 0 { throw ExitCode(code) }
    }
}
