#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import Scamem

@main
struct ScamemCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scamem",
        abstract: "A reference model of Linux memdescs and scamem.",
        discussion: """
            Exit status: 0 on success; 1 on a runtime failure, with 'scamem: FILE: reason' on standard \
            error; 64 on a usage error. See scamem(1).
            """,
        version: "scamem \(libraryVersion)",
        subcommands: [Compare.self, Report.self, Capture.self])

    /// A bare `scamem` names no subcommand: a usage error, as a bad option is.
    func run() throws {
        printRaw(Self.helpMessage() + "\n", fd: 2)
        throw ExitCode.validationFailure
    }
}

/// A runtime failure (exit 1): `scamem: MESSAGE` on standard error, without
/// the usage text a ValidationError (a usage error, exit 64) prints.
func failure(_ message: String) -> ExitCode {
    printError(message)
    return .failure
}

/// The version of the JSON `report --json` and `compare --json` print, as
/// their top-level `schema_version`: a change of a key or its meaning bumps it.
let jsonSchemaVersion = 1

/// `value` as JSON: camelCase properties become snake_case keys, sorted so
/// that the output is stable; strings are escaped as JSON needs.
func jsonText<T: Encodable>(_ value: T) throws -> String {
    let e = JSONEncoder()
    e.keyEncodingStrategy = .convertToSnakeCase
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try e.encode(value), as: UTF8.self)
}

/// Output helpers shared by the subcommands.
enum Format {
    /// `value` right-aligned in `width` columns.
    static func pad(_ value: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - value.count)) + value
    }

    static func fixed(_ v: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (v * scale).rounded() / scale
        var s = String(r)
        if let dot = s.firstIndex(of: ".") {
            let decimals = s.distance(from: dot, to: s.endIndex) - 1
            s += String(repeating: "0", count: max(0, digits - decimals))
        }
        return digits == 0 ? String(Int(r)) : s
    }

    static func mib(_ bytes: UInt64) -> String { fixed(Double(bytes) / 1_048_576, 2) }
}

/// Progress lines for the importer and capture: on standard error, none
/// with --quiet.
func progress(quiet: Bool) -> ((String) -> Void)? {
    quiet ? nil : { printError($0) }
}

/// A line on standard error (progress, notes, errors).
func printError(_ line: String) {
    printRaw("scamem: " + line + "\n", fd: 2)
}

/// `text` on `fd` as it is: write(2) directly, so nothing buffers it.
func printRaw(_ text: String, fd: Int32) {
    var s = text
    s.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
}
