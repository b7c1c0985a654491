import ArgumentParser
import SluiceCore
import SluiceDrivers

/// A Sluice binary: argument-parser's command with the conventions every one of them shares.
///
/// - Errors are one line on standard error, `NAME: error: MESSAGE`, without the usage block;
///   usage and setup errors exit with status 2.
/// - `runToEnd` runs the application on the run loop and exits with the application's status
///   (0 completed, 1 failed or reset, 130 interrupted; see the README).
///
/// Adopt it instead of `ParsableCommand` and mark the type `@main`.
package protocol SluiceCommand: ParsableCommand {}

extension SluiceCommand {
    /// One-line errors: argument-parser's message without the usage block.
    package static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .success || error is ExitCode { exit(withError: error) }
            fail(message(for: error))
        }
    }

    /// Prints `NAME: error: MESSAGE` on standard error and exits with status 2.
    package static func fail(_ message: String) -> Never {
        Console.error("\(name): error: \(message)")
        exit(withError: ExitCode(2))
    }

    /// Runs `body` (opening links, files); a `LinkError` ends the command through `fail`.
    package static func orFail<T>(_ body: () throws(LinkError) -> T) -> T {
        do throws(LinkError) {
            return try body()
        } catch {
            fail(error.description)
        }
    }

    /// Runs `application` on `loop` until it is done, then exits:
    /// a link failure ends the command through `fail`; packets the link skipped or dropped are
    /// reported (not with `--json`); `check` (the command's own checks, such as a file that
    /// could not be written) may name a failure for `fail`; otherwise the exit status is the
    /// application's.
    package static func runToEnd<Application: LinkApplication>(
        _ application: Application, on loop: RunLoop, json: Bool,
        check: (Application) -> String? = { _ in nil }
    ) throws -> Never {
        orFail { () throws(LinkError) in try loop.run(application) }
        if loop.nonIPv4Skipped > 0 || loop.linkDrops > 0, !json {
            Console.error("link: \(loop.nonIPv4Skipped) non-IPv4 packets skipped, \(loop.linkDrops) packets dropped for lack of room")
        }
        if let failure = check(application) { fail(failure) }
        throw ExitCode(application.exitStatus)
    }

    /// The command's name as users type it (`sluice-send`).
    package static var name: String { configuration.commandName ?? _commandName }
}

extension EndpointConfig {
    /// The endpoint configuration a binary starts from: `localAddress` and RFC 6528
    /// keyed, clock-driven initial sequence numbers; the binary then applies its buffer and pacing flags.
    package static func commandLine(localAddress: IPv4Address) -> EndpointConfig {
        EndpointConfig(localAddress: localAddress, initialSequenceNumber: InitialSequenceNumbers().function)
    }
}
