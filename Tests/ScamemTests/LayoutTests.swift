import CScamem
import Scamem
import Testing

@Suite("Layout profiles and flags layout")
struct LayoutTests {
    @Test("x86_64 VMEMMAP: nodes at 54-63, zones at 51-53, no section bits")
    func vmemmap() throws {
        let l = try FlagsLayout(.x86_64Vmemmap)
        #expect(l.sectionSizeBits == 27)
        #expect(l.pfnSectionShift == 15)
        #expect(l.sectionsWidth == 0)
        #expect(l.sectionsShift == 0)
        #expect(l.nodesWidth == 10)
        #expect(l.nodesShift == 54)
        #expect(l.zonesWidth == 3)
        #expect(l.zonesShift == 51)
        #expect(l.mask == 0xfff8_0000_0000_0000)
        #expect(l.flags(nid: 1, zone: .normal, section: 0x7ffff) == 1 << 54 | 2 << 51)
        #expect(l.flags(nid: 1023, zone: ZoneType(rawValue: 7), section: 0) == 0xfff8_0000_0000_0000)
        for nid in [0, 1, 2, 511, 1023] {
            for z in 0..<UInt32(ZoneType.count) {
                let f = l.flags(nid: nid, zone: ZoneType(rawValue: z), section: 12345)
                #expect(f == UInt64(nid) << 54 | UInt64(z) << 51)
                #expect(l.nid(f) == nid)
                #expect(l.zone(f) == ZoneType(rawValue: z))
                #expect(l.section(f) == 0)
            }
        }
        #expect(l.sectionNumber(ofPfn: 0x7fff) == 0)
        #expect(l.sectionNumber(ofPfn: 0x8000) == 1)
        #expect(l.sectionNumber(ofPfn: 0x240000) == 72)
    }

    @Test("x86_64 SPARSEMEM: sections at 45-63, nodes at 35-44, zones at 32-34")
    func sparsemem() throws {
        let l = try FlagsLayout(.x86_64Sparsemem)
        #expect(l.sectionSizeBits == 27)
        #expect(l.sectionsWidth == 19)
        #expect(l.sectionsShift == 45)
        #expect(l.nodesWidth == 10)
        #expect(l.nodesShift == 35)
        #expect(l.zonesWidth == 3)
        #expect(l.zonesShift == 32)
        #expect(l.mask == 0xffff_ffff_0000_0000)
        #expect(l.flags(nid: 3, zone: .dma32, section: 0x12345) == 0x12345 << 45 | 3 << 35 | 1 << 32)
        // Section numbers are cut to the field's width.
        #expect(l.flags(nid: 0, zone: .dma, section: 1 << 19) == 0)
        #expect(l.flags(nid: 0, zone: .dma, section: (1 << 19) + 5) == 5 << 45)
        for section: UInt64 in [0, 1, 72, 0x7ffff] {
            for nid in [0, 1, 1023] {
                for z in 0..<UInt32(ZoneType.count) {
                    let f = l.flags(nid: nid, zone: ZoneType(rawValue: z), section: section)
                    #expect(f == section << 45 | UInt64(nid) << 35 | UInt64(z) << 32)
                    #expect(l.nid(f) == nid)
                    #expect(l.zone(f) == ZoneType(rawValue: z))
                    #expect(l.section(f) == section)
                }
            }
        }
    }

    @Test("the fields of both profiles sit above the inline bits and do not overlap",
          arguments: [LayoutProfile.x86_64Vmemmap, .x86_64Sparsemem, Fixtures.smallVmemmap, Fixtures.smallSparsemem])
    func fieldsFit(profile: LayoutProfile) throws {
        let l = try FlagsLayout(profile)
        let fields = [(l.sectionsShift, l.sectionsWidth), (l.nodesShift, l.nodesWidth), (l.zonesShift, l.zonesWidth)]
        var seen: UInt64 = 0
        for (shift, width) in fields where width > 0 {
            #expect(shift >= PageWord.inlineBits)
            #expect(shift + width <= 64)
            let m: UInt64 = ((1 << UInt64(width)) - 1) << UInt64(shift)
            #expect(seen & m == 0)
            seen |= m
        }
        #expect(seen == l.mask)
    }

    @Test("the field-by-field initialiser gives the same layout and rejects fields past bit 63")
    func fieldByField() throws {
        let v = try FlagsLayout(sectionSizeBits: 27, sectionsWidth: 0, nodesWidth: 10, zonesWidth: 3,
                                sectionsShift: 0, nodesShift: 54, zonesShift: 51)
        #expect(v == (try FlagsLayout(.x86_64Vmemmap)))
        let s = try FlagsLayout(sectionSizeBits: 27, sectionsWidth: 19, nodesWidth: 10, zonesWidth: 3,
                                sectionsShift: 45, nodesShift: 35, zonesShift: 32)
        #expect(s == (try FlagsLayout(.x86_64Sparsemem)))
        #expect(throws: ScamemError.invalid) {
            try FlagsLayout(sectionSizeBits: 27, sectionsWidth: 0, nodesWidth: 10, zonesWidth: 3,
                            sectionsShift: 0, nodesShift: 60, zonesShift: 51)
        }
        #expect(throws: ScamemError.invalid) {
            try FlagsLayout(sectionSizeBits: 27, sectionsWidth: 0, nodesWidth: 64, zonesWidth: 3,
                            sectionsShift: 0, nodesShift: 0, zonesShift: 51)
        }
        #expect(throws: ScamemError.invalid) {
            try FlagsLayout(sectionSizeBits: 11, sectionsWidth: 0, nodesWidth: 10, zonesWidth: 3,
                            sectionsShift: 0, nodesShift: 54, zonesShift: 51)
        }
    }

    static func with(_ p: LayoutProfile, _ change: (inout LayoutProfile) -> Void) -> LayoutProfile {
        var p = p
        change(&p)
        return p
    }

    static let badProfiles: [LayoutProfile] = [LayoutProfile.x86_64Vmemmap, .x86_64Sparsemem].flatMap { p in [
        with(p) { $0.nodesShift = 11 },
        with(p) { $0.zonesShift = 0 },
        with(p) { $0.zonesShift = 4 },
        with(p) { $0.maxPhysmemBits = 53 },
        with(p) { $0.sectionSizeBits = 21 },
        with(p) { $0.sectionSizeBits = 47 }, // above MAX_PHYSMEM_BITS 46
    ] }

    @Test("bad profiles are rejected by the layout and by machine creation", arguments: badProfiles)
    func badProfile(profile: LayoutProfile) {
        #expect(throws: ScamemError.invalid) { try FlagsLayout(profile) }
        var d = Fixtures.tiny()
        d.profile = profile
        #expect(throws: ScamemError.invalid) { try Machine(d) }
    }

    @Test("boundary profiles are accepted")
    func boundaryProfiles() throws {
        let edge = LayoutProfile(nodesShift: 0, zonesShift: 1, sectionSizeBits: 22, maxPhysmemBits: 52,
                                 sparsememVmemmap: false)
        let l = try FlagsLayout(edge)
        #expect(l.nodesWidth == 0)
        #expect(l.nodesShift == 0)
        #expect(l.sectionsWidth == 30)
        #expect(l.sectionsShift == 34)
        #expect(l.zonesWidth == 1)
        #expect(l.zonesShift == 33)
        // Without node bits every page is on node 0.
        #expect(l.nid(.max) == 0)

        // Such a machine holds one node and zones DMA and DMA32 only.
        let ok = MachineDescription(nrNodes: 1, profile: edge, zones: [
            ZoneSpan(nid: 0, zone: .dma, startPfn: 0, spannedPages: 0x400),
            ZoneSpan(nid: 0, zone: .dma32, startPfn: 0x400, spannedPages: 0x400),
        ])
        let m = try Machine(ok)
        let pfn = try m.allocPages(order: 0, gfp: .dma32)
        #expect(try m.pageToNid(pfn) == 0)
        #expect(try m.pageZonenum(pfn) == .dma32)
        #expect(try m.pageToSection(0x7ff) == 1)
        try m.freePages(pfn, order: 0)
        var two = ok
        two.nrNodes = 2
        #expect(throws: ScamemError.invalid) { try Machine(two) }
        var normal = ok
        normal.zones.append(ZoneSpan(nid: 0, zone: .normal, startPfn: 0x800, spannedPages: 0x400))
        #expect(throws: ScamemError.invalid) { try Machine(normal) }
        expectClean(m)
    }

    @Test("nodes beyond 1 << NODES_SHIFT are rejected")
    func nodesShiftLimitsNodes() throws {
        var d = Fixtures.tiny()
        d.profile.nodesShift = 1
        let m = try Machine(d) // 2 nodes fit in one bit
        d.nrNodes = 3
        #expect(throws: ScamemError.invalid) { try Machine(d) }
        expectClean(m)
    }
}
