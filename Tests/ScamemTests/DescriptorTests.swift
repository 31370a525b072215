import Scamem
import Testing

@Suite("Descriptors")
struct DescriptorTests {
    /// The pointer word every page of the descriptor at `pfn` carries, checked to be the same on all of them.
    static func pointerWord(_ m: Machine, _ pfn: UInt64, order: Int) -> PageWord? {
        m.withWords { w in
            let first = w[Int(pfn)]
            return w[Int(pfn)..<Int(pfn + 1 << UInt64(order))].allSatisfy { $0 == first } ? PageWord(rawValue: first) : nil
        }
    }

    @Test("FILE and ANON folios of every order", arguments: [PageType.file, .anon])
    func folioOrders(type: PageType) throws {
        let d = Fixtures.tiny()
        let m = try Machine(d).lowestWatermarks()
        let initial = snapshot(m)
        for order in 0...10 {
            let pfn = try m.folioAlloc(type, order: order, nid: 1)
            #expect(pfn == 0x800, "order \(order): lowest block of node 1")
            let w = try #require(Self.pointerWord(m, pfn, order: order), "order \(order)")
            #expect(w.type == type)
            #expect(!w.type.isInline)
            #expect(w.descriptorID != 0)
            #expect(w.descriptorAddress == w.descriptorID << 4)
            for k: UInt64 in [0, (1 << UInt64(order)) / 2, (1 << UInt64(order)) - 1] {
                let info = try m.pageInfo(pfn + k)
                #expect(info.word == w)
                #expect(info.headPfn == pfn)
                #expect(info.order == order)
                #expect(info.refcount == 1 && info.mapcount == 0 && info.pincount == 0)
                #expect(info.descriptorAddress == w.descriptorAddress)
                #expect(info.flags == m.layout.flags(nid: 1, zone: .normal, section: 0))
                #expect(info.nid == 1 && info.zone == ZoneType.normal)
                #expect(try m.pageToNid(pfn + k) == 1)
                #expect(try m.pageZonenum(pfn + k) == .normal)
                #expect(try m.pageToSection(pfn + k) == 0)
            }
            #expect(m.zoneInfos()[3].freePages == 0x400 - (1 << UInt64(order)))
            #expect(m.countPages(nid: 1)[Int(type.rawValue)] == 1 << UInt64(order))
            #expect(m.metadata().descriptors[Int(type.rawValue)] == 1)
            expectClean(m)
            #expect(try m.folioPut(pfn + (1 << UInt64(order)) - 1) == 0) // named by any of its pfns
            #expect(snapshot(m) == initial, "order \(order): BUDDY words restored")
            #expect(m.metadata().descriptors[Int(type.rawValue)] == 0)
        }
        expectClean(m)
    }

    @Test("folio refcount: get and put")
    func refcount() throws {
        let m = try Machine(Fixtures.tiny())
        let initial = snapshot(m)
        let f = try m.folioAlloc(.anon, order: 2)
        #expect(try m.folioGet(f) == 2)
        #expect(try m.folioGet(f + 3) == 3)
        #expect(try m.pageInfo(f + 1).refcount == 3)
        #expect(try m.folioPut(f + 2) == 2)
        #expect(try m.folioPut(f) == 1)
        #expect(word(m, f).type == .anon)
        expectClean(m)
        #expect(try m.folioPut(f) == 0)
        #expect(word(m, f).type == .buddy)
        #expect(throws: ScamemError.alreadyFree) { try m.folioGet(f) }
        #expect(throws: ScamemError.alreadyFree) { try m.folioPut(f + 1) }
        #expect(snapshot(m) == initial)
        expectClean(m)
    }

    @Test("freeing writes BUDDY words with node/zone/section from the descriptor",
          arguments: [Fixtures.smallSparsemem, Fixtures.smallVmemmap])
    func freeRestoresPlacement(profile: LayoutProfile) throws {
        let d = Fixtures.mini(profile: profile)
        let m = try Machine(d)
        let l = m.layout
        let initial = snapshot(m)
        var rng = SplitMix64(seed: 7)
        struct Owned { var pfn: UInt64; var order: Int; var type: PageType; var nid: Int; var zone: ZoneType }
        var owned: [Owned] = []
        let gfps: [GFP] = [.dma, .dma32, .kernel, .thisNode]
        for i in 0..<120 {
            let order = rng.below(11)
            let gfp = gfps[i % gfps.count]
            let nid = rng.below(2)
            let type: PageType = [.file, .anon, .slab, .ptdesc][rng.below(4)]
            let pfn: UInt64
            switch type {
            case .slab: pfn = try m.slabAlloc(cache: UInt32(i), objectSize: 512, order: order, gfp: gfp, nid: nid)
            case .ptdesc: pfn = try m.ptdescAlloc(order: order, gfp: gfp, nid: nid)
            default: pfn = try m.folioAlloc(type, order: order, gfp: gfp, nid: nid)
            }
            let z = try #require(Fixtures.zone(of: pfn, in: d))
            let section = UInt64(pfn) >> UInt64(l.pfnSectionShift)
            let info = try m.pageInfo(pfn + (1 << UInt64(order)) - 1)
            #expect(info.flags == l.flags(nid: z.nid, zone: z.zone, section: section))
            #expect(try m.pageToNid(pfn) == z.nid)
            #expect(try m.pageZonenum(pfn) == z.zone)
            #expect(try m.pageToSection(pfn + (1 << UInt64(order)) - 1) == section)
            #expect(l.section(info.flags) == (profile.sparsememVmemmap ? 0 : section))
            owned.append(Owned(pfn: pfn, order: order, type: type, nid: z.nid, zone: z.zone))
            if owned.count > 40 {
                // Free a random one and look at every word it had.
                let o = owned.remove(at: rng.below(owned.count))
                try Self.free(m, o.pfn, o.type)
                m.withWords { w in
                    for p in o.pfn..<o.pfn + (1 << UInt64(o.order)) {
                        let pw = PageWord(rawValue: w[Int(p)])
                        #expect(pw.type == .buddy)
                        #expect(pw.flags == l.flags(nid: o.nid, zone: o.zone, section: p >> UInt64(l.pfnSectionShift)))
                        #expect(l.nid(pw.flags) == o.nid && l.zone(pw.flags) == o.zone)
                    }
                }
            }
        }
        expectClean(m)
        for o in owned.reversed() { try Self.free(m, o.pfn, o.type) }
        #expect(snapshot(m) == initial)
        expectClean(m)
    }

    static func free(_ m: Machine, _ pfn: UInt64, _ type: PageType) throws {
        switch type {
        case .slab: try m.slabFree(pfn)
        case .ptdesc: try m.ptdescFree(pfn)
        default: #expect(try m.folioPut(pfn) == 0)
        }
    }

    static let slabCases: [(order: Int, objectSize: UInt32)] = [
        (0, 64), (0, 4096), (0, 1), (1, 192), (2, 700), (3, 4097), (10, 3), (10, 4096 << 10),
    ]

    @Test("slabs: objects = (4096 << order) / objectSize", arguments: slabCases)
    func slab(order: Int, objectSize: UInt32) throws {
        let m = try Machine(Fixtures.tiny()).lowestWatermarks()
        let initial = snapshot(m)
        let pfn = try m.slabAlloc(cache: 42, objectSize: objectSize, order: order, gfp: .kernel, nid: 0)
        let w = try #require(Self.pointerWord(m, pfn, order: order))
        #expect(w.type == .slab)
        let info = try m.pageInfo(pfn + (1 << UInt64(order)) - 1)
        #expect(info.objects == UInt32((UInt64(4096) << UInt64(order)) / UInt64(objectSize)))
        #expect(info.cacheID == 42)
        #expect(info.order == order && info.headPfn == pfn && info.refcount == 1)
        #expect(m.metadata().descriptors[Int(PageType.slab.rawValue)] == 1)
        expectClean(m)
        try m.slabFree(pfn + (1 << UInt64(order)) - 1)
        #expect(snapshot(m) == initial)
        expectClean(m)
    }

    @Test("slab object sizes out of range are rejected")
    func slabSizes() throws {
        let m = try Machine(Fixtures.tiny())
        #expect(throws: ScamemError.invalid) { try m.slabAlloc(cache: 1, objectSize: 0) }
        #expect(throws: ScamemError.invalid) { try m.slabAlloc(cache: 1, objectSize: 4097, order: 0) }
        #expect(throws: ScamemError.invalid) { try m.slabAlloc(cache: 1, objectSize: 8193, order: 1) }
        #expect(throws: ScamemError.invalid) { try m.slabAlloc(cache: 1, objectSize: 64, order: 11) }
        #expect(throws: ScamemError.invalid) { try m.slabAlloc(cache: 1, objectSize: 64, order: -1) }
        #expect(m.info().freePages == 0xc00)
        expectClean(m)
    }

    @Test("ptdescs", arguments: [0, 2, 10])
    func ptdesc(order: Int) throws {
        let m = try Machine(Fixtures.tiny()).lowestWatermarks()
        let initial = snapshot(m)
        // DMA32 has no order-10 block: that one comes from NORMAL.
        let pfn = try m.ptdescAlloc(order: order, gfp: order == 10 ? .kernel : .dma32)
        #expect(try m.pageZonenum(pfn) == (order == 10 ? .normal : .dma32))
        let w = try #require(Self.pointerWord(m, pfn, order: order))
        #expect(w.type == .ptdesc)
        let info = try m.pageInfo(pfn)
        #expect(info.order == order && info.refcount == 1 && info.headPfn == pfn)
        #expect(m.metadata().descriptors[Int(PageType.ptdesc.rawValue)] == 1)
        expectClean(m)
        try m.ptdescFree(pfn)
        #expect(snapshot(m) == initial)
        expectClean(m)
    }

    @Test("per-type counts by node and zone, classify, and the metadata bill")
    func countsAndMetadata() throws {
        let m = try Machine(Fixtures.tiny()).lowestWatermarks()
        let file = try m.folioAlloc(.file, order: 3, nid: 1)
        let anon = try m.folioAlloc(.anon, order: 0, nid: 0)
        let slab = try m.slabAlloc(cache: 3, objectSize: 128, order: 1, gfp: .dma)
        let pt = try m.ptdescAlloc(order: 0, gfp: .dma32)
        let raw = try m.allocPages(order: 2, nid: 1)
        // The DMA32 ptdesc (UNMOVABLE) claims DMA32's largest block, at 0x200.
        #expect([file, anon, slab, pt, raw] == [0x800, 0x400, 0, 0x200, 0x808])

        func n(_ c: TypeCounts, _ t: PageType) -> UInt64 { c[Int(t.rawValue)] }
        let node1 = m.countPages(nid: 1)
        #expect(n(node1, .file) == 8 && n(node1, .misc) == 4 && n(node1, .anon) == 0)
        #expect(n(node1, .buddy) == 0x400 - 12)
        #expect(node1.reduce(0, +) == 0x400)
        let node0 = m.countPages(nid: 0)
        #expect(n(node0, .anon) == 1 && n(node0, .slab) == 2 && n(node0, .ptdesc) == 1 && n(node0, .file) == 0)
        #expect(node0.reduce(0, +) == 0x800)
        #expect(n(m.countPages(nid: 0, zone: .dma), .slab) == 2)
        #expect(n(m.countPages(nid: 0, zone: .dma32), .ptdesc) == 1)
        #expect(n(m.countPages(nid: 0, zone: .dma32), .slab) == 0)
        #expect(n(m.countPages(zone: .normal), .file) == 8)
        #expect(n(m.countPages(zone: .normal), .anon) == 1)
        #expect(m.countPages(nid: 5) == TypeCounts(repeating: 0, count: 16))
        #expect(m.countPages(nid: 1, zone: .dma) == TypeCounts(repeating: 0, count: 16))
        for z in m.zoneInfos() {
            #expect(n(m.countPages(nid: z.nid, zone: z.zone), .buddy) == z.freePages)
        }
        #expect(m.countPages() == m.classify(0..<m.endPfn))
        var all = m.countPages()
        #expect(n(all, .file) == 8 && n(all, .anon) == 1 && n(all, .slab) == 2 && n(all, .ptdesc) == 1)
        #expect(n(all, .misc) == 4)

        let md = m.metadata()
        #expect(md.memmapPages == 0xc00)
        #expect(md.descriptors.count == 16 && md.descriptorSizes.count == 16)
        #expect(n(md.descriptors, .file) == 1 && n(md.descriptors, .anon) == 1)
        #expect(n(md.descriptors, .slab) == 1 && n(md.descriptors, .ptdesc) == 1)
        #expect(md.descriptors.reduce(0, +) == 4)
        var sizes = [UInt32](repeating: 0, count: 16)
        sizes[Int(PageType.file.rawValue)] = 80
        sizes[Int(PageType.anon.rawValue)] = 80
        sizes[Int(PageType.ksm.rawValue)] = 80
        sizes[Int(PageType.slab.rawValue)] = 64
        sizes[Int(PageType.ptdesc.rawValue)] = 64
        sizes[Int(PageType.zpdesc.rawValue)] = 56
        sizes[Int(PageType.scamem.rawValue)] = 8 // the header; pages add 8 each
        #expect(md.descriptorSizes == sizes)
        // The default strategy, PFN_LOOKUP, also keeps its pfn-to-zone table.
        let zoneTable = m.pfnZoneTableBytes
        #expect(md.descriptorBytes == 80 + 80 + 64 + 64 + zoneTable)
        #expect(md.wordBytes == 8 * 0xc00)
        #expect(md.structPageBytes == 64 * 0xc00)
        #expect(md.memdescBytes == 8 * 0xc00 + 288 + zoneTable)
        expectClean(m)

        #expect(try m.folioPut(file) == 0)
        #expect(try m.folioPut(anon) == 0)
        try m.slabFree(slab)
        try m.ptdescFree(pt)
        try m.freePages(raw, order: 2)
        all = m.countPages()
        #expect(n(all, .buddy) == 0xc00)
        #expect(m.metadata().descriptors.reduce(0, +) == 0)
        #expect(m.metadata().descriptorBytes == zoneTable)
        #expect(m.metadata().memdescBytes == 8 * 0xc00 + zoneTable)
        expectClean(m)
    }

    @Test("live descriptors have distinct ids")
    func distinctIDs() throws {
        let m = try Machine(Fixtures.tiny())
        var live: [UInt64: UInt64] = [:] // pfn -> descriptor id
        var rng = SplitMix64(seed: 99)
        for _ in 0..<600 {
            if live.isEmpty || rng.chance(60) {
                let pfn: UInt64
                switch rng.below(3) {
                case 0: pfn = try m.folioAlloc(.file)
                case 1: pfn = try m.slabAlloc(cache: 1, objectSize: 32)
                default: pfn = try m.ptdescAlloc()
                }
                live[pfn] = word(m, pfn).descriptorID
            } else {
                let pfn = live.keys.sorted()[rng.below(live.count)]
                switch word(m, pfn).type {
                case .file: try m.folioPut(pfn)
                case .slab: try m.slabFree(pfn)
                default: try m.ptdescFree(pfn)
                }
                live[pfn] = nil
            }
            #expect(Set(live.values).count == live.count)
            #expect(!live.values.contains(0))
        }
        #expect(m.metadata().descriptors.reduce(0, +) == UInt64(live.count))
        expectClean(m)
    }
}
