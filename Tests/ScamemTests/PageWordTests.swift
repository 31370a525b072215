import CScamem
import Scamem
import Testing

@Suite("Page words")
struct PageWordTests {
    @Test("type numbers match the header and the 2025 plan")
    func typeNumbers() {
        let c: [Int32] = [
            SCAMEM_TYPE_MISC, SCAMEM_TYPE_BUDDY, SCAMEM_TYPE_FILE, SCAMEM_TYPE_ANON, SCAMEM_TYPE_KSM,
            SCAMEM_TYPE_SLAB, SCAMEM_TYPE_BUMP, SCAMEM_TYPE_MOVABLE, SCAMEM_TYPE_PTDESC, SCAMEM_TYPE_HWPOISON,
            SCAMEM_TYPE_PERCPU, SCAMEM_TYPE_ACCTMEM, SCAMEM_TYPE_ZPDESC, SCAMEM_TYPE_MANAGED, SCAMEM_TYPE_SCAMEM,
            SCAMEM_TYPE_RESERVED,
        ]
        let swift: [PageType] = [.misc, .buddy, .file, .anon, .ksm, .slab, .bump, .movable, .ptdesc, .hwpoison,
                                 .percpu, .acctmem, .zpdesc, .managed, .scamem, .reserved]
        #expect(c == Array(0..<16))
        #expect(swift.map { Int32($0.rawValue) } == c)
        #expect(PageType.all == swift)
        #expect(PageType.count == Int(SCAMEM_NR_TYPES))
        #expect(PageType.all.filter(\.isInline) == [.misc, .buddy, .hwpoison])
        for t in PageType.all {
            #expect((scamem_type_is_inline(UInt32(t.rawValue)) != 0) == t.isInline, "\(t)")
        }
        // The initialiser keeps bits 0-3 only.
        #expect(PageType(rawValue: 0x13) == .anon)
    }

    @Test("word constants match the header")
    func wordConstants() {
        #expect(PageWord.layoutVersion == UInt32(SCAMEM_LAYOUT_VERSION))
        #expect(PageWord.subtypeShift == UInt64(SCAMEM_WORD_SUBTYPE_SHIFT))
        #expect(PageWord.subtypeMask == SCAMEM_WORD_SUBTYPE_MASK)
        #expect(PageWord.usermapBit == SCAMEM_WORD_USERMAP)
        #expect(PageWord.usermapBit == 1 << 11)
        #expect(PageWord.orderShift == UInt64(SCAMEM_WORD_ORDER_SHIFT))
        #expect(PageWord.orderMask == SCAMEM_WORD_ORDER_MASK)
        #expect(PageWord.inlineBits == UInt32(SCAMEM_WORD_INLINE_BITS))
        #expect(PageWord.descriptorMask == SCAMEM_WORD_DESC_MASK)
        #expect(SCAMEM_WORD_TYPE_MASK == 0xf)
    }

    @Test("every type encodes and decodes", arguments: 0..<16)
    func everyType(raw: Int) {
        let t = PageType(rawValue: UInt8(raw))
        #expect(Int(t.rawValue) == raw)
        if t.isInline {
            let cases: [(UInt8, UInt8, Bool, UInt64)] = [
                (0, 0, false, 0), (0x7f, 0x3f, true, ~0 << 18), (5, 10, false, 0x2a5 << 51), (1, 1, true, 1 << 18),
            ]
            for (sub, order, usermap, flags) in cases {
                let w = PageWord.inline(t, subtype: sub, order: order, usermap: usermap, flags: flags)
                #expect(w.rawValue == UInt64(raw) | UInt64(sub) << 4 | (usermap ? 1 << 11 : 0) | UInt64(order) << 12 | flags)
                #expect(w.type == t)
                #expect(w.subtype == sub)
                #expect(w.order == order)
                #expect(w.usermap == usermap)
                #expect(w.flags == flags)
                #expect(w.descriptorAddress == 0)
                #expect(w.isNopage == false)
            }
        } else {
            for id: UInt64 in [1, 2, 0x1234, 0xdead_beef, (1 << 60) - 1] {
                let w = PageWord.pointer(t, descriptor: id)
                #expect(w.rawValue == id << 4 | UInt64(raw))
                #expect(w.type == t)
                #expect(w.descriptorID == id)
                #expect(w.descriptorAddress == id << 4)
                #expect(w.descriptorAddress & 0xf == 0)
                #expect(scamem_word_desc(w.rawValue) == id << 4)
                #expect(scamem_word_type(w.rawValue) == UInt32(raw))
            }
        }
    }

    @Test("MISC subtypes sit in bits 4-10")
    func miscSubtypes() {
        let swift: [MiscSubtype] = [.reserved, .zero, .unknown, .vmalloc, .guardPage, .offline, .kmallocLarge,
                                    .exact, .brd]
        let c: [Int32] = [SCAMEM_MISC_RESERVED, SCAMEM_MISC_ZERO, SCAMEM_MISC_UNKNOWN, SCAMEM_MISC_VMALLOC,
                          SCAMEM_MISC_GUARD, SCAMEM_MISC_OFFLINE, SCAMEM_MISC_KMALLOC_LARGE, SCAMEM_MISC_EXACT,
                          SCAMEM_MISC_BRD]
        #expect(swift.map { Int32($0.rawValue) } == c)
        #expect(c == Array(0..<9))
        #expect(MiscSubtype.count == Int(SCAMEM_NR_MISC_SUBTYPES))
        for s in swift {
            let w = PageWord.inline(.misc, subtype: s.rawValue, flags: 0)
            #expect(w.rawValue == UInt64(s.rawValue) << 4)
            #expect(w.subtype == s.rawValue)
            #expect(scamem_word_subtype(w.rawValue) == UInt32(s.rawValue))
            #expect(w.type == .misc)
        }
        #expect(BuddySubtype.head.rawValue == UInt8(SCAMEM_BUDDY_HEAD))
        #expect(BuddySubtype.tail.rawValue == UInt8(SCAMEM_BUDDY_TAIL))
        // The subtype field is 7 bits: it never spills into the usermap bit.
        #expect(PageWord.inline(.misc, subtype: 0xff, flags: 0).rawValue == 0x7f0)
        #expect(PageWord(rawValue: 0x7f0).subtype == 0x7f)
        #expect(PageWord(rawValue: ~0x7f0).subtype == 0)
    }

    @Test("usermap is bit 11 and only bit 11")
    func usermapBit() {
        #expect(PageWord.inline(.misc, subtype: 0, usermap: true, flags: 0).rawValue == 0x800)
        #expect(PageWord.inline(.misc, subtype: 0, usermap: false, flags: 0).rawValue == 0)
        for bit in 0..<64 {
            let w = PageWord(rawValue: 1 << UInt64(bit))
            #expect(w.usermap == (bit == 11), "bit \(bit)")
            #expect((scamem_word_usermap(w.rawValue) != 0) == (bit == 11), "bit \(bit)")
        }
    }

    @Test("order sits in bits 12-17")
    func orderBits() {
        for o in UInt8(0)...0x3f {
            let w = PageWord.inline(.buddy, subtype: 0, order: o, flags: 0)
            #expect(w.rawValue == 1 | UInt64(o) << 12)
            #expect(w.order == o)
            #expect(scamem_word_order(w.rawValue) == UInt32(o))
        }
        // Six bits: the neighbours do not leak in, a larger order does not leak out.
        #expect(PageWord(rawValue: ~(UInt64(0x3f) << 12)).order == 0)
        #expect(PageWord(rawValue: 0x3f000).order == 0x3f)
        #expect(PageWord.inline(.buddy, subtype: 0, order: 0x40, flags: 0).rawValue == 1)
        #expect(PageWord.inline(.buddy, subtype: 0, order: 0xff, flags: 0).rawValue == 1 | 0x3f000)
    }

    @Test("flags are the bits from 18 up")
    func flagsBits() {
        #expect(PageWord(rawValue: .max).flags == ~0 << 18)
        #expect(PageWord(rawValue: (1 << 18) - 1).flags == 0)
        #expect(PageWord(rawValue: 1 << 18).flags == 1 << 18)
    }

    @Test("NOPAGE is all ones and reads as RESERVED")
    func nopage() {
        #expect(PageWord.nopage.rawValue == UInt64.max)
        #expect(PageWord.nopage.isNopage)
        #expect(PageWord.nopage.type == .reserved)
        #expect(!PageWord(rawValue: .max - 1).isNopage)
        #expect(scamem_word_is_nopage(.max) == 1)
        #expect(scamem_word_is_nopage(.max - 1) == 0)
        #expect(scamem_word_type(.max) == UInt32(SCAMEM_TYPE_RESERVED))
    }

    // MARK: Swift, the header's inline decoders and scamem_word_decode() agree

    /// Words of every type: structured ones under `layout`, random ones with
    /// each type forced into bits 0-3, and the edge values.
    static func sampleWords(_ layout: FlagsLayout, seed: UInt64) -> [UInt64] {
        var rng = SplitMix64(seed: seed)
        var words: [UInt64] = [0, .max, .max - 1, 1 << 63, 0xf, 0x10]
        for t in PageType.all {
            for _ in 0..<64 {
                words.append(rng.next() & ~0xf | UInt64(t.rawValue))
                let flags = layout.flags(nid: rng.below(1024), zone: ZoneType(rawValue: UInt32(rng.below(8))),
                                         section: rng.next())
                words.append(PageWord.inline(t, subtype: UInt8(rng.below(128)), order: UInt8(rng.below(64)),
                                             usermap: rng.chance(50), flags: flags).rawValue)
            }
        }
        return words
    }

    @Test("Swift, C inline decoders and scamem_word_decode agree",
          arguments: [LayoutProfile.x86_64Vmemmap, .x86_64Sparsemem])
    func decodersAgree(profile: LayoutProfile) throws {
        let layout = try FlagsLayout(profile)
        // The C layout as the library hands it out, from a C-created machine
        // of this profile, and the same layout built from the Swift fields.
        var m: OpaquePointer?
        let zones = [scamem_zone_span(nid: 0, zone: UInt32(SCAMEM_ZONE_DMA), start_pfn: 0, spanned_pages: 0x1000),
                     scamem_zone_span(nid: 1, zone: UInt32(SCAMEM_ZONE_NORMAL), start_pfn: 0x8000, spanned_pages: 0x1000)]
        let rc = zones.withUnsafeBufferPointer { zp in
            var d = scamem_machine_desc()
            d.size = UInt32(MemoryLayout<scamem_machine_desc>.size)
            d.nr_nodes = 2
            d.profile = scamem_profile(size: UInt32(MemoryLayout<scamem_profile>.size), nodes_shift: 10,
                                       zones_shift: 3, section_size_bits: 27, max_physmem_bits: 46,
                                       sparsemem_vmemmap: profile.sparsememVmemmap ? 1 : 0)
            d.zones = zp.baseAddress
            d.nr_zones = 2
            return scamem_machine_new(&d, &m)
        }
        try #require(rc == 0)
        defer { scamem_machine_free(m) }
        var l = scamem_layout()
        #expect(scamem_machine_layout(m, &l) == 0)
        var built = scamem_layout(version: 1, section_size_bits: layout.sectionSizeBits,
                                  sections_width: layout.sectionsWidth, nodes_width: layout.nodesWidth,
                                  zones_width: layout.zonesWidth, sections_pgshift: layout.sectionsShift,
                                  nodes_pgshift: layout.nodesShift, zones_pgshift: layout.zonesShift)
        #expect(withUnsafeBytes(of: &l) { Array($0) } == withUnsafeBytes(of: &built) { Array($0) })

        // Allocate a little so the machine's own words include pointer and MISC words.
        var pfn: UInt64 = 0
        #expect(scamem_folio_alloc(m, UInt32(SCAMEM_TYPE_ANON), 0, 2, 1, &pfn) == 0)
        #expect(scamem_slab_alloc(m, 7, 256, 0, 1, 0, &pfn) == 0)
        #expect(scamem_alloc_pages(m, UInt32(SCAMEM_GFP_DMA), 3, -1, &pfn) == 0)
        var base: UnsafePointer<UInt64>?
        var nr: UInt64 = 0
        #expect(scamem_machine_words(m, &base, &nr) == 0)
        let machineWords = Array(UnsafeBufferPointer(start: base, count: Int(nr)))
        #expect(machineWords.count == 0x9000)

        var seen = Set<UInt32>()
        for raw in Self.sampleWords(layout, seed: profile.sparsememVmemmap ? 1 : 2) + machineWords {
            let w = PageWord(rawValue: raw)
            var info = scamem_word_info()
            #expect(scamem_word_decode(&l, raw, &info) == 0)
            seen.insert(info.type)
            // Type, NOPAGE, inline-ness.
            #expect(UInt32(w.type.rawValue) == scamem_word_type(raw))
            #expect(info.type == scamem_word_type(raw))
            #expect(info.word == raw)
            #expect((info.is_nopage != 0) == w.isNopage)
            #expect((scamem_word_is_nopage(raw) != 0) == w.isNopage)
            #expect((info.is_inline != 0) == w.type.isInline)
            // Descriptor address.
            #expect(scamem_word_desc(raw) == w.descriptorAddress)
            #expect(info.desc == w.descriptorAddress)
            // The inline fields, and node/zone/section from the high bits.
            #expect(scamem_word_subtype(raw) == UInt32(w.subtype))
            #expect(scamem_word_order(raw) == UInt32(w.order))
            #expect((scamem_word_usermap(raw) != 0) == w.usermap)
            #expect(scamem_memdesc_nid(&l, raw) == UInt32(layout.nid(w.flags)))
            #expect(scamem_memdesc_zonenum(&l, raw) == layout.zone(w.flags).rawValue)
            #expect(scamem_memdesc_section(&l, raw) == layout.section(w.flags))
            if w.type.isInline {
                #expect(info.subtype == UInt32(w.subtype))
                #expect(info.order == UInt32(w.order))
                #expect((info.usermap != 0) == w.usermap)
                #expect(info.nid == UInt32(layout.nid(w.flags)))
                #expect(info.zone == layout.zone(w.flags).rawValue)
                #expect(info.section == layout.section(w.flags))
            } else {
                #expect(info.subtype == 0 && info.order == 0 && info.usermap == 0)
                #expect(info.nid == 0 && info.zone == 0 && info.section == 0)
            }
        }
        #expect(seen == Set(0..<16))
        #expect(scamem_machine_check(m, nil, nil) == 0)
    }
}
