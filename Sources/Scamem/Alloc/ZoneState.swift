#if canImport(Glibc)
import Glibc
#endif

/// One zone's allocator state (`struct zone`): its span, counters,
/// watermarks and `free_area[NR_PAGE_ORDERS]`, each with a free list per
/// migratetype (`free_list[MIGRATE_TYPES]`).
struct ZoneState {
    let nid: Int
    let zone: ZoneType
    /// zone_start_pfn and zone_end_pfn(): the span, which online_pages()
    /// grows (resize_zone_range()) and offline_pages() shrinks.
    var startPfn: UInt64
    var endPfn: UInt64
    /// Block indices count from the span's start rounded down to MAX_ORDER
    /// alignment, so natural alignment of pfns is that of indices.
    private(set) var base: UInt64
    /// The node and zone bits of its pages (section bits are per pfn).
    let flags: UInt64
    var presentPages: UInt64 = 0
    var managedPages: UInt64 = 0
    /// NR_FREE_PAGES: free pages less those in MIGRATE_ISOLATE pageblocks
    /// (account_freepages()).
    var freePages: UInt64 = 0
    /// NR_FREE_CMA_PAGES
    var freeCmaPages: UInt64 = 0
    /// Free pages in MIGRATE_ISOLATE pageblocks, which NR_FREE_PAGES leaves out.
    var isolatedFreePages: UInt64 = 0
    /// _watermark[WMARK_MIN, WMARK_LOW, WMARK_HIGH, WMARK_PROMO]
    var watermark = Watermarks()
    /// lowmem_reserve[MAX_NR_ZONES]: pages an allocation that could have
    /// used zone j must leave here (setup_per_zone_lowmem_reserve()).
    var lowmemReserve = LowmemReserve()
    /// (maxPageOrder + 1) * MigrateType.count lists, order-major, over
    /// `[base, areasEnd)`.
    private(set) var areas: UnsafeMutablePointer<FreeArea>
    private(set) var areasEnd: UInt64

    init(nid: Int, zone: ZoneType, startPfn: UInt64, endPfn: UInt64, base: UInt64, flags: UInt64,
         areas: UnsafeMutablePointer<FreeArea>) {
        self.nid = nid; self.zone = zone; self.startPfn = startPfn; self.endPfn = endPfn
        self.base = base; self.flags = flags; self.areas = areas; areasEnd = endPfn
    }

    /// The free lists of a zone over `[base, endPfn)`, all empty, or nil.
    static func makeAreas(base: UInt64, endPfn: UInt64) -> UnsafeMutablePointer<FreeArea>? {
        guard let areas = hostAllocate(FreeArea.self, count: nrFreeLists) else { return nil }
        for l in 0..<nrFreeLists {
            let o = l / MigrateType.count
            // No pageblock is ever MIGRATE_HIGHATOMIC here: an empty list.
            let n = l % MigrateType.count == Int(MigrateType.highatomic.rawValue) ? 0
                : Int((endPfn - base + (1 << UInt64(o)) - 1) >> UInt64(o))
            if let a = FreeArea(nrBlocks: n) { (areas + l).initialize(to: a) } else {
                for k in 0..<l { areas[k].release() }
                free(areas)
                return nil
            }
        }
        return areas
    }

    /// Widens the free lists to cover `[start, end)` as well, keeping every
    /// free block: the model's lists are indexed by pfn, so a span that
    /// online_pages() grows needs longer ones. False (nothing changed) when
    /// the host has no memory for them.
    mutating func coverAreas(_ start: UInt64, _ end: UInt64) -> Bool {
        guard start < base || end > areasEnd else { return true }
        let newBase = min(base, start & ~(UInt64(1) << UInt64(maxPageOrder) - 1))
        let newEnd = max(areasEnd, end)
        guard let new = Self.makeAreas(base: newBase, endPfn: newEnd) else { return false }
        for l in 0..<nrFreeLists {
            let shift = Int((base - newBase) >> UInt64(l / MigrateType.count))
            areas[l].forEach { new[l].insert($0 + shift) }
            areas[l].release()
        }
        free(areas)
        areas = new
        base = newBase
        areasEnd = newEnd
        return true
    }

    @inline(__always) func index(_ pfn: UInt64, _ order: Int) -> Int { Int((pfn - base) >> UInt64(order)) }
    @inline(__always) func pfn(_ index: Int, _ order: Int) -> UInt64 { base + UInt64(index) << UInt64(order) }
    @inline(__always) func spans(_ pfn: UInt64) -> Bool { pfn >= startPfn && pfn < endPfn }
    /// &free_area[order].free_list[mt]
    @inline(__always) func area(_ order: Int, _ mt: MigrateType) -> UnsafeMutablePointer<FreeArea> {
        areas + order * MigrateType.count + Int(mt.rawValue)
    }
    /// free_area[order].nr_free: blocks on all of the order's lists.
    func nrFree(_ order: Int) -> UInt64 {
        (0..<MigrateType.count).reduce(0) { $0 + areas[order * MigrateType.count + $1].nrFree }
    }
}
