// swift-tools-version:6.1
import PackageDescription

// Layers (dependencies point inward only), see README.md:
//   executables -> SluiceCLI -> drivers (SluiceHarness, SluiceDrivers, SluicePcap, SluiceTrace) -> SluiceCore
// SluiceCore has no dependencies and does not import Foundation.
let nio: TargetDependencyCondition? = .when(traits: ["NIO"])

/// What a binary built on SluiceCLI imports.
let cliDependencies: [Target.Dependency] = [
    "SluiceCore", "SluiceDrivers", "SluiceCLI",
    .product(name: "ArgumentParser", package: "swift-argument-parser"),
]

let package = Package(
    name: "Sluice",
    products: [
        .library(name: "SluiceCore", targets: ["SluiceCore"]),
        .library(name: "SluicePcap", targets: ["SluicePcap"]),
        .library(name: "SluiceHarness", targets: ["SluiceHarness"]),
        .library(name: "SluiceDrivers", targets: ["SluiceDrivers"]),
        .library(name: "SluiceTrace", targets: ["SluiceTrace"]),
        .library(name: "SluicePolicy", targets: ["SluicePolicy"]),
        .executable(name: "sluice-send", targets: ["sluice-send"]),
        .executable(name: "sluice-recv", targets: ["sluice-recv"]),
        .executable(name: "sluice-relay", targets: ["sluice-relay"]),
        .executable(name: "sluice-trace", targets: ["sluice-trace"]),
        .executable(name: "sluice-bench", targets: ["sluice-bench"]),
        .library(name: "SluiceNIO", targets: ["SluiceNIO"]),
        .executable(name: "sluice-http", targets: ["sluice-http"]),
    ],
    // The "NIO" trait (on by default) brings swift-nio for SluiceNIO and sluice-http. A package that
    // uses only SluiceCore (or the other drivers) can depend on Sluice with `traits: []`, and then
    // swift-nio is neither resolved nor built (SluiceNIO and sluice-http compile empty).
    traits: [
        .trait(name: "NIO", description: "SluiceNIO (a SwiftNIO Channel over Sluice) and sluice-http"),
        .default(enabledTraits: ["NIO"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", "2.101.2" ..< "2.102.0"),
    ],
    targets: [
        // Core: wire format, storage, the sans-IO engine. No dependencies, no Foundation.
        .target(name: "SluiceCore"),

        // libpcap, through its system header.
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        .target(name: "SluicePcap", dependencies: ["SluiceCore", "CPcap"]),

        // Seeded randomness (SplitMix64, Xoshiro256): no dependencies, no Foundation.
        .target(name: "SluiceRandom"),

        // The one JSON writer (and its number format), without Foundation.
        .target(name: "SluiceFormat"),

        // Drivers.
        .target(name: "SluiceHarness", dependencies: [
            "SluiceCore", "SluicePcap", "SluiceRandom", "SluicePolicy",
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "HeapModule", package: "swift-collections"),
        ]),
        // signalfd and the TUN ioctl constants, which Swift's Glibc module lacks (FIELD-NOTES.md).
        .target(name: "CSluiceSystem"),
        .target(name: "SluiceDrivers", dependencies: [
            "SluiceCore", "SluicePcap", "SluiceRandom", "SluiceFormat", "CSluiceSystem", "SluicePolicy",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "SluiceTrace", dependencies: ["SluiceCore", "SluicePcap", "SluiceFormat"]),
        // Policies above a connection (retry with backoff, circuit breaker, a relay's
        // forwarding): sans-IO like the core, time as an argument. No Foundation.
        .target(name: "SluicePolicy", dependencies: ["SluiceCore"]),

        // The binaries' shared plumbing: transport flags, unit parsing, run-to-end and exit codes.
        .target(name: "SluiceCLI", dependencies: [
            "SluiceCore", "SluiceDrivers",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // SwiftNIO adapter: a NIO Channel over one Sluice connection (only with the "NIO" trait).
        .target(name: "SluiceNIO", dependencies: [
            "SluiceCore", "SluiceDrivers",
            .product(name: "NIOCore", package: "swift-nio", condition: nio),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio", condition: nio),
            .product(name: "NIOPosix", package: "swift-nio", condition: nio),
            .product(name: "NIOEmbedded", package: "swift-nio", condition: nio),
        ]),

        // Executables: thin.
        .executableTarget(name: "sluice-send", dependencies: cliDependencies + ["SluicePolicy"]),
        .executableTarget(name: "sluice-recv", dependencies: cliDependencies),
        .executableTarget(name: "sluice-relay", dependencies: cliDependencies),
        .executableTarget(name: "sluice-trace", dependencies: [
            "SluiceCore", "SluicePcap", "SluiceTrace",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // glibc allocator figures (mallinfo2, malloc_trim, RSS) for memory measurements, and a
        // malloc interposer that counts allocations (linked into sluice-bench only).
        .target(name: "CSluiceMalloc"),
        .target(name: "CSluiceAllocCounter"),
        .executableTarget(name: "sluice-bench", dependencies: [
            "SluiceCore", "SluiceHarness", "SluiceFormat", "SluiceRandom", "SluicePcap", "SluicePolicy", "SluiceTrace", "CSluiceMalloc", "CSluiceAllocCounter",
        ]),

        .executableTarget(name: "sluice-http", dependencies: [
            "SluiceCore", "SluiceNIO", "SluiceDrivers", "SluiceCLI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio", condition: nio),
            .product(name: "NIOPosix", package: "swift-nio", condition: nio),
            .product(name: "NIOHTTP1", package: "swift-nio", condition: nio),
        ]),

        // What every test target shares: process and tshark runners, namespace/TUN helpers,
        // temporary files, the skip-unless-CI rule.
        .target(name: "SluiceTestSupport", path: "Tests/SluiceTestSupport"),
        .testTarget(name: "SluiceCoreTests", dependencies: ["SluiceCore", "SluiceRandom", "SluiceTestSupport"]),
        .testTarget(name: "SluicePcapTests", dependencies: ["SluiceCore", "SluicePcap", "SluiceTestSupport"]),
        .testTarget(name: "SluiceHarnessTests", dependencies: [
            "SluiceCore", "SluiceHarness", "SluicePcap", "SluiceTestSupport",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "SluiceTraceTests", dependencies: ["SluiceCore", "SluicePcap", "SluiceTrace", "SluiceHarness", "SluiceTestSupport"]),
        .testTarget(name: "SluicePolicyTests", dependencies: ["SluiceCore", "SluicePolicy", "SluiceHarness", "SluicePcap", "SluiceTrace", "SluiceRandom", "SluiceTestSupport"]),
        .testTarget(name: "SluiceInteropTests", dependencies: [
            "SluiceCore", "SluiceDrivers", "SluicePcap", "SluiceCLI", "SluiceRandom", "SluiceTestSupport",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "SluiceNIOTests", dependencies: [
            "SluiceCore", "SluiceNIO", "SluiceRandom", "SluiceTestSupport", "sluice-http",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio", condition: nio),
            .product(name: "NIOPosix", package: "swift-nio", condition: nio),
            .product(name: "NIOEmbedded", package: "swift-nio", condition: nio),
            .product(name: "NIOHTTP1", package: "swift-nio", condition: nio),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
