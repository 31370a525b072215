import Testing
import Scamem

/// memory_failure() and unpoison_memory() (mm/memory-failure.c) under every
/// strategy: free pages leave the allocator, LRU folios are unmapped, kernel
/// pages (scamem pages among them) stay as they are, linked to their object.
@Suite struct MemoryFailureTests {
    @Test(arguments: Strategy.allCases)
    func aFreePageIsTakenOffTheAllocatorForGood(strategy: Strategy) throws {
        // Watermarks as low as the sysctls go: every free page can be handed out.
        let m = try tinyMachine(strategy).lowestWatermarks()
        let free0 = totalFree(m)
        // Inside NORMAL0's order-10 block at 0x400.
        let bad: UInt64 = 0x405
        try m.memoryFailure(pfn: bad, flags: .swSimulated)
        #expect(word(m, bad).type == .hwpoison && word(m, bad).flags == word(m, 0x404).flags)
        #expect(try m.pageHWPoison(bad) && !m.pageHWPoison(0x404) && m.numPoisonedPages == 1)
        #expect(totalFree(m) == free0 - 1)
        expectClean(m)
        #expect(throws: ScamemError.hwpoison) { try m.memoryFailure(pfn: bad, flags: .swSimulated) }
        // Every page the allocator has is handed out: never the poisoned one.
        var got: [UInt64] = []
        while let p = try? m.allocPages(order: 0) { got.append(p) }
        #expect(got.count == Int(free0 - 1) && !got.contains(bad))
        for p in got { try m.freePages(p, order: 0) }
        #expect(throws: ScamemError.invalid) { try m.freePages(bad, order: 0) }
        expectClean(m)
        // unpoison_memory(): put_page_back_buddy(), coalesced again.
        try m.unpoisonMemory(pfn: bad)
        #expect(word(m, 0x400).type == .buddy && word(m, 0x400).order == 10)
        #expect(totalFree(m) == free0 && m.numPoisonedPages == 0)
        #expect(throws: ScamemError.busy) { try m.unpoisonMemory(pfn: bad) }
        expectClean(m)
    }

    @Test func badInputAndTheKernelsErrnos() throws {
        let m = try tinyMachine(.pfnLookup)
        #expect(throws: ScamemError.noPage) { try m.memoryFailure(pfn: 0xc00) }
        #expect(throws: ScamemError.noPage) { try m.memoryFailure(pfn: .max) }
        for f in [MFFlags.countIncreased, .actionRequired, .softOffline, .unpoison, .noRetry, .memPreRemove,
                  MFFlags(rawValue: 1 << 8), MFFlags(rawValue: -1)] {
            #expect(throws: ScamemError.invalid) { try m.memoryFailure(pfn: 0x10, flags: f) }
        }
        #expect(throws: ScamemError.outOfRange) { try m.pageHWPoison(0xc00) }
        #expect(throws: ScamemError.io) { try m.unpoisonMemory(pfn: 0xc00) }
        #expect(throws: ScamemError.busy) { try m.unpoisonMemory(pfn: 0x10) }
        #expect(ScamemError.hwpoison.rawValue == 133)
        // A real (not software-simulated) failure disables unpoison.
        try m.memoryFailure(pfn: 0x10, flags: .mustKill)
        #expect(throws: ScamemError.notSupported) { try m.unpoisonMemory(pfn: 0x10) }
        #expect(m.numPoisonedPages == 1)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func kernelPagesAreIgnoredAndNeverReturnToTheAllocator(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let slab = try m.slabAlloc(cache: 1, objectSize: 64)
        let pt = try m.ptdescAlloc()
        let misc = try m.allocPages(order: 1)
        let k = try m.vmalloc(size: 2 * 4096)
        let vpage = try m.vmallocToPfn(k + 4096)
        let before = [slab, pt, misc + 1, vpage].map { word(m, $0) }
        for p in [slab, pt, misc + 1, vpage] {
            #expect(throws: ScamemError.busy) { try m.memoryFailure(pfn: p, flags: .swSimulated) }
            #expect(try m.pageHWPoison(p))
            #expect(throws: ScamemError.hwpoison) { try m.memoryFailure(pfn: p, flags: .swSimulated) }
        }
        #expect([slab, pt, misc + 1, vpage].map { word(m, $0) } == before)
        expectClean(m)
        // Unpoison refuses slab and page-table pages, as the kernel does.
        #expect(throws: ScamemError.busy) { try m.unpoisonMemory(pfn: slab) }
        #expect(throws: ScamemError.busy) { try m.unpoisonMemory(pfn: pt) }
        // Freed, each poisoned page stays off the free lists; the rest goes back.
        try m.slabFree(slab)
        try m.ptdescFree(pt)
        try m.freePages(misc, order: 1)
        try m.vfree(k)
        for p in [slab, pt, misc + 1, vpage] { #expect(try word(m, p).type == .hwpoison && m.pageHWPoison(p)) }
        #expect(totalFree(m) == free0 - 4 && m.numPoisonedPages == 4)
        expectClean(m)
        for p in [slab, pt, misc + 1, vpage] { try m.unpoisonMemory(pfn: p) }
        #expect(totalFree(m) == free0 && m.numPoisonedPages == 0)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func anAnonFolioIsUnmappedEverywhereAndItsAddressFaultsHWPoison(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 2 * 4096, flags: [.private, .anonymous])
        let p = try m.handleMMFault(mm, a)
        _ = try m.handleMMFault(mm, a + 4096)
        let child = try m.fork(mm)
        #expect(try m.followPage(child, a) == p)
        let got = try m.getUserPages(mm, start: a, nrPages: 1)
        #expect(got == [p])
        // MF_RECOVERED: 0 even with a GUP reference (me_pagecache_clean(): anon).
        try m.memoryFailure(pfn: p, flags: .swSimulated)
        #expect(try word(m, p).type == .anon && m.pageHWPoison(p))
        for task in [mm, child] {
            #expect(try m.findVMA(task, a).mappedPages == 1)
            #expect(throws: ScamemError.hwpoison) { try m.handleMMFault(task, a) }
            #expect(throws: ScamemError.fault) { try m.fixupUserFault(task, a, flags: .write) }
            #expect(throws: ScamemError.fault) { try m.getUserPages(task, start: a, nrPages: 1) }
            #expect(throws: ScamemError.fault) { try m.followPage(task, a) }
        }
        expectClean(m)
        // fork() copies the hwpoison entry; MADV_DONTNEED clears it.
        let grandchild = try m.fork(child)
        #expect(throws: ScamemError.hwpoison) { try m.handleMMFault(grandchild, a) }
        try m.madvise(grandchild, addr: a, length: 4096, advice: .dontNeed)
        #expect(try m.handleMMFault(grandchild, a) != p)
        // The GUP reference goes; memory_failure()'s own keeps the folio.
        try m.putPage(p)
        expectClean(m)
        for task in [grandchild, child, mm] { try m.mmExit(task) }
        #expect(word(m, p).type == .anon && totalFree(m) == free0 - 1)
        expectClean(m)
        try m.unpoisonMemory(pfn: p)
        #expect(totalFree(m) == free0 && m.numPoisonedPages == 0)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func shmemStaysInItsPageCacheAndAPinIsMFFailed(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 2 * 4096, flags: [.shared, .anonymous])
        let p0 = try m.handleMMFault(mm, a)
        let p1 = try m.handleMMFault(mm, a + 4096)
        let pin = try m.pinUserPages(mm, start: a + 4096, nrPages: 1, flags: .write)
        try m.memoryFailure(pfn: p0, flags: .swSimulated)
        #expect(throws: ScamemError.busy) { try m.memoryFailure(pfn: p1, flags: .swSimulated) }
        #expect(try m.findVMA(mm, a).mappedPages == 0)
        #expect(throws: ScamemError.hwpoison) { try m.handleMMFault(mm, a + 4096) }
        // A new mapping of the same file refaults from the cache: __do_fault() sees PageHWPoison.
        let child = try m.fork(mm)
        #expect(throws: ScamemError.hwpoison) { try m.handleMMFault(child, a) }
        expectClean(m)
        try m.unpinUserPages(pin.withUnsafeBufferPointer { $0 })
        #expect(throws: ScamemError.busy) { try m.unpoisonMemory(pfn: p0) } // folio_mapping()
        try m.mmExit(child)
        try m.mmExit(mm)
        #expect(totalFree(m) == free0 - 2)
        expectClean(m)
        try m.unpoisonMemory(pfn: p0)
        try m.unpoisonMemory(pfn: p1)
        #expect(totalFree(m) == free0)
        expectClean(m)
    }

    @Test func aLargeFolioCannotBeSplitAndOnlyItsPoisonedPageIsKept() throws {
        let m = try tinyMachine(.pfnLookup)
        let free0 = totalFree(m)
        try m.setAnonFolioOrder(2)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 4 * 4096, flags: [.private, .anonymous])
        let p = try m.handleMMFault(mm, a)
        #expect(try m.pageInfo(p).order == 2)
        #expect(throws: ScamemError.hwpoison) { try m.memoryFailure(pfn: p + 1, flags: .swSimulated) }
        #expect(try m.pageHWPoison(p + 1) && m.followPage(mm, a + 4096) == p + 1)
        expectClean(m)
        try m.mmExit(mm)
        #expect(word(m, p + 1).type == .hwpoison && word(m, p).type == .buddy)
        #expect(totalFree(m) == free0 - 1)
        expectClean(m)
    }

    /// The hard case: a scamem page mapped to userspace and pinned
    /// keeps its link to its object through poison, unpin, munmap and vfree
    /// in either order, and the poisoned page never goes back.
    @Test(arguments: Strategy.allCases, [false, true])
    func aMappedPinnedScamemPageKeepsItsLink(strategy: Strategy, vfreeFirst: Bool) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let (mm, k, u) = try mappedVmallocUser(m, pages: 4)
        let id = try #require(try m.findVMA(mm, u).scamem)
        let pin = try m.pinUserPages(mm, start: u + 4096, nrPages: 1, flags: [.longterm, .write])
        let p = pin[0]
        let w0 = word(m, p), nid = try m.pageToNid(p), zone = try m.pageZonenum(p)
        let extra0 = m.strategyCost().extraBytes
        #expect(throws: ScamemError.busy) { try m.memoryFailure(pfn: p, flags: .swSimulated) }
        #expect(try word(m, p) == w0 && m.pageHWPoison(p))
        #expect(try m.pageToNid(p) == nid && m.pageZonenum(p) == zone)
        if strategy.wordNamesObject { #expect(try m.pageScamem(p) == id) }
        // A side table entry where neither word nor object has room.
        let side: UInt64 = strategy == .pfnLookup || strategy == .packed ? 16 : 0
        #expect(m.strategyCost().extraBytes == extra0 + side)
        // Still mapped and pinnable: the kernel leaves a kernel page's ptes.
        #expect(try m.followPage(mm, u + 4096) == p)
        let again = try m.getUserPages(mm, start: u + 4096, nrPages: 1)
        try m.putPage(again[0])
        expectClean(m)
        if vfreeFirst {
            try m.vfree(k)
            expectClean(m)
            try m.munmap(mm, addr: u, length: 4 * 4096)
            #expect(word(m, p) == w0 || !strategy.wholeObject)
            expectClean(m)
            try m.unpinUserPage(p)
        } else {
            try m.unpinUserPage(p)
            expectClean(m)
            try m.munmap(mm, addr: u, length: 4 * 4096)
            expectClean(m)
            #expect(word(m, p) == w0)
            try m.vfree(k)
        }
        #expect(try word(m, p).type == .hwpoison && m.pageHWPoison(p))
        #expect(totalFree(m) == free0 - 1 && m.numPoisonedPages == 1)
        // Nothing beside the objects but PFN_LOOKUP's zone table (and PACKED's index table).
        #expect(m.strategyCost().extraBytes == (strategy == .pfnLookup ? m.pfnZoneTableBytes : 0) || strategy == .packed)
        expectClean(m)
        try m.mmExit(mm)
        try m.unpoisonMemory(pfn: p)
        #expect(totalFree(m) == free0)
        expectClean(m)
    }

    /// Unpoison of a scamem page still in use clears the flag only: its
    /// object frees it later as any other page.
    @Test(arguments: Strategy.allCases)
    func unpoisonOfAPageInUseLeavesItToItsOwner(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let k = try m.vmallocUser(size: 2 * 4096)
        let p = try m.vmallocToPfn(k)
        #expect(throws: ScamemError.busy) { try m.memoryFailure(pfn: p, flags: .swSimulated) }
        try m.unpoisonMemory(pfn: p)
        #expect(try !m.pageHWPoison(p) && isScamemPage(m, p))
        expectClean(m)
        try m.vfree(k)
        #expect(totalFree(m) == free0)
        expectClean(m)
    }
}
