/// fork(): kernel/fork.c's dup_mmap() and mm/memory.c's copy_page_range().
extension Machine {
    /// dup_mmap(): a new mm with a copy of every VMA of `mm` but those with
    /// VM_DONTCOPY (MADV_DONTFORK). Each child VMA takes its own file and
    /// scamem references (vm_area_dup(), `vm_ops->open()`); ptes are copied
    /// where vma_needs_copy() says (VM_PFNMAP, VM_MIXEDMAP, anon pages) and
    /// left to fault in otherwise (shmem). A private anon page becomes COW
    /// shared by both, unless it may be DMA-pinned, when the child gets a
    /// copy (folio_needs_cow_for_dma()). On error the child is torn down,
    /// as a failed fork's mmput(). The C counterpart is `scamem_fork()`.
    public func fork(_ mm: MMID) throws(ScamemError) -> MMID {
        try lock.withLock { () throws(ScamemError) -> MMID in
            let s = try mmSlot(mm)
            let c = try insertMM()
            do throws(ScamemError) {
                for i in mms[s].vmas.indices where !mms[s].vmas[i].flags.contains(.dontCopy) {
                    try dupVMA(s, i, into: c)
                }
            } catch {
                while !mms[c].vmas.isEmpty { removeVMA(c, mms[c].vmas.count - 1) }
                removeMM(c)
                throw error
            }
            return MMID(rawValue: mms.handle(c))
        }
    }

    /// The child's copy of VMA `i` of mm `s`, appended to mm `c`.
    func dupVMA(_ s: Int, _ i: Int, into c: Int) throws(ScamemError) {
        let v = mms[s].vmas[i]
        var child = v
        child.object = nil
        child.ptes = try PteTable.empty(count: v.nrPages)
        if let f = v.shmem { try shmemGetFile(f) }
        mms[c].vmas.append(child)
        // vma_needs_copy(): a VMA without an anon_vma (shmem, or anonymous
        // memory only read so far) refaults in the child.
        guard !v.flags.isDisjoint(with: [.pfnMap, .mixedMap]) || v.anonVMA else { return }
        // copy_page_range(): raw_write_seqcount_begin(&src_mm->write_protect_seq)
        // around a COW mapping's copy, so a GUP-fast pin racing with
        // folio_needs_cow_for_dma() gives its pins back (`gupFast`).
        let cow = v.flags.isCOW, cell = mmCell(s)
        if cow { cell.writeProtectSeqStep() }
        defer { if cow { cell.writeProtectSeqStep() } }
        try copyPteRange(s, i, c, mms[c].vmas.count - 1)
    }

    /// copy_pte_range() -> copy_present_ptes() for each pte of VMA `i`.
    func copyPteRange(_ s: Int, _ i: Int, _ c: Int, _ ci: Int) throws(ScamemError) {
        let v = mms[s].vmas[i]
        // The scamem pages first: the child VMA's reference and, for
        // LEGACY, each page's count, taken or refused before any pte.
        if let o = v.object {
            let pfns = v.ptes.compactMap { PTE.isSource($0) ? PTE.pfn($0) : nil }
            try pfns.withUnsafeBufferPointer { (b) throws(ScamemError) in
                try strategy.mapped(object: o, pfns: b, first: true, in: self)
            }
            mms[c].vmas[ci].object = o
            mms[c].vmas[ci].objectPtes = pfns.count
            for k in v.ptes.indices where PTE.isSource(v.ptes[k]) { mms[c].vmas[ci].ptes[k] = v.ptes[k] }
        }
        for k in v.ptes.indices {
            let pte = v.ptes[k]
            if pte == 0 || (v.object != nil && PTE.isSource(pte)) { continue }
            // copy_nonpresent_pte(): a hwpoison entry is copied as it is.
            if pte & PTE.hwpoison != 0 { mms[c].vmas[ci].ptes[k] = pte; continue }
            let pfn = PTE.pfn(pte)
            if pte & PTE.anon != 0 {
                let (_, d) = try descriptor(of: pfn, PageType.anon.bit)
                let pinned = d.pointee.order > 0 ? d.pins > 0 : d.refs >= gupPinCountingBias
                if pte & PTE.exclusive != 0, mmCell(s).hasPinned, pinned {
                    // copy_present_page(): the pinned page stays the parent's.
                    let (copy, nd) = try createDescriptor(.anon, order: 0, gfp: .highuserMovable, nid: nil)
                    nd.pointee.mapcount = 1
                    nd.pointee.callerRefs = 0
                    nd.pointee.lru = true
                    mms[c].vmas[ci].ptes[k] = (copy + 1) | PTE.anon | PTE.exclusive
                    continue
                }
                // folio_try_dup_anon_rmap_pte(): shared, so neither may reuse it.
                try takeFolioMapping(pfn)
                mms[s].vmas[i].ptes[k] = pte & ~PTE.exclusive
                mms[c].vmas[ci].ptes[k] = pte & ~PTE.exclusive
            } else if v.flags.contains(.pfnMap) || pfn == zeroPfn {
                // Special ptes and the zero page: no page to reference.
                mms[c].vmas[ci].ptes[k] = pte
            } else if !pteLedger.isEmpty, pteLedger[pfn] != nil {
                // A vm_insert_page()d alloc_pages() page (Memory.swift).
                try takeInsertedPage(pfn)
                mms[c].vmas[ci].ptes[k] = pte
            } else {
                // A vm_insert_page()d folio: folio_dup_file_rmap_pte().
                try takeFolioMapping(pfn)
                mms[c].vmas[ci].ptes[k] = pte
            }
        }
    }
}
