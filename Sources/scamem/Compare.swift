import ArgumentParser
import Scamem

/// `scamem compare`: the five strategies side by side on a workload.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a vmalloc/map/pin workload under each placement strategy and print what each costs.")

    @Option(help: "mixed (84 areas of 1 page to 4 MiB) or many-small (4096 areas of 1-2 pages); default: both.")
    var workload: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let workloads: [Workload]
        switch workload {
        case nil: workloads = Workload.allCases
        case let name?:
            guard let w = Workload.allCases.first(where: { $0.description == name }) else {
                throw ValidationError("unknown workload '\(name)': mixed or many-small")
            }
            workloads = [w]
        }
        var results: [[StrategyComparison]] = []
        for w in workloads {
            do { results.append(try Machine.compareStrategies(.default, workload: w)) } catch {
                throw ValidationError("compare: \(error)")
            }
        }
        print(json ? Self.json(results) : results.map(Self.table).joined(separator: "\n"))
    }

    static func table(_ rows: [StrategyComparison]) -> String {
        guard let first = rows.first else { return "" }
        var out = "Workload \(first.workload): \(first.nrAreas) vmalloc_user areas, \(first.nrPages) pages, "
            + "each mapped to userspace with one page pinned; default machine, \(first.memmapPages) memmap pfns\n\n"
        let head = ["strategy", "B/page", "B/scamem", "scamem KiB", "metadata MiB", "retained", "nid ns", "pin ns",
                    "unpin ns", "vmalloc+vfree ns"]
        let widths = [19, 7, 9, 11, 13, 9, 7, 7, 9, 17]
        out += zip(head, widths).map { $0.0 == "strategy" ? $0.0 + String(repeating: " ", count: $0.1 - $0.0.count) : Format.pad($0.0, $0.1) }.joined(separator: " ") + "\n"
        for r in rows {
            let cells = [
                "\(r.strategy)" + String(repeating: " ", count: max(0, 19 - "\(r.strategy)".count)),
                Format.pad("\(r.bytesPerPage)", 7),
                Format.pad(Format.fixed(r.bytesPerScamem, 1), 9),
                Format.pad(Format.fixed(Double(r.scamemBytes) / 1024, 1), 11),
                Format.pad(Format.mib(r.metadataBytes), 13),
                Format.pad("\(r.pagesRetained)", 9),
                Format.pad(Format.fixed(r.nsPageToNid, 1), 7),
                Format.pad(Format.fixed(r.nsPin, 1), 7),
                Format.pad(Format.fixed(r.nsUnpin, 1), 9),
                Format.pad(Format.fixed(r.nsVmallocVfree, 1), 17),
            ]
            out += cells.joined(separator: " ") + "\n"
        }
        out += "\nretained: vmalloc pages still allocated after every area was vfreed and its process exited,"
            + " with the \(first.pagesPinned) pins still held.\n"
        return out
    }

    static func json(_ results: [[StrategyComparison]]) -> String {
        let rows = results.flatMap { $0 }.map { r in
            """
              {"workload": "\(r.workload)", "strategy": "\(r.strategy)", "areas": \(r.nrAreas), "pages": \(r.nrPages), \
            "memmap_pages": \(r.memmapPages), "bytes_per_page": \(r.bytesPerPage), "bytes_per_scamem": \(r.bytesPerScamem), \
            "scamem_bytes": \(r.scamemBytes), "metadata_bytes": \(r.metadataBytes), "pages_pinned": \(r.pagesPinned), \
            "pages_retained": \(r.pagesRetained), "ns_page_to_nid": \(r.nsPageToNid), "ns_pin": \(r.nsPin), \
            "ns_unpin": \(r.nsUnpin), "ns_vmalloc_vfree": \(r.nsVmallocVfree)}
            """
        }
        return "[\n" + rows.joined(separator: ",\n") + "\n]"
    }
}
