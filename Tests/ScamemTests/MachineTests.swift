import Scamem
import Testing

@Suite("Machines")
struct MachineTests {
    // MARK: Description validation

    static func with(_ change: (inout MachineDescription) -> Void) -> MachineDescription {
        var d = Fixtures.tiny()
        change(&d)
        return d
    }

    static let badDescriptions: [(String, MachineDescription)] = [
        ("overlapping zones", with { $0.zones[1] = ZoneSpan(nid: 0, zone: .dma32, startPfn: 0x80, spannedPages: 0x380) }),
        ("overlap across nodes", with { $0.zones[3].startPfn = 0x7ff }),
        // A zone in pieces meets the others on pageblock edges (2048 is one, 2047 not).
        ("zone in pieces off a pageblock edge", with { $0.zones[3].nid = 0; $0.zones[2].spannedPages = 1023 }),
        ("memory block order below a section", with { $0.memoryBlockSizeOrder = 26 }),
        ("memory block order above 2 GiB", with { $0.memoryBlockSizeOrder = 32 }),
        ("nid >= nrNodes", with { $0.zones[3].nid = 2 }),
        ("negative nid", with { $0.zones[3].nid = -1 }),
        ("zero spanned pages", with { $0.zones[2].spannedPages = 0 }),
        ("zone type out of range", with { $0.zones[3].zone = ZoneType(rawValue: 5) }),
        ("zone past MAX_PHYSMEM_BITS", with { $0.zones[3].startPfn = 1 << 34 }),
        ("zone wrapping around", with { $0.zones[3].spannedPages = .max }),
        ("reserved outside zones", with { $0.reserved = [PfnRange(startPfn: 0xc00, nrPages: 1)] }),
        ("reserved straddling the end", with { $0.reserved = [PfnRange(startPfn: 0xbff, nrPages: 2)] }),
        ("empty reserved range", with { $0.reserved = [PfnRange(startPfn: 0x10, nrPages: 0)] }),
        ("empty hole", with { $0.holes = [PfnRange(startPfn: 0x10, nrPages: 0)] }),
        ("no zones", with { $0.zones = [] }),
        ("nrNodes 0", with { $0.nrNodes = 0 }),
        ("nrNodes above 1 << NODES_SHIFT", with { $0.nrNodes = 1025 }),
    ]

    @Test("bad descriptions are rejected with .invalid", arguments: badDescriptions)
    func badDescription(name: String, desc: MachineDescription) {
        #expect(throws: ScamemError.invalid, "\(name)") { try Machine(desc) }
    }

    @Test("the tiny fixture itself is valid and consistent")
    func tinyIsValid() throws {
        let m = try Machine(Fixtures.tiny())
        let i = m.info()
        #expect(i.endPfn == 0xc00)
        #expect(i.presentPages == 0xc00 && i.managedPages == 0xc00 && i.freePages == 0xc00)
        #expect(i.memmapPages == 0xc00) // section 0 is cut at endPfn
        #expect(i.nrSections == 1 && i.presentSections == 1)
        expectClean(m)
    }

    // MARK: The default machine

    @Test("default machine: totals, zones and buddyinfo")
    func defaultNumbers() throws {
        let m = try Machine(.default)
        #expect(m.machineDescription == .default)
        #expect(m.endPfn == 0x240000)
        let i = m.info()
        #expect(i.endPfn == 0x240000)
        #expect(i.nrNodes == 2)
        #expect(i.nrZones == 4)
        #expect(i.localNode == 0)
        #expect(i.nrSections == 72)
        #expect(i.presentSections == 64) // sections 24-31 are the PCI hole
        #expect(i.memmapPages == 64 * 0x8000)
        #expect(m.memmapPages == i.memmapPages)
        #expect(i.presentPages == 0x240000 - 0x60 - 0x40000) // end minus both holes
        #expect(i.managedPages == i.presentPages - 0x1801) // minus pfn 0 and the kernel image
        #expect(i.freePages == i.managedPages)

        let z = m.zoneInfos()
        #expect(z.map(\.nid) == [0, 0, 0, 1])
        #expect(z.map(\.zone) == [.dma, .dma32, .normal, .normal])
        #expect(z.map(\.startPfn) == [0, 0x1000, 0x100000, 0x140000])
        #expect(z.map(\.spannedPages) == [0x1000, 0xff000, 0x40000, 0x100000])
        let present: [UInt64] = [0x1000 - 0x60, 0xff000 - 0x40000, 0x40000, 0x100000]
        #expect(z.map(\.presentPages) == present)
        let managed: [UInt64] = [0x1000 - 0x60 - 1, 0xff000 - 0x40000 - 0x1800, 0x40000, 0x100000]
        #expect(z.map(\.managedPages) == managed)
        #expect(z.map(\.freePages) == z.map(\.managedPages))
        // memblock hands free memory over as maximal aligned blocks.
        #expect(z[0].nrFree == [1, 1, 1, 1, 1, 2, 1, 0, 1, 1, 3])
        #expect(z[1].nrFree == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 758])
        #expect(z[2].nrFree == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 256])
        #expect(z[3].nrFree == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1024])
        for zone in z {
            let pages = zone.nrFree.enumerated().reduce(UInt64(0)) { $0 + $1.element << UInt64($1.offset) }
            #expect(pages == zone.freePages)
        }
        #expect(z.reduce(0) { $0 + $1.presentPages } == i.presentPages)

        // Word types over the whole machine.
        var expected = [UInt64](repeating: 0, count: 16)
        expected[Int(PageType.misc.rawValue)] = 0x60 + 1 + 0x1800
        expected[Int(PageType.buddy.rawValue)] = i.freePages
        expected[Int(PageType.reserved.rawValue)] = 0x40000 // NOPAGE counts as RESERVED
        #expect(m.classify(0..<m.endPfn) == expected)
        #expect(m.countPages() == expected)

        // The metadata bill of a machine without descriptors: words only.
        let md = m.metadata()
        #expect(md.memmapPages == 0x200000)
        #expect(md.structPageBytes == 64 * 0x200000)
        #expect(md.wordBytes == 8 * 0x200000)
        #expect(md.descriptors.allSatisfy { $0 == 0 })
        // Nothing but PFN_LOOKUP's pfn-to-zone table: 2 bytes for each of the
        // 72 memory blocks, 16 for each zone range in block 0 (DMA, DMA32).
        #expect(md.descriptorBytes == 2 * 72 + 2 * 16 && m.pfnZoneTableBytes == md.descriptorBytes)
        #expect(md.memdescBytes == md.wordBytes + md.descriptorBytes)
        expectClean(m)
    }

    @Test("default machine: holes, reserved ranges and the first free blocks read as documented")
    func defaultWords() throws {
        let m = try Machine(.default)
        let l = m.layout
        let dma = l.flags(nid: 0, zone: .dma, section: 0)
        let dma32 = l.flags(nid: 0, zone: .dma32, section: 0)
        let normal0 = l.flags(nid: 0, zone: .normal, section: 0)
        let normal1 = l.flags(nid: 1, zone: .normal, section: 0)
        #expect(dma32 == 1 << 51 && normal0 == 2 << 51 && normal1 == 1 << 54 | 2 << 51)
        let reserved = { (f: UInt64) in PageWord.inline(.misc, subtype: MiscSubtype.reserved.rawValue, flags: f) }
        let head = { (o: UInt8, f: UInt64) in PageWord.inline(.buddy, subtype: BuddySubtype.head.rawValue, order: o, flags: f) }
        let tail = { (f: UInt64) in PageWord.inline(.buddy, subtype: BuddySubtype.tail.rawValue, flags: f) }

        m.withWords { w in
            #expect(w.count == 0x240000)
            // pfn 0 (reserved) and the VGA/BIOS hole: MISC/reserved of DMA.
            #expect(w[0] == reserved(dma).rawValue)
            #expect(w[0xa0..<0x100].allSatisfy { $0 == reserved(dma).rawValue })
            // The kernel image: MISC/reserved of DMA32.
            #expect(w[0x1000..<0x2800].allSatisfy { $0 == reserved(dma32).rawValue })
            // The PCI hole fills sections 24-31: no memmap.
            #expect(w[0xc0000..<0x100000].allSatisfy { $0 == PageWord.nopage.rawValue })
            #expect(w.filter { $0 == .max }.count == 0x40000)
            // Free memory around them.
            #expect(w[1] == head(0, dma).rawValue)
            #expect(w[0x9f] == tail(dma).rawValue)
            #expect(w[0x80] == head(5, dma).rawValue)
            #expect(w[0x100] == head(8, dma).rawValue)
            #expect(w[0xfff] == tail(dma).rawValue)
            #expect(w[0x2800] == head(10, dma32).rawValue)
            #expect(w[0xbffff] == tail(dma32).rawValue)
            #expect(w[0x100000] == head(10, normal0).rawValue)
            #expect(w[0x13ffff] == tail(normal0).rawValue)
            #expect(w[0x140000] == head(10, normal1).rawValue)
            #expect(w[0x23ffff] == tail(normal1).rawValue)
        }
        // Queries agree with the words.
        #expect(throws: ScamemError.noPage) { try m.pageToNid(0xc0000) }
        #expect(throws: ScamemError.noPage) { try m.pageInfo(0xfffff) }
        #expect(try m.pageZonenum(0xa0) == .dma)
        #expect(try m.pageZonenum(0x1000) == .dma32)
        #expect(try m.pageToNid(0x23ffff) == 1)
        #expect(try m.pageToSection(0x23ffff) == 0x47)
        expectClean(m)
    }

    // MARK: Small machines

    @Test("a whole-section hole has no memmap, a partial one reads reserved",
          arguments: [Fixtures.smallVmemmap, Fixtures.smallSparsemem])
    func miniHoles(profile: LayoutProfile) throws {
        let m = try Machine(Fixtures.mini(profile: profile))
        let i = m.info()
        #expect(i.endPfn == 0x10000)
        #expect(i.nrSections == 64)
        #expect(i.presentSections == 60)
        #expect(i.memmapPages == 60 * 0x400)
        #expect(i.presentPages == 0x10000 - 0x60 - 0x1000)
        #expect(i.managedPages == i.presentPages - 0x201)
        #expect(i.freePages == i.managedPages)
        m.withWords { w in
            #expect(w[0x6000..<0x7000].allSatisfy { $0 == .max })
            #expect(w[0x5fff] != .max && w[0x7000] != .max)
            for pfn in [0, 0xa0, 0xff, 0x1000, 0x11ff] {
                let pw = PageWord(rawValue: w[pfn])
                #expect(pw.type == .misc && pw.subtype == MiscSubtype.reserved.rawValue && pw.order == 0)
            }
            #expect(PageWord(rawValue: w[0x1200]).type == .buddy)
        }
        expectClean(m)
    }

    @Test("classic SPARSEMEM words carry their section number", arguments: [Fixtures.smallSparsemem, .x86_64Sparsemem])
    func sectionBits(profile: LayoutProfile) throws {
        let m = try Machine(Fixtures.mini(profile: profile))
        let l = m.layout
        m.withWords { w in
            for pfn in 0..<w.count where w[pfn] != .max {
                let pw = PageWord(rawValue: w[pfn])
                guard l.section(pw.flags) == UInt64(pfn) >> UInt64(l.pfnSectionShift) else {
                    Issue.record("pfn \(pfn): section bits \(l.section(pw.flags))")
                    return
                }
            }
        }
        #expect(l.section(word(m, 0xffff).flags) == (profile.sectionSizeBits == 22 ? 63 : 1))
        #expect(try m.pageToSection(0xa123) == UInt64(0xa123) >> UInt64(l.pfnSectionShift))
        expectClean(m)
    }

    @Test("pfns between zones and below the first zone have no memmap")
    func gaps() throws {
        let d = MachineDescription(nrNodes: 1, profile: Fixtures.smallVmemmap, zones: [
            ZoneSpan(nid: 0, zone: .dma32, startPfn: 0x1000, spannedPages: 0x100),
            ZoneSpan(nid: 0, zone: .normal, startPfn: 0x1200, spannedPages: 0x200),
        ])
        let m = try Machine(d)
        let i = m.info()
        #expect(i.endPfn == 0x1400)
        #expect(i.nrSections == 5)
        #expect(i.presentSections == 1)
        #expect(i.memmapPages == 0x400)
        #expect(i.presentPages == 0x300 && i.freePages == 0x300)
        m.withWords { w in
            #expect(w[0..<0x1000].allSatisfy { $0 == .max })
            #expect(w[0x1100..<0x1200].allSatisfy { $0 == .max })
        }
        #expect(throws: ScamemError.noPage) { try m.freePages(0x1150, order: 0) }
        #expect(throws: ScamemError.noPage) { try m.pageToNid(0x10) }
        #expect(try m.pageZonenum(0x1234) == .normal)
        expectClean(m)
    }

    @Test("zones listed in any order come out in node then zone order")
    func zoneOrder() throws {
        var d = Fixtures.tiny()
        d.zones.reverse()
        let m = try Machine(d)
        let z = m.zoneInfos()
        #expect(z.map(\.nid) == [0, 0, 0, 1])
        #expect(z.map(\.zone) == [.dma, .dma32, .normal, .normal])
        #expect(z.map(\.startPfn) == [0, 0x100, 0x400, 0x800])
        #expect(z[0].nrFree == [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0])
        #expect(z[1].nrFree == [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0])
        #expect(z[3].nrFree == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        expectClean(m)
    }

    @Test("the local node is what NUMA_NO_NODE means")
    func localNode() throws {
        let m = try Machine(Fixtures.tiny())
        #expect(m.localNode == 0)
        #expect(try m.pageToNid(try m.allocPages(order: 0)) == 0)
        try m.setLocalNode(1)
        #expect(m.localNode == 1)
        #expect(m.info().localNode == 1)
        let p = try m.allocPages(order: 0)
        #expect(p == 0x800)
        #expect(throws: ScamemError.invalid) { try m.setLocalNode(2) }
        #expect(throws: ScamemError.invalid) { try m.setLocalNode(-1) }
        #expect(m.localNode == 1)
        try m.freePages(p, order: 0)
        try m.freePages(0x400, order: 0)
        #expect(totalFree(m) == 0xc00)
        expectClean(m)
    }
}
