#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Scamem

/// `scamem report`: a real machine's page population under memdescs.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import a capture (or the live machine) and report what memdescs and each scamem strategy would cost.")

    @Argument(help: "A capture directory (see 'scamem capture').")
    var capture: String?

    @Flag(help: "Read the live /proc and /sys (needs root).")
    var live = false

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    @Option(help: "Bytes of a separately allocated folio.") var folioBytes: UInt32 = 80
    @Option(help: "Bytes of a slab descriptor.") var slabBytes: UInt32 = 64
    @Option(help: "Bytes of a ptdesc.") var ptdescBytes: UInt32 = 64

    func validate() throws {
        guard (capture != nil) != live else { throw ValidationError("give a capture directory or --live, not both") }
    }

    func run() throws {
        var options = ImportOptions()
        options.folioBytes = folioBytes
        options.slabBytes = slabBytes
        options.ptdescBytes = ptdescBytes
        let source: CaptureSource = live ? .live : .directory(capture!)
        let machine: Machine, result: ImportResult
        do {
            (machine, result) = try Machine.importMachine(from: source, options: options, progress: printError)
        } catch {
            // "DIR/FILE:LINE: reason": where an editor or a fuzzer's log can jump to.
            printError((live ? "/proc" : capture!.hasSuffix("/") ? String(capture!.dropLast()) : capture!) + "/" + error.description)
            throw ExitCode(1)
        }
        let report = machine.report(result)
        print(json ? ReportFormat.json(report, issues: result.checkerIssues) : ReportFormat.text(report, issues: result.checkerIssues))
        if result.checkerIssues != 0 { throw ExitCode(1) }
    }
}

enum ReportFormat {
    static func mib(_ b: UInt64) -> String { Format.pad(Format.mib(b), 10) }
    static func signedMib(_ b: Int64) -> String { Format.pad((b < 0 ? "-" : "") + Format.mib(b.magnitude), 10) }

    static func text(_ r: CaptureReport, issues: Int) -> String {
        let res = r.result
        var out = "Machine: \(res.source)\(res.kernel.isEmpty ? "" : "  (\(res.kernel))")\n"
        out += "RAM \(Format.mib(r.presentPages * 4096)) MiB in \(res.pfns) pfns, \(r.memmapPages) with a memmap; "
            + "invariant checker: \(issues) issues\n\n"

        out += "Pages by category                pages       MiB   today MiB  memdesc MiB\n"
        for c in r.categories where c.pages > 0 {
            out += c.category.description + String(repeating: " ", count: max(0, 26 - c.category.description.count))
                + Format.pad("\(c.pages)", 12) + mib(c.pages * 4096) + "  " + mib(c.todayBytes) + "   " + mib(c.memdescBytes)
            out += c.memdescBytes > c.todayBytes ? "  more\n" : "\n"
        }

        out += "\nPer node and zone (pages by word type)\n"
        let types: [PageType] = [.buddy, .misc, .file, .anon, .slab, .ptdesc, .scamem]
        out += "node zone       present" + types.map { Format.pad($0.description, 10) }.joined() + Format.pad("descs", 10) + "\n"
        for z in r.zones {
            out += "\(z.nid)".padding(5) + z.zone.description.padding(9) + Format.pad("\(z.present)", 11)
                + types.map { Format.pad("\(z.pagesByType[Int($0.rawValue)])", 10) }.joined() + Format.pad("\(z.descriptors)", 10) + "\n"
        }

        out += "\nFolios by order    "
        out += (0...10).map { Format.pad("\($0)", 8) }.joined() + "   >10\n"
        for c in [PageCategory.anon, .file, .shmem, .hugetlb] {
            let o = res.folioOrders[c.rawValue]
            out += c.description.padding(19) + (0...10).map { Format.pad("\(o[$0])", 8) }.joined()
                + Format.pad("\(o[11...].reduce(0, +))", 6) + "\n"
        }
        out += "folios \(res.folios), slabs \(res.slabs), ptdescs \(res.ptdescs), vmalloc areas \(res.vmallocAreas) (\(res.vmallocPages) pages)\n"

        out += "\nMetadata                          MiB      saving MiB   % of RAM\n"
        out += "today: 64-byte struct page " + mib(r.todayBytes) + "\n"
        out += "memdesc words, 8 B per pfn  " + mib(r.wordBytes) + "\n"
        out += "descriptors (folio \(res.options.folioBytes), slab \(res.options.slabBytes), ptdesc \(res.options.ptdescBytes))".padding(28)
            + mib(r.descriptorBytes) + "\n"
        for s in r.strategies {
            out += "\(s.strategy)".padding(28) + mib(s.bytes) + "  " + signedMib(s.savingBytes) + "   "
                + Format.pad(Format.fixed(s.savingPercentOfRAM, 3), 8) + "\n"
        }

        out += "\nCross-checks                                  file    import\n"
        for c in res.crossChecks {
            out += c.name.padding(42) + Format.pad("\(c.expected)", 10) + Format.pad("\(c.imported)", 10) + "\n"
        }
        if !res.notes.isEmpty { out += "\nNotes:\n" + res.notes.map { "- " + $0 }.joined(separator: "\n") + "\n" }
        return out
    }

    static func json(_ r: CaptureReport, issues: Int) -> String {
        let res = r.result
        func q(_ s: String) -> String {
            "\"" + s.flatMap { $0 == "\"" ? "\\\"" : $0 == "\\" ? "\\\\" : String($0) } + "\""
        }
        let cats = r.categories.map { "{\"category\": \(q($0.category.description)), \"pages\": \($0.pages), \"today_bytes\": \($0.todayBytes), \"memdesc_bytes\": \($0.memdescBytes)}" }
        let strategies = r.strategies.map { "{\"strategy\": \(q("\($0.strategy)")), \"bytes\": \($0.bytes), \"saving_bytes\": \($0.savingBytes), \"saving_percent_of_ram\": \($0.savingPercentOfRAM)}" }
        let zones = r.zones.map { z in
            "{\"nid\": \(z.nid), \"zone\": \(q(z.zone.description)), \"present\": \(z.present), \"descriptors\": \(z.descriptors), \"pages_by_type\": {"
                + PageType.all.map { "\(q($0.description)): \(z.pagesByType[Int($0.rawValue)])" }.joined(separator: ", ") + "}}"
        }
        let orders = [PageCategory.anon, .file, .shmem, .hugetlb].map { "\(q($0.description)): \(res.folioOrders[$0.rawValue])" }
        let checks = res.crossChecks.map { "{\"name\": \(q($0.name)), \"file\": \($0.expected), \"import\": \($0.imported)}" }
        return """
        {"source": \(q(res.source)), "kernel": \(q(res.kernel)), "pfns": \(res.pfns), "present_pages": \(r.presentPages), \
        "memmap_pages": \(r.memmapPages), "checker_issues": \(issues), "folios": \(res.folios), "slabs": \(res.slabs), \
        "ptdescs": \(res.ptdescs), "vmalloc_areas": \(res.vmallocAreas), "vmalloc_pages": \(res.vmallocPages), \
        "vmalloc_placed": \(res.vmallocPlaced), "today_bytes": \(r.todayBytes), "word_bytes": \(r.wordBytes), \
        "descriptor_bytes": \(r.descriptorBytes), "scamem_bytes": \(r.scamemBytes), "memdesc_bytes": \(r.memdescBytes),
         "categories": [\(cats.joined(separator: ", "))],
         "strategies": [\(strategies.joined(separator: ", "))],
         "zones": [\(zones.joined(separator: ", "))],
         "folio_orders": {\(orders.joined(separator: ", "))},
         "cross_checks": [\(checks.joined(separator: ", "))],
         "notes": [\(res.notes.map(q).joined(separator: ", "))]}
        """
    }
}

extension String {
    /// Left-aligned in `width` columns.
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(1, width - count)) }
}
