/// One zone's allocator state (`struct zone`): its span, counters and
/// `free_area[NR_PAGE_ORDERS]`.
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
    var freePages: UInt64 = 0
    let areas: UnsafeMutablePointer<FreeArea>

    @inline(__always) func index(_ pfn: UInt64, _ order: Int) -> Int { Int((pfn - base) >> UInt64(order)) }
    @inline(__always) func pfn(_ index: Int, _ order: Int) -> UInt64 { base + UInt64(index) << UInt64(order) }
    @inline(__always) func spans(_ pfn: UInt64) -> Bool { pfn >= startPfn && pfn < endPfn }
}
