/// One zone's allocator state (`struct zone`): its span, counters,
/// watermarks and `free_area[NR_PAGE_ORDERS]`, each with a free list per
/// migratetype (`free_list[MIGRATE_TYPES]`).
struct ZoneState {
    let nid: Int
    let zone: ZoneType
    let startPfn: UInt64
    let endPfn: UInt64
    /// Block indices count from the span's start rounded down to MAX_ORDER
    /// alignment, so natural alignment of pfns is that of indices.
    let base: UInt64
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
    /// (maxPageOrder + 1) * MigrateType.count lists, order-major.
    let areas: UnsafeMutablePointer<FreeArea>

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
