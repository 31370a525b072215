import Dispatch
import Scamem
import Testing

/// pin_user_pages_fast() and get_user_pages_fast() (MM/GUPFast.swift): the
/// same pages and counts as the locked walk, never through VMAs that have
/// changed, and safe against threads that unmap, zap, copy and free what
/// they walk (the "Thread" tests run under ThreadSanitizer in CI).
@Suite struct GUPFastTests {
    /// A user mapping of an 8-page vmalloc_user() area.
    static func mappedArea(_ m: Machine, _ mm: MMID, pages: Int = 8) throws -> (kaddr: UInt64, uaddr: UInt64) {
        let k = try m.vmallocUser(size: UInt64(pages) * 4096)
        let u = try m.mmap(mm, length: UInt64(pages) * 4096, flags: .shared)
        try m.remapVmallocRange(mm, uaddr: u, kaddr: k, pgoff: 0)
        return (k, u)
    }

    @Test(arguments: Strategy.allCases)
    func fastPinsMatchTheLockedWalk(_ strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let mm = try m.mmNew()
        let (k, u) = try Self.mappedArea(m, mm)
        let slow = try m.pinUserPages(mm, start: u, nrPages: 8, flags: .write)
        // The locked walk published the VMAs: these need no lock where the
        // strategy's word points at the scamem.
        let fast = try m.pinUserPagesFast(mm, start: u, nrPages: 8, flags: .write)
        #expect(fast == slow && fast.count == 8)
        for (i, pfn) in fast.enumerated() { #expect(try m.vmallocToPfn(k + UInt64(i) * 4096) == pfn) }
        expectClean(m)
        #expect(try m.folioMaybeDmaPinned(fast[0]))
        #expect(try unpin(m, fast) == 8)
        #expect(try unpin(m, slow) == 8)
        // Nothing is held any more: a ninth unpin is refused.
        #expect(throws: ScamemError.invalid) { try m.unpinUserPage(fast[0]) }
        expectClean(m)
        try m.mmExit(mm)
        try m.vfree(k)
        expectClean(m)
        #expect(totalFree(m) == free0)
    }

    /// Large anon folios: a folio's pages are taken in one try-get and
    /// given back in one put; refcount and pincount as the locked walk's.
    @Test func largeFoliosPinInOneStep() throws {
        let m = try Machine(Fixtures.tiny())
        try m.setAnonFolioOrder(4)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 16 * 4096, flags: [.private, .anonymous])
        let slow = try m.pinUserPages(mm, start: a, nrPages: 16, flags: .write)
        let fast = try m.pinUserPagesFast(mm, start: a, nrPages: 16, flags: .write)
        #expect(fast == slow)
        let info = try m.pageInfo(fast[3])
        #expect(info.order == 4 && info.pincount == 32 && info.refcount == 16 + 32)
        expectClean(m)
        #expect(try unpin(m, fast) == 16)
        #expect(try m.pageInfo(fast[3]).pincount == 16)
        #expect(try unpin(m, slow) == 16)
        try m.mmExit(mm)
        expectClean(m)
    }

    /// Every change to the VMAs withdraws what GUP-fast reads: a stale copy
    /// would let it write through a read-only VMA or follow a pte no VMA has.
    @Test func changedVMAsAreNeverWalked() throws {
        let m = try tinyMachine(.pfnLookup)
        let mm = try m.mmNew()
        let (k, u) = try Self.mappedArea(m, mm)
        let p = try m.pinUserPagesFast(mm, start: u, nrPages: 8, flags: .write)
        _ = try unpin(m, p)
        try m.mprotect(mm, addr: u, length: 4096, prot: .read)
        #expect(throws: ScamemError.fault) { try m.pinUserPagesFast(mm, start: u, nrPages: 1, flags: .write) }
        #expect(try m.pinUserPagesFast(mm, start: u + 4096, nrPages: 1, flags: .write).count == 1)
        try m.unpinUserPage(p[1])
        try m.munmap(mm, addr: u + 4 * 4096, length: 4 * 4096)
        #expect(try m.getUserPagesFast(mm, start: u + 3 * 4096, nrPages: 2).count == 1)
        try m.putPage(p[3])
        #expect(throws: ScamemError.fault) { try m.getUserPagesFast(mm, start: u + 5 * 4096, nrPages: 1) }
        // A moved page is found at its new address only.
        let q = try m.pinUserPagesFast(mm, start: u + 2 * 4096, nrPages: 1)
        let moved = try m.mremap(mm, oldAddr: u + 2 * 4096, oldLength: 4096, newLength: 4096, flags: [.mayMove, .fixed], newAddr: u + 6 * 4096)
        #expect(throws: ScamemError.fault) { try m.pinUserPagesFast(mm, start: u + 2 * 4096, nrPages: 1) }
        #expect(try m.pinUserPagesFast(mm, start: moved, nrPages: 1) == q)
        try m.unpinUserPage(q[0])
        try m.unpinUserPage(q[0])
        expectClean(m)
        try m.mmExit(mm)
        try m.vfree(k)
        expectClean(m)
    }

    /// Threads pin and unpin without the lock while others zap the same
    /// anon pages (MADV_DONTNEED), unmap and remap the same vmalloc area,
    /// vfree and vmalloc others, and fork the mm: every pin is of a page
    /// mapped at that moment, nothing is freed while pinned, and after the
    /// join every page comes back.
    @Test(arguments: [Strategy.pfnLookup, .flagsArray, .legacy])
    func fastPinThreadsRaceUnmapZapAndFork(_ strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let mm = try m.mmNew()
        let (k, _) = try Self.mappedArea(m, mm)
        let anon = try m.mmap(mm, length: 8 * 4096, flags: [.private, .anonymous])
        let failures = Counter(), pinned = Counter()
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            var rng = SplitMix64(seed: UInt64(t) &+ 7)
            do {
                switch t {
                case 0, 1:
                    // Pinners: the anon range and a mapping of their own of the area.
                    let u = try m.mmap(mm, length: 8 * 4096, flags: .shared)
                    try m.remapVmallocRange(mm, uaddr: u, kaddr: k, pgoff: 0)
                    for _ in 0..<400 {
                        let start = rng.chance(50) ? u : anon
                        let n = 1 + rng.below(8)
                        var pfns = [UInt64](repeating: 0, count: n)
                        let got = try pfns.withUnsafeMutableBufferPointer { b in
                            try m.pinUserPagesFast(mm, start: start, nrPages: n, flags: .write, into: b.baseAddress!)
                        }
                        for pfn in pfns.prefix(got) {
                            if try m.pageInfo(pfn).word.type == .buddy { failures.add() }
                        }
                        if got > 0 { pinned.add() }
                        let back = got == 0 ? 0 : try unpin(m, Array(pfns.prefix(got)))
                        if back != got { failures.add() }
                    }
                case 2:
                    // A zapper and remapper: the pinners' pages go and come back.
                    for _ in 0..<200 {
                        try m.madvise(mm, addr: anon, length: 8 * 4096, advice: .dontNeed)
                        let v = try m.mmap(mm, length: 8 * 4096, flags: .shared)
                        try m.remapVmallocRange(mm, uaddr: v, kaddr: k, pgoff: 0)
                        _ = try unpin(m, m.pinUserPagesFast(mm, start: v, nrPages: 8))
                        try m.munmap(mm, addr: v, length: 8 * 4096)
                    }
                default:
                    // vmalloc/vfree of other areas, and forks of the mm.
                    for i in 0..<100 {
                        let a = try m.vmallocUser(size: 4 * 4096)
                        try m.vfree(a)
                        if i % 10 == 0 { try m.mmExit(try m.fork(mm)) }
                    }
                }
            } catch {
                failures.add()
            }
        }
        #expect(failures.value == 0 && pinned.value > 400)
        expectClean(m)
        try m.mmExit(mm)
        try m.vfree(k)
        expectClean(m)
        #expect(totalFree(m) == free0)
    }
}
