import Scamem
import Testing

@Suite("Buddy allocator")
struct BuddyAllocatorTests {
    static func headWord(_ m: Machine, order: UInt8, nid: Int, zone: ZoneType) -> UInt64 {
        PageWord.inline(.buddy, subtype: BuddySubtype.head.rawValue, order: order,
                        flags: m.layout.flags(nid: nid, zone: zone, section: 0)).rawValue
    }

    @Test("allocation is lowest-address first; splitting leaves BUDDY heads of the right orders")
    func lowestFirstAndSplit() throws {
        let m = try Machine(Fixtures.tiny())
        let initialWords = snapshot(m)
        let initialZones = m.zoneInfos()
        let normal0 = m.layout.flags(nid: 0, zone: .normal, section: 0)

        let first = try m.allocPages(order: 0, nid: 0)
        #expect(first == 0x400)
        #expect(word(m, 0x400) == .inline(.misc, subtype: MiscSubtype.unknown.rawValue, order: 0, flags: normal0))
        // The order-10 block split into one free block of each order 0-9 above it.
        for o in 0..<10 {
            let head = UInt64(0x400) + (1 << UInt64(o))
            #expect(word(m, head).rawValue == Self.headWord(m, order: UInt8(o), nid: 0, zone: .normal), "order \(o)")
            if o > 0 {
                #expect(word(m, head + 1) == .inline(.buddy, subtype: BuddySubtype.tail.rawValue, flags: normal0))
            }
        }
        #expect(m.zoneInfos()[2].nrFree == [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0])
        #expect(m.zoneInfos()[2].freePages == 0x3ff)
        expectClean(m)

        // Smallest suitable order first, lowest address within it.
        #expect(try m.allocPages(order: 0, nid: 0) == 0x401)
        #expect(try m.allocPages(order: 0, nid: 0) == 0x402) // splits 0x402/o1
        #expect(try m.allocPages(order: 0, nid: 0) == 0x403)
        #expect(try m.allocPages(order: 2, nid: 0) == 0x404)
        #expect(try m.allocPages(order: 1, nid: 0) == 0x408) // splits 0x408/o3
        #expect(try m.allocPages(order: 1, nid: 0) == 0x40a)
        #expect(try m.allocPages(order: 3, nid: 0) == 0x410) // splits 0x410/o4
        // A freed block is the lowest of its order again; without a free buddy it stays single.
        try m.freePages(0x403, order: 0)
        try m.freePages(0x401, order: 0)
        #expect(word(m, 0x401).rawValue == Self.headWord(m, order: 0, nid: 0, zone: .normal))
        #expect(word(m, 0x403).rawValue == Self.headWord(m, order: 0, nid: 0, zone: .normal))
        #expect(m.zoneInfos()[2].nrFree[0] == 2)
        #expect(try m.allocPages(order: 0, nid: 0) == 0x401)
        #expect(try m.allocPages(order: 0, nid: 0) == 0x403)
        expectClean(m)

        // Freeing everything coalesces back to the boot state.
        for (pfn, o) in [(0x400, 0), (0x401, 0), (0x402, 0), (0x403, 0), (0x404, 2), (0x408, 1), (0x40a, 1), (0x410, 3)] {
            try m.freePages(UInt64(pfn), order: o)
        }
        #expect(m.zoneInfos().map(\.buddyinfo) == initialZones.map(\.buddyinfo))
        #expect(snapshot(m) == initialWords)
        expectClean(m)
    }

    @Test("freeing merges buddies upwards in any order")
    func coalescing() throws {
        let m = try Machine(Fixtures.tiny())
        let initial = m.zoneInfos()
        let pages = try (0..<16).map { _ in try m.allocPages(order: 0, nid: 1) }
        #expect(pages == Array(0x800..<0x810))
        // Free the odd pages: nothing can merge.
        for p in pages where p & 1 == 1 { try m.freePages(p, order: 0) }
        #expect(m.zoneInfos()[3].nrFree[0] == 8)
        // Free 0x800 and 0x802: each merges with its odd buddy into an order-1 block,
        // and the two order-1 blocks merge into one of order 2.
        try m.freePages(0x800, order: 0)
        #expect(word(m, 0x800).rawValue == Self.headWord(m, order: 1, nid: 1, zone: .normal))
        try m.freePages(0x802, order: 0)
        #expect(word(m, 0x800).rawValue == Self.headWord(m, order: 2, nid: 1, zone: .normal))
        #expect(word(m, 0x802).type == .buddy && word(m, 0x802).subtype == BuddySubtype.tail.rawValue)
        #expect(m.zoneInfos()[3].nrFree[0] == 6)
        expectClean(m)
        for p in pages.reversed() where p & 1 == 0 && p > 0x802 { try m.freePages(p, order: 0) }
        #expect(m.zoneInfos().map(\.buddyinfo) == initial.map(\.buddyinfo))
        expectClean(m)
    }

    @Test("the same machine and call sequence give the same pfns and words")
    func deterministic() throws {
        func run() throws -> (pfns: [UInt64], words: [UInt64], machine: Machine) {
            let m = try Machine(Fixtures.mini())
            var rng = SplitMix64(seed: 42)
            var live: [(UInt64, Int)] = []
            var pfns: [UInt64] = []
            for _ in 0..<600 {
                if live.isEmpty || rng.chance(60) {
                    let order = rng.below(6)
                    if let p = try? m.allocPages(order: order, nid: rng.chance(50) ? nil : rng.below(2)) {
                        live.append((p, order))
                        pfns.append(p)
                    }
                } else {
                    let (p, o) = live.remove(at: rng.below(live.count))
                    try m.freePages(p, order: o)
                }
            }
            return (pfns, snapshot(m), m)
        }
        let a = try run(), b = try run()
        #expect(a.pfns.count > 300)
        #expect(a.pfns == b.pfns)
        #expect(a.words == b.words)
        #expect(a.machine.zoneInfos() == b.machine.zoneInfos())
        expectClean(a.machine)
        expectClean(b.machine)
    }

    @Test("a node is preferred, then the others in id order, wrapping")
    func nodePreference() throws {
        let m = try Machine(Fixtures.tiny()).lowestWatermarks()
        let p = try m.allocPages(order: 3, nid: 1)
        #expect(p == 0x800)
        #expect(try m.pageToNid(p) == 1)
        #expect(m.layout.nid(word(m, p).flags) == 1)
        // Exhaust node 1: the next request for node 1 falls back to node 0's NORMAL.
        let rest = try m.allocPages(order: 10, nid: 1) // no order-10 block left on node 1: node 0
        #expect(rest == 0x400)
        #expect(try m.pageToNid(rest) == 0)
        var node1: [UInt64] = []
        while let q = try? m.allocPages(order: 3, gfp: .thisNode, nid: 1) { node1.append(q) }
        #expect(node1.count == 0x400 / 8 - 1)
        #expect(throws: ScamemError.noMemory) { try m.allocPages(order: 0, gfp: .thisNode, nid: 1) }
        let fallback = try m.allocPages(order: 0, nid: 1)
        #expect(try m.pageToNid(fallback) == 0)
        #expect(try m.pageZonenum(fallback) == .dma32) // node 0's NORMAL is taken
        for q in node1 + [p] { try m.freePages(q, order: 3) }
        try m.freePages(rest, order: 10)
        try m.freePages(fallback, order: 0)
        #expect(totalFree(m) == 0xc00)
        expectClean(m)
    }

    @Test("GFP_KERNEL falls back NORMAL, DMA32, DMA, then the next node; THISNODE does not leave the node")
    func zoneFallback() throws {
        let m = try Machine(Fixtures.tiny()).lowestWatermarks()
        var taken: [(UInt64, Int)] = []
        func alloc(_ order: Int, _ gfp: GFP = .kernel, _ nid: Int? = 0) throws -> (UInt64, ZoneType, Int) {
            let p = try m.allocPages(order: order, gfp: gfp, nid: nid)
            taken.append((p, order))
            return (p, try m.pageZonenum(p), try m.pageToNid(p))
        }
        #expect(try alloc(10) == (0x400, .normal, 0))
        // An UNMOVABLE request with no UNMOVABLE block free claims the largest
        // block of a fallback type (__rmqueue_claim()): DMA32's order-9 at 0x200.
        #expect(try alloc(0) == (0x200, .dma32, 0))
        // Take the rest of DMA32 (0x2ff pages) page by page: all from DMA32.
        for _ in 0..<0x2ff { #expect(try alloc(0).1 == .dma32) }
        #expect(m.zoneInfos()[1].freePages == 0)
        #expect(try alloc(0) == (0, .dma, 0))
        for _ in 0..<0xff { #expect(try alloc(0).1 == .dma) }
        #expect(m.zoneInfos()[0].freePages == 0)
        expectClean(m)
        // Node 0 is empty: THISNODE fails, DMA-only fails, GFP_KERNEL goes to node 1.
        #expect(throws: ScamemError.noMemory) { try m.allocPages(order: 0, gfp: .thisNode, nid: 0) }
        #expect(throws: ScamemError.noMemory) { try m.allocPages(order: 0, gfp: .dma) }
        #expect(throws: ScamemError.noMemory) { try m.allocPages(order: 0, gfp: .dma32) }
        #expect(try alloc(0) == (0x800, .normal, 1))
        expectClean(m)
        for (p, o) in taken { try m.freePages(p, order: o) }
        #expect(totalFree(m) == 0xc00)
        expectClean(m)
    }

    @Test("zone modifiers: DMA only gives DMA, DMA32 gives DMA32 then DMA, MOVABLE prefers MOVABLE")
    func zoneModifiers() throws {
        var d = Fixtures.tiny()
        d.zones.append(ZoneSpan(nid: 0, zone: .movable, startPfn: 0xc00, spannedPages: 0x400))
        let m = try Machine(d).lowestWatermarks()
        // GFP_ZONE_TABLE: __GFP_MOVABLE alone is NORMAL; with HIGHMEM, MOVABLE.
        #expect(try m.pageZonenum(try m.allocPages(order: 0, gfp: .movable)) == .normal)
        #expect(try m.pageZonenum(try m.allocPages(order: 0, gfp: .highuserMovable)) == .movable)
        #expect(try m.pageZonenum(try m.allocPages(order: 0)) == .normal) // KERNEL never takes MOVABLE
        var dma: [UInt64] = []
        while let p = try? m.allocPages(order: 0, gfp: .dma) { dma.append(p) }
        #expect(dma == Array(0..<0x100))
        var dma32: [UInt64] = []
        while let p = try? m.allocPages(order: 4, gfp: .dma32) { dma32.append(p) }
        // The claimed pageblock at 0x200 first; then 0x100's, which shares its
        // pageblock with DMA and cannot be claimed across the zone's edge
        // (prep_move_freepages_block()), block by block (__rmqueue_steal()).
        #expect(dma32 == (stride(from: 0x200, to: 0x400, by: 16).map(UInt64.init)
                          + stride(from: 0x100, to: 0x200, by: 16).map(UInt64.init)))
        // DMA32 falls back to DMA, so give DMA a page back and DMA32 takes it.
        try m.freePages(0x42, order: 0)
        #expect(try m.allocPages(order: 0, gfp: .dma32) == 0x42)
        // GFP_KERNEL on node 0 stops above MOVABLE: exhaust everything else.
        while (try? m.allocPages(order: 0)) != nil {}
        #expect(m.zoneInfos().filter { $0.zone != .movable }.allSatisfy { $0.freePages == 0 })
        #expect(m.zoneInfos().first { $0.zone == .movable }?.freePages == 0x3ff)
        #expect(try m.pageZonenum(try m.allocPages(order: 0, gfp: [.highuserMovable, .thisNode])) == .movable)
        expectClean(m)
    }

    @Test("exhaustion gives .noMemory and leaves a consistent machine")
    func exhaustion() throws {
        let m = try Machine(Fixtures.tiny()).lowestWatermarks()
        let initialZones = m.zoneInfos()
        let initialWords = snapshot(m)
        // Only two order-10 blocks exist (one per NORMAL zone).
        let big = [try m.allocPages(order: 10), try m.allocPages(order: 10)]
        #expect(big == [0x400, 0x800])
        #expect(throws: ScamemError.noMemory) { try m.allocPages(order: 10) }
        #expect(throws: ScamemError.noMemory) { try m.folioAlloc(.file, order: 10) }
        #expect(throws: ScamemError.noMemory) { try m.slabAlloc(cache: 1, objectSize: 64, order: 10) }
        #expect(throws: ScamemError.noMemory) { try m.ptdescAlloc(order: 10) }
        #expect(snapshot(m) != initialWords)
        var pages: [UInt64] = []
        while true {
            do { pages.append(try m.allocPages(order: 0)) } catch {
                #expect(error == .noMemory)
                break
            }
        }
        #expect(pages.count == 0x400)
        #expect(m.info().freePages == 0)
        #expect(m.countPages()[Int(PageType.buddy.rawValue)] == 0)
        #expect(m.countPages()[Int(PageType.misc.rawValue)] == 0xc00)
        expectClean(m)
        #expect(throws: ScamemError.noMemory) { try m.folioAlloc(.anon) }
        expectClean(m)
        for p in pages { try m.freePages(p, order: 0) }
        for p in big { try m.freePages(p, order: 10) }
        #expect(m.zoneInfos().map(\.buddyinfo) == initialZones.map(\.buddyinfo))
        #expect(snapshot(m) == initialWords)
        expectClean(m)
    }

    static let workloads: [(LayoutProfile, UInt64)] = [
        (Fixtures.smallVmemmap, 1), (Fixtures.smallSparsemem, 2), (Fixtures.smallSparsemem, 3),
    ]

    @Test("seeded random alloc/free with the checker every 200 steps", arguments: workloads)
    func randomWorkload(profile: LayoutProfile, seed: UInt64) throws {
        let d = Fixtures.mini(profile: profile)
        let m = try Machine(d)
        let initialZones = m.zoneInfos()
        let initialWords = snapshot(m)
        let managed = m.info().managedPages
        let gfps: [GFP] = [.kernel, .kernel, .dma, .dma32, .movable, .thisNode, [.dma32, .thisNode]]
        var rng = SplitMix64(seed: seed)
        var live: [(pfn: UInt64, order: Int)] = []
        var allocated: UInt64 = 0, failures = 0
        for step in 1...4000 {
            if live.isEmpty || rng.chance(55) {
                let order = rng.chance(80) ? rng.below(4) : rng.below(11)
                let gfp = gfps[rng.below(gfps.count)]
                let nid: Int? = rng.chance(30) ? nil : rng.below(2)
                let p: UInt64
                do {
                    p = try m.allocPages(order: order, gfp: gfp, nid: nid)
                } catch {
                    #expect(error == .noMemory)
                    // Only when no allowed zone has a free block of at least this order.
                    let highest: ZoneType = gfp.contains(.dma) ? .dma : gfp.contains(.dma32) ? .dma32
                        : gfp.contains(.movable) ? .movable : .normal
                    let nodes = gfp.contains(.thisNode) ? [nid ?? 0] : [0, 1]
                    for z in m.zoneInfos() where nodes.contains(z.nid) && z.zone <= highest {
                        #expect(z.nrFree[order...].allSatisfy { $0 == 0 }, "order \(order) \(gfp) failed with \(z)")
                    }
                    failures += 1
                    continue
                }
                #expect(p & ((1 << UInt64(order)) - 1) == 0, "naturally aligned")
                let (pnid, pzone) = try #require(Fixtures.zone(of: p, in: d))
                #expect(try m.pageToNid(p) == pnid)
                #expect(try m.pageZonenum(p) == pzone)
                if gfp.contains(.dma) { #expect(pzone == .dma) }
                if gfp.contains(.dma32) { #expect(pzone <= .dma32) }
                if !gfp.contains(.movable) { #expect(pzone <= .normal) }
                if gfp.contains(.thisNode) { #expect(pnid == (nid ?? 0)) }
                live.append((p, order))
                allocated += 1 << UInt64(order)
            } else {
                let (p, o) = live.remove(at: rng.below(live.count))
                try m.freePages(p, order: o)
                allocated -= 1 << UInt64(o)
            }
            if step % 200 == 0 {
                #expect(m.info().freePages + allocated == managed)
                let issues = m.check()
                try #require(issues.isEmpty, "step \(step): \(issues.prefix(5))")
            }
        }
        #expect(live.count > 100)
        #expect(failures > 0 && failures < 400) // DMA and THISNODE requests do run out
        for (p, o) in live { try m.freePages(p, order: o) }
        #expect(m.info().freePages == managed)
        #expect(m.zoneInfos().map(\.buddyinfo) == initialZones.map(\.buddyinfo))
        #expect(snapshot(m) == initialWords)
        expectClean(m)
    }

    @Test("zones, holes and reservations at unaligned pfns")
    func raggedBoundaries() throws {
        let d = MachineDescription(
            nrNodes: 2, profile: Fixtures.smallSparsemem,
            zones: [
                ZoneSpan(nid: 0, zone: .dma, startPfn: 0x3, spannedPages: 0x774),
                ZoneSpan(nid: 0, zone: .dma32, startPfn: 0x777, spannedPages: 0x1bce),
                ZoneSpan(nid: 1, zone: .normal, startPfn: 0x2401, spannedPages: 0x1c00),
            ],
            holes: [PfnRange(startPfn: 0x100, nrPages: 0x33), PfnRange(startPfn: 0x1801, nrPages: 0x7ff)],
            reserved: [PfnRange(startPfn: 0x777, nrPages: 0x9), PfnRange(startPfn: 0x3000, nrPages: 0x1)])
        let m = try Machine(d)
        let initialWords = snapshot(m)
        let initialZones = m.zoneInfos()
        #expect(m.info().presentPages == 0x774 + 0x1bce + 0x1c00 - 0x33 - 0x7ff)
        #expect(m.info().freePages == m.info().presentPages - 0xa)
        expectClean(m)
        var rng = SplitMix64(seed: 5)
        var live: [(UInt64, Int)] = []
        for step in 1...3000 {
            if live.isEmpty || rng.chance(60) {
                let order = rng.below(11)
                if let p = try? m.allocPages(order: order, nid: rng.below(2)) {
                    #expect(p % (1 << UInt64(order)) == 0)
                    #expect(try m.pageInfo(p).headPfn == p)
                    live.append((p, order))
                }
            } else {
                let (p, o) = live.remove(at: rng.below(live.count))
                try m.freePages(p, order: o)
            }
            if step % 500 == 0 { expectClean(m) }
        }
        for (p, o) in live { try m.freePages(p, order: o) }
        #expect(m.zoneInfos().map(\.buddyinfo) == initialZones.map(\.buddyinfo))
        #expect(snapshot(m) == initialWords)
        expectClean(m)
    }
}
