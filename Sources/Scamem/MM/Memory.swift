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
            setVMAFlags(s, vi, mms[s].vmas[vi].flags.union([.io, .pfnMap, .dontExpand, .dontDump]))
        }
    }

    /// vm_insert_pages(): inserts `pfns` at `uaddr` one by one in the VMA
    /// holding it and sets VM_MIXEDMAP. `num` is in and out, as the kernel's
    /// `unsigned long *num`: on return it counts the pages not inserted (0 on
    /// success; unchanged when the call fails before the first page); pages
    /// inserted before an error stay. What a pte holds follows the page, as
    /// validate_page_before_insert() accepts any refcounted page that is not
    /// anon, slab or typed:
    /// - a FILE folio: a folio reference and a map count
    ///   (`insert_page_into_pte_locked()`);
    /// - an `allocPages` page (MISC, as io_uring's ring pages from
    ///   alloc_page()): under memdescs it has no refcount to take, so the
    ///   pte holds it in the model's pte ledger and `freePages` is `.busy`
    ///   until it is unmapped; GUP finds no reference to take on it (`.fault`);
    /// - a vmalloc page (kcov_mmap() inserts vmalloc_to_page()): the VMA
    ///   holds the area's scamem as remap_vmalloc_range() does. Found from
    ///   the page alone under PFN_LOOKUP, FLAGS_ARRAY and PACKED; LEGACY
    ///   counts on the struct page; VMA_PRIVATE finds the scamem only through
    ///   the VMA, so the first vmalloc page inserted into a VMA that maps no
    ///   area yet is `.invalid` there (a driver must name the area in
    ///   vm_private_data first, as the kcov and perf scenarios do).
    /// One source per VMA: a vmalloc page into a VMA with other ptes, or
    /// any other page into a VMA that maps an area, is `.busy`.
    /// The C counterpart is `scamem_vm_insert_pages()`.
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
        setVMAFlags(s, vi, mms[s].vmas[vi].flags.union(.mixedMap))
        for (k, pfn) in pfns.enumerated() {
            do throws(ScamemError) {
                let w = try checkedWord(pfn)
                guard mms[s].vmas[vi].ptes[first + k] == 0 else { throw .busy }
                if w.type == .misc && w.subtype == MiscSubtype.unknown.rawValue {
                    try insertCallerPage(s, vi, pte: first + k, pfn)
                } else if w.type == .file {
                    guard mms[s].vmas[vi].object == nil else { throw .busy }
                    guard let d = descriptors.lookup(w.descriptorID) else { throw .invalid }
                    guard d.refs < Int32.max, d.pointee.mapcount < Int32.max else { throw .overflow }
                    d.refAdd(1)
                    d.pointee.mapcount += 1
                    mms[s].vmas[vi].ptes[first + k] = pfn + 1
                } else {
                    try insertAreaPage(s, vi, pte: first + k, pfn, slot: try areaSlot(inserting: pfn, w, s, vi))
                }
            } catch {
                return (k, error)
            }
        }
        return (pfns.count, nil)
    }

    /// An alloc_pages() page: the pte ledger holds it against freePages().
    func insertCallerPage(_ s: Int, _ vi: Int, pte: Int, _ pfn: UInt64) throws(ScamemError) {
        guard mms[s].vmas[vi].object == nil else { throw .busy }
        try takeInsertedPage(pfn)
        mms[s].vmas[vi].ptes[pte] = pfn + 1
    }

    /// A new pte of an alloc_pages() page (insert, fork's copy).
    func takeInsertedPage(_ pfn: UInt64) throws(ScamemError) {
        guard pteLedger[pfn, default: 0] < Int32.max else { throw .overflow }
        pteLedger[pfn, default: 0] += 1
    }

    /// zap_pte_range() of an alloc_pages() page's pte (called from dropPtes()).
    func releaseInsertedPage(_ pfn: UInt64) {
        if let n = pteLedger[pfn], n > 1 { pteLedger[pfn] = n - 1 } else { pteLedger[pfn] = nil }
    }

    /// The scamem owning vmalloc page `pfn`, for vm_insert_page() into VMA
    /// `vi`, as each strategy can name it (see `vmInsertPages`). Anything
    /// else (slab, ptdesc, anon, free, reserved) is `.invalid`.
    func areaSlot(inserting pfn: UInt64, _ w: PageWord, _ s: Int, _ vi: Int) throws(ScamemError) -> Int {
        let named = mms[s].vmas[vi].object.flatMap { scamems.slot(handle: $0) }
        guard let p = strategy.page(pfn, word: w, through: named, in: self) else { throw .invalid }
        switch strategy.kind {
        case .legacy:
            // The struct page carries the count; the slot only names the area.
            for a in vmalloc.areas where scamems[a.slot].ownsPages {
                let b = scamems[a.slot].block
                for i in 0..<b.nr where b.pages[i] == pfn { return a.slot }
            }
            throw .invalid
        case .vmaPrivate:
            // The VMA names the area; the page must be one of its own.
            guard let slot = p.slot, scamems[slot].ownsPages,
                  UnsafeBufferPointer(start: scamems[slot].block.pages, count: scamems[slot].block.nr).contains(pfn)
            else { throw .invalid }
            return slot
        default:
            guard let slot = p.slot, scamems[slot].ownsPages else { throw .invalid }
            return slot
        }
    }

    /// A page of scamem `slot` at pte `pte`: the VMA maps that area and,
    /// the first time, takes its reference, as remapLocked() does.
    func insertAreaPage(_ s: Int, _ vi: Int, pte: Int, _ pfn: UInt64, slot: Int) throws(ScamemError) {
        let object = scamems.handle(slot)
        let mapped = mms[s].vmas[vi].object
        if let mapped, mapped != object { throw .busy }
        if mapped == nil, mms[s].vmas[vi].ptes.contains(where: PTE.isSource) { throw .busy }
        guard mms[s].vmas[vi].ptes[pte] == 0 else { throw .busy }
        var one = pfn
        try withUnsafePointer(to: &one) { (p) throws(ScamemError) in
            try strategy.mapped(object: object, pfns: UnsafeBufferPointer(start: p, count: 1), first: mapped == nil, in: self)
        }
        mms[s].vmas[vi].object = object
        mms[s].vmas[vi].objectPtes += 1
        mms[s].vmas[vi].ptes[pte] = pfn + 1
    }
}
