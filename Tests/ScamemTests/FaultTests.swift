import Testing
import Scamem

/// Faults as mm/memory.c takes them: the zero page, COW, FOLL_WRITE and
/// FOLL_FORCE, unshare.
@Suite struct FaultTests {
    @Test(arguments: Strategy.allCases)
    func readFaultsMapTheZeroPageAndWritesCopyIt(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 2 * 4096, flags: [.private, .anonymous])
        let z = try m.fixupUserFault(mm, a, flags: [])
        #expect(try m.fixupUserFault(mm, a + 4096, flags: []) == z && m.zeroPagePfn == z)
        #expect(word(m, z).type == .misc && word(m, z).subtype == MiscSubtype.reserved.rawValue)
        // A read GUP finds the zero page and takes nothing on it.
        let got = try m.getUserPages(mm, start: a, nrPages: 2)
        #expect(got == [z, z])
        #expect(throws: ScamemError.invalid) { try m.folioPut(z) }
        expectClean(m)
        // A write copies it into a new exclusive anon page; a second write reuses that.
        let p = try m.fixupUserFault(mm, a, flags: .write)
        #expect(try p != z && word(m, p).type == .anon && m.followPage(mm, a + 4096) == z)
        #expect(try m.handleMMFault(mm, a) == p)
        for pfn in got { try m.putPage(pfn) }
        #expect(throws: ScamemError.invalid) { try m.putPage(z) }
        expectClean(m)
        try m.mmExit(mm)
        // Everything back but the zero page, which the kernel never frees.
        #expect(totalFree(m) + 1 == free0)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func writesToAPrivateDriverMappingCopyTheVmallocPage(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let mm = try m.mmNew()
        let k = try m.vmallocUser(size: 2 * 4096)
        let u = try m.mmap(mm, length: 2 * 4096, flags: .private)
        try m.remapVmallocRange(mm, uaddr: u, kaddr: k, pgoff: 0)
        let v0 = try m.vmallocToPfn(k), v1 = try m.vmallocToPfn(k + 4096)
        #expect(try m.followPage(mm, u) == v0)
        let id = try #require(try m.findVMA(mm, u).scamem)
        // A R/O short-term pin takes the driver's page itself.
        let ro = try m.pinUserPages(mm, start: u + 4096, nrPages: 1)
        #expect(ro == [v1])
        try m.unpinUserPage(v1)
        // do_wp_page() -> wp_page_copy(): the write gets an anon copy.
        let c0 = try m.handleMMFault(mm, u)
        #expect(try c0 != v0 && word(m, c0).type == .anon && m.followPage(mm, u + 4096) == v1)
        expectClean(m)
        // FOLL_WRITE pins the copy, not the vmalloc page (can_follow_write_pte()).
        let w = try m.pinUserPages(mm, start: u + 4096, nrPages: 1, flags: .write)
        #expect(w.count == 1 && w[0] != v1 && word(m, w[0]).type == .anon)
        // No pte maps the area any more: the VMA gave back its reference.
        #expect(try m.findVMA(mm, u).scamem == nil)
        if strategy.wholeObject { #expect(try m.scamemStat(id).mapRefs == 0) }
        expectClean(m)
        try m.vfree(k)
        #expect(!isScamemPage(m, v0) && !isScamemPage(m, v1))
        try m.unpinUserPage(w[0])
        try m.mmExit(mm)
        #expect(totalFree(m) == free0)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func longtermReadOnlyPinsUnshareAndSharedAnonIsUnsharedForPins(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let mm = try m.mmNew()
        let k = try m.vmallocUser(size: 4096)
        let u = try m.mmap(mm, length: 4096, flags: .private)
        try m.remapVmallocRange(mm, uaddr: u, kaddr: k, pgoff: 0)
        // gup_must_unshare(): FOLL_LONGTERM R/O of a non-anon page in a COW mapping.
        let p = try m.pinUserPages(mm, start: u, nrPages: 1, flags: .longterm)
        #expect(try p[0] != m.vmallocToPfn(k) && word(m, p[0]).type == .anon)
        // A R/O pin of an anon page shared with a child unshares too.
        let a = try m.mmap(mm, length: 4096, flags: [.private, .anonymous])
        let shared = try m.handleMMFault(mm, a)
        let child = try m.fork(mm)
        let q = try m.pinUserPages(mm, start: a, nrPages: 1)
        #expect(try q[0] != shared && m.followPage(child, a) == shared)
        // FOLL_GET does not unshare.
        let g = try m.getUserPages(child, start: a, nrPages: 1)
        #expect(g == [shared])
        expectClean(m)
        try m.unpinUserPage(p[0])
        try m.unpinUserPage(q[0])
        try m.putPage(shared)
        try m.mmExit(child)
        try m.mmExit(mm)
        try m.vfree(k)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func protectionsAndFollForce(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let mm = try m.mmNew()
        let ro = try m.mmap(mm, length: 2 * 4096, prot: .read, flags: [.private, .anonymous])
        #expect(try m.findVMA(mm, ro).flags.isSuperset(of: [.read, .mayRead, .mayWrite]))
        #expect(try !m.findVMA(mm, ro).flags.contains(.write))
        #expect(throws: ScamemError.fault) { try m.fixupUserFault(mm, ro, flags: .write) }
        #expect(throws: ScamemError.fault) { try m.pinUserPages(mm, start: ro, nrPages: 1, flags: .write) }
        // A read-only VMA's user access is a read: the zero page.
        #expect(try m.handleMMFault(mm, ro) == m.zeroPagePfn)
        // FOLL_FORCE writes a private VMA through a COW copy, as ptrace does.
        let f = try m.pinUserPages(mm, start: ro, nrPages: 1, flags: [.write, .force])
        #expect(try f[0] != m.zeroPagePfn && word(m, f[0]).type == .anon && m.followPage(mm, ro) == f[0])
        // Again: the copy is exclusive, so no second copy.
        let again = try m.getUserPages(mm, start: ro, nrPages: 1, flags: [.write, .force])
        #expect(again == f)
        // Not on a shared one.
        let sh = try m.mmap(mm, length: 4096, prot: .read, flags: [.shared, .anonymous])
        #expect(throws: ScamemError.fault) { try m.getUserPages(mm, start: sh, nrPages: 1, flags: [.write, .force]) }
        // PROT_NONE: no access, but FOLL_FORCE may read (VM_MAYREAD).
        let none = try m.mmap(mm, length: 4096, prot: [], flags: [.private, .anonymous])
        #expect(throws: ScamemError.fault) { try m.handleMMFault(mm, none) }
        #expect(throws: ScamemError.fault) { try m.getUserPages(mm, start: none, nrPages: 1) }
        let forced = try m.getUserPages(mm, start: none, nrPages: 1, flags: .force)
        #expect(forced == [m.zeroPagePfn])
        // Bad fault flags.
        #expect(throws: ScamemError.invalid) { try m.fixupUserFault(mm, ro, flags: [.write, .unshare]) }
        #expect(throws: ScamemError.invalid) { try m.fixupUserFault(mm, ro, flags: FaultFlags(rawValue: 0x8)) }
        #expect(throws: ScamemError.invalid) { try m.mmap(mm, length: 4096, prot: ProtFlags(rawValue: 8), flags: .private) }
        expectClean(m)
        try m.unpinUserPage(f[0])
        try m.putPage(f[0])
        try m.putPage(forced[0])
        try m.mmExit(mm)
        expectClean(m)
    }
}
