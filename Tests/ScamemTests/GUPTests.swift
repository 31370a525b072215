import Testing
import Scamem

/// get_user_pages / pin_user_pages and their release by page alone.
@Suite struct GUPTests {
    @Test(arguments: Strategy.allCases)
    func smallAnonFolioFollowsTheBias(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let mm = try m.mmNew()
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
        let mm = try m.mmNew()
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
        let mm = try m.mmNew()
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

    /// try_grab_folio(folio, refs) and gup_put_folio(folio, refs): a run of
    /// one folio's pages is taken and dropped at once, and runs of several
    /// folios, small and large, interleaved in any order come out exact.
    @Test(arguments: Strategy.allCases)
    func runsOfOneFolioAreTakenAtOnce(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, addr: 0x4000_0000, length: 24 * 4096, flags: [.private, .anonymous, .fixed])
        try m.setAnonFolioOrder(3)
        // Two order-3 folios, then (order 0 again) eight small ones.
        _ = try m.getUserPages(mm, start: a, nrPages: 16, flags: .write).map { try m.putPage($0) }
        try m.setAnonFolioOrder(0)
        let pfns = try m.pinUserPages(mm, start: a + 4 * 4096, nrPages: 20, flags: .write)
        #expect(pfns.count == 20)
        let first = try m.pageInfo(pfns[0]), second = try m.pageInfo(pfns[4])
        #expect(first.order == 3 && first.pincount == 4 && first.refcount == 8 + 4)
        #expect(second.order == 3 && second.pincount == 8 && second.refcount == 8 + 8)
        for pfn in pfns[12...] { #expect(try m.pageInfo(pfn).refcount == 1 + 1024) }
        // FOLL_GET of the same range adds one per page, a run at a time.
        let got = try m.getUserPages(mm, start: a, nrPages: 24)
        #expect(try m.pageInfo(got[0]).refcount == 8 + 4 + 8)
        expectClean(m)
        // Released backwards, and interleaved with the gets.
        try unpin(m, Array(pfns.reversed()))
        for pfn in got.reversed() { try m.putPage(pfn) }
        #expect(try m.pageInfo(pfns[0]).pincount == 0 && m.pageInfo(pfns[0]).refcount == 8)
        expectClean(m)
        try m.mmExit(mm)
        expectClean(m)
    }

    /// unpin_user_pages() stops at the first page it does not hold; the run
    /// before it is released, the pages after it stay pinned. A page listed
    /// twice in a row is unpinned twice (two pins).
    @Test(arguments: Strategy.allCases)
    func unpinStopsAtAPageNotHeld(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let (mm, k, u) = try mappedVmallocUser(m, pages: 4)
        try m.setAnonFolioOrder(2)
        let a = try m.mmap(mm, addr: 0x4000_0000, length: 4 * 4096, flags: [.private, .anonymous, .fixed])
        let v = try m.pinUserPages(mm, start: u, nrPages: 4)
        let f = try m.pinUserPages(mm, start: a, nrPages: 4, flags: .write)
        _ = try m.pinUserPages(mm, start: u, nrPages: 1)
        let free = try m.allocPages(order: 0)
        let list = [v[0], v[0], v[1], f[0], f[1], free, v[2], f[2]]
        #expect(try unpin(m, list) == 5)
        #expect(try m.pageInfo(f[0]).pincount == 2)
        if strategy.wholeObject { #expect(try m.scamemStat(m.findVmArea(k)!.scamem).gupRefs == 2) }
        expectClean(m)
        #expect(throws: ScamemError.invalid) { try m.unpinUserPage(v[0]) }
        try unpin(m, [v[2], v[3], f[2], f[3]])
        #expect(try m.pageInfo(f[0]).pincount == 0)
        try m.freePages(free, order: 0)
        try m.vfree(k)
        try m.mmExit(mm)
        expectClean(m)
    }

    /// The ledger keeps a section's cells apart from the next one's: pins
    /// of pages in several sections (1024-page sections) are each refused
    /// a second release, and the checker sees them all.
    @Test func ledgerSpansSections() throws {
        let m = try Machine(Fixtures.mini())
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 4 * 4096, flags: [.private, .anonymous])
        var pfns: [UInt64] = []
        for nid in [0, 1] {
            try m.setLocalNode(nid)
            pfns += try m.pinUserPages(mm, start: a + UInt64(nid) * 2 * 4096, nrPages: 2, flags: .write)
        }
        let sections = Set(pfns.map { $0 >> 10 })
        #expect(sections.count >= 2)
        expectClean(m)
        try unpin(m, pfns)
        for pfn in pfns { #expect(throws: ScamemError.invalid) { try m.unpinUserPage(pfn) } }
        try m.mmExit(mm)
        expectClean(m)
    }
}

/// unpin_user_pages() of an array's pfns.
@discardableResult
func unpin(_ m: Machine, _ pfns: [UInt64]) throws -> Int {
    try pfns.withUnsafeBufferPointer { try m.unpinUserPages($0) }
}
