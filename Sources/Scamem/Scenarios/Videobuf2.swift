/// drivers/media/common/videobuf2/videobuf2-vmalloc.c: MMAP buffers
/// (vb2_vmalloc_alloc() = vmalloc_user(), vb2_vmalloc_mmap() =
/// remap_vmalloc_range()) and USERPTR buffers (vb2_vmalloc_get_userptr():
/// vb2_create_framevec() pins the user's pages with FOLL_LONGTERM).
extension Machine {
    /// The largest buffer the model takes (a 4K NV12 frame is 12 MiB).
    static let vb2MaxBuffer: UInt64 = 1 << 30

    /// vb2_vmalloc_alloc(): vmalloc_user(size) (`size` 0 or above 1 GiB:
    /// `.invalid`; `.noMemory`). Returns the buffer and its area. The C
    /// counterpart is `scamem_vb2_vmalloc_alloc()`.
    public func vb2VmallocAlloc(size: UInt64) throws(ScamemError) -> (Vb2BufferID, kaddr: UInt64) {
        guard size > 0, size <= Self.vb2MaxBuffer else { throw .invalid }
        return try newVmallocSubject(.vb2Buffer, size: size)
    }

    /// vb2_vmalloc_mmap(): remap_vmalloc_range(vma, vaddr, 0) of the whole
    /// driver VMA holding `uaddr`, and VM_DONTEXPAND; errors as
    /// remapVmallocRange() (`.invalid` for a VMA larger than the buffer).
    /// `.badHandle` for a freed or USERPTR buffer. The C counterpart is
    /// `scamem_vb2_vmalloc_mmap()`.
    public func vb2VmallocMmap(_ buf: Vb2BufferID, _ mm: MMID, uaddr: UInt64) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            let r = scenarios[try scenarioSlot(buf, .vb2Buffer)]
            let (s, vi) = try driverVMA(mm, uaddr)
            let v = mms[s].vmas[vi]
            guard subjectArea(r) != nil else { throw .badHandle }
            try remapLocked(s, vi, uaddr: v.start, kaddr: r.kaddr, pgoff: 0, size: v.end - v.start)
        }
    }

    /// vb2_vmalloc_put(): the buffer's last reference, vfree(). The kernel's
    /// vb2_common_vm_open() refcount keeps the buffer while mapped; here the
    /// mappings' scamem references keep the pages instead. `.badHandle` for
    /// a freed or USERPTR buffer. The C counterpart is `scamem_vb2_vmalloc_put()`.
    public func vb2VmallocPut(_ buf: Vb2BufferID) throws(ScamemError) {
        try freeVmallocSubject(buf, .vb2Buffer)
    }

    /// vb2_vmalloc_get_userptr(): vb2_create_framevec() ->
    /// get_vaddr_frames(): pin_user_pages_fast(FOLL_LONGTERM, and
    /// FOLL_WRITE for a capture buffer, `write`) of every page `[uaddr,
    /// uaddr + size)` touches; only a complete set is taken (a short pin is
    /// undone, `.fault`). `size` 0 or above 1 GiB, or the range beyond
    /// TASK_SIZE: `.invalid`. The kernel then vm_map_ram()s the pages for
    /// the driver; the model does not map them (the pins are what hold
    /// them). The C counterpart is `scamem_vb2_vmalloc_get_userptr()`.
    public func vb2VmallocGetUserptr(_ mm: MMID, uaddr: UInt64, size: UInt64, write: Bool) throws(ScamemError) -> Vb2BufferID {
        guard size > 0, size <= Self.vb2MaxBuffer, uaddr <= taskSize, size <= taskSize - uaddr else { throw .invalid }
        let first = uaddr >> 12, last = (uaddr + size - 1) >> 12
        return try lock.withLock { () throws(ScamemError) -> Vb2BufferID in
            let s = try mmSlot(mm)
            let pages = try pinAll(s, start: first << 12, nr: Int(last - first + 1), flags: write ? [.longterm, .write] : .longterm)
            return Vb2BufferID(rawValue: newScenario(ScenarioRecord(kind: .vb2Userptr, kaddr: 0, size: size,
                                                                   pages: pages, order: 0)))
        }
    }

    /// vb2_vmalloc_put_userptr(): vm_unmap_ram() and unpin_user_pages().
    /// `.badHandle` for a released or MMAP buffer. The C counterpart is
    /// `scamem_vb2_vmalloc_put_userptr()`.
    public func vb2VmallocPutUserptr(_ buf: Vb2BufferID) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            let slot = try scenarioSlot(buf, .vb2Userptr)
            unpinAll(scenarios[slot].pages)
            removeScenario(slot)
        }
    }
}
