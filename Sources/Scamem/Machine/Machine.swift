#if canImport(Glibc)
import Glibc
#endif

/// A modelled machine: nodes, zones, sparsemem sections, one 8-byte word per
/// pfn in one flat buffer, a buddy allocator per zone and the descriptors.
///
/// Every method is safe to call from several threads at once: the machine
/// lock is taken once per call, shared by page allocation (with the zone's
/// lock) and exclusive otherwise, and GUP-fast and the page queries take
/// none (`Lock`). The C counterpart is `scamem_machine`.
public final class Machine: @unchecked Sendable {
    public let machineDescription: MachineDescription
    public let layout: FlagsLayout
    /// pfns `[0, endPfn)` have a word.
    public let endPfn: UInt64
    public let nrSections: UInt64

    /// The word array, `endPfn` words (`SCAMEM_WORD_NOPAGE` where no memmap).
    let words: WordArray
    let zones: UnsafeMutablePointer<ZoneState>
    let nrZones: Int
    /// `nid * ZoneType.count + zone` to the index in `zones`, or -1.
    let zoneIndexTable: UnsafeMutablePointer<Int32>
    /// Which zone each pfn belongs to, sorted and disjoint: the description's
    /// zone entries, then as memory is onlined and offlined. Zone spans may
    /// overlap; these never do.
    var zoneRanges: [ZoneRange]
    /// Holes, merged and sorted by start, for "is this pfn a hole". Memory
    /// hot-added into a hole leaves it.
    var holes: [Range<UInt64>]
    let sectionHasMemmap: UnsafeMutablePointer<Bool>
    /// memory_block_size_bytes() in pages, as a shift.
    let memoryBlockShift: UInt64
    let nrMemoryBlocks: Int
    /// The memory blocks (drivers/base/memory.c), one per
    /// memory_block_size_bytes() of the pfn space.
    let memoryBlocks: UnsafeMutablePointer<MemoryBlock>
    /// One migratetype per pageblock (Alloc/Pageblock.swift).
    let pageblocks: PageblockBitmap
    /// Some node has a ZONE_MOVABLE: without one, no page can be in it.
    let hasMovableZone: Bool
    /// min_free_kbytes, watermark_scale_factor, lowmem_reserve_ratio.
    var sysctls = WatermarkSysctls()
    /// Pages with memmap, which add_memory() and remove_memory() change.
    var nrMemmapPages: UInt64
    /// Pages with memmap (present sections' pages).
    public var memmapPages: UInt64 { lock.withLock { nrMemmapPages } }
    let descriptors: DescriptorTable
    var scamems = SlotTable<ScamemRecord>()
    /// Each scamem's block and GUP count by slot, for readers without the lock.
    let scamemCells: StableCells
    let strategy: any PlacementStrategy
    /// `strategy.wordNamesObject`, read once: GUP's runs ask it per run.
    let strategyWordNamesObject: Bool
    /// `strategy.wordIsPointer`, read once.
    let strategyWordIsPointer: Bool
    var vmalloc = VmallocSpace()
    var mms = SlotTable<MMState>()
    /// Each mm's lockless part by slot (`MMCell`).
    let mmCells: StableCells
    /// The grace periods GUP-fast's lockless reads rely on.
    let rcu: RCU
    /// The files behind shared anonymous mappings.
    var shmemFiles = SlotTable<ShmemFile>()
    /// The zero page, once a read fault needed it.
    var zeroPfn: UInt64?
    /// Pages held by get_user_pages/pin_user_pages, per pfn: the model's
    /// debug ledger (like CONFIG_PAGE_PINNER, in page_ext-style section
    /// arrays), used to refuse a put or unpin that was never taken. No
    /// strategy's metadata: the kernel has none.
    let gupLedger: GupLedger
    /// Pages a plain vmap() (no VM_MAP_PUT_PAGES) maps, per pfn: how many
    /// times live areas list it. The kernel's vmap users must keep such pages
    /// until vunmap(); the model refuses a free that would break that
    /// (`.busy`) where the kernel would map a freed page. A debug ledger too.
    var vmapLedger: [UInt64: Int32] = [:]
    /// ptes vm_insert_page() made of alloc_pages() pages (MISC), per pfn. A
    /// memdesc MISC page has no refcount for the pte to hold, so the model
    /// refuses to free one while a pte maps it (`.busy`). A debug ledger too.
    var pteLedger: [UInt64: Int32] = [:]
    /// The kernel subjects the scenarios model (Scenarios/), by handle.
    var scenarios = SlotTable<ScenarioRecord>()
    /// Pages a live bpf ringbuf or io_uring region allocated: its own to
    /// free, so freePages() and an owning vmap() of one are `.busy`.
    var subjectPages = Set<UInt64>()
    /// PG_hwpoison of pages in use (MM/MemoryFailure.swift), per pfn: true
    /// where memory_failure() keeps the folio reference it took. A poisoned
    /// page that leaves its owner becomes a HWPOISON word instead, so the
    /// word of a page in use (a scamem's link above all) is never touched.
    var hwpoisonInUse: [UInt64: Bool] = [:]
    /// hw_memory_failure: a memory_failure() without MF_SW_SIMULATED happened.
    var hwMemoryFailure = false
    /// Pages taken off for hwpoison: how many HWPOISON words there are.
    var hwpoisonWords = 0
    let lock = Lock()
    /// zone->lock per zone, for calls under the machine lock held shared.
    let zoneLocks: ZoneLocks
    var localNodeStorage = 0
    var anonFolioOrderStorage = 0
    /// PF_MEMALLOC_PIN of the current task: set inside a long-term GUP.
    var memallocPin = false

    /// Creates a machine with all managed memory free in the buddy allocator.
    public init(_ desc: MachineDescription) throws(ScamemError) {
        let layout = try FlagsLayout(desc.profile)
        let maxPfn: UInt64 = 1 << UInt64(desc.profile.maxPhysmemBits - 12)
        guard desc.nrNodes >= 1, desc.nrNodes <= 1 << Int(desc.profile.nodesShift),
              !desc.zones.isEmpty else { throw .invalid }
        for z in desc.zones {
            guard z.nid >= 0, z.nid < desc.nrNodes, z.zone.rawValue < UInt32(ZoneType.count),
                  z.zone.rawValue < 1 << desc.profile.zonesShift,
                  z.spannedPages > 0, z.startPfn < maxPfn, z.spannedPages <= maxPfn - z.startPfn
            else { throw .invalid }
        }
        // Entries never overlap; a zone given in several entries (its span
        // holding other zones' memory) meets the others on pageblock edges,
        // so that no pageblock inside a span holds two zones' pages.
        let byStart = desc.zones.sorted { $0.startPfn < $1.startPfn }
        for (a, b) in zip(byStart, byStart.dropFirst()) where a.endPfn > b.startPfn { throw .invalid }
        let pageblock = UInt64(1) << UInt64(pageblockOrder)
        var entries: [Int: [ZoneSpan]] = [:]
        for z in desc.zones { entries[z.nid * ZoneType.count + Int(z.zone.rawValue), default: []].append(z) }
        for list in entries.values where list.count > 1 {
            let sorted = list.sorted { $0.startPfn < $1.startPfn }
            for (a, b) in zip(sorted, sorted.dropFirst())
            where a.endPfn % pageblock != 0 || b.startPfn % pageblock != 0 { throw .invalid }
        }
        let memoryBlockOrder: UInt64
        switch desc.memoryBlockSizeOrder {
        case 0: memoryBlockOrder = 0
        case let o where o >= Int(desc.profile.sectionSizeBits) && o <= max(31, Int(desc.profile.sectionSizeBits)):
            memoryBlockOrder = UInt64(o)
        default: throw .invalid
        }
        for r in desc.holes + desc.reserved {
            guard r.nrPages > 0, r.startPfn < maxPfn, r.nrPages <= maxPfn - r.startPfn else { throw .invalid }
        }
        // Inside one zone: the last zone starting at or before the range.
        func insideOneZone(_ r: PfnRange) -> Bool {
            var lo = 0, hi = byStart.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if byStart[mid].startPfn <= r.startPfn { lo = mid + 1 } else { hi = mid }
            }
            return lo > 0 && r.endPfn <= byStart[lo - 1].endPfn
        }
        for r in desc.reserved where !insideOneZone(r) { throw .invalid }
        let holeCuts = merged(desc.holes), reservedCuts = merged(desc.reserved), cmaCuts = merged(desc.cma)
        // CMA areas as cma_init_reserved_mem() and cma_activate_area() take
        // them: pageblock-aligned, in one zone, over memory alone.
        for r in desc.cma {
            guard r.nrPages > 0, r.startPfn % pageblock == 0, r.nrPages % pageblock == 0, r.startPfn < maxPfn,
                  r.nrPages <= maxPfn - r.startPfn, insideOneZone(r),
                  subtract(r.startPfn, r.endPfn, sorted: holeCuts) == [r.startPfn..<r.endPfn],
                  subtract(r.startPfn, r.endPfn, sorted: reservedCuts) == [r.startPfn..<r.endPfn] else { throw .invalid }
        }
        // Each below 2^40 pages, at most 2^20 of them: no overflow.
        guard cmaCuts.reduce(0, { $0 + $1.nrPages }) == desc.cma.reduce(0, { $0 + $1.nrPages }) else { throw .invalid }

        machineDescription = desc
        self.layout = layout
        hasMovableZone = desc.zones.contains { $0.zone == .movable }
        endPfn = desc.zones.map(\.endPfn).max()!
        // Words beyond this host's RAM cannot all be written: refuse rather
        // than bring the OOM killer to the process that embeds the model.
        let hostBytes = UInt64(max(0, sysconf(Int32(_SC_PHYS_PAGES)))) &* UInt64(max(0, sysconf(Int32(_SC_PAGESIZE))))
        guard endPfn <= hostBytes / 8 else { throw .noMemory }
        strategy = try desc.strategy.make(endPfn: endPfn, layout: layout, packedIndexBits: desc.packedIndexBits)
        strategyWordNamesObject = strategy.wordNamesObject
        strategyWordIsPointer = strategy.wordIsPointer
        let pagesPerSection: UInt64 = 1 << UInt64(layout.pfnSectionShift)
        nrSections = (endPfn + pagesPerSection - 1) / pagesPerSection
        // The holes merged and sorted: the complement of what they leave.
        holes = subtract(0, endPfn, sorted: holeCuts).complement(in: 0..<endPfn)

        // Zones in node then zone order, as for_each_zone() walks them; a
        // zone's span is the hull of its entries.
        let zoneKeys = entries.keys.sorted()
        let zoneSpans = zoneKeys.map { k in
            let list = entries[k]!
            let start = list.map(\.startPfn).min()!, end = list.map(\.endPfn).max()!
            return ZoneSpan(nid: list[0].nid, zone: list[0].zone, startPfn: start, spannedPages: end - start)
        }
        nrZones = zoneSpans.count
        memoryBlockShift = (memoryBlockOrder == 0
            ? probeMemoryBlockSizeOrder(endPfn: endPfn, sectionSizeBits: UInt64(desc.profile.sectionSizeBits))
            : memoryBlockOrder) - 12
        nrMemoryBlocks = Int((endPfn + (1 << memoryBlockShift) - 1) >> memoryBlockShift)
        let sm = hostAllocate(Bool.self, count: Int(nrSections), zeroed: true)
        let zt = hostAllocate(Int32.self, count: desc.nrNodes * ZoneType.count)
        let mb = hostAllocate(MemoryBlock.self, count: nrMemoryBlocks)
        let zs = hostAllocate(ZoneState.self, count: nrZones)
        let nrPageblocks = Int((endPfn + (1 << UInt64(pageblockOrder)) - 1) >> UInt64(pageblockOrder))
        let pb = PageblockBitmap(count: nrPageblocks)
        guard let sm, let zt, let mb, let zs, let pb,
              let gl = GupLedger(nrSections: Int(nrSections), sectionShift: UInt64(layout.pfnSectionShift)) else {
            free(sm); free(zt); free(mb); free(zs); pb?.deallocate()
            throw .noMemory
        }
        guard let w = WordArray(count: Int(endPfn)) else {
            free(sm); free(zt); free(mb); free(zs); pb.deallocate(); gl.deallocate()
            throw .noMemory
        }
        guard let dt = DescriptorTable(capacity: Int(endPfn)) else {
            free(sm); free(zt); free(mb); free(zs); pb.deallocate(); gl.deallocate(); w.deallocate()
            throw .noMemory
        }
        let sc = StableCells(wordsPerCell: ScamemCell.words), mc = StableCells(wordsPerCell: MMCell.words)
        let r = RCU(), zl = ZoneLocks(count: nrZones)
        guard let sc, let mc, let r, let zl else {
            free(sm); free(zt); free(mb); free(zs); pb.deallocate(); gl.deallocate(); w.deallocate(); dt.release()
            sc?.deallocate(); mc?.deallocate(); r?.deallocate(); zl?.deallocate(count: nrZones)
            throw .noMemory
        }
        gupLedger = gl
        descriptors = dt
        scamemCells = sc; mmCells = mc; rcu = r; zoneLocks = zl
        words = w; sectionHasMemmap = sm; zoneIndexTable = zt; memoryBlocks = mb; zones = zs; pageblocks = pb
        // memmap_init() makes every pageblock MIGRATE_MOVABLE; kernel
        // allocations then claim theirs from it.
        pb.update(0, repeating: .movable, count: nrPageblocks)
        for r in cmaCuts {
            pb.update(Int(r.startPfn >> UInt64(pageblockOrder)), repeating: .cma, count: Int(r.nrPages >> UInt64(pageblockOrder)))
        }
        zt.update(repeating: -1, count: desc.nrNodes * ZoneType.count)

        // Present runs per zone; a section has a memmap if any of it is present.
        let ranges = zoneKeys.map { k in entries[k]!.sorted { $0.startPfn < $1.startPfn } }
        let present = ranges.map { $0.flatMap { subtract($0.startPfn, $0.endPfn, sorted: holeCuts) } }
        var memmap: UInt64 = 0
        for runs in present {
            for r in runs {
                for s in layout.sectionNumber(ofPfn: r.lowerBound)...layout.sectionNumber(ofPfn: r.upperBound - 1) {
                    sm[Int(s)] = true
                }
            }
        }
        for s in 0..<Int(nrSections) where sm[s] {
            memmap += min(pagesPerSection, endPfn - UInt64(s) * pagesPerSection)
        }
        nrMemmapPages = memmap

        var built = 0
        var failed = false
        for (i, span) in zoneSpans.enumerated() {
            let base = span.startPfn & ~(UInt64(1) << UInt64(maxPageOrder) - 1)
            guard let areas = ZoneState.makeAreas(base: base, endPfn: span.endPfn) else { failed = true; break }
            (zs + i).initialize(to: ZoneState(
                nid: span.nid, zone: span.zone, startPfn: span.startPfn, endPfn: span.endPfn, base: base,
                flags: layout.flags(nid: span.nid, zone: span.zone, section: 0), areas: areas))
            zt[span.nid * ZoneType.count + Int(span.zone.rawValue)] = Int32(i)
            built += 1
        }
        if failed {
            for i in 0..<built { for l in 0..<nrFreeLists { zs[i].areas[l].release() }; free(zs[i].areas) }
            w.deallocate(); gl.deallocate(); free(sm); free(zt); free(mb); free(zs); pb.deallocate()
            dt.release(); sc.deallocate(); mc.deallocate(); r.deallocate(); zl.deallocate(count: nrZones)
            throw .noMemory
        }
        zoneRanges = ranges.enumerated().flatMap { i, list in
            list.map { ZoneRange(startPfn: $0.startPfn, endPfn: $0.endPfn, zone: Int32(i)) }
        }.sorted { $0.startPfn < $1.startPfn }
        initMemoryBlocks()

        // Holes inside present sections read as reserved, as
        // init_unavailable_range() leaves them; memory goes to the allocator.
        for r in zoneRanges {
            let i = Int(r.zone)
            var p = r.startPfn
            while p < r.endPfn {
                if sm[Int(layout.sectionNumber(ofPfn: p))] {
                    w[Int(p)] = PageWord.inline(.misc, subtype: MiscSubtype.reserved.rawValue, flags: pageFlags(i, p)).rawValue
                }
                p += 1
            }
        }
        for i in zoneSpans.indices {
            for run in present[i] {
                zs[i].presentPages += UInt64(run.count)
                for m in subtract(run.lowerBound, run.upperBound, sorted: reservedCuts) {
                    zs[i].managedPages += UInt64(m.count)
                    // Free blocks stop at a CMA area's edges: its pageblocks are another type.
                    for piece in splitting(m, at: cmaCuts) {
                        forEachAlignedBlock(piece.lowerBound, piece.upperBound, maxOrder: maxPageOrder) { pfn, o in
                            insertFreeBlock(i, pfn, o, flags: pageFlags(i, pfn))
                        }
                    }
                }
            }
        }
        initPerZoneWmarkMin()
    }

    deinit {
        for i in 0..<nrZones {
            for l in 0..<nrFreeLists { zones[i].areas[l].release() }
            free(zones[i].areas)
        }
        words.deallocate(); gupLedger.deallocate(); free(sectionHasMemmap); free(zoneIndexTable); free(memoryBlocks); free(zones); pageblocks.deallocate()
        descriptors.release(); zoneLocks.deallocate(count: nrZones)
        for s in scamems.liveSlots { scamems[s].block.deallocate() }
        for s in mms.liveSlots { MMCell(words: mmCells.cell(s).unsafelyUnwrapped).withdrawVMAs()?.deallocate() }
        scamemCells.deallocate(); mmCells.deallocate(); rcu.deallocate()
    }

    /// The flags (node, zone, section) a page of zone `z` at `pfn` carries.
    @inline(__always)
    func pageFlags(_ z: Int, _ pfn: UInt64) -> UInt64 {
        zones[z].flags | layout.flags(nid: 0, zone: .dma, section: layout.sectionNumber(ofPfn: pfn))
    }

    /// The zone index for node and zone bits, or nil.
    @inline(__always)
    func zoneIndex(flags: UInt64) -> Int? {
        let nid = layout.nid(flags), zone = Int(layout.zone(flags).rawValue)
        guard nid < machineDescription.nrNodes, zone < ZoneType.count else { return nil }
        let i = zoneIndexTable[nid * ZoneType.count + zone]
        return i < 0 ? nil : Int(i)
    }

    /// The zone `pfn` belongs to (page_zone() of a page with memmap), or nil:
    /// the memory block's zone (`memory_block->zone`) in one load, a search
    /// of the zone ranges for an early block that holds several zones.
    @inline(__always)
    func zoneIndex(ofPfn pfn: UInt64) -> Int? {
        guard pfn < endPfn else { return nil }
        let z = memoryBlocks[Int(pfn >> memoryBlockShift)].zone
        if z >= 0 { return Int(z) }
        return z == MemoryBlock.mixedZones ? zoneIndex(searching: pfn) : nil
    }

    /// The zone range holding `pfn`, by binary search.
    func zoneIndex(searching pfn: UInt64) -> Int? {
        var lo = 0, hi = zoneRanges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let r = zoneRanges[mid]
            if r.endPfn <= pfn { lo = mid + 1 } else if r.startPfn > pfn { hi = mid } else { return Int(r.zone) }
        }
        return nil
    }

    /// True if `pfn` lies in a described hole or outside every zone.
    func isHole(_ pfn: UInt64) -> Bool {
        var lo = 0, hi = holes.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if holes[mid].upperBound <= pfn { lo = mid + 1 } else if holes[mid].lowerBound > pfn { hi = mid } else { return true }
        }
        return zoneIndex(ofPfn: pfn) == nil
    }

    /// The node `NUMA_NO_NODE` means (the "current CPU's" node).
    public var localNode: Int {
        get { lock.withLock { localNodeStorage } }
    }

    /// Sets the local node. Fails with `.invalid` if `nid` is not a node.
    public func setLocalNode(_ nid: Int) throws(ScamemError) {
        guard nid >= 0, nid < machineDescription.nrNodes else { throw .invalid }
        lock.withLock { localNodeStorage = nid }
    }
}

/// MAX_PAGE_ORDER
public let maxPageOrder = 10

/// NR_PAGE_ORDERS * MIGRATE_TYPES: a zone's free lists.
let nrFreeLists = (maxPageOrder + 1) * MigrateType.count

/// `whole` cut at the edges of the sorted, disjoint `cuts` inside it.
func splitting(_ whole: Range<UInt64>, at cuts: [PfnRange]) -> [Range<UInt64>] {
    var lo = 0, hi = cuts.count
    while lo < hi {
        let mid = (lo + hi) / 2
        if cuts[mid].endPfn <= whole.lowerBound { lo = mid + 1 } else { hi = mid }
    }
    var out: [Range<UInt64>] = []
    var p = whole.lowerBound
    while lo < cuts.count, cuts[lo].startPfn < whole.upperBound {
        for edge in [cuts[lo].startPfn, cuts[lo].endPfn] where edge > p && edge < whole.upperBound {
            out.append(p..<edge)
            p = edge
        }
        lo += 1
    }
    out.append(p..<whole.upperBound)
    return out
}

extension Array where Element == Range<UInt64> {
    /// The parts of `whole` not covered by these sorted, disjoint ranges.
    func complement(in whole: Range<UInt64>) -> [Range<UInt64>] {
        var out: [Range<UInt64>] = []
        var p = whole.lowerBound
        for r in self {
            if r.lowerBound > p { out.append(p..<r.lowerBound) }
            p = Swift.max(p, r.upperBound)
        }
        if p < whole.upperBound { out.append(p..<whole.upperBound) }
        return out
    }
}
