import Testing
import Scamem

/// The kernel's users of scattered memory (Scenarios/), under every strategy.
@Suite struct ScenarioTests {
    /// bpf ringbuf: the data pages twice in one non-owning, user-mapped area.
    @Test(arguments: Strategy.allCases)
    func bpfRingbufDoubleMapping(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let (rb, k) = try m.bpfRingbufAlloc(dataSize: 4 * 4096, nid: 1)
        #expect(totalFree(m) == free0 - 7)
        let area = try #require(m.findVmArea(k))
        #expect(area.nrPages == 11 && area.flags.isSuperset(of: [.map, .usermap]) && !area.flags.contains(.mapPutPages))
        #expect(try m.scamemStat(area.scamem).ownsPages == false)
        #expect(try m.vmallocToPfn(k + 3 * 4096) == m.vmallocToPfn(k + 7 * 4096))
        #expect(try m.pageToNid(m.vmallocToPfn(k)) == 1)
        expectClean(m)

        let mm = try m.mmNew()
        let cons = try m.mmap(mm, length: 4096, flags: .shared)
        let data = try m.mmap(mm, length: 9 * 4096, prot: .read, flags: .shared)
        let wide = try m.mmap(mm, length: 2 * 4096, flags: .shared)
        // The one writable mapping is the consumer page, alone.
        #expect(throws: ScamemError.notPermitted) { try m.bpfRingbufMmap(rb, mm, uaddr: wide, pgoff: 0) }
        #expect(throws: ScamemError.notPermitted) { try m.bpfRingbufMmap(rb, mm, uaddr: wide, pgoff: 1) }
        try m.bpfRingbufMmap(rb, mm, uaddr: cons, pgoff: 0)
        try m.bpfRingbufMmap(rb, mm, uaddr: data, pgoff: 1)
        #expect(!(try m.findVMA(mm, data).flags.contains(.mayWrite)))
        #expect(throws: ScamemError.permission) { try m.mprotect(mm, addr: data, length: 9 * 4096, prot: [.read, .write]) }
        #expect(throws: ScamemError.busy) { try m.bpfRingbufMmap(rb, mm, uaddr: data, pgoff: 1) }
        // Past the ring: 10 pages from offset 1 is one too many.
        let big = try m.mmap(mm, length: 10 * 4096, prot: .read, flags: .shared)
        #expect(throws: ScamemError.invalid) { try m.bpfRingbufMmap(rb, mm, uaddr: big, pgoff: 1) }
        for i in 0..<4 as Range<UInt64> {
            #expect(try m.followPage(mm, data + (1 + i) * 4096) == m.followPage(mm, data + (5 + i) * 4096))
        }
        #expect(try m.followPage(mm, cons) == m.vmallocToPfn(k + 4096))
        expectClean(m)

        // GUP: the page's word is its allocator's, so only strategies that
        // do not need the word to find the holder can take a reference.
        let canGup = strategy == .legacy || strategy == .vmaPrivate
        var pinned: [UInt64] = []
        if canGup {
            pinned = try m.pinUserPages(mm, start: data + 4096, nrPages: 1, flags: .longterm)
            pinned += try m.pinUserPages(mm, start: data + 5 * 4096, nrPages: 1, flags: .longterm)
            #expect(pinned[0] == pinned[1])
        } else {
            #expect(throws: ScamemError.fault) { try m.pinUserPages(mm, start: data + 4096, nrPages: 1) }
        }
        expectClean(m)

        // Freeing while mapped (the kernel cannot get here: the VMA holds the map).
        #expect(throws: ScamemError.busy) { try m.bpfRingbufFree(rb) }
        #expect(throws: ScamemError.busy) { try m.freePages(m.vmallocToPfn(k), order: 0) }
        try m.munmap(mm, addr: data, length: 9 * 4096)
        expectClean(m)
        try m.mmExit(mm)
        expectClean(m)
        if canGup {
            #expect(throws: ScamemError.busy) { try m.bpfRingbufFree(rb) }
            try m.unpinUserPage(pinned[0])
            #expect(throws: ScamemError.busy) { try m.bpfRingbufFree(rb) }
            try m.unpinUserPage(pinned[1])
            expectClean(m)
        }
        try m.bpfRingbufFree(rb)
        #expect(totalFree(m) == free0 && m.vmAreas().isEmpty)
        #expect(throws: ScamemError.badHandle) { try m.bpfRingbufFree(rb) }
        expectClean(m)
    }

    /// vunmap() of a ringbuf-style area while mapped: the mapping keeps the
    /// scamem, so the caller's free stays refused until munmap.
    @Test(arguments: Strategy.allCases)
    func userMappedVmapOutlivesVunmap(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let pages = try (0..<2).map { _ throws(ScamemError) in try m.allocPages(order: 0) }
        let k = try m.vmap(pages + pages, flags: [.usermap])
        let mm = try m.mmNew()
        let u = try m.mmap(mm, length: 4 * 4096, flags: .shared)
        try m.remapVmallocRange(mm, uaddr: u, kaddr: k, pgoff: 0)
        try m.vunmap(k)
        expectClean(m)
        #expect(throws: ScamemError.busy) { try m.freePages(pages[0], order: 0) }
        try m.munmap(mm, addr: u, length: 2 * 4096)
        #expect(throws: ScamemError.busy) { try m.freePages(pages[1], order: 0) }
        try m.munmap(mm, addr: u + 2 * 4096, length: 2 * 4096)
        for p in pages { try m.freePages(p, order: 0) }
        expectClean(m)
        // Only alloc_pages() pages in a user-mappable plain vmap.
        let folio = try m.folioAlloc(.file)
        #expect(throws: ScamemError.invalid) { try m.vmap([folio], flags: [.usermap]) }
        // An owning vmap still takes each page once.
        let p = try m.allocPages(order: 0)
        #expect(throws: ScamemError.invalid) { try m.vmap([p, p], flags: [.mapPutPages]) }
        expectClean(m)
    }

    /// BPF_MAP_TYPE_USER_RINGBUF: the same area, the consumer page read-only.
    @Test(arguments: Strategy.allCases)
    func bpfUserRingbuf(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let (rb, k) = try m.bpfRingbufAlloc(dataSize: 2 * 4096, user: true)
        let mm = try m.mmNew()
        let u = try m.mmap(mm, length: 2 * 4096, prot: .read, flags: .shared)
        let w = try m.mmap(mm, length: 3 * 4096, flags: .shared)
        #expect(throws: ScamemError.notPermitted) { try m.bpfRingbufMmap(rb, mm, uaddr: w, pgoff: 0) }
        try m.bpfRingbufMmap(rb, mm, uaddr: u, pgoff: 0)
        try m.bpfRingbufMmap(rb, mm, uaddr: w, pgoff: 1) // the producer page and data, writable
        #expect(try m.followPage(mm, u + 4096) == m.vmallocToPfn(k + 2 * 4096))
        expectClean(m)
        try m.mmExit(mm)
        try m.bpfRingbufFree(rb)
        #expect(totalFree(m) == free0)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func bpfRingbufBadInput(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        for size: UInt64 in [0, 2048, 3 * 4096, 1 << 32, .max] {
            #expect(throws: ScamemError.invalid) { try m.bpfRingbufAlloc(dataSize: size) }
        }
        #expect(throws: ScamemError.invalid) { try m.bpfRingbufAlloc(dataSize: 4096, nid: 2) }
        #expect(throws: ScamemError.invalid) { try m.bpfRingbufAlloc(dataSize: 4096, nid: -3) }
        #expect(throws: ScamemError.noMemory) { try m.bpfRingbufAlloc(dataSize: 1 << 31) }
        let (rb, _) = try m.bpfRingbufAlloc(dataSize: 4096)
        let mm = try m.mmNew()
        #expect(throws: ScamemError.fault) { try m.bpfRingbufMmap(rb, mm, uaddr: 0x1000_0000, pgoff: 1) }
        let anon = try m.mmap(mm, length: 4096, flags: [.private, .anonymous])
        #expect(throws: ScamemError.invalid) { try m.bpfRingbufMmap(rb, mm, uaddr: anon, pgoff: 1) }
        let u = try m.mmap(mm, length: 4096, prot: .read, flags: .shared)
        #expect(throws: ScamemError.invalid) { try m.bpfRingbufMmap(rb, mm, uaddr: u, pgoff: .max) }
        #expect(throws: ScamemError.invalid) { try m.bpfRingbufMmap(rb, mm, uaddr: u, pgoff: 4) }
        #expect(throws: ScamemError.badHandle) { try m.bpfRingbufMmap(BpfRingbufID(rawValue: 77), mm, uaddr: u, pgoff: 0) }
        try m.bpfRingbufFree(rb)
        #expect(throws: ScamemError.badHandle) { try m.bpfRingbufMmap(rb, mm, uaddr: u, pgoff: 0) }
        expectClean(m)
    }

    /// io_uring: alloc_pages() ring pages inserted with vm_insert_pages().
    @Test(arguments: Strategy.allCases, [false, true])
    func ioUringRegion(strategy: Strategy, single: Bool) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let (r, k) = try m.ioUringRegionAlloc(size: 3 * 4096 - 100, single: single)
        #expect((m.findVmArea(k) != nil) == single)
        let mm = try m.mmNew()
        let u = try m.mmap(mm, length: 4 * 4096, flags: .shared)
        try m.ioUringRegionMmap(r, mm, uaddr: u)
        let v = try m.findVMA(mm, u)
        #expect(v.mappedPages == 3 && v.flags.isSuperset(of: [.mixedMap, .dontExpand]) && v.scamem == nil)
        expectClean(m)
        // A MISC page has no refcount under memdescs: GUP has nothing to take.
        #expect(throws: ScamemError.fault) { try m.pinUserPages(mm, start: u, nrPages: 1) }
        #expect(throws: ScamemError.busy) { try m.ioUringRegionFree(r) }
        #expect(throws: ScamemError.busy) { try m.freePages(m.followPage(mm, u), order: single ? 0 : 2) }
        try m.munmap(mm, addr: u, length: 4096)
        expectClean(m)
        #expect(throws: ScamemError.busy) { try m.ioUringRegionFree(r) }
        try m.mmExit(mm)
        try m.ioUringRegionFree(r)
        #expect(totalFree(m) == free0)
        #expect(throws: ScamemError.badHandle) { try m.ioUringRegionFree(r) }
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func ioUringRegisteredBuffers(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let mm = try m.mmNew()
        let u = try m.mmap(mm, length: 4 * 4096, flags: [.private, .anonymous])
        // 100 bytes straddling a page boundary pin two pages.
        let b = try m.ioUringRegisterBuffer(mm, uaddr: u + 4096 - 50, len: 100)
        let p = try m.followPage(mm, u)
        #expect(try m.folioMaybeDmaPinned(p))
        expectClean(m)
        try m.mmExit(mm)
        #expect(word(m, p).type == .anon)
        expectClean(m)
        try m.ioUringUnregisterBuffer(b)
        #expect(word(m, p).type == .buddy)
        #expect(throws: ScamemError.badHandle) { try m.ioUringUnregisterBuffer(b) }
        // Misuse, as io_buffer_validate() and io_pin_pages() answer.
        let mm2 = try m.mmNew()
        let v = try m.mmap(mm2, length: 2 * 4096, flags: [.private, .anonymous])
        #expect(throws: ScamemError.fault) { try m.ioUringRegisterBuffer(mm2, uaddr: 0, len: 4096) }
        #expect(throws: ScamemError.fault) { try m.ioUringRegisterBuffer(mm2, uaddr: v, len: (1 << 30) + 1) }
        #expect(throws: ScamemError.invalid) { try m.ioUringRegisterBuffer(mm2, uaddr: v, len: 0) }
        #expect(throws: ScamemError.overflow) { try m.ioUringRegisterBuffer(mm2, uaddr: .max - 10, len: 4096) }
        #expect(throws: ScamemError.fault) { try m.ioUringRegisterBuffer(mm2, uaddr: 0x7fff_ffff_0000, len: 1 << 20) }
        // A short pin is undone: the second VMA page is there, the third is not.
        #expect(throws: ScamemError.fault) { try m.ioUringRegisterBuffer(mm2, uaddr: v + 4096, len: 2 * 4096) }
        #expect(throws: ScamemError.badHandle) { try m.ioUringRegisterBuffer(MMID(rawValue: 99), uaddr: v, len: 1) }
        try m.mmExit(mm2)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func ioUringBadInput(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        #expect(throws: ScamemError.invalid) { try m.ioUringRegionAlloc(size: 0) }
        #expect(throws: ScamemError.invalid) { try m.ioUringRegionAlloc(size: 65536 * 4096) }
        let (r, _) = try m.ioUringRegionAlloc(size: 4096)
        let mm = try m.mmNew()
        let anon = try m.mmap(mm, length: 4096, flags: [.private, .anonymous])
        #expect(throws: ScamemError.invalid) { try m.ioUringRegionMmap(r, mm, uaddr: anon) }
        #expect(throws: ScamemError.fault) { try m.ioUringRegionMmap(r, mm, uaddr: 0x2000_0000) }
        #expect(throws: ScamemError.badHandle) { try m.ioUringRegionMmap(IoUringRegionID(rawValue: 5), mm, uaddr: anon) }
        try m.ioUringRegionFree(r)
        expectClean(m)
    }

    /// kcov: vmalloc_user() pages inserted one by one hold the scamem.
    @Test(arguments: Strategy.allCases)
    func kcovMmap(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let (kc, k) = try m.kcovInitTrace(entries: 1024)
        let mm = try m.mmNew()
        let u = try m.mmap(mm, length: 2 * 4096, flags: .shared)
        let wrong = try m.mmap(mm, length: 4096, flags: .shared)
        #expect(throws: ScamemError.invalid) { try m.kcovMmap(kc, mm, uaddr: wrong) }
        try m.kcovMmap(kc, mm, uaddr: u)
        #expect(throws: ScamemError.busy) { try m.kcovMmap(kc, mm, uaddr: u) }
        let v = try m.findVMA(mm, u)
        #expect(v.mappedPages == 2 && v.scamem == m.findVmArea(k)?.scamem && v.flags.contains(.dontExpand))
        expectClean(m)
        let pinned = try m.pinUserPages(mm, start: u + 4096, nrPages: 1, flags: .longterm)
        try m.kcovFree(kc)
        #expect(throws: ScamemError.badHandle) { try m.kcovFree(kc) }
        expectClean(m)
        try m.mmExit(mm)
        expectClean(m)
        #expect(isScamemPage(m, pinned[0]))
        try m.unpinUserPage(pinned[0])
        #expect(totalFree(m) == free0)
        expectClean(m)
        // A buffer that is not whole pages can never be mapped.
        let (odd, _) = try m.kcovInitTrace(entries: 1000)
        let mm2 = try m.mmNew()
        let w = try m.mmap(mm2, length: 8000, flags: .shared)
        #expect(throws: ScamemError.invalid) { try m.kcovMmap(odd, mm2, uaddr: w) }
        for e: UInt64 in [0, 1, UInt64(Int32.max) / 8 + 1, .max] {
            #expect(throws: ScamemError.invalid) { try m.kcovInitTrace(entries: e) }
        }
        try m.kcovFree(odd)
        try m.mmExit(mm2)
        expectClean(m)
    }

    /// vm_insert_pages() of a vmalloc page: the strategy must name its scamem.
    @Test(arguments: Strategy.allCases)
    func vmInsertVmallocPage(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let k = try m.vmallocUser(size: 2 * 4096)
        let pfns = [try m.vmallocToPfn(k), try m.vmallocToPfn(k + 4096)]
        let mm = try m.mmNew()
        let u = try m.mmap(mm, length: 2 * 4096, flags: .shared)
        var num = 2
        if strategy == .vmaPrivate {
            #expect(throws: ScamemError.invalid) { try pfns.withUnsafeBufferPointer { try m.vmInsertPages(mm, uaddr: u, pfns: $0, num: &num) } }
            #expect(num == 2)
        } else {
            try pfns.withUnsafeBufferPointer { try m.vmInsertPages(mm, uaddr: u, pfns: $0, num: &num) }
            #expect(num == 0)
            #expect(try m.findVMA(mm, u).scamem == m.findVmArea(k)?.scamem)
            try m.vfree(k)
            expectClean(m)
            #expect(isScamemPage(m, pfns[1]))
            try m.munmap(mm, addr: u, length: 4096)
            expectClean(m)
        }
        try m.mmExit(mm)
        if strategy == .vmaPrivate { try m.vfree(k) }
        #expect(word(m, pfns[0]).type == .buddy && word(m, pfns[1]).type == .buddy)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func perfRingBuffer(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let (rb, k) = try m.perfRbAlloc(nrPages: 4)
        #expect(m.findVmArea(k)?.nrPages == 5)
        let mm = try m.mmNew()
        let bad = try m.mmap(mm, length: 4 * 4096, flags: .shared)
        #expect(throws: ScamemError.invalid) { try m.perfRbMmap(rb, mm, uaddr: bad) }
        let u = try m.mmap(mm, length: 5 * 4096, flags: .shared)
        try m.perfRbMmap(rb, mm, uaddr: u)
        expectClean(m)
        try m.perfRbFree(rb)
        try m.munmap(mm, addr: u + 4096, length: 2 * 4096)
        expectClean(m)
        try m.mmExit(mm)
        #expect(totalFree(m) == free0)
        for n: UInt64 in [3, 6, (1 << 20) + 1, 1 << 21, .max] {
            #expect(throws: ScamemError.invalid) { try m.perfRbAlloc(nrPages: n) }
        }
        let (zero, _) = try m.perfRbAlloc(nrPages: 0)
        try m.perfRbFree(zero)
        #expect(throws: ScamemError.badHandle) { try m.perfRbFree(zero) }
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func videobuf2(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        // A read of untouched anon memory takes the zero page, never freed: take it first.
        let warm = try m.mmNew()
        _ = try m.getUserPages(warm, start: try m.mmap(warm, length: 4096, flags: [.private, .anonymous]), nrPages: 1)
            .map { (p) throws(ScamemError) in try m.putPage(p) }
        try m.mmExit(warm)
        let free0 = totalFree(m)
        let (buf, _) = try m.vb2VmallocAlloc(size: 3 * 4096)
        let mm = try m.mmNew()
        let u = try m.mmap(mm, length: 3 * 4096, flags: .shared)
        try m.vb2VmallocMmap(buf, mm, uaddr: u)
        let pinned = try m.pinUserPages(mm, start: u, nrPages: 3, flags: [.longterm, .write])
        try m.vb2VmallocPut(buf)
        #expect(throws: ScamemError.badHandle) { try m.vb2VmallocPut(buf) }
        try m.mmExit(mm)
        expectClean(m)
        for p in pinned { try m.unpinUserPage(p) }
        #expect(totalFree(m) == free0)
        // USERPTR: the user's own memory, pinned long-term.
        let mm2 = try m.mmNew()
        let a = try m.mmap(mm2, length: 4 * 4096, flags: [.private, .anonymous])
        let up = try m.vb2VmallocGetUserptr(mm2, uaddr: a + 10, size: 2 * 4096, write: true)
        #expect(throws: ScamemError.badHandle) { try m.vb2VmallocPut(up) }
        #expect(throws: ScamemError.badHandle) { try m.vb2VmallocMmap(up, mm2, uaddr: a) }
        try m.mmExit(mm2)
        expectClean(m)
        try m.vb2VmallocPutUserptr(up)
        #expect(throws: ScamemError.badHandle) { try m.vb2VmallocPutUserptr(up) }
        #expect(totalFree(m) == free0)
        let mm3 = try m.mmNew()
        let small = try m.mmap(mm3, length: 4096, flags: [.private, .anonymous])
        #expect(throws: ScamemError.fault) { try m.vb2VmallocGetUserptr(mm3, uaddr: small, size: 2 * 4096, write: false) }
        #expect(throws: ScamemError.invalid) { try m.vb2VmallocGetUserptr(mm3, uaddr: small, size: 0, write: false) }
        #expect(throws: ScamemError.invalid) { try m.vb2VmallocGetUserptr(mm3, uaddr: .max - 4096, size: 8192, write: false) }
        #expect(throws: ScamemError.invalid) { try m.vb2VmallocAlloc(size: 0) }
        #expect(throws: ScamemError.invalid) { try m.vb2VmallocAlloc(size: (1 << 30) + 1) }
        let (b2, _) = try m.vb2VmallocAlloc(size: 4096)
        let big = try m.mmap(mm3, length: 2 * 4096, flags: .shared)
        #expect(throws: ScamemError.invalid) { try m.vb2VmallocMmap(b2, mm3, uaddr: big) }
        try m.vb2VmallocPut(b2)
        try m.mmExit(mm3)
        #expect(totalFree(m) == free0)
        expectClean(m)
    }

    /// A caller that frees a subject's memory behind its back: the subject's
    /// pages stay its own, and its area is told from a new one at the same address.
    @Test(arguments: Strategy.allCases)
    func subjectsSurviveCallersFrees(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let (rb, k) = try m.bpfRingbufAlloc(dataSize: 4096)
        let page = try m.vmallocToPfn(k)
        try m.vunmap(k)
        expectClean(m)
        #expect(throws: ScamemError.busy) { try m.freePages(page, order: 0) }
        #expect(throws: ScamemError.busy) { try m.vmap([page], flags: .mapPutPages) }
        let other = try m.vmalloc(size: 5 * 4096)
        #expect(other == k)
        let mm = try m.mmNew()
        let u = try m.mmap(mm, length: 4096, flags: .shared)
        #expect(throws: ScamemError.badHandle) { try m.bpfRingbufMmap(rb, mm, uaddr: u, pgoff: 0) }
        try m.bpfRingbufFree(rb)
        #expect(m.findVmArea(other) != nil)
        try m.vfree(other)
        let (r, rk) = try m.ioUringRegionAlloc(size: 2 * 4096)
        let head = (rk - 0xffff_8880_0000_0000) / 4096
        #expect(throws: ScamemError.busy) { try m.freePages(head, order: 1) }
        try m.ioUringRegionFree(r)
        let (kc, kk) = try m.kcovInitTrace(entries: 512)
        try m.vfree(kk)
        let reused = try m.vmallocUser(size: 4096)
        #expect(reused == kk)
        #expect(throws: ScamemError.badHandle) { try m.kcovMmap(kc, mm, uaddr: u) }
        try m.kcovFree(kc)
        #expect(m.findVmArea(reused) != nil)
        try m.vfree(reused)
        try m.mmExit(mm)
        #expect(totalFree(m) == free0)
        expectClean(m)
    }

    /// fork(): dup_mmap() copies VM_MIXEDMAP ptes, so the child's ringbuf,
    /// io_uring and kcov mappings hold what the parent's do, and the subjects
    /// stay busy until both are gone.
    @Test(arguments: Strategy.allCases)
    func forkedScenarioMappings(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let parent = try m.mmNew()
        let (rb, _) = try m.bpfRingbufAlloc(dataSize: 4096)
        try m.bpfRingbufMmap(rb, parent, uaddr: try m.mmap(parent, length: 3 * 4096, prot: .read, flags: .shared), pgoff: 1)
        let (r, _) = try m.ioUringRegionAlloc(size: 2 * 4096, single: true)
        try m.ioUringRegionMmap(r, parent, uaddr: try m.mmap(parent, length: 2 * 4096, flags: .shared))
        let (kc, _) = try m.kcovInitTrace(entries: 512)
        try m.kcovMmap(kc, parent, uaddr: try m.mmap(parent, length: 4096, flags: .shared))
        let child = try m.fork(parent)
        expectClean(m)
        try m.mmExit(parent)
        expectClean(m)
        #expect(throws: ScamemError.busy) { try m.bpfRingbufFree(rb) }
        #expect(throws: ScamemError.busy) { try m.ioUringRegionFree(r) }
        try m.kcovFree(kc)
        expectClean(m)
        try m.mmExit(child)
        try m.bpfRingbufFree(rb)
        try m.ioUringRegionFree(r)
        #expect(totalFree(m) == free0)
        expectClean(m)
    }
}
