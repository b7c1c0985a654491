/// One `sluice-bench` subcommand: its name, a line of help, and the function that runs it with
/// the arguments after the name and returns the exit status.
struct BenchCommand: Sendable {
    var name: String
    var summary: String
    var usage: String
    var run: @Sendable (_ arguments: [String]) -> Int32

    /// `usage: sluice-bench NAME OPTIONS`.
    var usageLine: String { "usage: sluice-bench \(name) \(usage)" }

    /// Prints the usage line; the exit status for arguments the subcommand cannot take (2).
    func usageError() -> Int32 {
        print(usageLine)
        return 2
    }
}

/// Dispatches `arguments` (as `CommandLine.arguments`) to the named subcommand.
func runBench(_ arguments: [String], commands: [BenchCommand]) -> Int32 {
    let rest = Array(arguments.dropFirst())
    guard let name = rest.first, name != "-h", name != "--help", name != "help" else {
        printBenchUsage(commands)
        return rest.isEmpty ? 2 : 0
    }
    guard let command = commands.first(where: { $0.name == name }) else {
        print("sluice-bench: unknown subcommand '\(name)'")
        printBenchUsage(commands)
        return 2
    }
    let options = Array(rest.dropFirst())
    if options.contains("-h") || options.contains("--help") {
        print("\(command.usageLine)\n\(command.summary)")
        return 0
    }
    return command.run(options)
}

func printBenchUsage(_ commands: [BenchCommand]) {
    print("usage: sluice-bench <subcommand> [options]   (build with -c release)\n\nsubcommands:")
    for c in commands { print("  \(c.name.padding(12))\(c.summary)") }
}

/// Tiny option reader shared by subcommands: `--name value` pairs and boolean `--flag`s, no
/// dependency.
struct BenchOptions {
    private var values: [String: String] = [:]
    private var setFlags: Set<String> = []
    private(set) var unknown: [String] = []

    init(_ arguments: [String], known: Set<String>, flags: Set<String> = []) {
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if flags.contains(a) {
                setFlags.insert(a)
                i += 1
            } else if known.contains(a), i + 1 < arguments.count {
                values[a] = arguments[i + 1]
                i += 2
            } else {
                unknown.append(a)
                i += 1
            }
        }
    }

    /// Whether the boolean option `name` was given.
    func flag(_ name: String) -> Bool { setFlags.contains(name) }

    /// The text of option `name`, if given.
    func string(_ name: String) -> String? { values[name] }

    func double(_ name: String, default value: Double) -> Double? {
        guard let text = values[name] else { return value }
        return Double(text)
    }

    func int(_ name: String, default value: Int) -> Int? {
        guard let text = values[name] else { return value }
        return Int(text)
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}

/// Formats `value` with `digits` decimals (no Foundation).
func formatted(_ value: Double, _ digits: Int = 2) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let n = (value * scale).rounded()
    let whole = Int(n / scale)
    guard digits > 0 else { return "\(whole)" }
    let frac = Int(abs(n) - abs(Double(whole)) * scale)
    let fracText = String(frac)
    return "\(n < 0 && whole == 0 ? "-" : "")\(whole).\(String(repeating: "0", count: digits - fracText.count))\(fracText)"
}

extension Duration {
    /// The duration in seconds as a `Double`.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
