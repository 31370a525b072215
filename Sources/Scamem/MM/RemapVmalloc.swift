/// remap_vmalloc_range(): a driver maps a vmalloc area into a user VMA.
extension Machine {
    /// remap_vmalloc_range_partial(): maps `size` bytes from `kaddr` + `pgoff`
    /// pages, `kaddr` anywhere in an area (find_vm_area()), at `uaddr` in
    /// the VMA holding it, with the kernel's checks: page alignment, an area
    /// with VM_USERMAP or VM_DMA_COHERENT, bounds within the area (all
    /// `.invalid`), and within the VMA (`.fault`). The bound counts from
    /// `kaddr`, stricter than the kernel's `size + off <=
    /// get_vm_area_size(area)`, which ignores where in the area `kaddr` is
    /// and would walk past its last page. The VMA takes one scamem
    /// reference, the first time it maps the area; a VMA maps one area
    /// (`.busy` for a second one or a pte already present). The C counterpart is
    /// `scamem_remap_vmalloc_range_partial()`.
    public func remapVmallocRangePartial(_ mm: MMID, uaddr: UInt64, kaddr: UInt64, pgoff: UInt64,
                                         size: UInt64) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            let s = try mmSlot(mm)
            guard let vi = mms[s].index(containing: uaddr) else { throw .fault }
            try remapLocked(s, vi, uaddr: uaddr, kaddr: kaddr, pgoff: pgoff, size: size)
        }
    }

    /// remap_vmalloc_range(): maps the whole VMA holding `uaddr` (from its
    /// start) with the area at `kaddr` from page `pgoff`. The C counterpart is
    /// `scamem_remap_vmalloc_range()`.
    public func remapVmallocRange(_ mm: MMID, uaddr: UInt64, kaddr: UInt64, pgoff: UInt64) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            let s = try mmSlot(mm)
            guard let vi = mms[s].index(containing: uaddr) else { throw .fault }
            let v = mms[s].vmas[vi]
            try remapLocked(s, vi, uaddr: v.start, kaddr: kaddr, pgoff: pgoff, size: v.end - v.start)
        }
    }

    func remapLocked(_ s: Int, _ vi: Int, uaddr: UInt64, kaddr: UInt64, pgoff: UInt64, size: UInt64) throws(ScamemError) {
        let size = (size &+ 4095) & ~4095
        guard uaddr & 4095 == 0, kaddr & 4095 == 0, size > 0, size <= 1 << 46, pgoff <= (1 << 46) >> 12,
              let ai = vmalloc.index(containing: kaddr) else { throw .invalid }
        let a = vmalloc.areas[ai]
        let off = kaddr - a.addr + (pgoff << 12)
        guard !a.flags.isDisjoint(with: [.usermap, .dmaCoherent]), off + size <= a.usableSize else { throw .invalid }
        // vm_insert_page() BUG()s on a VM_PFNMAP VMA.
        guard !mms[s].vmas[vi].anonymous, !mms[s].vmas[vi].flags.contains(.pfnMap) else { throw .invalid }
        guard size <= mms[s].vmas[vi].end - uaddr else { throw .fault }
        let object = scamems.handle(a.slot)
        let mapped = mms[s].vmas[vi].object
        if let mapped, mapped != object { throw .busy }
        // One source per VMA: vm_insert_pages() ptes leave no room for an area.
        // (Anon ptes, COW copies, hold their own folios and may stay.)
        if mapped == nil, mms[s].vmas[vi].ptes.contains(where: PTE.isSource) { throw .busy }
        let first = mms[s].vmas[vi].pteIndex(uaddr), n = Int(size / 4096)
        guard mms[s].vmas[vi].ptes[first..<first + n].allSatisfy({ $0 == 0 }) else { throw .busy }
        let pages = scamems[a.slot].block.pages + Int(off >> 12)
        try strategy.mapped(object: object, pfns: UnsafeBufferPointer(start: pages, count: n), first: mapped == nil, in: self)
        mms[s].vmas[vi].object = object
        mms[s].vmas[vi].objectPtes += n
        for k in 0..<n { mms[s].vmas[vi].ptes[first + k] = pages[k] + 1 }
        setVMAFlags(s, vi, mms[s].vmas[vi].flags.union([.mixedMap, .dontExpand, .dontDump]))
    }
}
