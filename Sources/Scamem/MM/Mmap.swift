/// Address spaces (mm/mmap.c, mm/vma.c): mm creation and exit, mmap and
/// munmap, VMA splits and the zap that ends a mapping's references.
extension Machine {
    func mmSlot(_ mm: MMID) throws(ScamemError) -> Int {
        guard let s = mms.slot(handle: mm.rawValue) else { throw .badHandle }
        return s
    }

    func vmaInfo(_ v: VMA) -> VMAInfo {
        VMAInfo(start: v.start, end: v.end, flags: v.flags, anonymous: v.anonymous,
                mappedPages: v.ptes.reduce(0) { $0 + (PTE.isPresent($1) ? 1 : 0) },
                scamem: v.object.flatMap { scamems.slot(handle: $0) != nil ? ScamemID(rawValue: $0) : nil })
    }

    /// mm_alloc(). The C counterpart is `scamem_mm_new()`.
    public func mmNew() throws(ScamemError) -> MMID {
        try lock.withLock { () throws(ScamemError) -> MMID in
            let s = try insertMM()
            return MMID(rawValue: mms.handle(s))
        }
    }

    /// exit_mmap() + mmput(): unmaps every VMA and frees the mm. Pages that
    /// GUP still holds stay until they are put or unpinned, as in the kernel.
    /// The C counterpart is `scamem_mm_exit()`.
    public func mmExit(_ mm: MMID) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            let s = try mmSlot(mm)
            while !mms[s].vmas.isEmpty { removeVMA(s, mms[s].vmas.count - 1) }
            removeMM(s)
        }
    }

    /// mmap() with PROT_READ | PROT_WRITE, as 0.1 mapped every VMA. The C
    /// counterpart is `scamem_mmap()`.
    public func mmap(_ mm: MMID, addr: UInt64 = 0, length: UInt64, flags: MapFlags) throws(ScamemError) -> UInt64 {
        try mmap(mm, addr: addr, length: length, prot: [.read, .write], flags: flags)
    }

    /// do_mmap(): a new VMA of `length` bytes with `prot`. `addr` is a hint
    /// (or, with `.fixed`, the address; an overlap is `.exists`, as
    /// MAP_FIXED_NOREPLACE). VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC are set (a
    /// driver file opened read-write); MAP_SHARED adds VM_SHARED |
    /// VM_MAYSHARE, and MAP_SHARED | MAP_ANONYMOUS is shmem
    /// (shmem_zero_setup()). Returns the start. The C counterpart is
    /// `scamem_do_mmap()`.
    public func mmap(_ mm: MMID, addr: UInt64 = 0, length: UInt64, prot: ProtFlags,
                     flags: MapFlags) throws(ScamemError) -> UInt64 {
        guard MapFlags.known.isSuperset(of: flags), ProtFlags.known.isSuperset(of: prot),
              flags.contains(.shared) != flags.contains(.private),
              length > 0, length <= taskSize, addr & 4095 == 0, addr <= taskSize else { throw .invalid }
        // Each VMA keeps a dense page table: the model bounds its size.
        guard length <= maxVMABytes else { throw .noMemory }
        let len = (length + 4095) & ~4095
        return try lock.withLock { () throws(ScamemError) -> UInt64 in
            let s = try mmSlot(mm)
            let start: UInt64
            if flags.contains(.fixed) {
                guard addr != 0, len <= taskSize - addr else { throw .invalid }
                guard isFree(s, addr, len) else { throw .exists }
                start = addr
            } else {
                start = try findGap(s, len, from: addr == 0 ? mmapBase : addr)
            }
            var vflags = prot.vmFlags.union([.mayRead, .mayWrite, .mayExec])
            if flags.contains(.shared) { vflags.formUnion([.shared, .mayShare]) }
            var vma = VMA(start: start, end: start + len, flags: vflags, anonymous: flags.contains(.anonymous),
                          object: nil, pgoff: 0, ptes: try PteTable.empty(count: Int(len / 4096)))
            if vma.anonymous && flags.contains(.shared) { vma.shmem = shmemZeroSetup(nrPages: vma.nrPages) }
            vmasChanging(s)
            mms[s].vmas.insert(vma, at: lowerVMA(s, start))
            return start
        }
    }

    /// Whether no VMA meets `[addr, addr + len)`.
    func isFree(_ s: Int, _ addr: UInt64, _ len: UInt64) -> Bool {
        let i = lowerVMA(s, addr)
        return i == mms[s].vmas.count || mms[s].vmas[i].start >= addr + len
    }

    /// The first VMA index ending after `addr`.
    func lowerVMA(_ s: Int, _ addr: UInt64) -> Int {
        var lo = 0, hi = mms[s].vmas.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if mms[s].vmas[mid].end <= addr { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// get_unmapped_area(), bottom-up first fit from `from`.
    func findGap(_ s: Int, _ len: UInt64, from: UInt64) throws(ScamemError) -> UInt64 {
        var candidate = from
        for v in mms[s].vmas[lowerVMA(s, from)...] {
            if v.start >= candidate && v.start - candidate >= len { break }
            candidate = max(candidate, v.end)
        }
        guard candidate <= taskSize, len <= taskSize - candidate else { throw .noMemory }
        return candidate
    }

    /// munmap(): unmaps `[addr, addr + length)`, splitting VMAs at the edges
    /// (do_vmi_align_munmap(): split, zap, then remove). The C counterpart is
    /// `scamem_munmap()`.
    public func munmap(_ mm: MMID, addr: UInt64, length: UInt64) throws(ScamemError) {
        guard addr & 4095 == 0, length > 0, length <= taskSize, addr <= taskSize - length else { throw .invalid }
        let end = addr + ((length + 4095) & ~4095)
        try lock.withLock { () throws(ScamemError) in
            let s = try mmSlot(mm)
            try unmapRange(s, addr, end)
        }
    }

    /// Removes every VMA part inside `[addr, end)`.
    func unmapRange(_ s: Int, _ addr: UInt64, _ end: UInt64) throws(ScamemError) {
        let (first, last) = try splitRange(s, addr, end)
        for i in (first..<last).reversed() { removeVMA(s, i) }
    }

    /// Splits the VMAs at `addr` and `end` and returns the indices of those
    /// inside `[addr, end)`.
    func splitRange(_ s: Int, _ addr: UInt64, _ end: UInt64) throws(ScamemError) -> (Int, Int) {
        var i = lowerVMA(s, addr)
        if i < mms[s].vmas.count, mms[s].vmas[i].start < addr { try splitVMA(s, i, at: addr); i += 1 }
        var j = i
        while j < mms[s].vmas.count, mms[s].vmas[j].start < end {
            if mms[s].vmas[j].end > end { try splitVMA(s, j, at: end) }
            j += 1
        }
        return (i, j)
    }

    /// __split_vma(): VMA `i` becomes two at `addr`. The new VMA gets its own
    /// references, as vm_area_dup() takes the file's and `vm_ops->open()`
    /// the driver's: here, a part keeps the scamem while it maps a page of it.
    func splitVMA(_ s: Int, _ i: Int, at addr: UInt64) throws(ScamemError) {
        vmasChanging(s)
        let v = mms[s].vmas[i]
        var lo = try slice(v, v.start, addr), hi = try slice(v, addr, v.end)
        if let f = v.shmem { try shmemGetFile(f) }
        if let o = v.object {
            if !lo.mapsObject { lo.object = nil }
            if !hi.mapsObject { hi.object = nil }
            if lo.object != nil, hi.object != nil {
                do throws(ScamemError) {
                    try strategy.mapped(object: o, pfns: UnsafeBufferPointer(start: nil, count: 0), first: true, in: self)
                } catch {
                    if let f = v.shmem { shmemPutFile(f) }
                    throw error
                }
            }
        }
        mms[s].vmas.replaceSubrange(i...i, with: [lo, hi])
    }

    /// The part `[from, to)` of a VMA, with a copy of its ptes.
    func slice(_ v: VMA, _ from: UInt64, _ to: UInt64) throws(ScamemError) -> VMA {
        var p = v
        p.start = from
        p.end = to
        p.pgoff = v.pgoff + (from - v.start) / 4096
        p.ptes = try PteTable.copy(v.ptes[v.pteIndex(from)..<v.pteIndex(to)], count: v.pteIndex(to) - v.pteIndex(from))
        p.objectPtes = v.object == nil ? 0 : p.ptes.reduce(0) { $0 + (PTE.isSource($1) ? 1 : 0) }
        return p
    }

    /// vm_flags_reset(): VMA `vi`'s flags become `f`, GUP-fast's copy of the
    /// VMAs withdrawn first (`vmasChanging`): a copy without a new VM_PFNMAP
    /// or read-only bit would let it follow what it must not.
    func setVMAFlags(_ s: Int, _ vi: Int, _ f: VMAFlags) {
        guard mms[s].vmas[vi].flags != f else { return }
        vmasChanging(s)
        mms[s].vmas[vi].flags = f
    }

    /// remove_vma() after unmap_region(): zaps the VMA, drops its file
    /// reference and takes it out of the mm.
    func removeVMA(_ s: Int, _ i: Int) {
        vmasChanging(s)
        zap(s, i, 0..<mms[s].vmas[i].nrPages)
        if let f = mms[s].vmas[i].shmem { shmemPutFile(f) }
        mms[s].vmas.remove(at: i)
    }

    /// zap_pte_range(): clears the ptes in `range` of VMA `vi`, then drops
    /// what they held (the mmu_gather rule: references go after the ptes,
    /// and after the TLB flush, whose IPI waits for a GUP-fast running with
    /// interrupts off: here a grace period). So whatever a GUP-fast reader
    /// reached through a pte stays alive until it is done: its try-get
    /// never finds the folio or scamem freed, and its undo never drops the
    /// last reference. Every pte change that drops a reference follows it.
    func zap(_ s: Int, _ vi: Int, _ range: Range<Int>) {
        guard mms[s].vmas[vi].ptes[range].contains(where: { $0 != 0 }) else { return }
        let old = Array(mms[s].vmas[vi].ptes[range])
        for i in range { mms[s].vmas[vi].ptes[i] = 0 }
        tlbFlush(s)
        dropPtes(s, vi, old)
    }

    /// The TLB flush after ptes of mm `s` were cleared or changed
    /// (tlb_flush_mmu(), whose IPI a GUP-fast with interrupts off holds
    /// off): waits for GUP-fast readers. Only while the mm's VMAs are
    /// published can one have reached a pte; withdrawing them waited.
    func tlbFlush(_ s: Int) {
        if mmCell(s).vmas != nil { rcu.synchronize() }
    }

    /// Drops what `ptes`, already cleared from VMA `vi`, held: an anon
    /// page's folio mapping; for the VMA's source, a folio mapping (shmem,
    /// vm_insert_page()), nothing (the zero page, special ptes), or what the
    /// strategy has a mapping hold on scamem pages. A VMA that maps no page
    /// of its scamem any more drops its reference on it.
    func dropPtes<C: Collection<UInt64>>(_ s: Int, _ vi: Int, _ ptes: C) {
        var objectPfns: [UInt64] = []
        let v = mms[s].vmas[vi]
        // A hwpoison entry holds nothing (zap_nonpresent_ptes()).
        for pte in ptes where PTE.isPresent(pte) {
            let pfn = PTE.pfn(pte)
            if pte & PTE.anon != 0 { dropFolioReference(pfn, mapped: true); continue }
            if v.flags.contains(.pfnMap) || pfn == zeroPfn { continue }
            if v.object != nil { objectPfns.append(pfn) } else if !pteLedger.isEmpty, pteLedger[pfn] != nil {
                releaseInsertedPage(pfn) // an alloc_pages() page (Memory.swift)
            } else { dropFolioReference(pfn, mapped: true) }
        }
        guard let object = v.object, !objectPfns.isEmpty else { return }
        mms[s].vmas[vi].objectPtes -= objectPfns.count
        let last = !mms[s].vmas[vi].mapsObject
        if last { mms[s].vmas[vi].object = nil }
        strategy.unmapped(object: object, pfns: objectPfns, last: last, in: self)
    }

    /// A pte (`mapped`) or the page cache lets go of its folio reference;
    /// the last one frees it.
    func dropFolioReference(_ pfn: UInt64, mapped: Bool) {
        guard let (id, d) = try? descriptor(of: pfn, PageType.folioTypes) else { return }
        if mapped { d.pointee.mapcount -= 1 }
        if d.refSub(1) == 0 { destroyDescriptor(id, d) }
    }

    /// A new pte's folio reference and map count.
    func takeFolioMapping(_ pfn: UInt64) throws(ScamemError) {
        let (_, d) = try descriptor(of: pfn, PageType.folioTypes)
        guard d.refs < Int32.max, d.pointee.mapcount < Int32.max else { throw .overflow }
        d.refAdd(1)
        d.pointee.mapcount += 1
    }

    /// The VMA holding `addr`. The C counterpart is `scamem_find_vma()`.
    public func findVMA(_ mm: MMID, _ addr: UInt64) throws(ScamemError) -> VMAInfo {
        try lock.withLock { () throws(ScamemError) -> VMAInfo in
            let s = try mmSlot(mm)
            guard let i = mms[s].index(containing: addr) else { throw .fault }
            return vmaInfo(mms[s].vmas[i])
        }
    }

    /// Every VMA of `mm`, lowest first.
    public func vmas(_ mm: MMID) throws(ScamemError) -> [VMAInfo] {
        try lock.withLock { () throws(ScamemError) -> [VMAInfo] in mms[try mmSlot(mm)].vmas.map(vmaInfo) }
    }
}
