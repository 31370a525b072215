import ArgumentParser
import Scamem

/// `scamem capture DIR`: the live machine's raw page state, for `report`.
struct Capture: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy this machine's /proc/kpageflags, kpagecount (xz-compressed) and the text files a report needs into DIR.",
        discussion: """
            Needs root: without /proc/kpageflags or /proc/zoneinfo there is nothing to report, and capture \
            fails naming the file. Other files the kernel withholds are named on standard error and skipped.
            """)

    @Argument(help: "The directory to write (created with its parents if needed).")
    var directory: String

    @Flag(name: .shortAndLong, help: "Print no progress lines on standard error.")
    var quiet = false

    func run() throws {
        let r: CaptureResult
        do throws(ImportError) { r = try captureLiveMachine(to: directory, progress: progress(quiet: quiet)) } catch {
            throw failure(error.description)
        }
        for m in r.missing { printError("note: \(m.file): \(m.reason): not captured") }
        print("captured into \(directory): \(r.copied.joined(separator: ", "))")
    }
}
