/// Slabs: one descriptor per slab, recording its cache and object count.
extension Machine {
    /// Allocates a slab of 2^order pages for cache `cacheID` holding objects
    /// of `objectSize` bytes. Returns its first pfn. The C counterpart is
    /// `scamem_slab_alloc()`.
    public func slabAlloc(cache cacheID: UInt32, objectSize: UInt32, order: Int = 0,
                          gfp: GFP = .kernel, nid: Int? = nil) throws(ScamemError) -> UInt64 {
        guard order >= 0, order <= maxPageOrder, objectSize > 0,
              UInt64(objectSize) <= UInt64(4096) << UInt64(order) else { throw .invalid }
        let objects = UInt32((UInt64(4096) << UInt64(order)) / UInt64(objectSize))
        return try allocDescriptor(.slab, order: order, gfp: gfp, nid: nid, cacheID: cacheID, objects: objects)
    }

    /// Frees the slab owning `pfn`. The C counterpart is `scamem_slab_free()`.
    public func slabFree(_ pfn: UInt64) throws(ScamemError) {
        try freeDescriptor(pfn, .slab)
    }
}
