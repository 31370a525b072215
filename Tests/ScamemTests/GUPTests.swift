import Testing
import Scamem

/// get_user_pages / pin_user_pages and their release by page alone.
@Suite struct GUPTests {
    @Test(arguments: Strategy.allCases)
    func smallAnonFolioFollowsTheBias(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let mm = m.mmNew()
        let a = try m.mmap(mm, length: 2 * 4096, flags: [.private, .anonymous])
        // A FOLL_WRITE GUP faults the pages in (a read would find the zero page).
        let got = try m.getUserPages(mm, start: a, nrPages: 2, flags: .write)
        #expect(got.count == 2)
        #expect(try m.pageInfo(got[0]).refcount == 2)
        // The mapping's and GUP's references are not a caller's to put.
        #expect(throws: ScamemError.invalid) { try m.folioPut(got[0]) }
        let pinned = try m.pinUserPages(mm, start: a, nrPages: 1, flags: [.longterm, .write])
        #expect(pinned == [got[0]])
        #expect(try m.pageInfo(got[0]).refcount == 2 + 1024)
        #expect(try m.folioMaybeDmaPinned(got[0]))
        #expect(try !m.folioMaybeDmaPinned(got[1]))
        try m.unpinUserPage(got[0])
        #expect(try m.pageInfo(got[0]).refcount == 2)
        #expect(throws: ScamemError.invalid) { try m.unpinUserPage(got[0]) }
        // Unmapped and exited, the gets still hold the folios.
        try m.mmExit(mm)
        #expect(word(m, got[0]).type == .anon)
        expectClean(m)
        try m.putPage(got[0])
        try m.putPage(got[1])
        #expect(word(m, got[0]).type == .buddy && word(m, got[1]).type == .buddy)
        #expect(throws: ScamemError.alreadyFree) { try m.putPage(got[0]) }
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func largeAnonFolioCountsPinsExactly(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        try m.setAnonFolioOrder(3)
        let mm = m.mmNew()
        let a = try m.mmap(mm, addr: 0x4000_0000, length: 8 * 4096, flags: [.private, .anonymous, .fixed])
        let pfns = try m.pinUserPages(mm, start: a, nrPages: 3, flags: .write)
        let info = try m.pageInfo(pfns[0])
        #expect(info.order == 3 && info.pincount == 3 && info.refcount == 8 + 3)
        #expect(try m.folioMaybeDmaPinned(pfns[2]))
        expectClean(m)
        try m.unpinUserPages(pfns.withUnsafeBufferPointer { $0 })
        #expect(try m.pageInfo(pfns[0]).pincount == 0)
        #expect(try !m.folioMaybeDmaPinned(pfns[0]))
        try m.mmExit(mm)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func scamemPagesHoldTheWholeObject(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let (mm, k, u) = try mappedVmallocUser(m, pages: 3)
        let s = m.findVmArea(k)!.scamem
        let got = try m.getUserPages(mm, start: u, nrPages: 3)
        let pinned = try m.pinUserPages(mm, start: u + 4096, nrPages: 1, flags: .longterm)
        if strategy.wholeObject {
            // Every GUP reference is one on the object: 1 area + 1 VMA + 4.
            #expect(try m.scamemStat(s).gupRefs == 4 && m.scamemStat(s).refcount == 1 + 1 + 4)
            #expect(try m.folioMaybeDmaPinned(got[2]))
        } else {
            // struct page: pages array + pte + get (+ 1024 for the pinned one).
            #expect(try m.pageInfo(got[0]).refcount == 3 && m.pageInfo(got[0]).mapcount == 1)
            #expect(try m.pageInfo(got[1]).refcount == 3 + 1024)
            #expect(try m.scamemStat(s).refcount == 1 && m.scamemStat(s).gupRefs == 0)
            #expect(try !m.folioMaybeDmaPinned(got[2]))
        }
        #expect(try m.folioMaybeDmaPinned(pinned[0]))
        try m.vfree(k)
        try m.mmExit(mm)
        expectClean(m)
        for pfn in got { try m.putPage(pfn) }
        #expect(isScamemPage(m, pinned[0]))
        // The pin keeps the whole object, or (LEGACY) only its own page.
        for pfn in got where pfn != pinned[0] {
            #expect(isScamemPage(m, pfn) == strategy.wholeObject)
        }
        // The get was released; a put of the pinned page is refused.
        #expect(throws: ScamemError.invalid) { try m.putPage(pinned[0]) }
        try m.unpinUserPage(pinned[0])
        for pfn in got { #expect(word(m, pfn).type == .buddy) }
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func shortCountAndMisuse(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let mm = m.mmNew()
        let a = try m.mmap(mm, length: 2 * 4096, flags: [.private, .anonymous])
        // The walk stops at the unmapped third page: a short count.
        let got = try m.getUserPages(mm, start: a, nrPages: 3)
        #expect(got.count == 2)
        #expect(throws: ScamemError.fault) { try m.getUserPages(mm, start: a + 2 * 4096, nrPages: 1) }
        #expect(throws: ScamemError.fault) { try m.pinUserPages(mm, start: 0, nrPages: 1) }
        #expect(throws: ScamemError.invalid) { try m.pinUserPages(mm, start: a, nrPages: 1, flags: .get) }
        #expect(throws: ScamemError.invalid) { try m.getUserPages(mm, start: a, nrPages: 1, flags: .pin) }
        #expect(throws: ScamemError.invalid) { try m.getUserPages(mm, start: a, nrPages: 1, flags: [.get, .pin]) }
        #expect(throws: ScamemError.invalid) { try m.getUserPages(mm, start: a, nrPages: 1, flags: .longterm) }
        #expect(throws: ScamemError.invalid) { try m.pinUserPages(mm, start: a + 1, nrPages: 1) }
        #expect(throws: ScamemError.invalid) { try m.pinUserPages(mm, start: a, nrPages: 1, flags: FollFlags(rawValue: 1 << 30)) }
        #expect(try m.pinUserPages(mm, start: a, nrPages: 0).isEmpty)
        #expect(throws: ScamemError.badHandle) { try m.pinUserPages(MMID(rawValue: 77), start: a, nrPages: 1) }
        // Release of what was never taken.
        #expect(throws: ScamemError.invalid) { try m.unpinUserPage(got[0]) }
        #expect(throws: ScamemError.alreadyFree) { try m.putPage(0x800) }
        #expect(throws: ScamemError.outOfRange) { try m.putPage(1 << 40) }
        let slab = try m.slabAlloc(cache: 1, objectSize: 64)
        #expect(throws: ScamemError.invalid) { try m.unpinUserPage(slab) }
        #expect(try !m.folioMaybeDmaPinned(slab))
        for pfn in got { try m.putPage(pfn) }
        try m.slabFree(slab)
        try m.mmExit(mm)
        expectClean(m)
    }
}
