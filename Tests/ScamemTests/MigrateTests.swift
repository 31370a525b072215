import Testing
import Scamem
import Glibc

/// FOLL_LONGTERM as __gup_longterm_locked() has it: faults inside allocate
/// without __GFP_MOVABLE, and a pinned folio in ZONE_MOVABLE migrates out
/// (mm/migrate.c) before the pin is taken again.
@Suite struct MigrateTests {
    /// The tiny machine with node 0's ZONE_MOVABLE [0xc00, 0x1000), where
    /// anon and shmem faults go first.
    static func movableMachine(_ strategy: Strategy) throws -> Machine {
        var d = Fixtures.tiny()
        d.zones.append(ZoneSpan(nid: 0, zone: .movable, startPfn: 0xc00, spannedPages: 0x400))
        return try Machine(d.with(strategy: strategy))
    }

    static func isMovable(_ m: Machine, _ pfn: UInt64) throws -> Bool { try m.pageZonenum(pfn) == .movable }

    @Test(arguments: Strategy.allCases)
    func anonFoliosMoveOutOfMovableBeforeALongtermPin(strategy: Strategy) throws {
        let m = try Self.movableMachine(strategy)
        let free0 = totalFree(m)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 4 * 4096, flags: [.private, .anonymous])
        let old = try (0..<4).map { try m.handleMMFault(mm, a + UInt64($0) * 4096) }
        #expect(try old.allSatisfy { try Self.isMovable(m, $0) })
        // A plain pin leaves them where they are.
        let plain = try m.pinUserPages(mm, start: a, nrPages: 4, flags: .write)
        #expect(plain == old)
        try m.unpinUserPages(plain.withUnsafeBufferPointer { $0 })
        let pinned = try m.pinUserPages(mm, start: a, nrPages: 4, flags: [.longterm, .write])
        #expect(pinned.count == 4)
        for (i, p) in pinned.enumerated() {
            #expect(try m.pageZonenum(p) == .normal && m.pageToNid(p) == 0)
            #expect(try m.followPage(mm, a + UInt64(i) * 4096) == p)
            let info = try m.pageInfo(p)
            #expect(word(m, p).type == .anon && info.mapcount == 1 && info.refcount == 1 + 1024)
            #expect(try m.folioMaybeDmaPinned(p))
        }
        #expect(old.allSatisfy { word(m, $0).type == .buddy })
        expectClean(m)
        try m.unpinUserPages(pinned.withUnsafeBufferPointer { $0 })
        try m.munmap(mm, addr: a, length: 4 * 4096)
        #expect(totalFree(m) == free0)
        try m.mmExit(mm)
        expectClean(m)
    }

    /// folio_is_longterm_pinnable(): a folio in a CMA pageblock migrates out
    /// too. NORMAL is three quarters CMA, so movable faults go there first
    /// (__rmqueue(): CMA past half the zone's free pages).
    @Test(arguments: Strategy.allCases)
    func anonFoliosMoveOutOfCMABeforeALongtermPin(strategy: Strategy) throws {
        let m = try Machine(MachineDescription(nrNodes: 1, zones: [
            ZoneSpan(nid: 0, zone: .dma32, startPfn: 0, spannedPages: 0x1000),
            ZoneSpan(nid: 0, zone: .normal, startPfn: 0x1000, spannedPages: 0x4000),
        ], strategy: strategy, cma: [PfnRange(startPfn: 0x2000, nrPages: 0x3000)]))
        let free0 = totalFree(m)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 2 * 4096, flags: [.private, .anonymous])
        let old = try (0..<2).map { try m.handleMMFault(mm, a + UInt64($0) * 4096) }
        #expect(try old.allSatisfy { try m.pageblockMigratetype(of: $0) == .cma })
        let pinned = try m.pinUserPages(mm, start: a, nrPages: 2, flags: [.longterm, .write])
        #expect(try pinned.allSatisfy { try m.pageblockMigratetype(of: $0) != .cma })
        #expect(try pinned.enumerated().allSatisfy { try m.followPage(mm, a + UInt64($0.offset) * 4096) == $0.element })
        #expect(old.allSatisfy { word(m, $0).type == .buddy })
        expectClean(m)
        try m.unpinUserPages(pinned.withUnsafeBufferPointer { $0 })
        try m.mmExit(mm)
        #expect(totalFree(m) == free0)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func faultsInsideALongtermPinAvoidMovable(strategy: Strategy) throws {
        let m = try Self.movableMachine(strategy)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 2 * 4096, flags: [.private, .anonymous])
        // memalloc_pin_save(): the fault allocates without __GFP_MOVABLE...
        let p = try m.pinUserPages(mm, start: a, nrPages: 1, flags: [.longterm, .write])
        #expect(try m.pageZonenum(p[0]) == .normal)
        // ...and only inside the pin: the next fault is movable again.
        #expect(try Self.isMovable(m, try m.handleMMFault(mm, a + 4096)))
        try m.unpinUserPage(p[0])
        try m.mmExit(mm)
        expectClean(m)
    }

    /// A large folio that two VMAs map moves whole: every pte in each follows.
    @Test(arguments: Strategy.allCases)
    func aLargeFolioMovesWhole(strategy: Strategy) throws {
        let m = try Self.movableMachine(strategy)
        let free0 = totalFree(m)
        try m.setAnonFolioOrder(3)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, addr: 0x4000_0000, length: 8 * 4096, flags: [.private, .anonymous, .fixed])
        let head = try m.handleMMFault(mm, a)
        #expect(try m.pageInfo(head).order == 3 && Self.isMovable(m, head))
        // Split the VMA through the folio: the walk finds ptes in both parts.
        try m.mprotect(mm, addr: a + 4 * 4096, length: 4 * 4096, prot: .read)
        #expect(try m.vmas(mm).count == 2)
        let pinned = try m.pinUserPages(mm, start: a + 2 * 4096, nrPages: 2, flags: [.longterm, .write])
        let info = try m.pageInfo(pinned[0])
        #expect(info.order == 3 && info.mapcount == 8 && info.pincount == 2 && info.refcount == 8 + 2)
        #expect(try m.pageZonenum(pinned[0]) == .normal && pinned[1] == pinned[0] + 1)
        let newHead = pinned[0] - 2
        for i in 0..<8 { #expect(try m.followPage(mm, a + UInt64(i) * 4096) == newHead + UInt64(i)) }
        #expect((0..<8).allSatisfy { word(m, head + $0).type == .buddy })
        expectClean(m)
        try m.unpinUserPages(pinned.withUnsafeBufferPointer { $0 })
        try m.mmExit(mm)
        #expect(totalFree(m) == free0)
        expectClean(m)
    }

    /// A shmem folio two mms map (fork's child faulted it too): both ptes and
    /// the page cache follow it.
    @Test(arguments: Strategy.allCases)
    func aSharedShmemFolioMovesWithEveryMapping(strategy: Strategy) throws {
        let m = try Self.movableMachine(strategy)
        let free0 = totalFree(m)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 2 * 4096, flags: [.shared, .anonymous])
        let old = try m.handleMMFault(mm, a)
        let child = try m.fork(mm)
        #expect(try m.handleMMFault(child, a) == old)
        #expect(try m.pageInfo(old).mapcount == 2 && Self.isMovable(m, old))
        let pinned = try m.pinUserPages(mm, start: a, nrPages: 1, flags: [.longterm, .write])
        #expect(try m.pageZonenum(pinned[0]) == .normal && pinned[0] != old)
        #expect(try m.followPage(mm, a) == pinned[0] && m.followPage(child, a) == pinned[0])
        let info = try m.pageInfo(pinned[0])
        #expect(word(m, pinned[0]).type == .file && info.mapcount == 2 && info.refcount == 2 + 1 + 1024)
        #expect(word(m, old).type == .buddy)
        expectClean(m)
        // The page cache holds the new folio: the child's second page and a
        // fault after munmap find the file's pages.
        try m.munmap(child, addr: a, length: 2 * 4096)
        try m.unpinUserPage(pinned[0])
        #expect(try m.handleMMFault(mm, a) == pinned[0])
        try m.mmExit(child)
        try m.mmExit(mm)
        #expect(totalFree(m) == free0)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func noTargetIsNoMemoryAndHoldsNothing(strategy: Strategy) throws {
        let m = try Self.movableMachine(strategy)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 2 * 4096, flags: [.private, .anonymous])
        let old = try m.handleMMFault(mm, a)
        // GFP_KERNEL takes everything but ZONE_MOVABLE.
        var hog: [UInt64] = []
        while let p = try? m.allocPages(order: 0) { hog.append(p) }
        #expect(throws: ScamemError.noMemory) { try m.pinUserPages(mm, start: a, nrPages: 1, flags: [.longterm, .write]) }
        #expect(try m.followPage(mm, a) == old && m.pageInfo(old).refcount == 1)
        #expect(try !m.folioMaybeDmaPinned(old))
        expectClean(m)
        #expect(throws: ScamemError.invalid) { try m.unpinUserPage(old) }
        for p in hog { try m.freePages(p, order: 0) }
        // With memory back the same pin succeeds.
        let pinned = try m.pinUserPages(mm, start: a, nrPages: 1, flags: [.longterm, .write])
        #expect(try m.pageZonenum(pinned[0]) == .normal)
        try m.unpinUserPage(pinned[0])
        try m.mmExit(mm)
        expectClean(m)
    }

    /// A folio another pin holds cannot move: __migrate_folio()'s refcount
    /// check fails (-EAGAIN), migrate_pages() gives up after its
    /// retries, and 6.12's migrate_longterm_unpinnable_folios() returns
    /// -ENOMEM with the long-term pin's pages unpinned.
    @Test(arguments: Strategy.allCases)
    func aFolioPinnedElsewhereCannotMove(strategy: Strategy) throws {
        let m = try Self.movableMachine(strategy)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 2 * 4096, flags: [.private, .anonymous])
        let short = try m.pinUserPages(mm, start: a, nrPages: 1, flags: .write)
        let got = try m.getUserPages(mm, start: a + 4096, nrPages: 1, flags: .write)
        #expect(throws: ScamemError.noMemory) { try m.pinUserPages(mm, start: a, nrPages: 1, flags: [.longterm, .write]) }
        #expect(throws: ScamemError.noMemory) { try m.pinUserPages(mm, start: a + 4096, nrPages: 1, flags: .longterm) }
        #expect(try m.pageInfo(short[0]).refcount == 1 + 1024 && m.pageInfo(got[0]).refcount == 2)
        #expect(try m.followPage(mm, a) == short[0] && Self.isMovable(m, short[0]))
        expectClean(m)
        try m.unpinUserPage(short[0])
        try m.putPage(got[0])
        try m.mmExit(mm)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func scamemPagesPinInPlace(strategy: Strategy) throws {
        let m = try Self.movableMachine(strategy)
        let (mm, k, u) = try mappedVmallocUser(m, pages: 2)
        let page = try m.vmallocToPfn(k + 4096)
        #expect(try m.pageZonenum(page) != .movable)
        let pinned = try m.pinUserPages(mm, start: u + 4096, nrPages: 1, flags: .longterm)
        #expect(pinned == [page])
        expectClean(m)
        try m.unpinUserPage(page)
        try m.mmExit(mm)
        try m.vfree(k)
        expectClean(m)
    }

    /// A vmalloc() asked for __GFP_MOVABLE puts scamem pages in ZONE_MOVABLE,
    /// where nothing can move them: the pin fails (the kernel would retry
    /// -EAGAIN for ever) and holds nothing.
    @Test(arguments: Strategy.allCases)
    func aScamemPageInMovableCannotBePinnedLongterm(strategy: Strategy) throws {
        let m = try Self.movableMachine(strategy)
        let mm = try m.mmNew()
        let k = try m.vmalloc(size: 4096, flags: .usermap, gfp: .movable)
        let u = try m.mmap(mm, length: 4096, flags: .shared)
        try m.remapVmallocRange(mm, uaddr: u, kaddr: k, pgoff: 0)
        #expect(try Self.isMovable(m, try m.vmallocToPfn(k)))
        #expect(throws: ScamemError.noMemory) { try m.pinUserPages(mm, start: u, nrPages: 1, flags: .longterm) }
        #expect(try !m.folioMaybeDmaPinned(try m.vmallocToPfn(k)))
        expectClean(m)
        try m.mmExit(mm)
        try m.vfree(k)
        expectClean(m)
    }
}

/// move_pages(2): the migration primitive on its own, to a node.
@Suite struct MovePagesTests {
    static func move(_ m: Machine, _ mm: MMID, _ addrs: [UInt64], to nodes: [Int32]?,
                     _ flags: MovePagesFlags = .move) throws -> (Int, [Int32]) {
        var status = [Int32](repeating: 99, count: addrs.count)
        let n = try addrs.withUnsafeBufferPointer { a in
            try status.withUnsafeMutableBufferPointer { st in
                if let nodes {
                    try nodes.withUnsafeBufferPointer { try m.movePages(mm, pages: a, nodes: $0, status: st, flags: flags) }
                } else {
                    try m.movePages(mm, pages: a, nodes: nil, status: st, flags: flags)
                }
            }
        }
        return (n, status)
    }

    @Test(arguments: Strategy.allCases)
    func anonPagesMoveToAnotherNode(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 3 * 4096, flags: [.private, .anonymous])
        let old = try (0..<2).map { try m.handleMMFault(mm, a + UInt64($0) * 4096) }
        _ = try m.fixupUserFault(mm, a + 2 * 4096, flags: []) // the zero page
        #expect(try Self.move(m, mm, [a, a + 4096, a + 2 * 4096, 0x1000], to: nil) == (0, [0, 0, -EFAULT, -EFAULT]))
        #expect(try Self.move(m, mm, [a, a + 4096, a + 2 * 4096], to: [1, 1, 1]) == (0, [1, 1, -EFAULT]))
        for i in 0..<2 {
            let p = try m.followPage(mm, a + UInt64(i) * 4096)
            #expect(try p != old[i] && m.pageToNid(p) == 1 && word(m, old[i]).type == .buddy)
        }
        // Already there: the node, nothing moves.
        #expect(try Self.move(m, mm, [a], to: [1]) == (0, [1]))
        expectClean(m)
        try m.mmExit(mm)
        #expect(totalFree(m) == free0 - 1) // the zero page
        expectClean(m)
    }

    /// A folio fork shares (mapcount 2) moves only with MPOL_MF_MOVE_ALL,
    /// and then both processes' ptes follow it.
    @Test(arguments: Strategy.allCases)
    func aForkSharedAnonFolioMovesWithMoveAll(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 4096, flags: [.private, .anonymous])
        let old = try m.handleMMFault(mm, a)
        let child = try m.fork(mm)
        #expect(try m.pageInfo(old).mapcount == 2)
        #expect(try Self.move(m, mm, [a], to: [1]) == (0, [-EACCES]))
        #expect(try Self.move(m, mm, [a], to: [1], .moveAll) == (0, [1]))
        let new = try m.followPage(mm, a)
        #expect(try new != old && m.followPage(child, a) == new && m.pageToNid(new) == 1)
        #expect(try m.pageInfo(new).mapcount == 2 && word(m, old).type == .buddy)
        expectClean(m)
        // Still COW-shared: the child's write copies, the parent's page stays.
        #expect(try m.handleMMFault(child, a) != new)
        try m.mmExit(child)
        try m.mmExit(mm)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func whatCannotMoveAndBadInput(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        try m.setAnonFolioOrder(2)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, addr: 0x4000_0000, length: 4 * 4096, flags: [.private, .anonymous, .fixed])
        let head = try m.handleMMFault(mm, a)
        let k = try m.vmallocUser(size: 4096)
        let u = try m.mmap(mm, length: 4096, flags: .shared)
        try m.remapVmallocRange(mm, uaddr: u, kaddr: k, pgoff: 0)
        // A scamem page is not movable; a folio's second address finds it queued.
        #expect(try Self.move(m, mm, [u, a, a + 4096], to: [1, 1, 1]) == (0, [-EBUSY, 1, -EBUSY]))
        let moved = try m.followPage(mm, a)
        #expect(try moved == m.followPage(mm, a + 4096) - 1 && m.pageToNid(moved) == 1 && word(m, head).type == .buddy)
        // A pinned folio fails to migrate: counted, the call ends there.
        let pinned = try m.pinUserPages(mm, start: a, nrPages: 1)
        #expect(try Self.move(m, mm, [a, u], to: [0, 1]) == (2, [99, 99]))
        #expect(try m.followPage(mm, a) == moved)
        // Unknown flags, short arrays, a node the machine lacks (after the
        // entries before it are done), a stale mm.
        #expect(throws: ScamemError.invalid) { try Self.move(m, mm, [a], to: [0], MovePagesFlags(rawValue: 1)) }
        #expect(throws: ScamemError.invalid) { try Self.move(m, mm, [a, u], to: [0]) }
        #expect(throws: ScamemError.noDevice) { try Self.move(m, mm, [u, a], to: [1, 2]) }
        #expect(throws: ScamemError.noDevice) { try Self.move(m, mm, [a], to: [-1]) }
        #expect(throws: ScamemError.badHandle) { try Self.move(m, MMID(rawValue: 12345), [a], to: [0]) }
        expectClean(m)
        try m.unpinUserPage(pinned[0])
        try m.mmExit(mm)
        try m.vfree(k)
        expectClean(m)
    }
}
