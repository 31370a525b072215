/// Page tables: ptdesc descriptors.
extension Machine {
    /// pagetable_alloc(): a page table of 2^order pages. Returns its first
    /// pfn. The C counterpart is `scamem_ptdesc_alloc()`.
    public func ptdescAlloc(order: Int = 0, gfp: GFP = .kernel, nid: Int? = nil) throws(ScamemError) -> UInt64 {
        try allocDescriptor(.ptdesc, order: order, gfp: gfp, nid: nid)
    }

    /// pagetable_free() of the ptdesc owning `pfn`. The C counterpart is
    /// `scamem_ptdesc_free()`.
    public func ptdescFree(_ pfn: UInt64) throws(ScamemError) {
        try freeDescriptor(pfn, .ptdesc)
    }
}
