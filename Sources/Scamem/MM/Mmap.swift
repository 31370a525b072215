/// Address spaces: mm creation and exit, mmap and munmap (splitting VMAs;
/// each part of a vmalloc mapping keeps its own scamem reference).
extension Machine {
    func mmSlot(_ mm: MMID) throws(ScamemError) -> Int {
        guard let s = mms.slot(handle: mm.rawValue) else { throw .badHandle }
        return s
    }

    func vmaInfo(_ v: VMA) -> VMAInfo {
        VMAInfo(start: v.start, end: v.end, flags: v.flags, anonymous: v.anonymous,
                mappedPages: v.ptes.reduce(0) { $0 + ($1 != 0 ? 1 : 0) },
                scamem: v.object.flatMap { scamems.slot(handle: $0) != nil ? ScamemID(rawValue: $0) : nil })
    }

    /// mm_alloc(). The C counterpart is `scamem_mm_new()`.
    public func mmNew() -> MMID {
        lock.withLock {
            let slot = mms.insert(MMState())
            return MMID(rawValue: mms.handle(slot))
        }
    }

    /// exit_mmap() + mmput(): unmaps every VMA and frees the mm. Pages that
    /// GUP still holds stay until they are put or unpinned, as in the kernel.
    /// The C counterpart is `scamem_mm_exit()`.
    public func mmExit(_ mm: MMID) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            let s = try mmSlot(mm)
            for v in mms[s].vmas { try unmapPages(v, 0..<v.nrPages, keepers: 0) }
            mms.remove(s)
        }
    }

    /// mmap(): a new VMA of `length` bytes. `addr` is a hint (or, with
    /// `.fixed`, the address; an overlap is `.exists`, as
    /// MAP_FIXED_NOREPLACE). Returns the start. The C counterpart is
    /// `scamem_mmap()`.
    public func mmap(_ mm: MMID, addr: UInt64 = 0, length: UInt64, flags: MapFlags) throws(ScamemError) -> UInt64 {
        guard MapFlags.known.isSuperset(of: flags), flags.contains(.shared) != flags.contains(.private),
              length > 0, length <= taskSize, addr & 4095 == 0, addr <= taskSize else { throw .invalid }
        // Each VMA keeps a dense page table: the model bounds its size.
        guard length <= maxVMABytes else { throw .noMemory }
        let len = (length + 4095) & ~4095
        return try lock.withLock { () throws(ScamemError) -> UInt64 in
            let s = try mmSlot(mm)
            let start: UInt64
            if flags.contains(.fixed) {
                guard addr != 0, len <= taskSize - addr else { throw .invalid }
                let i = lowerVMA(s, addr)
                if i < mms[s].vmas.count, mms[s].vmas[i].start < addr + len { throw .exists }
                start = addr
            } else {
                start = try findGap(s, len, from: addr == 0 ? mmapBase : addr)
            }
            var vflags: VMAFlags = [.read, .write]
            if flags.contains(.shared) { vflags.insert(.shared) }
            let vma = VMA(start: start, end: start + len, flags: vflags, anonymous: flags.contains(.anonymous),
                          object: nil, pgoff: 0, ptes: [UInt64](repeating: 0, count: Int(len / 4096)))
            mms[s].vmas.insert(vma, at: lowerVMA(s, start))
            return start
        }
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

    /// munmap(): unmaps `[addr, addr + length)`, splitting VMAs at the
    /// edges. The C counterpart is `scamem_munmap()`.
    public func munmap(_ mm: MMID, addr: UInt64, length: UInt64) throws(ScamemError) {
        guard addr & 4095 == 0, length > 0, length <= taskSize, addr <= taskSize - length else { throw .invalid }
        let end = addr + ((length + 4095) & ~4095)
        try lock.withLock { () throws(ScamemError) in
            let s = try mmSlot(mm)
            var i = lowerVMA(s, addr)
            while i < mms[s].vmas.count, mms[s].vmas[i].start < end {
                let v = mms[s].vmas[i]
                let lo = max(v.start, addr), hi = min(v.end, end)
                var parts: [VMA] = []
                if v.start < lo { parts.append(slice(v, v.start, lo)) }
                if hi < v.end { parts.append(slice(v, hi, v.end)) }
                try unmapPages(v, v.pteIndex(lo)..<v.pteIndex(hi), keepers: parts.filter { $0.object != nil }.count)
                mms[s].vmas.replaceSubrange(i...i, with: parts)
                i += parts.count
            }
        }
    }

    /// The part `[from, to)` of a VMA, with its ptes; a vmalloc part keeps
    /// the scamem only if it still maps one of its pages.
    func slice(_ v: VMA, _ from: UInt64, _ to: UInt64) -> VMA {
        let ptes = Array(v.ptes[v.pteIndex(from)..<v.pteIndex(to)])
        var p = VMA(start: from, end: to, flags: v.flags, anonymous: v.anonymous, object: v.object,
                    pgoff: v.pgoff + (from - v.start) / 4096, ptes: ptes)
        if !ptes.contains(where: { $0 != 0 }) { p.object = nil }
        return p
    }

    /// zap_pte_range(): drops what the ptes in `range` hold: a folio's
    /// mapcount and reference (anon, or vm_insert_page()d), nothing for a
    /// special pte, or whatever the strategy has a mapping hold on scamem
    /// pages; `keepers` parts of the VMA still map its scamem.
    func unmapPages(_ v: VMA, _ range: Range<Int>, keepers: Int) throws(ScamemError) {
        if v.flags.contains(.pfnMap) { return }
        if let object = v.object, !v.anonymous {
            let pfns = v.ptes[range].compactMap { $0 == 0 ? nil : $0 - 1 }
            try strategy.unmapped(object: object, pfns: pfns, keepers: keepers, in: self)
            return
        }
        for i in range where v.ptes[i] != 0 {
            guard let (id, d) = try? descriptor(of: v.ptes[i] - 1, PageType.folioTypes) else {
                releaseInsertedPage(v.ptes[i] - 1) // an alloc_pages() page (Memory.swift)
                continue
            }
            d.pointee.mapcount -= 1
            d.pointee.refcount -= 1
            if d.pointee.refcount == 0 { destroyDescriptor(id, d) }
        }
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
