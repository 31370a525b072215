import Testing
import Scamem

/// mm, VMAs, remap_vmalloc_range with the kernel's checks, munmap splitting.
@Suite struct MMTests {
    @Test(arguments: Strategy.allCases)
    func mmapPlacesAndRefuses(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 3 * 4096, flags: [.private, .anonymous])
        let b = try m.mmap(mm, length: 4096, flags: .shared)
        #expect(a == 0x1000_0000 && b == a + 3 * 4096)
        let fixed = try m.mmap(mm, addr: 0x2000_0000, length: 100, flags: [.shared, .fixed])
        #expect(fixed == 0x2000_0000)
        #expect(try m.findVMA(mm, fixed).end == 0x2000_1000)
        #expect(throws: ScamemError.exists) { try m.mmap(mm, addr: a + 4096, length: 4096, flags: [.shared, .fixed]) }
        #expect(throws: ScamemError.invalid) { try m.mmap(mm, length: 4096, flags: [.shared, .private]) }
        #expect(throws: ScamemError.invalid) { try m.mmap(mm, length: 4096, flags: .anonymous) }
        #expect(throws: ScamemError.invalid) { try m.mmap(mm, length: 0, flags: .shared) }
        #expect(throws: ScamemError.invalid) { try m.mmap(mm, addr: 123, length: 4096, flags: .shared) }
        #expect(throws: ScamemError.invalid) { try m.mmap(mm, length: 4096, flags: MapFlags(rawValue: 0x4000)) }
        // A hole between VMAs is reused first-fit.
        try m.munmap(mm, addr: a, length: 3 * 4096)
        #expect(try m.mmap(mm, length: 2 * 4096, flags: .shared) == a)
        try m.mmExit(mm)
        #expect(throws: ScamemError.badHandle) { try m.mmap(mm, length: 4096, flags: .shared) }
        #expect(throws: ScamemError.badHandle) { try m.mmExit(mm) }
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func anonymousFaultsAndUnmap(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 4 * 4096, flags: [.private, .anonymous])
        #expect(throws: ScamemError.fault) { try m.followPage(mm, a) }
        let pfn = try m.handleMMFault(mm, a + 100)
        #expect(try m.followPage(mm, a) == pfn)
        #expect(try m.handleMMFault(mm, a) == pfn)
        let info = try m.pageInfo(pfn)
        #expect(info.word.type == .anon && info.refcount == 1 && info.mapcount == 1 && info.order == 0)
        #expect(throws: ScamemError.fault) { try m.handleMMFault(mm, a + 4 * 4096) }
        expectClean(m)
        try m.munmap(mm, addr: a, length: 4096)
        #expect(word(m, pfn).type == .buddy)
        #expect(totalFree(m) == free0)
        try m.mmExit(mm)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func mthpFaultsLargeFolios(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        try m.setAnonFolioOrder(2)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, addr: 0x4000_0000, length: 6 * 4096, flags: [.private, .anonymous, .fixed])
        let p = try m.handleMMFault(mm, a + 4096)
        let info = try m.pageInfo(p)
        #expect(info.order == 2 && info.mapcount == 4 && info.refcount == 4 && info.headPfn == p - 1)
        // The last two pages cannot hold an aligned order-2 folio: order 1.
        let q = try m.handleMMFault(mm, a + 5 * 4096)
        #expect(try m.pageInfo(q).order == 1)
        expectClean(m)
        // Unmapping part of a large folio drops that part's maps and references.
        try m.munmap(mm, addr: a, length: 2 * 4096)
        #expect(try m.pageInfo(p + 1).mapcount == 2)
        expectClean(m)
        try m.mmExit(mm)
        #expect(throws: ScamemError.invalid) { try m.setAnonFolioOrder(11) }
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func remapVmallocRangeChecks(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let mm = try m.mmNew()
        let user = try m.vmallocUser(size: 4 * 4096)
        let plain = try m.vmalloc(size: 4 * 4096)
        let other = try m.vmallocUser(size: 4096)
        let drv = try m.mmap(mm, length: 4 * 4096, flags: .shared)
        let anon = try m.mmap(mm, length: 4096, flags: [.private, .anonymous])
        // Without VM_USERMAP, misaligned, unknown area, past the area, anon VMA.
        #expect(throws: ScamemError.invalid) { try m.remapVmallocRange(mm, uaddr: drv, kaddr: plain, pgoff: 0) }
        #expect(throws: ScamemError.invalid) { try m.remapVmallocRange(mm, uaddr: drv, kaddr: user + 1, pgoff: 0) }
        #expect(throws: ScamemError.invalid) { try m.remapVmallocRange(mm, uaddr: drv, kaddr: 0x1000, pgoff: 0) }
        #expect(throws: ScamemError.invalid) { try m.remapVmallocRange(mm, uaddr: drv, kaddr: user + 4096, pgoff: 0) }
        #expect(throws: ScamemError.invalid) { try m.remapVmallocRange(mm, uaddr: drv, kaddr: user, pgoff: 1) }
        #expect(throws: ScamemError.invalid) { try m.remapVmallocRange(mm, uaddr: drv, kaddr: user, pgoff: UInt64.max) }
        #expect(throws: ScamemError.invalid) {
            try m.remapVmallocRangePartial(mm, uaddr: drv, kaddr: user, pgoff: 2, size: 3 * 4096)
        }
        #expect(throws: ScamemError.invalid) { try m.remapVmallocRange(mm, uaddr: anon, kaddr: other, pgoff: 0) }
        #expect(throws: ScamemError.fault) { try m.remapVmallocRange(mm, uaddr: 0x10, kaddr: user, pgoff: 0) }
        #expect(throws: ScamemError.fault) {
            try m.remapVmallocRangePartial(mm, uaddr: drv + 3 * 4096, kaddr: user, pgoff: 0, size: 2 * 4096)
        }
        #expect(throws: ScamemError.invalid) {
            try m.remapVmallocRangePartial(mm, uaddr: drv + 1, kaddr: user, pgoff: 0, size: 4096)
        }
        // A partial remap, then the rest: one reference for the VMA.
        try m.remapVmallocRangePartial(mm, uaddr: drv, kaddr: user, pgoff: 0, size: 2 * 4096)
        #expect(throws: ScamemError.busy) {
            try m.remapVmallocRangePartial(mm, uaddr: drv, kaddr: user, pgoff: 0, size: 4096)
        }
        #expect(throws: ScamemError.busy) {
            try m.remapVmallocRangePartial(mm, uaddr: drv + 2 * 4096, kaddr: other, pgoff: 0, size: 4096)
        }
        try m.remapVmallocRangePartial(mm, uaddr: drv + 2 * 4096, kaddr: user, pgoff: 2, size: 2 * 4096)
        let s = m.findVmArea(user)!.scamem
        // One reference for the VMA, or (LEGACY) one per pte on each page.
        #expect(try m.scamemStat(s).mapRefs == (strategy.wholeObject ? 1 : 0))
        if !strategy.wholeObject { #expect(try m.pageInfo(m.vmallocToPfn(user)).refcount == 2) }
        let vma = try m.findVMA(mm, drv)
        #expect(vma.mappedPages == 4 && vma.scamem == s)
        #expect(vma.flags.isSuperset(of: [.mixedMap, .dontExpand, .dontDump]))
        for i in 0..<4 { #expect(try m.followPage(mm, drv + UInt64(i) * 4096) == m.vmallocToPfn(user + UInt64(i) * 4096)) }
        // A driver VMA has nothing to fault in where nothing was remapped.
        let empty = try m.mmap(mm, length: 4096, flags: .shared)
        #expect(throws: ScamemError.fault) { try m.handleMMFault(mm, empty) }
        expectClean(m)
        try m.mmExit(mm)
        #expect(try m.scamemStat(s).refcount == 1)
        for a in [user, plain, other] { try m.vfree(a) }
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func munmapSplitsAndEachPartKeepsAReference(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let (mm, k, u) = try mappedVmallocUser(m, pages: 5)
        let s = m.findVmArea(k)!.scamem
        try m.vfree(k)
        let pages = try (0..<5).map { (i: UInt64) throws(ScamemError) -> UInt64 in try m.followPage(mm, u + i * 4096) }
        // Punch page 2: two VMAs. Each holds a reference on the object; LEGACY
        // freed the object at vfree and page 2 with its pte.
        try m.munmap(mm, addr: u + 2 * 4096, length: 4096)
        let vmas = try m.vmas(mm)
        #expect(vmas.map(\.start) == [u, u + 3 * 4096])
        if strategy.wholeObject {
            #expect(vmas.allSatisfy { $0.scamem == s })
            #expect(try m.scamemStat(s).mapRefs == 2 && m.scamemStat(s).refcount == 2)
        } else {
            #expect(throws: ScamemError.badHandle) { try m.scamemStat(s) }
        }
        #expect(isScamemPage(m, pages[2]) == strategy.wholeObject)
        expectClean(m)
        // Unmap across both parts but leave page 4: one part left.
        try m.munmap(mm, addr: u, length: 4 * 4096)
        if strategy.wholeObject { #expect(try m.scamemStat(s).mapRefs == 1) }
        #expect(try m.vmas(mm).map(\.start) == [u + 4 * 4096])
        #expect(isScamemPage(m, pages[0]) == strategy.wholeObject)
        expectClean(m)
        try m.munmap(mm, addr: u + 4 * 4096, length: 4096)
        for pfn in pages { #expect(word(m, pfn).type == .buddy) }
        #expect(throws: ScamemError.badHandle) { try m.scamemStat(s) }
        try m.mmExit(mm)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func corruptedMappingIsCaught(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let (mm, k, _) = try mappedVmallocUser(m, pages: 1)
        let pfn = try m.vmallocToPfn(k)
        // Pretend the page went back to the allocator while still mapped.
        let saved = word(m, pfn).rawValue
        withMutableWords(m) { $0[Int(pfn)] = word(m, 0x800).rawValue & ~0x3fff0 | 1 }
        let issues = m.check()
        #expect(issues.contains { $0.kind == .refcount && $0.pfn == pfn })
        #expect(issues.contains { $0.kind == .descriptor })
        withMutableWords(m) { $0[Int(pfn)] = saved }
        expectClean(m)
        try m.mmExit(mm)
        try m.vfree(k)
        expectClean(m)
    }
}
