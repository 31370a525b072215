/// io_uring/memmap.c and io_uring/rsrc.c (6.12): the ring and SQE regions
/// (io_pages_map(), mapped by io_uring_mmap() with vm_insert_pages()) and
/// registered buffers (io_sqe_buffers_register() -> io_pin_pages()).
extension Machine {
    /// The largest region: io_pages_map() counts pages in an unsigned short.
    static let ioUringMaxRegionPages = 65535
    /// io_buffer_validate(): a registered buffer is at most SZ_1G.
    static let ioUringMaxBuffer: UInt64 = 1 << 30

    /// io_pages_map(): `size` bytes (rounded up to pages, at most 65535
    /// pages, else `.invalid`). First io_mem_alloc_compound(): one block of
    /// get_order(size) (if at most MAX_PAGE_ORDER), its pages used through
    /// the direct map; failing that (or with `single`, which models a
    /// machine too fragmented for it), io_mem_alloc_single(): alloc_page()
    /// one by one and vmap(VM_MAP) (no VM_USERMAP: the pages reach userspace
    /// through vm_insert_pages(), not the area). These are alloc_pages()
    /// pages: MISC words under every strategy, since no memdesc owns them.
    /// `.noMemory` when neither works. Returns the region and its kernel
    /// address. The C counterpart is `scamem_io_uring_region_alloc()`.
    public func ioUringRegionAlloc(size: UInt64, single: Bool = false) throws(ScamemError) -> (IoUringRegionID, kaddr: UInt64) {
        guard size > 0, size <= UInt64(Self.ioUringMaxRegionPages) * 4096 else { throw .invalid }
        let nr = Int((size + 4095) / 4096)
        return try lock.withLock { () throws(ScamemError) -> (IoUringRegionID, kaddr: UInt64) in
            var order = 0
            while 1 << order < nr { order += 1 }
            if !single, order <= maxPageOrder, let pfn = try? allocCallerBlock(order: order, nid: nil) {
                let h = newScenario(ScenarioRecord(kind: .ioUringRegion, kaddr: directMapBase + pfn * 4096, size: size,
                                                   pages: (0..<UInt64(nr)).map { pfn + $0 }, order: order))
                return (IoUringRegionID(rawValue: h), directMapBase + pfn * 4096)
            }
            if nr == 1 && !single { throw .noMemory }
            let pages = try allocCallerPages(nr, nid: nil)
            let kaddr: UInt64
            do throws(ScamemError) {
                let slot = try adoptScamem(pages, owning: false, usermap: false)
                kaddr = try mapArea(slot, nrPages: nr, flags: .map, caller: 0)
            } catch {
                freeCallerPages(pages, order: 0)
                throw error == .busy ? .noMemory : error
            }
            let h = newScenario(ScenarioRecord(kind: .ioUringRegion, kaddr: kaddr, size: size, pages: pages, order: 0))
            return (IoUringRegionID(rawValue: h), kaddr)
        }
    }

    /// io_uring_mmap() -> io_uring_mmap_pages(): sets VM_DONTEXPAND on the
    /// driver VMA holding `uaddr` and vm_insert_pages() the region's first
    /// min(region, VMA) pages from its start, as the SQ/CQ ring case does.
    /// Errors as `vmInsertPages` (a page part-way stops the walk, earlier
    /// ones stay mapped), `.badHandle` for a freed region. The C
    /// counterpart is `scamem_io_uring_region_mmap()`.
    public func ioUringRegionMmap(_ region: IoUringRegionID, _ mm: MMID, uaddr: UInt64) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            let r = scenarios[try scenarioSlot(region, .ioUringRegion)]
            let (s, vi) = try driverVMA(mm, uaddr)
            let pages = r.pages
            let n = min(pages.count, mms[s].vmas[vi].nrPages)
            setVMAFlags(s, vi, mms[s].vmas[vi].flags.union(.dontExpand))
            let result = try pages.withUnsafeBufferPointer { (b) throws(ScamemError) in
                try insertPages(s, vi, at: 0, b[0..<n])
            }
            if let error = result.error { throw error }
        }
    }

    /// io_pages_unmap(): vunmap() (single pages) and put_page() of each
    /// page. The kernel puts the pages first and vunmaps after; the model,
    /// whose vmap ledger refuses freeing a vmapped page, vunmaps first, with
    /// the same result. The ring's VMAs hold the io_uring file, so the
    /// kernel frees only after munmap; an earlier call is `.busy` while a
    /// pte maps a page, and nothing changes. The C counterpart is
    /// `scamem_io_uring_region_free()`.
    public func ioUringRegionFree(_ region: IoUringRegionID) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            let slot = try scenarioSlot(region, .ioUringRegion)
            let r = scenarios[slot]
            let ai = subjectArea(r)
            guard !subjectPagesHeld(r, area: ai) else { throw .busy }
            if let ai { removeArea(at: ai) }
            if r.order > 0 { freeCallerPages([r.pages[0]], order: r.order) } else { freeCallerPages(r.pages, order: 0) }
            removeScenario(slot)
        }
    }

    /// io_sqe_buffer_register() of one iovec: io_buffer_validate() (`uaddr`
    /// 0 or `len` above SZ_1G: `.fault`; the end overflowing: `.overflow`;
    /// `len` 0: `.invalid`, io_pin_pages()'s WARN), then io_pin_pages():
    /// pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM) of every page the
    /// range touches. A short pin is undone and is `.fault`, as the kernel
    /// does; a pin refused on the first page is its error (`.fault` on
    /// VM_IO/VM_PFNMAP or unmapped memory). The buffer's folio coalescing
    /// and accounting are not modelled. The C counterpart is
    /// `scamem_io_uring_register_buffer()`.
    public func ioUringRegisterBuffer(_ mm: MMID, uaddr: UInt64, len: UInt64) throws(ScamemError) -> IoUringBufferID {
        guard uaddr != 0, len <= Self.ioUringMaxBuffer else { throw .fault }
        guard len > 0 else { throw .invalid }
        let (end, o) = uaddr.addingReportingOverflow(len + 4095)
        guard !o else { throw .overflow }
        let start = uaddr & ~4095
        let nr = Int((end >> 12) - (start >> 12))
        guard start <= taskSize, UInt64(nr) * 4096 <= taskSize - start else { throw .fault }
        return try lock.withLock { () throws(ScamemError) -> IoUringBufferID in
            let s = try mmSlot(mm)
            let pages = try pinAll(s, start: start, nr: nr, flags: [.write, .longterm])
            return IoUringBufferID(rawValue: newScenario(ScenarioRecord(kind: .ioUringBuffer, kaddr: 0, size: len,
                                                                       pages: pages, order: 0)))
        }
    }

    /// pin_user_pages_fast() of `nr` pages that must all be pinned: a short
    /// count is unpinned and `.fault` (io_pin_pages(), vb2_create_framevec()).
    func pinAll(_ s: Int, start: UInt64, nr: Int, flags: FollFlags) throws(ScamemError) -> [UInt64] {
        var pfns = [UInt64](repeating: 0, count: nr)
        let got = try pfns.withUnsafeMutableBufferPointer { (b) throws(ScamemError) -> Int in
            try gupLongtermLocked(s, start: start, nrPages: nr, flags: flags, pin: true, out: b.baseAddress!)
        }
        guard got == nr else {
            for pfn in pfns.prefix(got) { try? release(pfn, pin: true) }
            throw .fault
        }
        return pfns
    }

    /// io_buffer_unmap(): unpin_user_pages() of the buffer's pages.
    /// `.badHandle` for one already unregistered. The C counterpart is
    /// `scamem_io_uring_unregister_buffer()`.
    public func ioUringUnregisterBuffer(_ buf: IoUringBufferID) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            let slot = try scenarioSlot(buf, .ioUringBuffer)
            unpinAll(scenarios[slot].pages)
            removeScenario(slot)
        }
    }

    /// unpin_user_pages() of pins this subject took: each is in the ledger.
    func unpinAll(_ pfns: [UInt64]) {
        for pfn in pfns { try? release(pfn, pin: true) }
    }
}
