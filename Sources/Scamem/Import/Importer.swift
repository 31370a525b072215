#if canImport(Glibc)
import Glibc
#endif

/// Descriptor sizes the report charges memdescs with; they are parameters
/// because the memdesc plan has not fixed them. The C counterpart is
/// `struct scamem_import_opts`.
public struct ImportOptions: Hashable, Sendable {
    /// A separately allocated folio (the memdesc Path page's, about 80 bytes).
    public var folioBytes: UInt32 = DescriptorSize.folio
    public var slabBytes: UInt32 = DescriptorSize.slab
    public var ptdescBytes: UInt32 = DescriptorSize.ptdesc
    /// The strategy the imported machine runs (the report costs all five).
    public var strategy: Strategy = .default
    public init() {}

    /// Sizes as `scamem_import_opts` and the command take them: 0 keeps the default.
    public init(folioBytes: UInt32, slabBytes: UInt32, ptdescBytes: UInt32) {
        if folioBytes != 0 { self.folioBytes = folioBytes }
        if slabBytes != 0 { self.slabBytes = slabBytes }
        if ptdescBytes != 0 { self.ptdescBytes = ptdescBytes }
    }
}

/// One comparison of the imported machine against a file of the capture.
public struct CrossCheck: Hashable, Sendable {
    /// A stable snake_case identifier, e.g. "present_pages_zoneinfo", for
    /// scripts (the JSON report's `key`).
    public var key: String
    /// What a reader is shown, e.g. "present pages (zoneinfo)".
    public var name: String
    /// What the capture's own file says.
    public var expected: UInt64
    /// What the import found in kpageflags.
    public var imported: UInt64
}

/// What the importer found. The report adds costs on top.
public struct ImportResult: Sendable {
    public var source: String
    public var kernel: String
    /// pfns kpageflags covered.
    public var pfns: UInt64
    /// Pages per category, indexed by `PageCategory.rawValue`.
    public var categories: [UInt64]
    /// Folios per order (0...30) for anon, file, shmem and hugetlb, indexed by
    /// `PageCategory.rawValue` (only folio categories are filled).
    public var folioOrders: [[UInt64]]
    public var folios: UInt64
    /// Slabs per order (0...30), as `slabs` counts them.
    public var slabOrders: [UInt64]
    public var slabs: UInt64
    public var ptdescs: UInt64
    /// pfns of kpageflags with KPF_COMPOUND_HEAD and with KPF_COMPOUND_TAIL,
    /// as `page-types -r -b compound_head` (and compound_tail) count them.
    public var compoundHeads: UInt64
    public var compoundTails: UInt64
    /// Pages with a non-zero kpagecount (mapped to userspace) and the sum of counts.
    public var mappedPages: UInt64
    public var mapcountSum: UInt64
    /// vmalloc areas (vmallocinfo lines with pages= and "vmalloc") and their pages.
    public var vmallocAreas: Int
    public var vmallocPages: Int
    /// Pages the importer could give those areas from the unknown pool.
    public var vmallocPlaced: Int
    public var crossChecks: [CrossCheck]
    /// What the invariant checker found on the imported machine (0: consistent).
    public var checkerIssues: Int
    public var options: ImportOptions
    /// Notes the report must print: what was missing, what was assumed.
    public var notes: [String]
}

extension Machine {
    /// Imports a capture (or the live machine): a machine with the real
    /// zones and holes whose every pfn has the word it would have under
    /// memdescs, with folios, slabs and page tables as descriptors, free
    /// blocks in the buddy allocator, and the vmalloc areas as scamems.
    /// A capture is untrusted: its numbers are checked against what a real
    /// kernel prints, and the machine is no bigger than its kpageflags.
    /// `progress` gets a line now and then. Throws an `ImportError` naming
    /// the file and line. The C counterpart is `scamem_import()`.
    public static func importMachine(from source: CaptureSource, options: ImportOptions = ImportOptions(),
                                     progress: ((String) -> Void)? = nil) throws(ImportError) -> (Machine, ImportResult) {
        var notes: [String] = []
        guard let zoneinfo = try source.text("zoneinfo") else {
            throw ImportError(.io, file: "zoneinfo", reason: "missing: a capture needs its zones")
        }
        let zones = try parseZoneinfo(zoneinfo)
        var flags = try source.binary("kpageflags")
        if case .directory = source { try checkZonesFit(zones, flags, zoneinfo: zoneinfo.file) }
        let spans = try zoneEntries(zones, source, zoneinfo: zoneinfo.file)
        let holes = try zoneHoles(spans, try ramRanges(source, zones, &notes))
        // All of every zone starts reserved: the import decides every page.
        let reserved = spans.map { PfnRange(startPfn: $0.startPfn, nrPages: $0.spannedPages) }
        // The capture's memory_block_size_bytes (a guest's probe differs from bare metal's).
        let blockOrder = try source.text("memory_block_size_bytes").map { f throws(ImportError) in
            try parseMemoryBlockSize(f).trailingZeroBitCount
        } ?? 0
        let desc = MachineDescription(nrNodes: (zones.map(\.nid).max() ?? 0) + 1, profile: CaptureLimits.profile, zones: spans,
                                      holes: holes, reserved: reserved, strategy: options.strategy,
                                      memoryBlockSizeOrder: blockOrder)
        let m: Machine
        do { m = try Machine(desc) } catch {
            // The zones were checked: what is left is the host's memory.
            throw error == .noMemory ? ImportError(.noMemory, file: zoneinfo.file, reason: "out of host memory for the zones' words")
                : ImportError(.io, file: zoneinfo.file, reason: "the zones and holes do not describe a machine")
        }
        let uname = try source.text("uname")
        if uname == nil { notes.append("uname missing: the kernel is not known") }
        var result = ImportResult(
            source: source.description, kernel: uname?.firstLine.map { String($0.text) } ?? "",
            pfns: 0, categories: [UInt64](repeating: 0, count: PageCategory.allCases.count),
            folioOrders: [[UInt64]](repeating: [UInt64](repeating: 0, count: 31), count: PageCategory.allCases.count),
            folios: 0, slabOrders: [UInt64](repeating: 0, count: 31), slabs: 0, ptdescs: 0, compoundHeads: 0,
            compoundTails: 0, mappedPages: 0, mapcountSum: 0, vmallocAreas: 0, vmallocPages: 0,
            vmallocPlaced: 0, crossChecks: [], checkerIssues: 0, options: options, notes: notes)
        try m.lock.withLock { () throws(ImportError) in
            let compoundPages = try m.classifyPages(&flags, source, &result, progress)
            // The watermarks follow the managed pages the import found.
            m.initPerZoneWmarkMin()
            try m.placeVmallocAreas(source, &result, skipping: compoundPages)
            try m.crossCheck(source, zones, &result)
        }
        result.checkerIssues = m.check().count
        return (m, result)
    }

    /// A capture's kpageflags holds size / 8 pfns (the live file stats as
    /// empty and its zones are trusted): every zone must end inside them,
    /// since the machine costs 8 bytes of host memory per pfn.
    static func checkZonesFit(_ zones: [ZoneinfoZone], _ flags: any ByteSource, zoneinfo: String) throws(ImportError) {
        guard flags.size % 8 == 0 else {
            throw ImportError(.io, file: flags.name, offset: flags.size - flags.size % 8,
                              reason: "\(flags.size) bytes: not a whole number of 8-byte entries")
        }
        let pfns = flags.size / 8
        guard pfns > 0 else { throw ImportError(.io, file: flags.name, reason: "empty: no pfns to describe a machine") }
        for z in zones where z.endPfn > pfns {
            throw ImportError(.io, file: zoneinfo, line: z.line,
                              reason: "\(z.name) ends at pfn \(z.endPfn), beyond the \(pfns) pfns of \(flags.name)")
        }
    }

    /// The machine's zone entries: each zone's span, or where spans overlap,
    /// each span less the online memory blocks inside it that are another
    /// zone's. A block's zone is the one memory_blocks records (its
    /// valid_zones), else the one zone of its node whose span holds it; a
    /// block two spans hold with neither recorded cannot be placed.
    static func zoneEntries(_ zones: [ZoneinfoZone], _ source: CaptureSource,
                            zoneinfo: String) throws(ImportError) -> [ZoneSpan] {
        let spans = zones.map { ZoneSpan(nid: $0.nid, zone: $0.zone, startPfn: $0.startPfn, spannedPages: $0.spanned) }
        let byStart = zones.sorted { $0.startPfn < $1.startPfn }
        guard let (a, b) = zip(byStart, byStart.dropFirst()).first(where: { $0.endPfn > $1.startPfn }) else { return spans }
        let overlap = "\(b.name) [\(b.startPfn), \(b.endPfn)) overlaps \(a.name) [\(a.startPfn), \(a.endPfn))"
        guard let text = try source.text("memory_blocks"), let size = try source.text("memory_block_size_bytes") else {
            throw ImportError(.io, file: zoneinfo, line: max(a.line, b.line),
                              reason: overlap + ", and without memory_blocks and memory_block_size_bytes no block has a zone")
        }
        let blocks = try parseMemoryBlocks(text, blockBytes: try parseMemoryBlockSize(size))
        // The owner of each block some span holds, as an index into `zones`.
        var owner: [(pfns: Range<UInt64>, zone: Int)] = []
        for blk in blocks {
            let holders = zones.indices.filter {
                zones[$0].startPfn < blk.pfns.upperBound && zones[$0].endPfn > blk.pfns.lowerBound
                    && (blk.nid == nil || zones[$0].nid == blk.nid)
            }
            // Only where two spans overlap inside the block (a block may hold
            // two zones side by side at boot: valid_zones "none").
            let overlapping = holders.contains { i in
                holders.contains { j in
                    i < j && max(zones[i].startPfn, zones[j].startPfn, blk.pfns.lowerBound)
                        < min(zones[i].endPfn, zones[j].endPfn, blk.pfns.upperBound)
                }
            }
            guard overlapping else { continue }
            let named = holders.filter { blk.zone != nil && zones[$0].zone == blk.zone }
            guard named.count == 1 else {
                let names = holders.map { zones[$0].name }.joined(separator: " and ")
                throw ImportError(.io, file: text.file, line: blk.line,
                                  reason: "the block at pfn \(blk.pfns.lowerBound) lies in \(names) and no valid_zones says which")
            }
            owner.append((blk.pfns, named[0]))
        }
        var entries: [ZoneSpan] = []
        for (i, z) in zones.enumerated() {
            let foreign = merged(owner.filter { $0.zone != i }.map { PfnRange(startPfn: $0.pfns.lowerBound, nrPages: UInt64($0.pfns.count)) })
            for run in subtract(z.startPfn, z.endPfn, sorted: foreign) {
                entries.append(ZoneSpan(nid: z.nid, zone: z.zone, startPfn: run.lowerBound, spannedPages: UInt64(run.count)))
            }
        }
        // Spans that still overlap where no block decides.
        let sorted = entries.sorted { $0.startPfn < $1.startPfn }
        if let (x, y) = zip(sorted, sorted.dropFirst()).first(where: { $0.endPfn > $1.startPfn }) {
            throw ImportError(.io, file: zoneinfo, line: max(a.line, b.line),
                              reason: overlap + ": pfn \(y.startPfn) is in zone \(x.zone) of node \(x.nid) and zone \(y.zone) of node \(y.nid), and no online memory block places it")
        }
        return entries
    }

    /// RAM: iomem's System RAM, else the online memory blocks, else all of
    /// every span; and the file it came from.
    static func ramRanges(_ source: CaptureSource, _ zones: [ZoneinfoZone],
                          _ notes: inout [String]) throws(ImportError) -> (ranges: [Range<UInt64>], file: String) {
        let iomem = try source.text("iomem")
        if let iomem, let ram = try parseIomemRAM(iomem) { return (ram, iomem.file) }
        let why = iomem == nil ? "iomem missing" : "iomem's addresses all read as zero (captured without CAP_SYS_ADMIN)"
        let blocks = try source.text("memory_blocks"), size = try source.text("memory_block_size_bytes")
        if let blocks, let size {
            notes.append(why + ": RAM taken from the online memory blocks; holes inside a block read as RAM")
            return (try parseMemoryBlocks(blocks, blockBytes: try parseMemoryBlockSize(size)).map(\.pfns), blocks.file)
        }
        let absent = (blocks == nil ? ["memory_blocks"] : []) + (size == nil ? ["memory_block_size_bytes"] : [])
        notes.append(why + ", " + absent.joined(separator: " and ") + " missing: every zone span taken as RAM")
        return (zones.map { $0.startPfn..<$0.endPfn }, "zoneinfo")
    }

    /// More runs of RAM inside the zones than a real machine has (e820 holds
    /// at most 3200 entries; hotplug adds 128 MiB blocks, mostly adjacent):
    /// the machine's setup is linear in zones times runs.
    static let maxRamRuns = 16384

    /// Each zone's span less the RAM ranges: the machine's own `merged` and
    /// `subtract(_:_:sorted:)`, one binary search per zone.
    static func zoneHoles(_ spans: [ZoneSpan], _ ram: (ranges: [Range<UInt64>], file: String)) throws(ImportError) -> [PfnRange] {
        let cuts = merged(ram.ranges.map { PfnRange(startPfn: $0.lowerBound, nrPages: UInt64($0.count)) })
        var holes: [PfnRange] = []
        var runs = 0
        for z in spans {
            let gaps = subtract(z.startPfn, z.endPfn, sorted: cuts)
            // The runs of RAM inside the zone are the stretches between its holes.
            runs += gaps.count + 1 - (gaps.first?.lowerBound == z.startPfn ? 1 : 0)
                - (gaps.last?.upperBound == z.endPfn ? 1 : 0)
            holes += gaps.map { PfnRange(startPfn: $0.lowerBound, nrPages: UInt64($0.count)) }
        }
        guard runs <= maxRamRuns else {
            throw ImportError(.io, file: ram.file, reason: "\(runs) separate runs of RAM in the zones: more than \(maxRamRuns)")
        }
        return holes
    }

    /// The page walk: kpageflags and kpagecount in lockstep, a chunk at a
    /// time. A capture's kpageflags must hold the bytes its size or index said.
    /// Returns, in pfn order, the compound pages that got single unknown
    /// words (PageWalk.compoundPages).
    func classifyPages(_ flagsFile: inout any ByteSource, _ source: CaptureSource, _ r: inout ImportResult,
                       _ progress: ((String) -> Void)?) throws(ImportError) -> [UInt64] {
        var countFile: (any ByteSource)?
        do { countFile = try source.binary("kpagecount") } catch {
            guard error.error == .notFound else { throw error }
            r.notes.append("kpagecount missing: no mapped-page counts")
        }
        let chunk = 1 << 16
        let flags = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: chunk)
        let counts = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: chunk)
        defer { flags.deallocate(); counts.deallocate() }

        var walk = PageWalk(machine: self, file: flagsFile.name)
        var pfn: UInt64 = 0
        while true {
            let got = try flagsFile.readFully(into: UnsafeMutableRawBufferPointer(flags)) / 8
            if got == 0 { break }
            let gotCounts = try countFile?.readFully(into: UnsafeMutableRawBufferPointer(counts)) ?? 0
            for i in 0..<got {
                let p = pfn + UInt64(i)
                // Every pfn, as page-types counts them, whatever the walk makes of it.
                r.compoundHeads += flags[i] & KPF.compoundHead != 0 ? 1 : 0
                r.compoundTails += flags[i] & KPF.compoundTail != 0 ? 1 : 0
                if p < endPfn { try walk.visit(p, flags[i], &r) } else { r.categories[PageCategory.hole.rawValue] += 1 }
                if i * 8 < gotCounts, counts[i] != 0 {
                    r.mappedPages += 1
                    r.mapcountSum &+= counts[i]
                }
            }
            pfn += UInt64(got)
            if pfn % (1 << 20) < UInt64(chunk) { progress?("kpageflags: \(pfn) pfns") }
        }
        try walk.finish(&r)
        r.pfns = pfn
        if case .directory = source, pfn * 8 != flagsFile.size {
            throw ImportError(.io, file: flagsFile.name, offset: pfn * 8, reason: "ends here, \(flagsFile.size) bytes expected")
        }
        if pfn < endPfn { r.notes.append("kpageflags ends at pfn \(pfn), before the last zone's end \(endPfn)") }
        return walk.compoundPages
    }

    /// vmalloc areas become scamems over pages drawn, in pfn order, from the
    /// unknown pool: /proc does not say which pfns back an area. Compound
    /// pages (`compoundPages`, ascending) share the unknown word but not the
    /// pool: vmalloc's pages are never compound (vm_area_alloc_pages()
    /// split_page()s its high-order allocations).
    func placeVmallocAreas(_ source: CaptureSource, _ r: inout ImportResult,
                           skipping compoundPages: [UInt64]) throws(ImportError) {
        guard let text = try source.text("vmallocinfo") else {
            r.notes.append("vmallocinfo missing: no scamems")
            return
        }
        let areas = try parseVmallocinfo(text, endPfn: endPfn).filter(\.isVmalloc)
        r.vmallocAreas = areas.count
        r.vmallocPages = areas.reduce(0) { $0 + $1.pages }
        var next: UInt64 = 0
        var compound = 0
        let unknown = PageWord.inline(.misc, subtype: MiscSubtype.unknown.rawValue, flags: 0)
        for (i, a) in areas.enumerated() {
            var pfns: [UInt64] = []
            while pfns.count < a.pages && next < endPfn {
                while compound < compoundPages.count, compoundPages[compound] < next { compound += 1 }
                let w = PageWord(rawValue: words[Int(next)])
                if w.type == .misc, w.subtype == unknown.subtype, w.order == 0,
                   compound == compoundPages.count || compoundPages[compound] != next {
                    pfns.append(next)
                }
                next += 1
            }
            guard pfns.count == a.pages else { break }
            let user = a.flags.contains("user")
            do throws(ScamemError) {
                let slot = try adoptScamem(pfns, owning: true, usermap: user)
                _ = try mapArea(slot, nrPages: pfns.count, flags: user ? [.alloc, .usermap] : .alloc, caller: UInt64(i))
            } catch {
                throw ImportError(error == .invalid ? .io : error, file: text.file, line: a.line,
                                  reason: "the machine cannot hold this area (\(error))")
            }
            r.vmallocPlaced += pfns.count
        }
        r.categories[PageCategory.unknown.rawValue] -= UInt64(r.vmallocPlaced)
        r.categories[PageCategory.vmalloc.rawValue] += UInt64(r.vmallocPlaced)
        r.notes.append("vmalloc pages: /proc does not expose which pfns back an area; the \(r.vmallocPlaced) of \(r.vmallocPages) pages of \(r.vmallocAreas) vmalloc areas were drawn from the unknown (flagless) pages in pfn order")
    }

    /// The capture's own counts beside the import's. managed is the import's
    /// own (every page the allocator can get back); zoneinfo's is a row here.
    func crossCheck(_ source: CaptureSource, _ info: [ZoneinfoZone], _ r: inout ImportResult) throws(ImportError) {
        var present: UInt64 = 0, managed: UInt64 = 0, free: UInt64 = 0
        for z in 0..<nrZones {
            present += zones[z].presentPages
            managed += zones[z].managedPages
            free += zones[z].freePages
        }
        // At most 5120 zones of fewer than 2^34 pages each: no overflow.
        r.crossChecks.append(CrossCheck(key: "present_pages_zoneinfo", name: "present pages (zoneinfo)",
                                        expected: info.reduce(0) { $0 + $1.present }, imported: present))
        r.crossChecks.append(CrossCheck(key: "managed_pages_zoneinfo", name: "managed pages (zoneinfo)",
                                        expected: info.reduce(0) { $0 + $1.managed }, imported: managed))
        if let text = try source.text("buddyinfo") {
            r.crossChecks.append(CrossCheck(key: "free_pages_buddyinfo", name: "free pages (buddyinfo)",
                                            expected: try parseBuddyinfo(text, endPfn: endPfn), imported: free))
        } else {
            r.notes.append("buddyinfo missing: no free-pages cross-check")
        }
        if let text = try source.text("slabinfo") {
            let s = try parseSlabinfo(text, endPfn: endPfn)
            r.crossChecks.append(CrossCheck(key: "slab_pages_slabinfo", name: "slab pages (slabinfo)", expected: s.pages,
                                            imported: r.categories[PageCategory.slab.rawValue]))
            r.crossChecks.append(CrossCheck(key: "slabs_slabinfo", name: "slabs (slabinfo)", expected: s.slabs, imported: r.slabs))
        } else {
            r.notes.append("slabinfo missing: no slab cross-checks")
        }
        guard let vmstat = try source.text("vmstat") else {
            r.notes.append("vmstat missing: no file-pages cross-check")
            return
        }
        guard let files = try parseCounter(vmstat, "nr_file_pages", atMost: endPfn, "the machine has \(endPfn) pfns") else {
            r.notes.append("vmstat has no nr_file_pages: no file-pages cross-check")
            return
        }
        r.crossChecks.append(CrossCheck(key: "file_shmem_pages_vmstat", name: "file + shmem pages (vmstat nr_file_pages)",
                                        expected: files,
                                        imported: r.categories[PageCategory.file.rawValue] + r.categories[PageCategory.shmem.rawValue]))
    }
}

/// The state of the page walk: the zone and section under the cursor, and
/// the run of free or compound pages being gathered.
struct PageWalk {
    let m: Machine
    /// kpageflags as errors name it.
    let file: String
    private var zoneCursor = 0
    private var section: UInt64 = .max
    private var sectionFirst: UInt64 = 0
    private var sectionAllZero = true
    private var sectionZeroPages: UInt64 = 0
    private enum Run { case none, buddy, compound(UInt64) }
    private var run = Run.none
    private var runStart: UInt64 = 0
    private var runEnd: UInt64 = 0
    private var runZone = 0
    private var holeCursor = 0
    /// Compound pages put one by one (a run not naturally aligned, or a head
    /// without tails): unknown order-0 words the unknown count does not hold.
    private(set) var compoundPages: [UInt64] = []

    init(machine: Machine, file: String) { m = machine; self.file = file }

    /// In a described hole, walking forward.
    private mutating func hole(_ pfn: UInt64) -> Bool {
        while holeCursor < m.holes.count, m.holes[holeCursor].upperBound <= pfn { holeCursor += 1 }
        return holeCursor < m.holes.count && m.holes[holeCursor].contains(pfn)
    }

    /// The zone holding `pfn`, walking forward.
    private mutating func zone(_ pfn: UInt64) -> Int? {
        while zoneCursor < m.zoneRanges.count, m.zoneRanges[zoneCursor].endPfn <= pfn { zoneCursor += 1 }
        guard zoneCursor < m.zoneRanges.count, m.zoneRanges[zoneCursor].startPfn <= pfn else { return nil }
        return Int(m.zoneRanges[zoneCursor].zone)
    }

    mutating func visit(_ pfn: UInt64, _ f: UInt64, _ r: inout ImportResult) throws(ImportError) {
        // Only RAM (laid out as reserved) is the importer's to decide; any
        // other pfn, in a zone's span or outside every zone, is a hole.
        let w = PageWord(rawValue: m.words[Int(pfn)])
        guard let z = zone(pfn), !w.isNopage, !hole(pfn) else {
            try endRun(&r)
            r.categories[PageCategory.hole.rawValue] += 1
            return
        }
        let s = pfn >> UInt64(m.layout.pfnSectionShift)
        if s != section { endSection(&r); section = s; sectionFirst = pfn; sectionAllZero = true; sectionZeroPages = 0 }
        if f != 0 { sectionAllZero = false }

        if f & KPF.compoundTail != 0, case .compound = run, pfn == runEnd, z == runZone {
            runEnd += 1
            return
        }
        if f & KPF.buddy != 0, case .buddy = run, pfn == runEnd, z == runZone {
            runEnd += 1
            return
        }
        try endRun(&r)
        if f == 0 {
            try put(pfn, z, .unknown, &r)
            sectionZeroPages += 1
        } else if f & KPF.nopage != 0 {
            r.categories[PageCategory.hole.rawValue] += 1
        } else if f & KPF.buddy != 0 {
            run = .buddy; runStart = pfn; runEnd = pfn + 1; runZone = z
        } else if f & KPF.compoundHead != 0 {
            run = .compound(f); runStart = pfn; runEnd = pfn + 1; runZone = z
        } else {
            try put(pfn, z, PageCategory.of(f, compound: false), &r)
        }
    }

    /// One page (or a whole aligned block of 2^order) of a category. The
    /// pages a release call can hand back to the allocator (descriptors'
    /// and unknown blocks freePages() takes) count as managed.
    private mutating func put(_ pfn: UInt64, _ z: Int, _ c: PageCategory, order: Int = 0, _ r: inout ImportResult) throws(ImportError) {
        let pages: UInt64 = 1 << UInt64(order)
        r.categories[c.rawValue] += pages
        let flags = m.pageFlags(z, pfn)
        switch c {
        case .slab, .pageTable, .anon, .file, .shmem, .hugetlb:
            do {
                try m.installDescriptor(c == .slab ? .slab : c == .pageTable ? .ptdesc : c == .anon ? .anon : .file,
                                        pfn: pfn, order: order, flags: flags)
            } catch {
                throw ImportError(error, file: file, offset: pfn * 8, reason: "out of host memory for descriptors")
            }
            m.zones[z].managedPages += pages
            if c.isFolio { r.folios += 1; r.folioOrders[c.rawValue][min(order, 30)] += 1 }
            else if c == .slab { r.slabs += 1; r.slabOrders[min(order, 30)] += 1 } else { r.ptdescs += 1 }
        case .hwpoison:
            m.setWords(pfn, order, .inline(.hwpoison, subtype: 0, order: UInt8(order), flags: flags))
            // Counted as poisoned; not managed, and not the model's to give back.
            m.hwpoisonWords += Int(pages)
        default:
            let subtype = c.miscSubtype
            m.setWords(pfn, order, .inline(.misc, subtype: subtype.rawValue, order: UInt8(order), flags: flags))
            if c == .compound, order == 0 { compoundPages.append(pfn) }
            if subtype == .unknown, order <= maxPageOrder { m.zones[z].managedPages += pages }
        }
    }

    private mutating func endRun(_ r: inout ImportResult) throws(ImportError) {
        switch run {
        case .none: return
        case .buddy:
            forEachAlignedBlock(runStart, runEnd, maxOrder: maxPageOrder) { p, o in
                m.insertFreeBlock(runZone, p, o, flags: m.pageFlags(runZone, p))
            }
            r.categories[PageCategory.free.rawValue] += runEnd - runStart
            m.zones[runZone].managedPages += runEnd - runStart
        case .compound(let f):
            let n = runEnd - runStart
            let c = PageCategory.of(f, compound: true)
            if n.nonzeroBitCount == 1, runStart & (n - 1) == 0 {
                try put(runStart, runZone, c, order: n.trailingZeroBitCount, &r)
            } else {
                // Not a naturally aligned power of two: page by page.
                for p in runStart..<runEnd { try put(p, runZone, c, &r) }
            }
        }
        run = .none
    }

    /// A section whose present pages all read zero was never initialised:
    /// its unknown pages become reserved, and leave managed.
    private mutating func endSection(_ r: inout ImportResult) {
        guard section != .max, sectionAllZero, sectionZeroPages > 0 else { return }
        let reserved = PageWord.inline(.misc, subtype: MiscSubtype.reserved.rawValue, flags: 0)
        var p = sectionFirst
        while p >> UInt64(m.layout.pfnSectionShift) == section && p < m.endPfn {
            let w = PageWord(rawValue: m.words[Int(p)])
            if w.type == .misc, w.subtype == MiscSubtype.unknown.rawValue, let z = m.zoneIndex(flags: w.flags) {
                m.words[Int(p)] = reserved.rawValue | w.flags
                m.zones[z].managedPages -= 1
            }
            p += 1
        }
        r.categories[PageCategory.unknown.rawValue] -= sectionZeroPages
        r.categories[PageCategory.uninitialised.rawValue] += sectionZeroPages
    }

    mutating func finish(_ r: inout ImportResult) throws(ImportError) {
        try endRun(&r)
        endSection(&r)
    }
}

extension Machine {
    /// A descriptor over pages the import found in use: pointer words in.
    func installDescriptor(_ type: PageType, pfn: UInt64, order: Int, flags: UInt64) throws(ScamemError) {
        let d = Memdesc(pfn: pfn, mapcount: 0, type: type, order: UInt8(min(order, 255)), cacheID: 0, objects: 0)
        let id = try descriptors.allocate(d, flags: flags)
        setWords(pfn, order, .pointer(type, descriptor: id))
    }
}
