/// kernel/bpf/ringbuf.c: BPF_MAP_TYPE_RINGBUF. The ring is a plain vmap()
/// (VM_MAP | VM_USERMAP, no VM_MAP_PUT_PAGES) of pages the map allocated
/// one by one, every data page listed twice so a record wrapping the end
/// reads contiguously, mapped to userspace with remap_vmalloc_range().
/// BPF_MAP_TYPE_USER_RINGBUF shares the area and turns the mapping's
/// permissions around (the user produces, the kernel consumes).
extension Machine {
    /// RINGBUF_PGOFF: the bpf_ringbuf header page, never mapped to userspace.
    static let ringbufPgoff = 1
    /// RINGBUF_NR_META_PAGES: the header, consumer and producer pages.
    static let ringbufMetaPages = 3

    /// ringbuf_map_alloc() -> bpf_ringbuf_alloc() -> bpf_ringbuf_area_alloc():
    /// `dataSize` (max_entries) a power of two and page aligned, at most
    /// 2^31 (it is a u32), else `.invalid`; `nid` as BPF_F_NUMA_NODE (nil:
    /// NUMA_NO_NODE). 3 + dataSize/4096 pages from alloc_pages_node(), then
    /// vmap() of 3 + 2 * dataSize/4096 entries. `.noMemory` (-ENOMEM) when
    /// a page or the area cannot be had; nothing stays allocated then.
    /// `user`: BPF_MAP_TYPE_USER_RINGBUF (user_ringbuf_map_alloc(), the same
    /// area). Returns the map and the ring's kernel address. The C
    /// counterpart is `scamem_bpf_ringbuf_alloc()`.
    public func bpfRingbufAlloc(dataSize: UInt64, nid: Int? = nil, user: Bool = false) throws(ScamemError) -> (BpfRingbufID, kaddr: UInt64) {
        guard dataSize >= 4096, dataSize <= 1 << 31, dataSize & (dataSize - 1) == 0 else { throw .invalid }
        let nrData = Int(dataSize / 4096)
        return try lock.withLock { () throws(ScamemError) -> (BpfRingbufID, kaddr: UInt64) in
            _ = try preferredNode(nid)
            let pages = try allocCallerPages(Self.ringbufMetaPages + nrData, nid: nid)
            let list = pages + pages[Self.ringbufMetaPages...]
            let kaddr: UInt64
            do throws(ScamemError) {
                let slot = try adoptScamem(list, owning: false, usermap: true)
                kaddr = try mapArea(slot, nrPages: list.count, flags: [.map, .usermap], caller: 0)
            } catch {
                freeCallerPages(pages, order: 0)
                throw error == .busy ? .noMemory : error
            }
            let h = newScenario(ScenarioRecord(kind: user ? .bpfUserRingbuf : .bpfRingbuf, kaddr: kaddr, size: dataSize,
                                               pages: pages, order: 0))
            return (BpfRingbufID(rawValue: h), kaddr)
        }
    }

    /// ringbuf_map_mmap_kern(): the user mmap()ed the map at file offset
    /// `pgoff` pages into the driver VMA holding `uaddr`; the handler sets
    /// its vm_pgoff and calls `remap_vmalloc_range(vma, rb, vm_pgoff +
    /// RINGBUF_PGOFF)` over the whole VMA. Offset 0 is the consumer page, the
    /// one writable mapping: a VM_WRITE VMA anywhere else, or larger than
    /// that page, is `.notPermitted` (-EPERM); a read-only VMA loses
    /// VM_MAYWRITE (libbpf maps the producer page and the data PROT_READ).
    /// A user ringbuf (ringbuf_map_mmap_user()) is the other way round: the
    /// user produces, so VM_WRITE is refused at offset 0 only. Bounds and the
    /// VMA as remapVmallocRange(): `.invalid` past the ring, `.busy` if the
    /// VMA maps something already, `.fault` where no VMA is, `.badHandle`
    /// (also when a caller removed the ring's area behind its back).
    /// The C counterpart is `scamem_bpf_ringbuf_mmap()`.
    public func bpfRingbufMmap(_ rb: BpfRingbufID, _ mm: MMID, uaddr: UInt64, pgoff: UInt64) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            let r = scenarios[try scenarioSlot(rb, .bpfRingbuf, .bpfUserRingbuf)]
            let (s, vi) = try driverVMA(mm, uaddr)
            let v = mms[s].vmas[vi]
            guard pgoff <= 1 << 32 else { throw .invalid }
            if v.flags.contains(.write) {
                let allowed = r.kind == .bpfRingbuf ? pgoff == 0 && v.end - v.start == 4096 : pgoff != 0
                guard allowed else { throw .notPermitted }
            }
            guard !v.ptes.contains(where: { $0 != 0 }) else { throw .busy }
            guard subjectArea(r) != nil else { throw .badHandle }
            try remapLocked(s, vi, uaddr: v.start, kaddr: r.kaddr, pgoff: pgoff + UInt64(Self.ringbufPgoff),
                            size: v.end - v.start)
            mms[s].vmas[vi].pgoff = pgoff
            if !v.flags.contains(.write) { setVMAFlags(s, vi, mms[s].vmas[vi].flags.subtracting(.mayWrite)) }
        }
    }

    /// bpf_ringbuf_free(): vunmap() of the ring, then __free_page() of each
    /// page. The kernel gets here only once no mapping holds the map (each
    /// VMA holds its file); the model's caller can come earlier, so while a
    /// mapping or a GUP reference still holds the ring, or any page, it is
    /// `.busy` and nothing changes (never a mapped page freed). `.badHandle`
    /// for a freed map. The C counterpart is `scamem_bpf_ringbuf_free()`.
    public func bpfRingbufFree(_ rb: BpfRingbufID) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            let slot = try scenarioSlot(rb, .bpfRingbuf, .bpfUserRingbuf)
            let r = scenarios[slot]
            let ai = subjectArea(r)
            guard !subjectPagesHeld(r, area: ai) else { throw .busy }
            if let ai { removeArea(at: ai) }
            freeCallerPages(r.pages, order: 0)
            removeScenario(slot)
        }
    }
}
