import Testing
import Scamem

/// mremap(): shrink, grow in place, move, MREMAP_FIXED and MREMAP_DONTUNMAP.
@Suite struct MremapTests {
    @Test(arguments: Strategy.allCases)
    func anonymousMemoryShrinksGrowsAndMoves(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, addr: 0x4000_0000, length: 4 * 4096, flags: [.private, .anonymous, .fixed])
        let pfns = try (0..<4).map { (i: UInt64) throws(ScamemError) -> UInt64 in try m.handleMMFault(mm, a + i * 4096) }
        // Shrinking unmaps the tail.
        #expect(try m.mremap(mm, oldAddr: a, oldLength: 4 * 4096, newLength: 3 * 4096, flags: []) == a)
        #expect(word(m, pfns[3]).type == .buddy)
        // Growing in place where the range after is free.
        #expect(try m.mremap(mm, oldAddr: a, oldLength: 3 * 4096, newLength: 5 * 4096, flags: []) == a)
        #expect(try m.findVMA(mm, a).end == a + 5 * 4096)
        // Blocked: -ENOMEM, or a move with MAYMOVE; the pages go along.
        _ = try m.mmap(mm, addr: a + 5 * 4096, length: 4096, flags: [.private, .anonymous, .fixed])
        #expect(throws: ScamemError.noMemory) { try m.mremap(mm, oldAddr: a, oldLength: 5 * 4096, newLength: 6 * 4096, flags: []) }
        let b = try m.mremap(mm, oldAddr: a, oldLength: 5 * 4096, newLength: 6 * 4096, flags: .mayMove)
        #expect(b != a)
        #expect(throws: ScamemError.fault) { try m.followPage(mm, a) }
        #expect(try (0..<3).map { (i: UInt64) throws(ScamemError) -> UInt64 in try m.followPage(mm, b + i * 4096) } == Array(pfns[0..<3]))
        expectClean(m)
        // MREMAP_FIXED unmaps what is at the target.
        let c = try m.mremap(mm, oldAddr: b, oldLength: 4096, newLength: 4096, flags: [.mayMove, .fixed], newAddr: a + 5 * 4096)
        #expect(try c == a + 5 * 4096 && m.followPage(mm, c) == pfns[0])
        // MREMAP_DONTUNMAP leaves the old VMA, empty.
        let d = try m.mremap(mm, oldAddr: b + 4096, oldLength: 4096, newLength: 4096, flags: [.mayMove, .dontUnmap])
        #expect(try m.followPage(mm, d) == pfns[1] && m.findVMA(mm, b + 4096).mappedPages == 0)
        expectClean(m)
        try m.mmExit(mm)
        #expect(totalFree(m) == free0)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func driverMappingsMoveButDoNotGrow(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let (mm, k, u) = try mappedVmallocUser(m, pages: 2)
        let id = try #require(try m.findVMA(mm, u).scamem)
        // VM_DONTEXPAND: vma_to_resize() refuses to grow it.
        #expect(throws: ScamemError.fault) { try m.mremap(mm, oldAddr: u, oldLength: 2 * 4096, newLength: 3 * 4096, flags: .mayMove) }
        #expect(throws: ScamemError.invalid) {
            try m.mremap(mm, oldAddr: u, oldLength: 2 * 4096, newLength: 2 * 4096, flags: [.mayMove, .dontUnmap])
        }
        let v = try m.mremap(mm, oldAddr: u, oldLength: 2 * 4096, newLength: 2 * 4096, flags: [.mayMove, .fixed],
                             newAddr: 0x5000_0000)
        #expect(try v == 0x5000_0000 && m.followPage(mm, v + 4096) == m.vmallocToPfn(k + 4096))
        #expect(try m.findVMA(mm, v).scamem == id)
        if strategy.wholeObject { #expect(try m.scamemStat(id).mapRefs == 1) }
        // Moving part of it splits: both parts hold a reference.
        _ = try m.mremap(mm, oldAddr: v, oldLength: 4096, newLength: 4096, flags: [.mayMove, .fixed], newAddr: 0x6000_0000)
        if strategy.wholeObject { #expect(try m.scamemStat(id).mapRefs == 2) }
        expectClean(m)
        // Misuse.
        #expect(throws: ScamemError.invalid) { try m.mremap(mm, oldAddr: v + 1, oldLength: 4096, newLength: 4096, flags: []) }
        #expect(throws: ScamemError.invalid) { try m.mremap(mm, oldAddr: v, oldLength: 4096, newLength: 4096, flags: .fixed) }
        #expect(throws: ScamemError.invalid) { try m.mremap(mm, oldAddr: v, oldLength: 0, newLength: 4096, flags: []) }
        #expect(throws: ScamemError.invalid) { try m.mremap(mm, oldAddr: v, oldLength: 4096, newLength: 0, flags: []) }
        #expect(throws: ScamemError.invalid) { try m.mremap(mm, oldAddr: v, oldLength: 4096, newLength: 4096, flags: MremapFlags(rawValue: 8)) }
        #expect(throws: ScamemError.invalid) {
            try m.mremap(mm, oldAddr: v + 4096, oldLength: 4096, newLength: 2 * 4096, flags: [.mayMove, .fixed], newAddr: v)
        }
        #expect(throws: ScamemError.fault) { try m.mremap(mm, oldAddr: 0x1000, oldLength: 4096, newLength: 4096, flags: []) }
        #expect(throws: ScamemError.fault) { try m.mremap(mm, oldAddr: v + 4096, oldLength: 2 * 4096, newLength: 3 * 4096, flags: .mayMove) }
        try m.mmExit(mm)
        try m.vfree(k)
        expectClean(m)
    }
}
