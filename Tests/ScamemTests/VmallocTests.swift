import Testing
import Scamem

@Suite struct VmallocTests {
    @Test(arguments: Strategy.allCases)
    func vmallocAreaHoldsOneScamemReference(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let addr = try m.vmalloc(size: 3 * 4096 + 1, caller: 0x1234)
        #expect(addr == 0xffff_c900_0000_0000)
        let v = try #require(m.findVmArea(addr))
        #expect(v.addr == addr && v.nrPages == 4 && v.size == 5 * 4096 && v.caller == 0x1234)
        #expect(v.flags == .alloc)
        let st = try m.scamemStat(v.scamem)
        #expect(st.refcount == 1 && st.vmRefs == 1 && st.callerRefs == 0)
        // vmalloc_to_page() follows the scamem's pages[]; the guard page has none.
        let pages = try m.scamemPages(v.scamem)
        for i in 0..<4 { #expect(try m.vmallocToPfn(addr + UInt64(i) * 4096 + 17) == pages[i]) }
        #expect(throws: ScamemError.fault) { try m.vmallocToPfn(addr + 4 * 4096) }
        #expect(m.findVmArea(addr + 4 * 4096)?.addr == addr)
        #expect(throws: ScamemError.notFound) { try m.vmallocToPfn(addr + 5 * 4096) }
        #expect(m.findVmArea(addr - 1) == nil)
        // The next area starts after the guard page.
        let next = try m.vmalloc(size: 4096)
        #expect(next == addr + 5 * 4096)
        let noGuard = try m.vmalloc(size: 4096, flags: .noGuard)
        #expect(m.findVmArea(noGuard)?.size == 4096)
        #expect(m.vmAreas().map(\.addr) == [addr, next, noGuard])
        #expect(m.vmArea(after: 0)?.addr == addr && m.vmArea(after: addr)?.addr == next)
        #expect(m.vmArea(after: noGuard) == nil)
        expectClean(m)
        for a in [addr, next, noGuard] { try m.vfree(a) }
        #expect(m.vmAreas().isEmpty)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func vfreeMisuse(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let addr = try m.vmalloc(size: 4096)
        // Past the guard page, before the area, misaligned: the area stays.
        #expect(throws: ScamemError.notFound) { try m.vfree(addr + 2 * 4096) }
        #expect(throws: ScamemError.notFound) { try m.vfree(addr - 4096) }
        #expect(throws: ScamemError.invalid) { try m.vfree(addr + 1) }
        #expect(throws: ScamemError.invalid) { try m.vfree(UInt64.max) }
        #expect(throws: ScamemError.invalid) { try m.vunmap(addr) }
        #expect(m.findVmArea(addr) != nil)
        try m.vfree(addr)
        #expect(throws: ScamemError.notFound) { try m.vfree(addr) }
        #expect(throws: ScamemError.notFound) { try m.vunmap(addr) }
        #expect(throws: ScamemError.invalid) { try m.vmalloc(size: 0) }
        #expect(throws: ScamemError.invalid) { try m.vmalloc(size: 4096, flags: .mapPutPages) }
        #expect(throws: ScamemError.invalid) { try m.vmalloc(size: UInt64.max) }
        #expect(throws: ScamemError.noMemory) { try m.vmalloc(size: 1 << 30) }
        expectClean(m)
    }

    /// vfree() -> remove_vm_area() -> find_unlink_vmap_area(): any page of
    /// the area, its guard page included, frees the whole area.
    @Test(arguments: Strategy.allCases)
    func vfreeOfAnAddressInsideFreesTheArea(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let a = try m.vmalloc(size: 3 * 4096)
        let b = try m.vmalloc(size: 2 * 4096)
        let c = try m.vmalloc(size: 2 * 4096, flags: .noGuard)
        #expect(m.findVmArea(a + 2 * 4096)?.addr == a && m.findVmArea(a + 3 * 4096 + 4095)?.addr == a)
        try m.vfree(a + 4096)
        #expect(m.findVmArea(a) == nil && m.findVmArea(b)?.addr == b)
        expectClean(m)
        try m.vfree(b + 2 * 4096) // the guard page
        #expect(m.vmAreas().map(\.addr) == [c])
        // Without a guard page the area ends with its last page.
        #expect(throws: ScamemError.notFound) { try m.vfree(c + 2 * 4096) }
        try m.vfree(c + 4096)
        #expect(m.vmAreas().isEmpty && totalFree(m) == free0)
        // vfree(NULL) and vunmap(NULL) do nothing.
        try m.vfree(0)
        try m.vunmap(0)
        expectClean(m)
    }

    /// An area freed by an inner address while mapped and pinned: the pages
    /// stay until the mapping and the pin go.
    @Test(arguments: Strategy.allCases)
    func vfreeInsideWhileMappedAndPinned(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let (mm, k, u) = try mappedVmallocUser(m, pages: 3)
        let pinned = try m.pinUserPages(mm, start: u + 4096, nrPages: 1)
        try m.vfree(k + 2 * 4096)
        #expect(m.findVmArea(k) == nil)
        expectClean(m)
        #expect(try m.followPage(mm, u + 4096) == pinned[0])
        try m.mmExit(mm)
        expectClean(m)
        #expect(word(m, pinned[0]).type != .buddy)
        try m.unpinUserPage(pinned[0])
        #expect(totalFree(m) == free0)
        expectClean(m)
    }

    /// vunmap() removes a plain vmap() area from any address inside it and
    /// leaves the pages to the caller.
    @Test(arguments: Strategy.allCases)
    func vunmapOfAnAddressInside(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let p = try m.allocPages(order: 1)
        let addr = try m.vmap([p, p + 1])
        #expect(throws: ScamemError.invalid) { try m.vunmap(addr + 8) }
        #expect(throws: ScamemError.busy) { try m.freePages(p, order: 1) }
        try m.vunmap(addr + 2 * 4096) // the guard page
        #expect(m.findVmArea(addr) == nil)
        try m.freePages(p, order: 1)
        // vfree() of a plain vmap() area frees no page either.
        let q = try m.allocPages(order: 0)
        let v = try m.vmap([q])
        try m.vfree(v)
        try m.freePages(q, order: 0)
        expectClean(m)
    }

    /// vmap() WARNs on VM_NO_GUARD and clears it: the guard page stays.
    @Test(arguments: Strategy.allCases)
    func vmapIgnoresNoGuard(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let p = try m.allocPages(order: 0)
        let q = try m.allocPages(order: 0)
        let a = try m.vmap([p], flags: .noGuard)
        let b = try m.vmap([q], flags: [.mapPutPages, .noGuard])
        let va = try #require(m.findVmArea(a))
        #expect(va.size == 2 * 4096 && va.flags == .map && va.nrPages == 1)
        #expect(m.findVmArea(b)?.flags == [.map, .mapPutPages])
        #expect(b == a + 2 * 4096)
        #expect(throws: ScamemError.fault) { try m.vmallocToPfn(a + 4096) }
        expectClean(m)
        try m.vunmap(a)
        try m.vfree(b)
        try m.freePages(p, order: 0)
        expectClean(m)
    }

    /// remap_vmalloc_range_partial() takes kaddr anywhere in the area
    /// (find_vm_area()); the bound counts from kaddr.
    @Test(arguments: Strategy.allCases)
    func remapFromInsideAnArea(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let mm = try m.mmNew()
        let k = try m.vmallocUser(size: 4 * 4096)
        let u = try m.mmap(mm, length: 4 * 4096, flags: .shared)
        // Page 1 + pgoff 1 = page 2, two pages: the area's pages 2 and 3.
        try m.remapVmallocRangePartial(mm, uaddr: u, kaddr: k + 4096, pgoff: 1, size: 2 * 4096)
        for i: UInt64 in 0..<2 { #expect(try m.followPage(mm, u + i * 4096) == m.vmallocToPfn(k + (2 + i) * 4096)) }
        // Past the last page (the kernel's check would pass: 2 pages <= 4).
        #expect(throws: ScamemError.invalid) {
            try m.remapVmallocRangePartial(mm, uaddr: u + 2 * 4096, kaddr: k + 3 * 4096, pgoff: 0, size: 2 * 4096)
        }
        #expect(throws: ScamemError.invalid) { // the guard page
            try m.remapVmallocRangePartial(mm, uaddr: u + 2 * 4096, kaddr: k + 4 * 4096, pgoff: 0, size: 4096)
        }
        #expect(throws: ScamemError.invalid) {
            try m.remapVmallocRangePartial(mm, uaddr: u + 2 * 4096, kaddr: k + 4096 + 8, pgoff: 0, size: 4096)
        }
        #expect(throws: ScamemError.invalid) {
            try m.remapVmallocRangePartial(mm, uaddr: u + 2 * 4096, kaddr: k + 5 * 4096, pgoff: 0, size: 4096)
        }
        // The rest of the VMA from the same area, through an inner address.
        try m.remapVmallocRangePartial(mm, uaddr: u + 2 * 4096, kaddr: k + 2 * 4096, pgoff: 0, size: 2 * 4096)
        #expect(try m.findVMA(mm, u).mappedPages == 4)
        expectClean(m)
        try m.vfree(k + 4096)
        expectClean(m)
        try m.mmExit(mm)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func nodeAndUser(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let a = try m.vmallocNode(size: 8192, nid: 1)
        #expect(try m.scamemPages(m.findVmArea(a)!.scamem).allSatisfy { try m.pageToNid($0) == 1 })
        let u = try m.vmallocUser(size: 4096)
        #expect(m.findVmArea(u)!.flags == [.alloc, .usermap])
        let i = try m.vmalloc(size: 4 * 4096, policy: .interleave)
        #expect(try m.scamemPages(m.findVmArea(i)!.scamem).map { try m.pageToNid($0) } == [0, 1, 0, 1])
        expectClean(m)
        for x in [a, u, i] { try m.vfree(x) }
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func vmapPutPagesAdoptsThePages(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let pfns = try (0..<3).map { (_: Int) throws(ScamemError) -> UInt64 in try m.allocPages(order: 0) }
        let addr = try m.vmap(pfns, flags: [.mapPutPages, .usermap])
        let v = try #require(m.findVmArea(addr))
        #expect(v.flags == [.map, .mapPutPages, .usermap])
        for (i, pfn) in pfns.enumerated() {
            #expect(isScamemPage(m, pfn))
            #expect(try m.vmallocToPfn(addr + UInt64(i) * 4096) == pfn)
        }
        expectClean(m)
        // vunmap() would leave the pages to nobody (the kernel leaks them):
        // refused, the area stays; vfree() frees them.
        #expect(throws: ScamemError.invalid) { try m.vunmap(addr) }
        #expect(throws: ScamemError.invalid) { try m.vunmap(addr + 4096) }
        #expect(try m.vmallocToPfn(addr) == pfns[0])
        expectClean(m)
        try m.vfree(addr + 2 * 4096)
        #expect(totalFree(m) == free0)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func plainVmapLeavesPagesToTheCaller(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let raw = try m.allocPages(order: 1)
        let single = try m.allocPages(order: 0)
        let folio = try m.folioAlloc(.file)
        let addr = try m.vmap([raw, raw + 1, folio, folio, single])
        #expect(word(m, raw).type == .misc && word(m, folio).type == .file)
        #expect(try m.scamemStat(m.findVmArea(addr)!.scamem).ownsPages == false)
        expectClean(m)
        // The caller keeps the pages until vunmap(): a free before is refused.
        #expect(throws: ScamemError.busy) { try m.freePages(raw, order: 1) }
        #expect(throws: ScamemError.busy) { try m.folioPut(folio) }
        // A second reference may come and go; the last one may not.
        try m.folioGet(folio)
        #expect(try m.folioPut(folio) == 1)
        #expect(throws: ScamemError.busy) { try m.folioPut(folio) }
        // Another area may not take the pages over while this one maps them.
        #expect(throws: ScamemError.busy) { try m.vmap([single], flags: .mapPutPages) }
        expectClean(m)
        try m.vunmap(addr)
        #expect(word(m, raw).type == .misc && word(m, folio).type == .file)
        try m.freePages(raw, order: 1)
        try m.freePages(single, order: 0)
        try m.folioPut(folio)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func plainVmapRefusesPagesItCannotKeep(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let slab = try m.slabAlloc(cache: 1, objectSize: 64)
        let table = try m.ptdescAlloc()
        let area = try m.vmalloc(size: 2 * 4096)
        let vpage = try m.vmallocToPfn(area)
        #expect(throws: ScamemError.invalid) { try m.vmap([slab]) }
        #expect(throws: ScamemError.invalid) { try m.vmap([table]) }
        // Another area's page goes when that area does.
        #expect(throws: ScamemError.busy) { try m.vmap([vpage]) }
        #expect(throws: ScamemError.busy) { try m.vmap([vpage], flags: .mapPutPages) }
        expectClean(m)
        try m.vfree(area)
        try m.slabFree(slab)
        try m.ptdescFree(table)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func vmapMisuse(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let p = try m.allocPages(order: 0)
        let big = try m.allocPages(order: 1)
        let folio = try m.folioAlloc(.anon)
        #expect(throws: ScamemError.invalid) { try m.vmap([]) }
        // A user-mappable plain vmap (bpf ringbuf) takes alloc_pages() pages only.
        #expect(throws: ScamemError.invalid) { try m.vmap([folio], flags: .usermap) }
        #expect(throws: ScamemError.invalid) { try m.vmap([p, p], flags: .mapPutPages) }
        #expect(throws: ScamemError.invalid) { try m.vmap([big], flags: .mapPutPages) }
        #expect(throws: ScamemError.invalid) { try m.vmap([folio], flags: .mapPutPages) }
        #expect(throws: ScamemError.alreadyFree) { try m.vmap([0x800]) }
        #expect(throws: ScamemError.outOfRange) { try m.vmap([1 << 40]) }
        #expect(throws: ScamemError.invalid) { try m.vmap([p], flags: .alloc) }
        expectClean(m)
        try m.freePages(p, order: 0)
        try m.freePages(big, order: 1)
        try m.folioPut(folio)
        expectClean(m)
    }
}
