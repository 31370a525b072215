import ArgumentParser
import Scamem

// An unknown workload is then a usage error (64), like any bad option.
extension Workload: ExpressibleByArgument {
    public init?(argument: String) {
        guard let w = Self.allCases.first(where: { $0.description == argument }) else { return nil }
        self = w
    }

    public static var allValueStrings: [String] { allCases.map(\.description) }
}

/// `scamem compare`: the five strategies side by side on a workload.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a vmalloc/map/pin workload under each placement strategy and print what each costs.")

    @Option(help: """
        mixed (84 areas of 1 page to 4 MiB), many-small (4096 areas of 1-2 pages), or a kernel user of scattered \
        memory: bpf-ringbuf, io-uring, kcov, v4l2 (videobuf2-vmalloc); hwpoison (64 areas of 4 pages, a pinned \
        page each poisoned); hotplug (a node's memory blocks offlined with scamems present); longterm-movable \
        (FOLL_LONGTERM pins of scamem pages and of anon pages in ZONE_MOVABLE); default: all nine.
        """)
    var workload: Workload?

    @Flag(help: "Print JSON (an object with schema_version 1 and rows) instead of a table.")
    var json = false

    func run() throws {
        var results: [[StrategyComparison]] = []
        for w in workload.map({ [$0] }) ?? Workload.allCases {
            do { results.append(try Machine.compareStrategies(.default, workload: w)) } catch {
                throw failure("compare \(w): \(error)")
            }
        }
        print(json ? try jsonText(Self.JSON(rows: results.flatMap { $0 }.map(Row.init))) : results.map(Self.table).joined(separator: "\n"))
    }

    static func table(_ rows: [StrategyComparison]) -> String {
        guard let first = rows.first else { return "" }
        let what = switch first.workload {
        case .mixed, .manySmall: "vmalloc_user areas, \(first.nrPages) pages, each mapped to userspace with one page pinned"
        case .bpfRingbuf: "bpf ringbufs, \(first.nrPages) pages (data pages vmapped and mapped twice), one data page each pinned where the strategy can"
        case .ioUring: "io_uring regions of 32 rings, \(first.nrPages) pages mapped with vm_insert_pages(), a 64 KiB buffer per ring pinned"
        case .kcov: "kcov buffers, \(first.nrPages) pages mapped with vm_insert_page(), one page each pinned"
        case .v4l2: "videobuf2-vmalloc buffers, \(first.nrPages) pages, one frame per queue pinned as a USERPTR import"
        case .hwpoison: "vmalloc_user areas, \(first.nrPages) pages, each mapped with one page pinned and then poisoned (memory_failure())"
        case .hotplug: "vmalloc_user areas on the last node, \(first.nrPages) pages, mapped, one page each pinned, then every online memory block of that node offlined (retained: pages of blocks they kept online)"
        case .longtermMovable: "vmalloc_user areas, \(first.nrPages) pages, and 256 anon pages in ZONE_MOVABLE, every page pinned FOLL_LONGTERM (retained: anon pages migrated first)"
        }
        var out = "Workload \(first.workload): \(first.nrAreas) \(what); default machine, \(first.memmapPages) memmap pfns\n\n"
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
        let pins = Set(rows.map(\.pagesPinned)).sorted().map(String.init).joined(separator: " or ")
        switch first.workload {
        case .hotplug:
            out += "\nretained: pages of the node's memory blocks offline_pages() refused (-EBUSY: a scamem page is unmovable).\n"
        case .longtermMovable:
            out += "\nretained: anon pages FOLL_LONGTERM migrated out of ZONE_MOVABLE before pinning; scamem pages pin in place.\n"
        default:
            out += "\nretained: the workload's pages still allocated after its process exited and the driver freed"
                + " everything it could, with the \(pins) pins still held.\n"
        }
        return out
    }

    /// `compare --json`: one row per workload and strategy.
    struct JSON: Encodable {
        let schemaVersion = jsonSchemaVersion
        let rows: [Row]
    }

    struct Row: Encodable {
        let workload: String, strategy: String
        let areas: Int, pages: Int, memmapPages: UInt64, bytesPerPage: UInt64, bytesPerScamem: Double
        let scamemBytes: UInt64, metadataBytes: UInt64, pagesPinned: Int, pagesRetained: Int
        let nsPageToNid: Double, nsPin: Double, nsUnpin: Double, nsVmallocVfree: Double

        init(_ r: StrategyComparison) {
            workload = "\(r.workload)"; strategy = "\(r.strategy)"
            areas = r.nrAreas; pages = r.nrPages; memmapPages = r.memmapPages; bytesPerPage = r.bytesPerPage
            bytesPerScamem = r.bytesPerScamem; scamemBytes = r.scamemBytes; metadataBytes = r.metadataBytes
            pagesPinned = r.pagesPinned; pagesRetained = r.pagesRetained
            nsPageToNid = r.nsPageToNid; nsPin = r.nsPin; nsUnpin = r.nsUnpin; nsVmallocVfree = r.nsVmallocVfree
        }
    }
}
