import Testing
import Scamem

/// mprotect(): protections per VMA, splits and their references.
@Suite struct MprotectTests {
    @Test(arguments: Strategy.allCases)
    func splitsKeepEachPartsReference(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let (mm, k, u) = try mappedVmallocUser(m, pages: 4)
        let id = try #require(try m.findVMA(mm, u).scamem)
        try m.mprotect(mm, addr: u + 4096, length: 2 * 4096, prot: .read)
        let parts = try m.vmas(mm)
        #expect(parts.map { $0.start } == [u, u + 4096, u + 3 * 4096])
        #expect(parts.map { $0.flags.contains(.write) } == [true, false, true] && parts.allSatisfy { $0.scamem == id })
        if strategy.wholeObject { #expect(try m.scamemStat(id).mapRefs == 3) }
        expectClean(m)
        // The read-only part takes no write (a shared VMA has no COW).
        #expect(throws: ScamemError.fault) { try m.pinUserPages(mm, start: u + 4096, nrPages: 1, flags: .write) }
        #expect(try m.handleMMFault(mm, u + 4096) == m.vmallocToPfn(k + 4096))
        try m.mprotect(mm, addr: u, length: 4 * 4096, prot: [.read, .write])
        let w = try m.pinUserPages(mm, start: u + 4096, nrPages: 1, flags: .write)
        #expect(try w == [m.vmallocToPfn(k + 4096)])
        try m.unpinUserPage(w[0])
        try m.munmap(mm, addr: u, length: 4 * 4096)
        if strategy.wholeObject { #expect(try m.scamemStat(id).mapRefs == 0) }
        try m.vfree(k)
        try m.mmExit(mm)
        #expect(totalFree(m) == free0)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func privateAnonWritesAfterMprotect(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 2 * 4096, flags: [.private, .anonymous])
        let p = try m.handleMMFault(mm, a)
        try m.mprotect(mm, addr: a, length: 2 * 4096, prot: .read)
        #expect(throws: ScamemError.fault) { try m.fixupUserFault(mm, a, flags: .write) }
        #expect(try m.handleMMFault(mm, a) == p)
        // Writable again, the exclusive page is written in place (no copy).
        try m.mprotect(mm, addr: a, length: 2 * 4096, prot: [.read, .write])
        #expect(try m.fixupUserFault(mm, a, flags: .write) == p)
        expectClean(m)
        try m.mmExit(mm)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func misuseAndHoles(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, addr: 0x4000_0000, length: 4096, flags: [.private, .anonymous, .fixed])
        _ = try m.mmap(mm, addr: 0x4000_2000, length: 4096, flags: [.private, .anonymous, .fixed])
        // A hole: the VMA before it is changed, then -ENOMEM (do_mprotect_pkey()).
        #expect(throws: ScamemError.noMemory) { try m.mprotect(mm, addr: a, length: 3 * 4096, prot: .read) }
        #expect(try !m.findVMA(mm, a).flags.contains(.write) && m.findVMA(mm, a + 0x2000).flags.contains(.write))
        #expect(throws: ScamemError.noMemory) { try m.mprotect(mm, addr: 0x1000, length: 4096, prot: .read) }
        #expect(throws: ScamemError.invalid) { try m.mprotect(mm, addr: a + 1, length: 4096, prot: .read) }
        #expect(throws: ScamemError.invalid) { try m.mprotect(mm, addr: a, length: 4096, prot: ProtFlags(rawValue: 0x10)) }
        #expect(throws: ScamemError.invalid) { try m.mprotect(mm, addr: a, length: .max, prot: .read) }
        try m.mprotect(mm, addr: a, length: 0, prot: [])
        try m.mmExit(mm)
        #expect(throws: ScamemError.badHandle) { try m.mprotect(mm, addr: a, length: 4096, prot: .read) }
        expectClean(m)
    }
}
