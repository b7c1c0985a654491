// swift-tools-version:6.0
import PackageDescription
import Foundation

// libFuzzer targets, kept out of the main package: they are built one product at a time with
// `swift build --product NAME --sanitize=fuzzer --sanitize=address` (tools/fuzz does it), which a
// whole-package build with those flags cannot do (its `main.swift` executables break). Each target
// defines `LLVMFuzzerTestOneInput` and no Swift `main`: libFuzzer's own `main` runs it.
//
// The main package is a path dependency; its identity is the name of the repository's directory,
// whatever the checkout is called.
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().deletingLastPathComponent()
let sluice = root.lastPathComponent

let package = Package(
    name: "SluiceFuzz",
    products: [
        .executable(name: "fuzz-wire", targets: ["fuzz-wire"]),
        .executable(name: "fuzz-endpoint", targets: ["fuzz-endpoint"]),
        .executable(name: "fuzz-trace", targets: ["fuzz-trace"]),
    ],
    dependencies: [
        .package(path: root.path),
    ],
    targets: [
        .executableTarget(name: "fuzz-wire", dependencies: [
            .product(name: "SluiceCore", package: sluice),
        ]),
        .executableTarget(name: "fuzz-endpoint", dependencies: [
            .product(name: "SluiceCore", package: sluice),
        ]),
        .executableTarget(name: "fuzz-trace", dependencies: [
            .product(name: "SluiceTrace", package: sluice),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
