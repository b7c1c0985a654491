// sluice-bench: release-mode micro-benchmarks, each a subcommand in its own file.
//
//     swift run -c release sluice-bench <subcommand> [options]
//
// To add a subcommand: write `XBench.swift` with a `static let command = BenchCommand(...)`
// and add it to `benchCommands` below. Figures are reported as ratios against a baseline
// measured in the same run (TEAM.md: never a timed test).

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

let benchCommands: [BenchCommand] = [
    ChecksumBench.command,
    LoopbackBench.command,
    EngineBench.command,
    ScaleBench.command,
    VethBench.command,
    TunBench.command,
    MemoryBench.command,
    PacingBench.command,
    OverloadBench.command,
]

exit(runBench(CommandLine.arguments, commands: benchCommands))
