/// mm/memory.c's driver calls: remap_pfn_range() (special ptes, no page
/// references), vm_insert_pages() and vm_map_pages() (a folio reference per pte).
extension Machine {
    /// remap_pfn_range(): maps `size` bytes (rounded up to pages) of pfns from
    /// `pfn` at `uaddr` in the driver VMA holding it, as special ptes that
    /// hold no reference, and sets VM_IO | VM_PFNMAP | VM_DONTEXPAND |
    /// VM_DONTDUMP. The kernel maps any pfn and leaves its lifetime to the
    /// driver; the model maps only pfns nothing can free (no memmap, or
    /// MISC/reserved pages), `.invalid` for others, so no mapped page is ever
    /// freed. A private (COW) mapping must be mapped whole and takes
    /// `vm_pgoff = pfn`, as `remap_pfn_range_internal()` requires. All or
    /// nothing, as `remap_pfn_range_notrack()` zaps on error. The C
    /// counterpart is `scamem_remap_pfn_range()`.
    public func remapPfnRange(_ mm: MMID, uaddr: UInt64, pfn: UInt64, size: UInt64) throws(ScamemError) {
        guard uaddr & 4095 == 0, size > 0, size <= maxVMABytes else { throw .invalid }
        let n = (size + 4095) / 4096
        try lock.withLock { () throws(ScamemError) in
            let s = try mmSlot(mm)
            guard let vi = mms[s].index(containing: uaddr) else { throw .fault }
            let v = mms[s].vmas[vi]
            guard !v.anonymous else { throw .invalid }
            guard n * 4096 <= v.end - uaddr else { throw .fault }
            // is_cow_mapping(): vm_normal_page() finds the original pfns through vm_pgoff.
            if !v.flags.contains(.shared), uaddr != v.start || uaddr + n * 4096 != v.end { throw .invalid }
            guard pfn < endPfn, n <= endPfn - pfn else { throw .outOfRange }
            for p in pfn..<pfn + n {
                let w = PageWord(rawValue: words[Int(p)])
                guard w.isNopage || (w.type == .misc && w.subtype == MiscSubtype.reserved.rawValue) else { throw .invalid }
            }
            // Special ptes share no VMA with pages that hold references; the
            // kernel BUG()s on a pte already present.
            if !v.flags.contains(.pfnMap), v.ptes.contains(where: { $0 != 0 }) { throw .busy }
            let first = v.pteIndex(uaddr)
            guard v.ptes[first..<first + Int(n)].allSatisfy({ $0 == 0 }) else { throw .busy }
            if !v.flags.contains(.shared) { mms[s].vmas[vi].pgoff = pfn }
            for k in 0..<Int(n) { mms[s].vmas[vi].ptes[first + k] = pfn + UInt64(k) + 1 }
            mms[s].vmas[vi].flags.formUnion([.io, .pfnMap, .dontExpand, .dontDump])
        }
    }

    /// vm_insert_pages(): inserts `pfns` at `uaddr` one by one in the VMA
    /// holding it, each taking a folio reference and a map count
    /// (`insert_page_into_pte_locked()`), and sets VM_MIXEDMAP. `num` is in
    /// and out, as the kernel's `unsigned long *num`: on return it counts the
    /// pages not inserted (0 on success; unchanged when the call fails before
    /// the first page); pages inserted before an error stay. The C
    /// counterpart is `scamem_vm_insert_pages()`.
    public func vmInsertPages(_ mm: MMID, uaddr: UInt64, pfns: UnsafeBufferPointer<UInt64>,
                              num: inout Int) throws(ScamemError) {
        guard uaddr & 4095 == 0, num >= 0, num <= pfns.count else { throw .invalid }
        let count = num
        let inserted = try lock.withLock { () throws(ScamemError) -> (count: Int, error: ScamemError?) in
            let s = try mmSlot(mm)
            guard let vi = mms[s].index(containing: uaddr) else { throw .fault }
            guard UInt64(count) <= (mms[s].vmas[vi].end - uaddr) / 4096 else { throw .fault }
            return try insertPages(s, vi, at: mms[s].vmas[vi].pteIndex(uaddr), pfns.prefix(count))
        }
        num = count - inserted.count
        if let error = inserted.error { throw error }
    }

    /// vm_map_pages(): maps the whole VMA starting at `vmaStart` with
    /// `pfns[vm_pgoff...]`, page by page (`__vm_map_pages()`): `.noPage`
    /// (-ENXIO) when vm_pgoff is past the pages or the VMA is larger than what
    /// is left; an error part-way leaves the earlier pages mapped. The C
    /// counterpart is `scamem_vm_map_pages()`.
    public func vmMapPages(_ mm: MMID, vmaStart: UInt64, pfns: UnsafeBufferPointer<UInt64>) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            let s = try mmSlot(mm)
            guard let vi = mms[s].index(containing: vmaStart) else { throw .fault }
            let v = mms[s].vmas[vi]
            // The C API names a VMA by its start: any other address is no VMA.
            guard v.start == vmaStart else { throw .invalid }
            let num = UInt64(pfns.count)
            guard v.pgoff < num, UInt64(v.nrPages) <= num - v.pgoff else { throw .noPage }
            let offset = Int(v.pgoff)
            if let error = try insertPages(s, vi, at: 0, pfns[offset..<offset + v.nrPages]).error { throw error }
        }
    }

    /// vm_insert_page() for each pfn from pte `first` on: the VMA checks
    /// throw; a page's error stops the walk and is returned with how many
    /// were inserted before it.
    func insertPages(_ s: Int, _ vi: Int, at first: Int,
                     _ pfns: Slice<UnsafeBufferPointer<UInt64>>) throws(ScamemError) -> (count: Int, error: ScamemError?) {
        let v = mms[s].vmas[vi]
        // vm_insert_page() BUG()s on VM_PFNMAP; anon ptes are faulted folios.
        guard !v.anonymous, !v.flags.contains(.pfnMap) else { throw .invalid }
        // One source per VMA: a vmalloc area's ptes hold its scamem instead.
        guard v.object == nil else { throw .busy }
        mms[s].vmas[vi].flags.insert(.mixedMap)
        for (k, pfn) in pfns.enumerated() {
            do throws(ScamemError) {
                // validate_page_before_insert(): a refcounted, non-anon,
                // non-slab, untyped folio. In the memdesc model only FILE
                // folios have a refcount to take (MISC pages have none).
                let w = try checkedWord(pfn)
                guard w.type == .file, let d = descriptors.lookup(w.descriptorID) else { throw .invalid }
                guard mms[s].vmas[vi].ptes[first + k] == 0 else { throw .busy }
                guard d.pointee.refcount < Int32.max, d.pointee.mapcount < Int32.max else { throw .overflow }
                d.pointee.refcount += 1
                d.pointee.mapcount += 1
                mms[s].vmas[vi].ptes[first + k] = pfn + 1
            } catch {
                return (k, error)
            }
        }
        return (pfns.count, nil)
    }
}
