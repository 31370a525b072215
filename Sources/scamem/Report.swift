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

    @Flag(help: "Print JSON (an object with schema_version 1) instead of tables.")
    var json = false

    @Flag(name: .shortAndLong, help: "Print no progress lines on standard error.")
    var quiet = false

    // 0 keeps the default, as in struct scamem_import_opts.
    @Option(help: "Bytes of a separately allocated folio, at most \(maxDescriptorBytes); 0 keeps the default.")
    var folioBytes: UInt32 = DescriptorSize.folio
    @Option(help: "Bytes of a slab descriptor, at most \(maxDescriptorBytes); 0 keeps the default.")
    var slabBytes: UInt32 = DescriptorSize.slab
    @Option(help: "Bytes of a ptdesc, at most \(maxDescriptorBytes); 0 keeps the default.")
    var ptdescBytes: UInt32 = DescriptorSize.ptdesc

    /// A descriptor bigger than the page it describes would defeat memdescs;
    /// the C API sets no bound.
    static let maxDescriptorBytes: UInt32 = 4096

    func validate() throws {
        guard (capture != nil) != live else { throw ValidationError("give a capture directory or --live, not both") }
        for (option, value) in [("--folio-bytes", folioBytes), ("--slab-bytes", slabBytes), ("--ptdesc-bytes", ptdescBytes)]
        where value > Self.maxDescriptorBytes {
            throw ValidationError("\(option) \(value) is more than a page: at most \(Self.maxDescriptorBytes)")
        }
    }

    func run() throws {
        let options = ImportOptions(folioBytes: folioBytes, slabBytes: slabBytes, ptdescBytes: ptdescBytes)
        let source: CaptureSource = live ? .live : .directory(capture!)
        if let capture {
            // The importer reads a missing directory as a missing zoneinfo: name the directory instead.
            var st = stat()
            if stat(capture, &st) != 0 { throw failure(capture + ": " + String(cString: strerror(errno))) }
            if st.st_mode & S_IFMT != S_IFDIR { throw failure(capture + ": " + String(cString: strerror(ENOTDIR))) }
        }
        let machine: Machine, result: ImportResult
        do {
            (machine, result) = try Machine.importMachine(from: source, options: options, progress: progress(quiet: quiet))
        } catch {
            // "DIR/FILE:LINE: reason", where an editor can jump to; live files carry their path.
            var e = error
            if let capture {
                let dir = capture.hasSuffix("/") ? String(capture.dropLast()) : capture
                e.file = e.file.isEmpty ? capture : dir + "/" + e.file
            }
            throw failure(e.description)
        }
        let report = machine.report(result)
        print(json ? try jsonText(ReportJSON(report)) : ReportFormat.text(report))
        if result.checkerIssues != 0 {
            throw failure("\(source): the invariant checker found \(result.checkerIssues) issues in the imported machine")
        }
    }
}

enum ReportFormat {
    static func mib(_ b: UInt64) -> String { Format.pad(Format.mib(b), 10) }
    static func signedMib(_ b: Int64) -> String { Format.pad((b < 0 ? "-" : "") + Format.mib(b.magnitude), 10) }

    static func text(_ r: CaptureReport) -> String {
        let res = r.result
        var out = "Machine: \(res.source)\(res.kernel.isEmpty ? "" : "  (\(res.kernel))")\n"
        out += "RAM \(Format.mib(r.presentPages * 4096)) MiB in \(res.pfns) pfns, \(r.memmapPages) with a memmap; "
            + "invariant checker: \(res.checkerIssues) issues\n\n"

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

        out += "\nFolios and slabs by order"
        out += (0...10).map { Format.pad("\($0)", 8) }.joined() + "   >10\n"
        let rows = [PageCategory.anon, .file, .shmem, .hugetlb].map { ($0.description, res.folioOrders[$0.rawValue]) }
            + [("slab", res.slabOrders)]
        for (name, o) in rows {
            out += name.padding(25) + (0...10).map { Format.pad("\(o[$0])", 8) }.joined()
                + Format.pad("\(o[11...].reduce(0, +))", 6) + "\n"
        }
        out += "folios \(res.folios), slabs \(res.slabs), ptdescs \(res.ptdescs), vmalloc areas \(res.vmallocAreas) (\(res.vmallocPages) pages)\n"
        out += "kpageflags: \(res.compoundHeads) compound_head, \(res.compoundTails) compound_tail pages (page-types -r)\n"

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
}

/// `report --json`: the text report's figures, keyed in snake_case.
struct ReportJSON: Encodable {
    let schemaVersion = jsonSchemaVersion
    let source: String, kernel: String
    let pfns: UInt64, presentPages: UInt64, memmapPages: UInt64, checkerIssues: Int
    let folios: UInt64, slabs: UInt64, ptdescs: UInt64
    let vmallocAreas: Int, vmallocPages: Int, vmallocPlaced: Int
    let todayBytes: UInt64, wordBytes: UInt64, descriptorBytes: UInt64, scamemBytes: UInt64, memdescBytes: UInt64
    let compoundHeads: UInt64, compoundTails: UInt64
    let categories: [Category], strategies: [Bill], zones: [Zone]
    /// Folios per order (0...30) by category, and slabs per order.
    let folioOrders: [String: [UInt64]], slabOrders: [UInt64]
    let crossChecks: [Check]
    let notes: [String]

    struct Category: Encodable { let category: String, pages: UInt64, todayBytes: UInt64, memdescBytes: UInt64 }
    struct Bill: Encodable { let strategy: String, bytes: UInt64, savingBytes: Int64, savingPercentOfRam: Double }
    struct Zone: Encodable { let nid: Int, zone: String, present: UInt64, descriptors: UInt64, pagesByType: [String: UInt64] }
    /// `key` is stable for scripts; `name` is what the text report shows.
    struct Check: Encodable { let key: String, name: String, file: UInt64, `import`: UInt64 }

    init(_ r: CaptureReport) {
        let res = r.result
        source = res.source; kernel = res.kernel
        pfns = res.pfns; presentPages = r.presentPages; memmapPages = r.memmapPages; checkerIssues = res.checkerIssues
        folios = res.folios; slabs = res.slabs; ptdescs = res.ptdescs
        vmallocAreas = res.vmallocAreas; vmallocPages = res.vmallocPages; vmallocPlaced = res.vmallocPlaced
        todayBytes = r.todayBytes; wordBytes = r.wordBytes; descriptorBytes = r.descriptorBytes
        scamemBytes = r.scamemBytes; memdescBytes = r.memdescBytes
        compoundHeads = res.compoundHeads; compoundTails = res.compoundTails
        categories = r.categories.map { Category(category: $0.category.description, pages: $0.pages, todayBytes: $0.todayBytes,
                                                 memdescBytes: $0.memdescBytes) }
        strategies = r.strategies.map { Bill(strategy: "\($0.strategy)", bytes: $0.bytes, savingBytes: $0.savingBytes,
                                             savingPercentOfRam: $0.savingPercentOfRAM) }
        zones = r.zones.map { z in
            Zone(nid: z.nid, zone: z.zone.description, present: z.present, descriptors: z.descriptors,
                 pagesByType: Dictionary(uniqueKeysWithValues: PageType.all.map { ($0.description, z.pagesByType[Int($0.rawValue)]) }))
        }
        folioOrders = Dictionary(uniqueKeysWithValues: [PageCategory.anon, .file, .shmem, .hugetlb].map {
            ($0.description, res.folioOrders[$0.rawValue])
        })
        slabOrders = res.slabOrders
        crossChecks = res.crossChecks.map { Check(key: $0.key, name: $0.name, file: $0.expected, import: $0.imported) }
        notes = res.notes
    }
}

extension String {
    /// Left-aligned in `width` columns.
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(1, width - count)) }
}
