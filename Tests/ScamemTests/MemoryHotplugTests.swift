import Testing
import Scamem

/// Memory blocks and hotplug (mm/memory_hotplug.c, drivers/base/memory.c):
/// add_memory(), online_pages(), offline_pages(), remove_memory(), and the
/// zone spans that come to overlap.
@Suite struct MemoryHotplugTests {
    static let block: UInt64 = 0x400

    /// 1024-page sections, so 4 MiB memory blocks (probe_memory_block_size()
    /// below 64 GiB: one section). Node 0: DMA [0, 0x200) and DMA32
    /// [0x200, 0x2000), block 0 holding both; node 1: NORMAL [0x2000, 0x4000)
    /// and MOVABLE [0x4000, 0x6000) whose upper half [0x5000, 0x6000) is a
    /// hole, the room memory is hot-added into; node 0's NORMAL
    /// [0x6000, 0x6800) is all hole, a zone with no memory until some is
    /// onlined into it.
    static func machine(_ strategy: Strategy = .default) throws -> Machine {
        try Machine(MachineDescription(nrNodes: 2, profile: Fixtures.smallVmemmap, zones: [
            ZoneSpan(nid: 0, zone: .dma, startPfn: 0, spannedPages: 0x200),
            ZoneSpan(nid: 0, zone: .dma32, startPfn: 0x200, spannedPages: 0x1e00),
            ZoneSpan(nid: 1, zone: .normal, startPfn: 0x2000, spannedPages: 0x2000),
            ZoneSpan(nid: 1, zone: .movable, startPfn: 0x4000, spannedPages: 0x2000),
            ZoneSpan(nid: 0, zone: .normal, startPfn: 0x6000, spannedPages: 0x800),
        ], holes: [PfnRange(startPfn: 0x5000, nrPages: 0x1800)], strategy: strategy))
    }

    static func zone(_ m: Machine, _ nid: Int, _ zone: ZoneType) -> ZoneInfo {
        m.zoneInfos().first { $0.nid == nid && $0.zone == zone }!
    }

    @Test func bootBlocksAndTheirZones() throws {
        let m = try Self.machine()
        #expect(m.memoryBlockSizeBytes == 4 << 20 && m.memoryBlockCount == 26)
        let b0 = try m.memoryBlock(containing: 0x1ff)
        #expect(b0.id == 0 && b0.state == .online && b0.nid == 0 && b0.zone == nil) // DMA and DMA32: "none"
        #expect(try m.memoryBlock(containing: 0x400).zone == .dma32)
        let b8 = try m.memoryBlock(containing: 0x2000)
        #expect(b8.startPfn == 0x2000 && b8.nrPages == Self.block && b8.nid == 1 && b8.zone == .normal)
        #expect(try m.memoryBlock(containing: 0x4fff).zone == .movable)
        let absent = try m.memoryBlock(containing: 0x5000)
        #expect(absent.state == .absent && absent.nid == -1 && absent.zone == nil)
        #expect(throws: ScamemError.outOfRange) { try m.memoryBlock(containing: 0x6800) }
        expectClean(m)
    }

    @Test func memoryBlockSizeAsTheDescriptionSetsIt() throws {
        var d = Fixtures.tiny()
        d.memoryBlockSizeOrder = 31
        let m = try Machine(d)
        #expect(m.memoryBlockSizeBytes == 2 << 30 && m.memoryBlockCount == 1)
        // Bare metal with 64 GiB or more: MAX_BLOCK_SIZE.
        d.memoryBlockSizeOrder = 0
        d.zones = [ZoneSpan(nid: 0, zone: .normal, startPfn: 0x1000000 - 0x1000, spannedPages: 0x1000)]
        d.nrNodes = 1
        #expect(try Machine(d).memoryBlockSizeBytes == 2 << 30)
    }

    @Test(arguments: Strategy.allCases)
    func addOnlineIntoAnOverlappingZoneOfflineRemove(strategy: Strategy) throws {
        let m = try Self.machine(strategy)
        let normal0 = Self.zone(m, 1, .normal), movable0 = Self.zone(m, 1, .movable)
        let memmap0 = m.memmapPages
        // add_memory() of one block into the hole: memmap, offline.
        try m.addMemory(nid: 1, startPfn: 0x5000, nrPages: Self.block)
        #expect(try m.memoryBlock(containing: 0x5000).state == .offline)
        #expect(m.memmapPages == memmap0 + Self.block)
        #expect(word(m, 0x5000).type == .misc && word(m, 0x5000).subtype == MiscSubtype.offline.rawValue)
        #expect(throws: ScamemError.noPage) { try m.pageToNid(0x5000) }
        expectClean(m)
        #expect(throws: ScamemError.exists) { try m.addMemory(nid: 1, startPfn: 0x5000, nrPages: Self.block) }
        #expect(throws: ScamemError.exists) { try m.addMemory(nid: 1, startPfn: 0x4c00, nrPages: Self.block) }

        // online_kernel: NORMAL's span grows over MOVABLE's block [0x4000, 0x5000).
        try m.onlinePages(startPfn: 0x5000, nrPages: Self.block, zone: .normal)
        let normal = Self.zone(m, 1, .normal)
        #expect(normal.startPfn == 0x2000 && normal.spannedPages == 0x3400)
        #expect(normal.presentPages == normal0.presentPages + Self.block)
        #expect(normal.freePages == normal0.freePages + Self.block)
        #expect(normal.watermark.min > normal0.watermark.min) // init_per_zone_wmark_min()
        #expect(Self.zone(m, 1, .movable).spannedPages == movable0.spannedPages)
        #expect(try m.memoryBlock(containing: 0x5000).zone == .normal)
        #expect(try m.pageToNid(0x5000) == 1 && m.pageZonenum(0x5000) == .normal)
        #expect(try m.pageZonenum(0x4fff) == .movable)
        #expect(try m.pageblockMigratetype(of: 0x5000) == .movable)
        expectClean(m)

        // A scamem in new memory: node 0's NORMAL has none but what is
        // onlined into it, so vmalloc on node 0 takes it. Its pages name
        // their node and zone under every strategy (PFN_LOOKUP through the
        // block's zone).
        try m.addMemory(nid: 0, startPfn: 0x6000, nrPages: Self.block)
        try m.onlinePages(startPfn: 0x6000, nrPages: Self.block, zone: .normal)
        let area = try m.vmallocNode(size: 16 * 4096, nid: 0)
        let p = try m.vmallocToPfn(area)
        #expect(p >= 0x6000 && p < 0x6400)
        #expect(try m.pageToNid(p) == 0 && m.pageZonenum(p) == .normal)
        expectClean(m)
        // A scamem page is unmovable: the block cannot go offline.
        let free1 = Self.zone(m, 0, .normal).freePages
        #expect(throws: ScamemError.busy) { try m.offlinePages(startPfn: 0x6000, nrPages: Self.block) }
        #expect(Self.zone(m, 0, .normal).freePages == free1 && Self.zone(m, 0, .normal).isolatedFreePages == 0)
        #expect(try m.pageblockMigratetype(of: 0x6000) != .isolate)
        expectClean(m)
        try m.vfree(area)
        try m.offlinePages(startPfn: 0x6000, nrPages: Self.block)
        #expect(Self.zone(m, 0, .normal).spannedPages == 0) // no memory left: shrink_zone_span()
        expectClean(m)

        // offline_pages(), then remove_memory().
        #expect(throws: ScamemError.busy) { try m.removeMemory(startPfn: 0x5000, nrPages: Self.block) }
        try m.offlinePages(startPfn: 0x5000, nrPages: Self.block)
        let after = Self.zone(m, 1, .normal)
        #expect(after.startPfn == 0x2000 && after.spannedPages == 0x2000) // shrink_zone_span()
        #expect(after.presentPages == normal0.presentPages && after.freePages == normal0.freePages)
        #expect(after.watermark == normal0.watermark)
        #expect(try m.memoryBlock(containing: 0x5000).state == .offline)
        expectClean(m)
        try m.removeMemory(startPfn: 0x5000, nrPages: Self.block)
        #expect(word(m, 0x5000).isNopage && m.memmapPages == memmap0 + Self.block) // 0x6000 is still there
        #expect(try m.memoryBlock(containing: 0x5000).state == .absent)
        expectClean(m)
        // And back again, to ZONE_MOVABLE this time.
        try m.addMemory(nid: 1, startPfn: 0x5000, nrPages: 2 * Self.block)
        try m.onlinePages(startPfn: 0x5000, nrPages: 2 * Self.block, zone: .movable)
        #expect(Self.zone(m, 1, .movable).presentPages == movable0.presentPages + 2 * Self.block)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func offlineMigratesFoliosToAnotherNode(strategy: Strategy) throws {
        let m = try Self.machine(strategy)
        try m.setLocalNode(1)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 8 * 4096, flags: [.private, .anonymous])
        let old = try (0..<8).map { try m.handleMMFault(mm, a + UInt64($0) * 4096) }
        // GFP_HIGHUSER_MOVABLE on node 1: its ZONE_MOVABLE, block 16.
        #expect(try old.allSatisfy { try m.pageZonenum($0) == .movable && $0 < 0x4400 })
        let movable0 = Self.zone(m, 1, .movable)

        // A short-term pin: migration fails, and the model stops where the
        // kernel would retry.
        let pinned = try m.pinUserPages(mm, start: a, nrPages: 1, flags: .write)
        #expect(throws: ScamemError.busy) { try m.offlinePages(startPfn: 0x4000, nrPages: Self.block) }
        #expect(try m.followPage(mm, a) == old[0])
        // The seven that moved stay moved (as in the kernel), their old
        // pages free again; nothing stays isolated.
        #expect(Self.zone(m, 1, .movable).isolatedFreePages == 0)
        #expect(Self.zone(m, 1, .movable).freePages == movable0.freePages + 7)
        #expect(try (1..<8).allSatisfy { try m.pageToNid(m.followPage(mm, a + UInt64($0) * 4096)) == 0 })
        expectClean(m)
        try m.unpinUserPages(pinned.withUnsafeBufferPointer { $0 })

        try m.offlinePages(startPfn: 0x4000, nrPages: Self.block)
        for i in 0..<8 {
            let p = try m.followPage(mm, a + UInt64(i) * 4096)
            // do_migrate_range(): another node first, GFP_USER | __GFP_MOVABLE.
            #expect(try m.pageToNid(p) == 0 && m.pageZonenum(p) == .dma32)
        }
        let movable = Self.zone(m, 1, .movable)
        #expect(movable.presentPages == movable0.presentPages - Self.block)
        #expect(movable.startPfn == 0x4400) // shrink_zone_span() from below
        #expect(try m.memoryBlock(containing: 0x4000).state == .offline)
        #expect(throws: ScamemError.noPage) { try m.pageToNid(0x4000) }
        expectClean(m)
        try m.mmExit(mm)
        expectClean(m)
    }

    @Test func offlineRefusals() throws {
        let m = try Self.machine()
        // Not whole blocks, not online, several zones, holes, out of range.
        #expect(throws: ScamemError.invalid) { try m.offlinePages(startPfn: 0x2000, nrPages: 0x200) }
        #expect(throws: ScamemError.invalid) { try m.offlinePages(startPfn: 0x2200, nrPages: Self.block) }
        #expect(throws: ScamemError.invalid) { try m.offlinePages(startPfn: 0x2000, nrPages: 0) }
        #expect(throws: ScamemError.invalid) { try m.offlinePages(startPfn: 0, nrPages: Self.block) } // mem->zone NULL
        #expect(throws: ScamemError.invalid) { try m.offlinePages(startPfn: 0x3c00, nrPages: 2 * Self.block) } // NORMAL and MOVABLE
        #expect(throws: ScamemError.invalid) { try m.offlinePages(startPfn: 0x5000, nrPages: Self.block) } // absent
        #expect(throws: ScamemError.invalid) { try m.offlinePages(startPfn: 0x6000, nrPages: Self.block) }
        #expect(throws: ScamemError.invalid) { try m.offlinePages(startPfn: .max - 0x3ff, nrPages: Self.block) }
        #expect(throws: ScamemError.invalid) { try m.offlinePages(startPfn: 0x2000, nrPages: .max - 0x3ff) }
        // Online refusals: zone, node, state.
        #expect(throws: ScamemError.invalid) { try m.onlinePages(startPfn: 0x2000, nrPages: Self.block, zone: .normal) }
        try m.addMemory(nid: 1, startPfn: 0x5000, nrPages: Self.block)
        for z in [ZoneType.dma, .dma32, .device, ZoneType(rawValue: 9)] {
            #expect(throws: ScamemError.invalid) { try m.onlinePages(startPfn: 0x5000, nrPages: Self.block, zone: z) }
        }
        #expect(throws: ScamemError.invalid) { try m.addMemory(nid: 2, startPfn: 0x5400, nrPages: Self.block) }
        #expect(throws: ScamemError.invalid) { try m.addMemory(nid: -1, startPfn: 0x5400, nrPages: Self.block) }
        #expect(throws: ScamemError.invalid) { try m.removeMemory(startPfn: 0x5400, nrPages: Self.block) }
        // Node 0 has no MOVABLE zone to online into.
        try m.addMemory(nid: 0, startPfn: 0x5400, nrPages: Self.block)
        #expect(throws: ScamemError.invalid) { try m.onlinePages(startPfn: 0x5400, nrPages: Self.block, zone: .movable) }
        // Two nodes in one call.
        #expect(throws: ScamemError.invalid) { try m.onlinePages(startPfn: 0x5000, nrPages: 2 * Self.block, zone: .movable) }
        // A slab page in a kernel zone is unmovable.
        let slab = try m.allocPages(order: 0, gfp: [.kernel, .thisNode], nid: 1)
        let blk = slab & ~(Self.block - 1)
        #expect(throws: ScamemError.busy) { try m.offlinePages(startPfn: blk, nrPages: Self.block) }
        try m.freePages(slab, order: 0)
        try m.offlinePages(startPfn: blk, nrPages: Self.block)
        expectClean(m)
    }

    @Test func longtermPinsKeepMovableZonesOfflineable() throws {
        // FOLL_LONGTERM migrates out of ZONE_MOVABLE before pinning, so a
        // long-term pin never blocks offlining a movable block.
        let m = try Self.machine()
        try m.setLocalNode(1)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 4 * 4096, flags: [.private, .anonymous])
        for i in 0..<4 { _ = try m.handleMMFault(mm, a + UInt64(i) * 4096) }
        let pinned = try m.pinUserPages(mm, start: a, nrPages: 4, flags: [.longterm, .write])
        #expect(try pinned.allSatisfy { try m.pageZonenum($0) == .normal })
        try m.offlinePages(startPfn: 0x4000, nrPages: Self.block)
        // The same pins in a kernel block keep it online.
        let blk = pinned[0] & ~(Self.block - 1)
        #expect(throws: ScamemError.busy) { try m.offlinePages(startPfn: blk, nrPages: Self.block) }
        try m.unpinUserPages(pinned.withUnsafeBufferPointer { $0 })
        try m.offlinePages(startPfn: blk, nrPages: Self.block)
        expectClean(m)
        try m.mmExit(mm)
        expectClean(m)
    }

    /// A description may give a zone in pieces: its span holds another
    /// zone's memory, as interleaved nodes make it at boot.
    @Test func zonesGivenInPiecesOverlap() throws {
        let m = try Machine(MachineDescription(nrNodes: 2, profile: Fixtures.smallVmemmap, zones: [
            ZoneSpan(nid: 0, zone: .normal, startPfn: 0, spannedPages: 0x800),
            ZoneSpan(nid: 1, zone: .normal, startPfn: 0x800, spannedPages: 0x400),
            ZoneSpan(nid: 0, zone: .normal, startPfn: 0xc00, spannedPages: 0x400),
        ]))
        let z0 = Self.zone(m, 0, .normal), z1 = Self.zone(m, 1, .normal)
        #expect(z0.startPfn == 0 && z0.spannedPages == 0x1000 && z0.presentPages == 0xc00)
        #expect(z1.startPfn == 0x800 && z1.spannedPages == 0x400)
        #expect(try m.pageToNid(0x900) == 1 && m.pageToNid(0xc00) == 0)
        // The buddy allocator never merges across the other zone.
        let p = try m.allocPages(order: 0, gfp: [.kernel, .thisNode], nid: 0)
        try m.freePages(p, order: 0)
        #expect(m.zoneInfos().map(\.freePages).reduce(0, +) == 0x1000)
        expectClean(m)
    }
}
