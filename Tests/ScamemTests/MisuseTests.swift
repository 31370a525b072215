import Scamem
import Testing

/// Bad calls from Swift throw the documented error and change nothing.
@Suite("Misuse from Swift")
struct MisuseTests {
    @Test("freePages: free, twice, wrong order, not a head, out of range, holes, reserved, descriptor pages")
    func freePagesMisuse() throws {
        let m = try Machine(Fixtures.mini())
        let before = snapshot(m)
        let zonesBefore = m.zoneInfos()
        // A page that was never allocated, head or tail of a free block.
        #expect(throws: ScamemError.alreadyFree) { try m.freePages(0x8000, order: 0) }
        #expect(throws: ScamemError.alreadyFree) { try m.freePages(0x8001, order: 0) }
        #expect(throws: ScamemError.alreadyFree) { try m.freePages(0x8000, order: 10) }
        // Out of range, no memmap, holes, reserved memory.
        #expect(throws: ScamemError.outOfRange) { try m.freePages(m.endPfn, order: 0) }
        #expect(throws: ScamemError.outOfRange) { try m.freePages(.max, order: 0) }
        #expect(throws: ScamemError.noPage) { try m.freePages(0x6000, order: 0) } // NOPAGE section
        #expect(throws: ScamemError.noPage) { try m.freePages(0x6fff, order: 0) }
        #expect(throws: ScamemError.noPage) { try m.freePages(0xa0, order: 0) }  // partial hole: MISC/reserved word
        #expect(throws: ScamemError.noPage) { try m.freePages(0xff, order: 0) }
        #expect(throws: ScamemError.invalid) { try m.freePages(0, order: 0) }     // reserved pfn 0
        #expect(throws: ScamemError.invalid) { try m.freePages(0x1100, order: 0) } // reserved range
        #expect(snapshot(m) == before)
        #expect(m.zoneInfos() == zonesBefore)

        let p = try m.allocPages(order: 3, nid: 0)
        #expect(throws: ScamemError.invalid) { try m.freePages(p, order: 2) }      // wrong order
        #expect(throws: ScamemError.invalid) { try m.freePages(p, order: 4) }
        #expect(throws: ScamemError.invalid) { try m.freePages(p + 1, order: 3) }  // not the first page
        #expect(throws: ScamemError.invalid) { try m.freePages(p, order: 11) }
        #expect(throws: ScamemError.invalid) { try m.freePages(p, order: -1) }
        #expect(throws: ScamemError.alreadyFree) { try m.freePages(p + 8, order: 0) }
        try m.freePages(p, order: 3)
        #expect(throws: ScamemError.alreadyFree) { try m.freePages(p, order: 3) }  // twice
        #expect(throws: ScamemError.alreadyFree) { try m.freePages(p + 7, order: 0) }
        #expect(snapshot(m) == before)

        // Pages owned by a descriptor are not freePages'.
        let f = try m.folioAlloc(.file)
        let s = try m.slabAlloc(cache: 1, objectSize: 64)
        let t = try m.ptdescAlloc()
        for q in [f, s, t] {
            #expect(throws: ScamemError.invalid) { try m.freePages(q, order: 0) }
        }
        #expect(try m.folioPut(f) == 0)
        try m.slabFree(s)
        try m.ptdescFree(t)
        #expect(snapshot(m) == before)
        #expect(m.zoneInfos().map(\.buddyinfo) == zonesBefore.map(\.buddyinfo))
        expectClean(m)
    }

    @Test("descriptor calls on the wrong kind of page")
    func wrongKind() throws {
        let m = try Machine(Fixtures.mini())
        let before = snapshot(m)
        let f = try m.folioAlloc(.anon, order: 1)
        let s = try m.slabAlloc(cache: 2, objectSize: 128, order: 1)
        let t = try m.ptdescAlloc(order: 1)
        let raw = try m.allocPages(order: 1)
        let state = snapshot(m)

        #expect(throws: ScamemError.invalid) { try m.folioPut(s) }
        #expect(throws: ScamemError.invalid) { try m.folioGet(s + 1) }
        #expect(throws: ScamemError.invalid) { try m.folioGet(t) }
        #expect(throws: ScamemError.invalid) { try m.folioPut(raw) }
        #expect(throws: ScamemError.invalid) { try m.folioPut(0) }       // reserved
        #expect(throws: ScamemError.invalid) { try m.slabFree(f) }
        #expect(throws: ScamemError.invalid) { try m.slabFree(t) }
        #expect(throws: ScamemError.invalid) { try m.slabFree(raw) }
        #expect(throws: ScamemError.invalid) { try m.ptdescFree(s) }
        #expect(throws: ScamemError.invalid) { try m.ptdescFree(f + 1) }
        // Free pages, pages without memmap, pfns past the end.
        #expect(throws: ScamemError.alreadyFree) { try m.folioPut(0x9000) }
        #expect(throws: ScamemError.alreadyFree) { try m.folioGet(0x9000) }
        #expect(throws: ScamemError.alreadyFree) { try m.slabFree(0x9000) }
        #expect(throws: ScamemError.alreadyFree) { try m.ptdescFree(0x9000) }
        #expect(throws: ScamemError.noPage) { try m.folioPut(0x6000) }
        #expect(throws: ScamemError.noPage) { try m.slabFree(0x6800) }
        #expect(throws: ScamemError.outOfRange) { try m.folioGet(m.endPfn) }
        #expect(throws: ScamemError.outOfRange) { try m.ptdescFree(.max) }
        #expect(snapshot(m) == state)
        #expect(try m.pageInfo(f).refcount == 1)

        #expect(try m.folioPut(f) == 0)
        try m.slabFree(s)
        try m.ptdescFree(t)
        try m.freePages(raw, order: 1)
        #expect(throws: ScamemError.alreadyFree) { try m.slabFree(s) }
        #expect(throws: ScamemError.alreadyFree) { try m.ptdescFree(t) }
        #expect(snapshot(m) == before)
        expectClean(m)
    }

    @Test("bad orders, flags, nodes and types")
    func badArguments() throws {
        let m = try Machine(Fixtures.mini())
        let before = snapshot(m)
        for order in [11, 12, 64, -1, Int.min] {
            #expect(throws: ScamemError.invalid) { try m.allocPages(order: order) }
            #expect(throws: ScamemError.invalid) { try m.folioAlloc(.file, order: order) }
            #expect(throws: ScamemError.invalid) { try m.slabAlloc(cache: 0, objectSize: 8, order: order) }
            #expect(throws: ScamemError.invalid) { try m.ptdescAlloc(order: order) }
        }
        // GFP_ZONE_BAD's mixes, MOVABLE with RECLAIMABLE, the unused bit 9 and bits past __GFP_BITS_SHIFT.
        let badGFP: [GFP] = [GFP(rawValue: 0x200), GFP(rawValue: 1 << 25), GFP(rawValue: 1 << 31),
                             [.dma, .dma32], [.dma, .highmem], [.dma32, .highmem], [.dma, .dma32, .thisNode],
                             [.dma, .dma32, .movable], [.highmem, .dma, .movable], [.movable, .reclaimable]]
        for gfp in badGFP {
            #expect(throws: ScamemError.invalid) { try m.allocPages(order: 0, gfp: gfp) }
            #expect(throws: ScamemError.invalid) { try m.folioAlloc(.anon, gfp: gfp) }
            #expect(throws: ScamemError.invalid) { try m.slabAlloc(cache: 0, objectSize: 8, gfp: gfp) }
            #expect(throws: ScamemError.invalid) { try m.ptdescAlloc(gfp: gfp) }
        }
        for nid in [2, 5, -1, Int.max, Int.min] {
            #expect(throws: ScamemError.invalid) { try m.allocPages(order: 0, nid: nid) }
            #expect(throws: ScamemError.invalid) { try m.folioAlloc(.file, nid: nid) }
            #expect(throws: ScamemError.invalid) { try m.slabAlloc(cache: 0, objectSize: 8, nid: nid) }
            #expect(throws: ScamemError.invalid) { try m.ptdescAlloc(nid: nid) }
        }
        for t in PageType.all where t != .file && t != .anon {
            #expect(throws: ScamemError.invalid) { try m.folioAlloc(t) }
        }
        #expect(snapshot(m) == before)
        #expect(m.metadata().descriptors.reduce(0, +) == 0)
        expectClean(m)
    }

    @Test("queries on pfns without a page")
    func queries() throws {
        let m = try Machine(Fixtures.mini())
        for pfn: UInt64 in [0x10000, 0x10001, .max] {
            #expect(throws: ScamemError.outOfRange) { try m.pageToNid(pfn) }
            #expect(throws: ScamemError.outOfRange) { try m.pageZonenum(pfn) }
            #expect(throws: ScamemError.outOfRange) { try m.pageToSection(pfn) }
            #expect(throws: ScamemError.outOfRange) { try m.pageInfo(pfn) }
        }
        for pfn: UInt64 in [0x6000, 0x6abc, 0x6fff] {
            #expect(throws: ScamemError.noPage) { try m.pageToNid(pfn) }
            #expect(throws: ScamemError.noPage) { try m.pageZonenum(pfn) }
            #expect(throws: ScamemError.noPage) { try m.pageToSection(pfn) }
            #expect(throws: ScamemError.noPage) { try m.pageInfo(pfn) }
        }
        #expect(m.classify(m.endPfn..<m.endPfn + 10) == TypeCounts(repeating: 0, count: 16))
        expectClean(m)
    }
}
