import Testing
import Scamem

/// fork(): dup_mmap() and copy_page_range().
@Suite struct ForkTests {
    @Test(arguments: Strategy.allCases)
    func anonPagesAreSharedCopyOnWrite(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 2 * 4096, flags: [.private, .anonymous])
        let p = try m.handleMMFault(mm, a)
        let child = try m.fork(mm)
        #expect(try m.followPage(child, a) == p)
        #expect(try m.pageInfo(p).refcount == 2 && m.pageInfo(p).mapcount == 2)
        expectClean(m)
        // Memory only read so far has no anon_vma: the child refaults it.
        let ro = try m.mmap(mm, length: 4096, flags: [.private, .anonymous])
        _ = try m.fixupUserFault(mm, ro, flags: [])
        let child2 = try m.fork(mm)
        #expect(throws: ScamemError.fault) { try m.followPage(child2, ro) }
        #expect(try m.followPage(child2, a) == p)
        try m.mmExit(child2)
        // The child's write copies; the parent's then reuses its page (refcount 1).
        let c = try m.handleMMFault(child, a)
        #expect(try c != p && m.pageInfo(p).refcount == 1)
        #expect(try m.handleMMFault(mm, a) == p)
        expectClean(m)
        // Parent exits first: the child's page stays.
        try m.mmExit(mm)
        #expect(word(m, c).type == .anon && word(m, p).type == .buddy)
        try m.mmExit(child)
        #expect(totalFree(m) + 1 == free0)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func aPinnedAnonPageIsCopiedForTheChild(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 2 * 4096, flags: [.private, .anonymous])
        let pinned = try m.pinUserPages(mm, start: a, nrPages: 1, flags: [.write, .longterm])
        let got = try m.getUserPages(mm, start: a + 4096, nrPages: 1, flags: .write)
        let child = try m.fork(mm)
        // folio_needs_cow_for_dma(): the pinned page stays the parent's alone.
        let cp = try m.followPage(child, a)
        #expect(cp != pinned[0] && word(m, cp).type == .anon)
        #expect(try m.pageInfo(pinned[0]).mapcount == 1)
        // A FOLL_GET reference is no pin: that page is shared.
        #expect(try m.followPage(child, a + 4096) == got[0])
        // The parent still writes its pinned page in place.
        #expect(try m.handleMMFault(mm, a) == pinned[0])
        expectClean(m)
        try m.mmExit(mm)
        try m.unpinUserPage(pinned[0])
        try m.putPage(got[0])
        try m.mmExit(child)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func driverMappingsAreCopiedAndHoldTheirOwnReference(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let (mm, k, u) = try mappedVmallocUser(m, pages: 4)
        let id = try #require(try m.findVMA(mm, u).scamem)
        let pfns = try (0..<4).map { (i: UInt64) throws(ScamemError) -> UInt64 in try m.vmallocToPfn(k + i * 4096) }
        let child = try m.fork(mm)
        // vma_needs_copy(): VM_MIXEDMAP ptes are copied; vm_ops->open takes a reference.
        #expect(try m.findVMA(child, u).mappedPages == 4 && m.findVMA(child, u).scamem == id)
        if strategy.wholeObject { #expect(try m.scamemStat(id).mapRefs == 2) }
        expectClean(m)
        try m.munmap(mm, addr: u, length: 4 * 4096)
        try m.vfree(k)
        try m.mmExit(mm)
        #expect(pfns.allSatisfy { isScamemPage(m, $0) })
        let pin = try m.pinUserPages(child, start: u + 4096, nrPages: 1, flags: .write)
        #expect(pin == [pfns[1]])
        try m.mmExit(child)
        expectClean(m)
        #expect(isScamemPage(m, pfns[1]))
        try m.unpinUserPage(pfns[1])
        #expect(totalFree(m) == free0)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func dontForkLeavesTheRangeOutOfTheChild(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 4 * 4096, flags: [.private, .anonymous])
        _ = try m.handleMMFault(mm, a + 4096)
        try m.madvise(mm, addr: a + 4096, length: 2 * 4096, advice: .dontFork)
        #expect(try m.vmas(mm).count == 3 && m.findVMA(mm, a + 4096).flags.contains(.dontCopy))
        let child = try m.fork(mm)
        #expect(try m.vmas(child).map { $0.start } == [a, a + 3 * 4096])
        try m.madvise(mm, addr: a, length: 4 * 4096, advice: .doFork)
        #expect(try m.vmas(mm).allSatisfy { !$0.flags.contains(.dontCopy) })
        let child2 = try m.fork(mm)
        #expect(try m.vmas(child2).count == 3 && m.followPage(child2, a + 4096) == m.followPage(mm, a + 4096))
        expectClean(m)
        for x in [child, child2, mm] { try m.mmExit(x) }
        #expect(throws: ScamemError.badHandle) { try m.fork(mm) }
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func insertedFoliosAreMappedTwice(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let mm = try m.mmNew()
        let f = try m.folioAlloc(.file)
        let u = try m.mmap(mm, length: 4096, flags: .shared)
        var num = 1
        try [f].withUnsafeBufferPointer { (b) throws(ScamemError) in try m.vmInsertPages(mm, uaddr: u, pfns: b, num: &num) }
        let child = try m.fork(mm)
        #expect(try m.pageInfo(f).mapcount == 2 && m.pageInfo(f).refcount == 3)
        try m.folioPut(f)
        try m.mmExit(mm)
        #expect(word(m, f).type == .file)
        try m.mmExit(child)
        #expect(word(m, f).type == .buddy)
        expectClean(m)
    }
}
