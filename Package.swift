// swift-tools-version: 6.1
import PackageDescription

// The core links no Foundation and pulls in no implicit Concurrency or
// StringProcessing modules, so the shipped library stays lean.
let lean: [SwiftSetting] = [
    .unsafeFlags([
        "-Xfrontend", "-disable-implicit-concurrency-module-import",
        "-Xfrontend", "-disable-implicit-string-processing-module-import",
        "-enforce-exclusivity=unchecked",
    ]),
]

let package = Package(
    name: "scamem",
    products: [
        // The Swift API.
        .library(name: "Scamem", targets: ["Scamem"]),
        // The C library: libscamem.so and libscamem.a (the Makefile renames,
        // sets the soname and version script, and links the runtime in).
        .library(name: "scamem_shared", type: .dynamic, targets: ["ScamemC"]),
        .library(name: "scamem_static", type: .static, targets: ["ScamemC"]),
        // The command: compare (and, as they come, capture and report).
        .executable(name: "scamem", targets: ["scamem"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The public C header, seen from Swift (module map -> include/scamem.h).
        .systemLibrary(name: "CScamem", path: "Sources/CScamem"),
        // liblzma (Debian's liblzma-dev), to read and write .xz captures in-process.
        .systemLibrary(name: "CLzma", path: "Sources/CLzma", pkgConfig: "liblzma", providers: [.apt(["liblzma-dev"])]),
        // The model.
        .target(name: "Scamem", dependencies: ["CLzma"], swiftSettings: lean),
        // The @c exports: argument checks, handle conversion, errno mapping.
        .target(name: "ScamemC", dependencies: ["Scamem", "CScamem"], swiftSettings: lean),
        .executableTarget(name: "scamem", dependencies: [
            "Scamem", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The README's Swift example, compiled and run by the tests.
        .executableTarget(name: "scamem-example", dependencies: ["Scamem"], path: "examples/swift"),
        .testTarget(name: "ScamemTests", dependencies: ["Scamem", "ScamemC", "CScamem"]),
    ]
)
