import Testing
import Scamem

/// madvise(): MADV_DONTNEED zaps ptes while the VMA stays.
@Suite struct MadviseTests {
    @Test(arguments: Strategy.allCases)
    func dontNeedFreesAnonAndDropsADriverMappingsReference(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 2 * 4096, flags: [.private, .anonymous])
        let p = try m.handleMMFault(mm, a)
        try m.madvise(mm, addr: a, length: 2 * 4096, advice: .dontNeed)
        #expect(try word(m, p).type == .buddy && m.findVMA(mm, a).mappedPages == 0)
        #expect(try m.fixupUserFault(mm, a, flags: []) == m.zeroPagePfn)
        // A driver VMA: the pinned page survives the zap; a later fault is SIGBUS.
        let k = try m.vmallocUser(size: 2 * 4096)
        let u = try m.mmap(mm, length: 2 * 4096, flags: .shared)
        try m.remapVmallocRange(mm, uaddr: u, kaddr: k, pgoff: 0)
        let id = try #require(try m.findVMA(mm, u).scamem)
        let pin = try m.pinUserPages(mm, start: u, nrPages: 1, flags: .write)
        try m.madvise(mm, addr: u, length: 4096, advice: .dontNeed)
        #expect(try m.findVMA(mm, u).scamem == id)
        try m.madvise(mm, addr: u + 4096, length: 4096, advice: .dontNeed)
        #expect(try m.findVMA(mm, u).scamem == nil)
        if strategy.wholeObject { #expect(try m.scamemStat(id).mapRefs == 0) }
        #expect(throws: ScamemError.fault) { try m.handleMMFault(mm, u) }
        #expect(throws: ScamemError.fault) { try m.getUserPages(mm, start: u, nrPages: 1) }
        try m.vfree(k)
        #expect(isScamemPage(m, pin[0]))
        expectClean(m)
        try m.unpinUserPage(pin[0])
        // Holes are skipped and reported; VM_PFNMAP refuses; bad arguments.
        #expect(throws: ScamemError.noMemory) { try m.madvise(mm, addr: a - 4096, length: 3 * 4096, advice: .dontFork) }
        #expect(try m.findVMA(mm, a).flags.contains(.dontCopy))
        #expect(throws: ScamemError.invalid) { try m.madvise(mm, addr: a, length: 4096, advice: Madvice(rawValue: 99)) }
        #expect(throws: ScamemError.invalid) { try m.madvise(mm, addr: a + 1, length: 4096, advice: .dontNeed) }
        #expect(throws: ScamemError.invalid) { try m.madvise(mm, addr: a, length: .max, advice: .dontNeed) }
        try m.madvise(mm, addr: a, length: 0, advice: .dontNeed)
        try m.mmExit(mm)
        #expect(throws: ScamemError.badHandle) { try m.madvise(mm, addr: a, length: 4096, advice: .dontNeed) }
        #expect(totalFree(m) + 1 == free0)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func pfnmapMappingsRefuseDontNeedAndGrowthButFork(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 4096, flags: [.private, .anonymous])
        let z = try m.fixupUserFault(mm, a, flags: [])
        // The zero page is reserved: remap_pfn_range() may map it.
        let u = try m.mmap(mm, length: 4096, flags: .shared)
        try m.remapPfnRange(mm, uaddr: u, pfn: z, size: 4096)
        #expect(throws: ScamemError.invalid) { try m.madvise(mm, addr: u, length: 4096, advice: .dontNeed) }
        #expect(throws: ScamemError.fault) { try m.mremap(mm, oldAddr: u, oldLength: 4096, newLength: 2 * 4096, flags: .mayMove) }
        #expect(throws: ScamemError.invalid) { try m.madvise(mm, addr: u, length: 4096, advice: .doFork) }
        // vma_needs_copy(): the special pte is copied; GUP still refuses it.
        let child = try m.fork(mm)
        #expect(try m.findVMA(child, u).mappedPages == 1 && m.findVMA(child, u).flags.contains(.pfnMap))
        #expect(throws: ScamemError.fault) { try m.getUserPages(child, start: u, nrPages: 1) }
        expectClean(m)
        try m.mmExit(child)
        try m.mmExit(mm)
        expectClean(m)
    }
}
