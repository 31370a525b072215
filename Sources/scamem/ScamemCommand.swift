#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Scamem

@main
struct ScamemCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scamem",
        abstract: "A reference model of Linux memdescs and scamem.",
        subcommands: [Compare.self, Report.self, Capture.self])
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

/// A line on standard error (progress, warnings).
func printError(_ line: String) {
    var s = "scamem: " + line + "\n"
    s.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}
