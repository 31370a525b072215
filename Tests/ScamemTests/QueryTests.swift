import Scamem
import Testing

@Suite("Queries")
struct QueryTests {
    @Test("page_to_nid, page_zonenum and page_to_section on every pfn with a memmap",
          arguments: [Fixtures.smallVmemmap, Fixtures.smallSparsemem])
    func everyPfn(profile: LayoutProfile) throws {
        let d = Fixtures.mini(profile: profile)
        let m = try Machine(d)
        // Put some descriptors and raw blocks in, so pointer words are asked too.
        let owned = [try m.folioAlloc(.file, order: 4, gfp: .dma), try m.folioAlloc(.anon, order: 9, nid: 1),
                     try m.slabAlloc(cache: 1, objectSize: 96, order: 2, gfp: .dma32)]
        let raw = try m.allocPages(order: 5, nid: 0)
        let shift = UInt64(m.layout.pfnSectionShift)
        var checked = 0
        for pfn in stride(from: UInt64(0), to: m.endPfn, by: 7) {
            guard let z = Fixtures.zone(of: pfn, in: d), !word(m, pfn).isNopage else { continue }
            guard try m.pageToNid(pfn) == z.nid, try m.pageZonenum(pfn) == z.zone,
                  try m.pageToSection(pfn) == pfn >> shift else {
                Issue.record("pfn \(pfn): \(try m.pageInfo(pfn))")
                break
            }
            checked += 1
        }
        #expect(checked == Int((m.info().memmapPages + 6) / 7))
        for p in owned { try Self.release(m, p) }
        try m.freePages(raw, order: 5)
        expectClean(m)
    }

    static func release(_ m: Machine, _ p: UInt64) throws {
        switch word(m, p).type {
        case .slab: try m.slabFree(p)
        default: #expect(try m.folioPut(p) == 0)
        }
    }

    @Test("pageInfo of free, reserved, hole, raw and descriptor pages")
    func pageInfo() throws {
        let m = try Machine(Fixtures.mini())
        let l = m.layout
        // A tail of a free block names the block's head and order.
        let tail = try m.pageInfo(0x8123)
        #expect(tail.word.type == .buddy && tail.word.subtype == BuddySubtype.tail.rawValue)
        #expect(tail.headPfn == 0x8000 && tail.order == 10)
        #expect(tail.nid == 0 && tail.zone == .normal)
        #expect(tail.flags == l.flags(nid: 0, zone: .normal, section: 0))
        #expect(tail.refcount == 0 && tail.descriptorAddress == 0)
        let head = try m.pageInfo(0x8000)
        #expect(head.headPfn == 0x8000 && head.order == 10)
        // Free blocks below an allocation: pfn 1 is an order-0 head, 3 a tail of the order-1 block at 2.
        #expect(try m.pageInfo(3).headPfn == 2)
        #expect(try m.pageInfo(3).order == 1)
        #expect(try m.pageInfo(0x9f).headPfn == 0x80)
        #expect(try m.pageInfo(0x9f).order == 5)
        // Reserved and hole pages.
        let reserved = try m.pageInfo(0)
        #expect(reserved.word.type == .misc && reserved.word.subtype == MiscSubtype.reserved.rawValue)
        #expect(reserved.headPfn == 0 && reserved.order == 0 && reserved.zone == .dma)
        let hole = try m.pageInfo(0xa5)
        #expect(hole.word.type == .misc && hole.word.subtype == MiscSubtype.reserved.rawValue)
        #expect(hole.headPfn == 0xa5 && hole.nid == 0 && hole.zone == .dma)
        #expect(try m.pageInfo(0x1100).zone == .dma32)
        // A raw block.
        let raw = try m.allocPages(order: 3, nid: 1)
        let ri = try m.pageInfo(raw + 6)
        #expect(ri.word.type == .misc && ri.word.subtype == MiscSubtype.unknown.rawValue)
        #expect(ri.headPfn == raw && ri.order == 3 && ri.nid == 1 && ri.zone == .normal)
        #expect(ri.refcount == 0)
        // A folio, named by a middle page.
        let f = try m.folioAlloc(.file, order: 2, gfp: .dma32)
        let fi = try m.pageInfo(f + 2)
        #expect(fi.pfn == f + 2)
        #expect(fi.headPfn == f && fi.order == 2 && fi.zone == .dma32 && fi.refcount == 1)
        #expect(fi.descriptorAddress == fi.word.rawValue & PageWord.descriptorMask)
        try m.freePages(raw, order: 3)
        #expect(try m.folioPut(f) == 0)
        expectClean(m)
    }

    @Test("page_to_section without section bits is pfn_to_section_nr")
    func sectionWithoutBits() throws {
        let m = try Machine(Fixtures.mini(profile: Fixtures.smallVmemmap))
        #expect(m.layout.sectionsWidth == 0)
        let f = try m.folioAlloc(.anon, order: 10, nid: 1)
        #expect(m.layout.section(try m.pageInfo(f).flags) == 0)
        #expect(try m.pageToSection(f + 1023) == (f + 1023) >> 10)
        #expect(try m.pageInfo(f + 1023).section == (f + 1023) >> 10)
        #expect(try m.pageToSection(0xffff) == 63)
        #expect(try m.folioPut(f) == 0)
        expectClean(m)
    }

    @Test("classify clips at endPfn and adds into the counts it is given")
    func classify() throws {
        let m = try Machine(Fixtures.mini())
        let end = m.endPfn
        #expect(m.classify(end - 10..<end + 100).reduce(0, +) == 10)
        #expect(m.classify(0..<0).reduce(0, +) == 0)
        #expect(m.classify(end..<end + 1).reduce(0, +) == 0)
        let low = m.classify(0..<0x100)
        #expect(low[Int(PageType.misc.rawValue)] == 1 + 0x60)
        #expect(low[Int(PageType.buddy.rawValue)] == 0x100 - 1 - 0x60)
        let nopage = m.classify(0x6000..<0x7000)
        #expect(nopage[Int(PageType.reserved.rawValue)] == 0x1000 && nopage.reduce(0, +) == 0x1000)
        var counts = [UInt64](repeating: 0, count: 16)
        let n = counts.withUnsafeMutableBufferPointer { p in
            m.classify(0..<0x100, into: p.baseAddress!) + m.classify(0..<0x100, into: p.baseAddress!)
        }
        #expect(n == 0x200)
        #expect(counts == low.map { $0 * 2 })
        // Whole machine: the per-type counts cover every pfn.
        #expect(m.classify(0..<end).reduce(0, +) == end)
        expectClean(m)
    }

    @Test("info and zone infos agree with each other and with the words")
    func infoAgrees() throws {
        let m = try Machine(Fixtures.mini(profile: Fixtures.smallSparsemem))
        _ = try m.folioAlloc(.file, order: 6, nid: 1)
        _ = try m.allocPages(order: 2, gfp: .dma)
        let i = m.info()
        let z = m.zoneInfos()
        #expect(UInt64(z.reduce(0) { $0 + $1.freePages }) == i.freePages)
        #expect(z.reduce(0) { $0 + $1.managedPages } == i.managedPages)
        #expect(z.reduce(0) { $0 + $1.presentPages } == i.presentPages)
        #expect(i.freePages == i.managedPages - 64 - 4)
        #expect(m.countPages()[Int(PageType.buddy.rawValue)] == i.freePages)
        for zone in z {
            let pages = zone.nrFree.enumerated().reduce(UInt64(0)) { $0 + $1.element << UInt64($1.offset) }
            #expect(pages == zone.freePages)
            #expect(zone.nrFree.count == 11)
        }
        expectClean(m)
    }
}
