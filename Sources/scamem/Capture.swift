#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Scamem

/// `scamem capture DIR`: the live machine's raw page state, for `report`.
struct Capture: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy this machine's /proc/kpageflags, kpagecount (xz-compressed) and the text files a report needs into DIR.")

    @Argument(help: "The directory to write (created if needed).")
    var directory: String

    func run() throws {
        let r: CaptureResult
        do {
            r = try captureLiveMachine(to: directory, progress: printError)
        } catch {
            throw ValidationError("capture into \(directory): \(error)")
        }
        print("captured into \(directory): \(r.copied.joined(separator: ", "))")
        for m in r.missing { print("missing \(m.file): \(m.reason)") }
        if r.copied.isEmpty { throw ExitCode(1) }
    }
}
