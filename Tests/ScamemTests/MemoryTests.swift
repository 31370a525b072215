import Testing
import Scamem

/// mm/memory.c's driver calls: remap_pfn_range(), vm_insert_pages(), vm_map_pages().
@Suite struct MemoryTests {
    func miniMachine(_ strategy: Strategy) throws -> Machine {
        try Machine(Fixtures.mini().with(strategy: strategy))
    }

    @Test(arguments: Strategy.allCases)
    func remapPfnRangeMapsSpecialPtesOnly(strategy: Strategy) throws {
        let m = try miniMachine(strategy)
        let mm = try m.mmNew()
        let drv = try m.mmap(mm, length: 4 * 4096, flags: .shared)
        // The reserved pfns at 0x1000 and the memmap-less section at 0x6000.
        try m.remapPfnRange(mm, uaddr: drv, pfn: 0x1000, size: 2 * 4096)
        try m.remapPfnRange(mm, uaddr: drv + 2 * 4096, pfn: 0x6000, size: 4096 + 1)
        let v = try m.findVMA(mm, drv)
        #expect(v.flags.isSuperset(of: [.io, .pfnMap, .dontExpand, .dontDump]) && v.mappedPages == 4)
        expectClean(m)
        // GUP refuses VM_IO / VM_PFNMAP (check_vma_flags()); no page to follow.
        #expect(throws: ScamemError.fault) { try m.getUserPages(mm, start: drv, nrPages: 1) }
        #expect(throws: ScamemError.fault) { try m.pinUserPages(mm, start: drv, nrPages: 1) }
        #expect(throws: ScamemError.fault) { try m.followPage(mm, drv) }
        #expect(throws: ScamemError.busy) { try m.remapPfnRange(mm, uaddr: drv, pfn: 0x1000, size: 4096) }
        // Pages the library can free are never pfn-mapped.
        let page = try m.allocPages(order: 0)
        let folio = try m.folioAlloc(.file)
        for pfn in [page, folio] {
            #expect(throws: ScamemError.invalid) { try m.remapPfnRange(mm, uaddr: drv + 3 * 4096, pfn: pfn, size: 4096) }
        }
        #expect(throws: ScamemError.outOfRange) { try m.remapPfnRange(mm, uaddr: drv, pfn: 0xffff, size: 2 * 4096) }
        #expect(throws: ScamemError.outOfRange) { try m.remapPfnRange(mm, uaddr: drv, pfn: .max, size: 4096) }
        #expect(throws: ScamemError.invalid) { try m.remapPfnRange(mm, uaddr: drv + 1, pfn: 0, size: 4096) }
        #expect(throws: ScamemError.invalid) { try m.remapPfnRange(mm, uaddr: drv, pfn: 0, size: 0) }
        #expect(throws: ScamemError.invalid) { try m.remapPfnRange(mm, uaddr: drv, pfn: 0, size: .max) }
        #expect(throws: ScamemError.fault) { try m.remapPfnRange(mm, uaddr: drv + 3 * 4096, pfn: 0x1000, size: 2 * 4096) }
        #expect(throws: ScamemError.fault) { try m.remapPfnRange(mm, uaddr: 0x4000_0000, pfn: 0, size: 4096) }
        // A private (COW) mapping is mapped whole or not at all.
        let priv = try m.mmap(mm, length: 2 * 4096, flags: .private)
        #expect(throws: ScamemError.invalid) { try m.remapPfnRange(mm, uaddr: priv, pfn: 0x1000, size: 4096) }
        try m.remapPfnRange(mm, uaddr: priv, pfn: 0x1000, size: 2 * 4096)
        let anon = try m.mmap(mm, length: 4096, flags: [.private, .anonymous])
        #expect(throws: ScamemError.invalid) { try m.remapPfnRange(mm, uaddr: anon, pfn: 0, size: 4096) }
        // Neither vmalloc nor page insertion into a VM_PFNMAP VMA.
        let user = try m.vmallocUser(size: 4096)
        #expect(throws: ScamemError.invalid) { try m.remapVmallocRange(mm, uaddr: drv, kaddr: user, pgoff: 0) }
        var num = 1
        #expect(throws: ScamemError.invalid) { try [folio].withUnsafeBufferPointer { try m.vmInsertPages(mm, uaddr: drv + 3 * 4096, pfns: $0, num: &num) } }
        #expect(num == 1)
        // The checker holds every special pte to a page nothing can free.
        let issues = withMutableWords(m) { w -> [CheckIssue] in
            let old = w[0x1000]
            w[0x1000] = PageWord.inline(.misc, subtype: MiscSubtype.unknown.rawValue, flags: 0).rawValue
            defer { w[0x1000] = old }
            return m.check()
        }
        #expect(issues.contains { $0.pfn == 0x1000 && $0.message.contains("pfnmap") })
        // munmap drops nothing (nothing was taken); the model stays clean.
        try m.munmap(mm, addr: drv, length: 4096)
        expectClean(m)
        try m.mmExit(mm)
        try m.vfree(user)
        try m.freePages(page, order: 0)
        try m.folioPut(folio)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func vmInsertPagesTakesAReferencePerPte(strategy: Strategy) throws {
        let m = try miniMachine(strategy)
        let free0 = totalFree(m)
        let mm = try m.mmNew()
        let drv = try m.mmap(mm, length: 4 * 4096, flags: .shared)
        let f = [try m.folioAlloc(.file), try m.folioAlloc(.file), try m.folioAlloc(.file, order: 1)]
        let pfns = [f[0], f[1], f[2], f[2] + 1]
        var num = 4
        try pfns.withUnsafeBufferPointer { try m.vmInsertPages(mm, uaddr: drv, pfns: $0, num: &num) }
        #expect(num == 0)
        #expect(try m.findVMA(mm, drv).flags.contains(.mixedMap))
        #expect(try m.pageInfo(f[2]).refcount == 3 && m.pageInfo(f[2]).mapcount == 2)
        expectClean(m)
        // The mapping keeps the folios when the caller lets go; GUP works.
        for pfn in f { try m.folioPut(pfn) }
        #expect(try m.getUserPages(mm, start: drv, nrPages: 4) == pfns)
        #expect(try m.followPage(mm, drv + 4096) == f[1])
        expectClean(m)
        for pfn in pfns { try m.putPage(pfn) }
        try m.munmap(mm, addr: drv, length: 4096)
        #expect(try m.pageInfo(f[0]).word.type == .buddy)
        expectClean(m)
        try m.mmExit(mm)
        #expect(totalFree(m) == free0)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func vmInsertPagesStopsAtABadPage(strategy: Strategy) throws {
        let m = try miniMachine(strategy)
        let mm = try m.mmNew()
        let drv = try m.mmap(mm, length: 4 * 4096, flags: .shared)
        let good = try m.folioAlloc(.file)
        let anon = try m.folioAlloc(.anon)
        let page = try m.allocPages(order: 0)
        let free = try m.allocPages(order: 0)
        try m.freePages(free, order: 0)
        // validate_page_before_insert(): anon, free, reserved pages. An
        // alloc_pages() page goes in (io_uring's ring pages).
        for bad in [anon, free, 0] {
            var num = 3
            #expect(throws: ScamemError.invalid) {
                try [good, bad, good].withUnsafeBufferPointer { try m.vmInsertPages(mm, uaddr: drv, pfns: $0, num: &num) }
            }
            // One page went in, two did not; the inserted one stays.
            #expect(num == 2)
            expectClean(m)
            try m.munmap(mm, addr: drv, length: 4 * 4096)
            _ = try m.mmap(mm, addr: drv, length: 4 * 4096, flags: [.shared, .fixed])
        }
        var num = 1
        #expect(throws: ScamemError.noPage) { try [0x6000].withUnsafeBufferPointer { try m.vmInsertPages(mm, uaddr: drv, pfns: $0, num: &num) } }
        #expect(throws: ScamemError.outOfRange) { try [UInt64.max].withUnsafeBufferPointer { try m.vmInsertPages(mm, uaddr: drv, pfns: $0, num: &num) } }
        try [good].withUnsafeBufferPointer { try m.vmInsertPages(mm, uaddr: drv + 4096, pfns: $0, num: &num) }
        num = 2
        #expect(throws: ScamemError.busy) { try [good, good].withUnsafeBufferPointer { try m.vmInsertPages(mm, uaddr: drv, pfns: $0, num: &num) } }
        #expect(num == 1)
        // Checks before the first page leave num as it was.
        num = 4
        #expect(throws: ScamemError.fault) { try [good, good, good, good].withUnsafeBufferPointer { try m.vmInsertPages(mm, uaddr: drv + 4096, pfns: $0, num: &num) } }
        #expect(num == 4)
        #expect(throws: ScamemError.invalid) { try [good].withUnsafeBufferPointer { try m.vmInsertPages(mm, uaddr: drv + 1, pfns: $0, num: &num) } }
        num = 0
        try [UInt64]().withUnsafeBufferPointer { try m.vmInsertPages(mm, uaddr: drv, pfns: $0, num: &num) }
        // One source per VMA: no vmalloc area into a VMA of inserted pages, and back.
        let user = try m.vmallocUser(size: 4096)
        #expect(throws: ScamemError.busy) { try m.remapVmallocRangePartial(mm, uaddr: drv + 3 * 4096, kaddr: user, pgoff: 0, size: 4096) }
        let other = try m.mmap(mm, length: 2 * 4096, flags: .shared)
        try m.remapVmallocRangePartial(mm, uaddr: other, kaddr: user, pgoff: 0, size: 4096)
        num = 1
        #expect(throws: ScamemError.busy) { try [good].withUnsafeBufferPointer { try m.vmInsertPages(mm, uaddr: other + 4096, pfns: $0, num: &num) } }
        #expect(throws: ScamemError.badHandle) { try m.remapPfnRange(MMID(rawValue: 12345), uaddr: drv, pfn: 0, size: 4096) }
        expectClean(m)
        try m.mmExit(mm)
        try m.vfree(user)
        for pfn in [good, anon] { try m.folioPut(pfn) }
        try m.freePages(page, order: 0)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func vmMapPagesMapsTheWholeVMAFromPgoff(strategy: Strategy) throws {
        let m = try miniMachine(strategy)
        let mm = try m.mmNew()
        let f = try (0..<4).map { _ throws(ScamemError) in try m.folioAlloc(.file) }
        let drv = try m.mmap(mm, length: 4 * 4096, flags: .shared)
        // After the split the second part starts 1 page in: vm_pgoff 1.
        try m.munmap(mm, addr: drv, length: 4096)
        let part = drv + 4096
        try f.withUnsafeBufferPointer { (b) throws(ScamemError) in
            #expect(throws: ScamemError.invalid) { try m.vmMapPages(mm, vmaStart: part + 4096, pfns: b) }
            #expect(throws: ScamemError.fault) { try m.vmMapPages(mm, vmaStart: drv, pfns: b) }
            #expect(throws: ScamemError.noPage) { try m.vmMapPages(mm, vmaStart: part, pfns: UnsafeBufferPointer(rebasing: b[0..<3])) }
            #expect(throws: ScamemError.noPage) { try m.vmMapPages(mm, vmaStart: part, pfns: UnsafeBufferPointer(rebasing: b[0..<1])) }
            try m.vmMapPages(mm, vmaStart: part, pfns: b)
        }
        for i in 0..<3 { #expect(try m.followPage(mm, part + UInt64(i) * 4096) == f[i + 1]) }
        #expect(try m.pageInfo(f[0]).mapcount == 0 && m.pageInfo(f[1]).mapcount == 1)
        expectClean(m)
        // A bad page part-way leaves the earlier ones mapped.
        let small = try m.mmap(mm, length: 2 * 4096, flags: .shared)
        #expect(throws: ScamemError.invalid) { try [f[0], 0].withUnsafeBufferPointer { try m.vmMapPages(mm, vmaStart: small, pfns: $0) } }
        #expect(try m.findVMA(mm, small).mappedPages == 1)
        expectClean(m)
        for pfn in f { try m.folioPut(pfn) }
        try m.mmExit(mm)
        for pfn in f { #expect(try m.pageInfo(pfn).word.type == .buddy) }
        expectClean(m)
    }
}
