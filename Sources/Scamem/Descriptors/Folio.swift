/// Folios: FILE and ANON descriptors with a refcount, mapcount and pincount.
extension Machine {
    /// folio_alloc(): a folio of 2^order pages, refcount 1. Returns its first
    /// pfn. The C counterpart is `scamem_folio_alloc()`.
    public func folioAlloc(_ type: PageType, order: Int = 0, gfp: GFP = .kernel, nid: Int? = nil) throws(ScamemError) -> UInt64 {
        guard type == .file || type == .anon else { throw .invalid }
        return try allocDescriptor(type, order: order, gfp: gfp, nid: nid)
    }

    /// folio_get() on the folio owning `pfn`. Returns the new refcount.
    /// The C counterpart is `scamem_folio_get()`.
    @discardableResult
    public func folioGet(_ pfn: UInt64) throws(ScamemError) -> Int {
        try lock.withLock { () throws(ScamemError) -> Int in
            let (_, d) = try descriptor(of: pfn, PageType.folioTypes)
            guard d.refs < Int32.max else { throw .overflow }
            d.refAdd(1)
            d.pointee.callerRefs += 1
            return Int(d.refs)
        }
    }

    /// folio_put(): drops a reference taken by `folioAlloc` or `folioGet`;
    /// the last reference frees the folio. Returns the remaining refcount. A
    /// caller without a reference to drop (a folio only a mapping or GUP
    /// holds) gets `.invalid`. The C counterpart is `scamem_folio_put()`.
    @discardableResult
    public func folioPut(_ pfn: UInt64) throws(ScamemError) -> Int {
        try lock.withLock { () throws(ScamemError) -> Int in
            let (id, d) = try descriptor(of: pfn, PageType.folioTypes)
            // Mappings and GUP drop their own references.
            guard d.pointee.callerRefs > 0 else { throw .invalid }
            // A vmap() area maps it and relies on the caller's reference.
            if d.pointee.callerRefs == 1, vmapped(d.pointee.pfn, order: Int(d.pointee.order)) { throw .busy }
            d.pointee.callerRefs -= 1
            let left = Int(d.refSub(1))
            if left == 0 { destroyDescriptor(id, d) }
            return left
        }
    }
}
