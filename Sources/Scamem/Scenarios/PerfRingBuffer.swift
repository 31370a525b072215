/// kernel/events/ring_buffer.c with CONFIG_PERF_USE_VMALLOC (the arches
/// with cache aliasing select it): rb_alloc() takes one vmalloc_user() area
/// for the user page and the data pages; perf_mmap() leaves the VMA empty
/// and perf_mmap_fault() maps perf_mmap_to_page() (vmalloc_to_page()) with
/// a page reference per fault.
extension Machine {
    /// rb_alloc(): `nrPages` data pages, 0 or a power of two up to 2^20
    /// (else `.invalid`, perf_mmap()'s check), vmalloc_user((nrPages + 1)
    /// * PAGE_SIZE) (`.noMemory`). Returns the buffer and its area. The C
    /// counterpart is `scamem_perf_rb_alloc()`.
    public func perfRbAlloc(nrPages: UInt64) throws(ScamemError) -> (PerfBufferID, kaddr: UInt64) {
        guard nrPages <= 1 << 20, nrPages & (nrPages &- 1) == 0 else { throw .invalid }
        return try newVmallocSubject(.perfBuffer, size: (nrPages + 1) * 4096)
    }

    /// perf_mmap() and a perf_mmap_fault() on every page (the state once the
    /// user page and every data page were touched): the driver VMA holding
    /// `uaddr` must be 1 + nrPages pages at vm_pgoff 0 (else `.invalid`, as
    /// perf_mmap() refuses a size other than the existing buffer's). Each
    /// pte holds the area's scamem as `vmInsertPages` does for a vmalloc
    /// page. `.busy` if the VMA maps something already. The C counterpart
    /// is `scamem_perf_rb_mmap()`.
    public func perfRbMmap(_ rb: PerfBufferID, _ mm: MMID, uaddr: UInt64) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            let (s, vi) = try insertWholeSubject(rb, .perfBuffer, mm, uaddr: uaddr)
            setVMAFlags(s, vi, mms[s].vmas[vi].flags.union(.dontDump))
        }
    }

    /// rb_free() -> rb_free_work(): vfree() of the area. The mappings'
    /// scamem references keep the pages (the kernel's rb refcount, held by
    /// each mmap, defers the free itself). `.badHandle` for a freed buffer.
    /// The C counterpart is `scamem_perf_rb_free()`.
    public func perfRbFree(_ rb: PerfBufferID) throws(ScamemError) {
        try freeVmallocSubject(rb, .perfBuffer)
    }
}
