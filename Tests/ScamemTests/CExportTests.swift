import CScamem
import Glibc
import Scamem
import Testing

/// The @c exports, called through their C declarations (include/scamem.h).
@Suite("C exports")
struct CExportTests {
    static let descSize = UInt32(MemoryLayout<scamem_machine_desc>.size)

    /// Calls `body` with a C description of `d` whose arrays live for the call.
    static func withCDesc<R>(_ d: MachineDescription, _ body: (inout scamem_machine_desc) throws -> R) rethrows -> R {
        let zones = d.zones.map {
            scamem_zone_span(nid: UInt32(bitPattern: Int32(truncatingIfNeeded: $0.nid)), zone: $0.zone.rawValue,
                             start_pfn: $0.startPfn, spanned_pages: $0.spannedPages)
        }
        let range = { (r: PfnRange) in scamem_pfn_range(start_pfn: r.startPfn, nr_pages: r.nrPages) }
        let holes = d.holes.map(range), reserved = d.reserved.map(range)
        let p = d.profile
        return try zones.withUnsafeBufferPointer { zp in
            try holes.withUnsafeBufferPointer { hp in
                try reserved.withUnsafeBufferPointer { rp in
                    var c = scamem_machine_desc(
                        size: descSize, nr_nodes: UInt32(d.nrNodes),
                        profile: scamem_profile(size: UInt32(MemoryLayout<scamem_profile>.size),
                                                nodes_shift: p.nodesShift, zones_shift: p.zonesShift,
                                                section_size_bits: p.sectionSizeBits,
                                                max_physmem_bits: p.maxPhysmemBits,
                                                sparsemem_vmemmap: p.sparsememVmemmap ? 1 : 0),
                        zones: zp.baseAddress, holes: hp.baseAddress, reserved: rp.baseAddress,
                        nr_zones: UInt32(zp.count), nr_holes: UInt32(hp.count), nr_reserved: UInt32(rp.count),
                        strategy: 0, packed_index_bits: 0, reserved0: 0, cma: nil, nr_cma: 0, memory_block_size_order: 0)
                    return try body(&c)
                }
            }
        }
    }

    static func newMachine(_ d: MachineDescription) throws -> OpaquePointer {
        var m: OpaquePointer?
        let rc = withCDesc(d) { scamem_machine_new(&$0, &m) }
        try #require(rc == 0)
        return try #require(m)
    }

    static func info(_ m: OpaquePointer) -> scamem_machine_info {
        var i = scamem_machine_info()
        #expect(scamem_machine_info(m, &i) == 0)
        return i
    }

    /// Every inconsistency the C checker reports, through a C callback.
    struct Tally {
        var count = 0
        var kinds: UInt32 = 0
        var pfns: [UInt64] = []
        var emptyMessages = 0
        var machine: OpaquePointer?
        var reentrantFree: UInt64 = 0
    }

    static let tally: scamem_check_fn = { user, pfn, what, message in
        let t = user!.assumingMemoryBound(to: Tally.self)
        t.pointee.count += 1
        t.pointee.kinds |= 1 << UInt32(what)
        t.pointee.pfns.append(pfn)
        if message == nil || message!.pointee == 0 { t.pointee.emptyMessages += 1 }
        // The callback may call into the library (issues are reported outside the lock).
        if let m = t.pointee.machine {
            var i = scamem_machine_info()
            if scamem_machine_info(m, &i) == 0 { t.pointee.reentrantFree = i.free_pages }
        }
    }

    static func check(_ m: OpaquePointer) -> (Int64, Tally) {
        var t = Tally(machine: m)
        let n = withUnsafeMutablePointer(to: &t) { scamem_machine_check(m, tally, UnsafeMutableRawPointer($0)) }
        return (n, t)
    }

    // MARK: Machines

    @Test("scamem_machine_new from a custom description matches the Swift machine")
    func customMachine() throws {
        let d = Fixtures.mini(profile: Fixtures.smallSparsemem)
        let m = try Self.newMachine(d)
        defer { scamem_machine_free(m) }
        let swift = try Machine(d)
        let i = Self.info(m), si = swift.info()
        #expect(i.end_pfn == si.endPfn && i.present_pages == si.presentPages && i.managed_pages == si.managedPages)
        #expect(i.free_pages == si.freePages && i.memmap_pages == si.memmapPages)
        #expect(i.nr_sections == si.nrSections && i.present_sections == si.presentSections)
        #expect(i.nr_nodes == 2 && i.nr_zones == 4 && i.local_node == 0)
        #expect(i.strategy == UInt32(SCAMEM_STRATEGY_PFN_LOOKUP))

        var l = scamem_layout()
        #expect(scamem_machine_layout(m, &l) == 0)
        #expect(l.version == 1 && l.section_size_bits == 22 && l.sections_width == 24)
        #expect(l.sections_pgshift == 40 && l.nodes_pgshift == 30 && l.zones_pgshift == 27)
        #expect(l.sections_pgshift == swift.layout.sectionsShift && l.nodes_pgshift == swift.layout.nodesShift)

        // The same calls on both give the same pfns and the same words.
        var pfns: [UInt64] = []
        var pfn: UInt64 = 0
        #expect(scamem_folio_alloc(m, UInt32(SCAMEM_TYPE_FILE), 0, 3, 1, &pfn) == 0); pfns.append(pfn)
        #expect(scamem_slab_alloc(m, 9, 100, UInt32(SCAMEM_GFP_DMA32), 1, -1, &pfn) == 0); pfns.append(pfn)
        #expect(scamem_ptdesc_alloc(m, UInt32(SCAMEM_GFP_DMA), 0, 0, &pfn) == 0); pfns.append(pfn)
        #expect(scamem_alloc_pages(m, UInt32(SCAMEM_GFP_THISNODE), 5, 1, &pfn) == 0); pfns.append(pfn)
        let swiftPfns = [try swift.folioAlloc(.file, order: 3, nid: 1),
                         try swift.slabAlloc(cache: 9, objectSize: 100, order: 1, gfp: .dma32),
                         try swift.ptdescAlloc(order: 0, gfp: .dma, nid: 0),
                         try swift.allocPages(order: 5, gfp: .thisNode, nid: 1)]
        #expect(pfns == swiftPfns)
        var base: UnsafePointer<UInt64>?
        var nr: UInt64 = 0
        #expect(scamem_machine_words(m, &base, &nr) == 0)
        #expect(nr == swift.endPfn)
        #expect(Array(UnsafeBufferPointer(start: base, count: Int(nr))) == snapshot(swift))

        // Queries.
        #expect(scamem_folio_get(m, pfns[0] + 7) == 2)
        #expect(scamem_folio_put(m, pfns[0]) == 1)
        var pi = scamem_page_info()
        #expect(scamem_page_info(m, pfns[1] + 1, &pi) == 0)
        #expect(pi.type == UInt32(SCAMEM_TYPE_SLAB) && pi.head_pfn == pfns[1] && pi.order == 1)
        #expect(pi.objects == 8192 / 100 && pi.cache_id == 9 && pi.refcount == 1)
        #expect(pi.zone == UInt32(SCAMEM_ZONE_DMA32) && pi.nid == 0)
        #expect(pi.section == (pfns[1] + 1) >> 10 && pi.desc == pi.word & ~0xf && pi.desc != 0)
        #expect(scamem_page_info(m, pfns[3], &pi) == 0)
        #expect(pi.type == UInt32(SCAMEM_TYPE_MISC) && pi.subtype == UInt32(SCAMEM_MISC_UNKNOWN) && pi.order == 5)
        #expect(scamem_page_to_nid(m, pfns[3]) == 1)
        #expect(scamem_page_zonenum(m, pfns[2]) == SCAMEM_ZONE_DMA)
        #expect(scamem_page_to_section(m, 0xabcd) == 0xabcd >> 10)
        #expect(scamem_page_info(m, 0x6100, &pi) == -ENXIO)
        #expect(pi.word == .max && pi.pfn == 0x6100)

        var counts = [UInt64](repeating: 0, count: 16)
        #expect(scamem_count_pages(m, 1, Int32(SCAMEM_ZONE_NORMAL), &counts) == 0x6000)
        #expect(counts == swift.countPages(nid: 1, zone: .normal))
        #expect(counts[Int(SCAMEM_TYPE_FILE)] == 8 && counts[Int(SCAMEM_TYPE_MISC)] == 32)
        #expect(scamem_count_pages(m, -1, -1, &counts) == Int64(nr))
        counts = [UInt64](repeating: 0, count: 16)
        #expect(scamem_classify_range(m, nr - 5, 100, &counts) == 5)
        #expect(scamem_classify_range(m, 0, .max, &counts) == Int64(nr)) // clipped, added
        #expect(counts.reduce(0, +) == nr + 5)

        var z = scamem_zone_info()
        for (k, sz) in swift.zoneInfos().enumerated() {
            #expect(scamem_machine_zone(m, UInt32(k), &z) == 0)
            let nrFree = withUnsafeBytes(of: z.nr_free) { Array($0.bindMemory(to: UInt64.self)) }
            #expect(Int(z.nid) == sz.nid && z.zone == sz.zone.rawValue && z.start_pfn == sz.startPfn)
            #expect(z.spanned_pages == sz.spannedPages && z.present_pages == sz.presentPages)
            #expect(z.managed_pages == sz.managedPages && z.free_pages == sz.freePages && nrFree == sz.nrFree)
        }
        #expect(scamem_machine_zone(m, 4, &z) == -ENOENT)

        var md = scamem_metadata()
        #expect(scamem_machine_metadata(m, &md) == 0)
        let sm = swift.metadata()
        #expect(md.memmap_pages == sm.memmapPages && md.word_bytes == 8 * sm.memmapPages)
        #expect(md.struct_page_bytes == 64 * sm.memmapPages)
        // The default strategy, PFN_LOOKUP, also keeps its pfn-to-zone table.
        #expect(md.desc_bytes == 80 + 64 + 64 + swift.pfnZoneTableBytes && md.memdesc_bytes == md.word_bytes + md.desc_bytes)
        #expect(withUnsafeBytes(of: md.nr_desc) { Array($0.bindMemory(to: UInt64.self)) } == sm.descriptors)
        #expect(withUnsafeBytes(of: md.desc_size) { Array($0.bindMemory(to: UInt32.self)) } == sm.descriptorSizes)

        #expect(scamem_folio_put(m, pfns[0]) == 0)
        #expect(scamem_slab_free(m, pfns[1]) == 0)
        #expect(scamem_ptdesc_free(m, pfns[2]) == 0)
        #expect(scamem_free_pages(m, pfns[3], 5) == 0)
        #expect(Self.info(m).free_pages == si.freePages)
        #expect(scamem_machine_check(m, nil, nil) == 0)
        expectClean(swift)
    }

    @Test("size-first descriptions: larger with a zero tail works, a non-zero tail is E2BIG, smaller is EINVAL")
    func sizeFirst() throws {
        let d = Fixtures.tiny()
        let extra = 24
        let total = Int(Self.descSize) + extra
        let buf = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 8)
        defer { buf.deallocate() }
        try Self.withCDesc(d) { c in
            buf.initializeMemory(as: UInt8.self, repeating: 0, count: total)
            buf.storeBytes(of: c, as: scamem_machine_desc.self)
            buf.storeBytes(of: UInt32(total), as: UInt32.self)
            let p = buf.assumingMemoryBound(to: scamem_machine_desc.self)
            var m: OpaquePointer?
            #expect(scamem_machine_new(p, &m) == 0)
            let made = try #require(m)
            #expect(Self.info(made).end_pfn == 0xc00)
            #expect(scamem_machine_check(made, nil, nil) == 0)
            scamem_machine_free(made)

            for offset in [Int(Self.descSize), total - 1] {
                buf.storeBytes(of: 1, toByteOffset: offset, as: UInt8.self)
                m = nil
                #expect(scamem_machine_new(p, &m) == -E2BIG, "non-zero byte at \(offset)")
                #expect(m == nil)
                buf.storeBytes(of: 0, toByteOffset: offset, as: UInt8.self)
            }
            // Below 0.1's 80 bytes is too small; 0.1's struct reads as no CMA areas.
            for size in [0, 4, 8, 72, 79] {
                c.size = UInt32(size)
                m = nil
                #expect(scamem_machine_new(&c, &m) == -EINVAL, "size \(size)")
                #expect(m == nil)
            }
            c.size = 80
            #expect(scamem_machine_new(&c, &m) == 0)
            scamem_machine_free(m)
            c.size = Self.descSize
            #expect(scamem_machine_new(&c, &m) == 0)
            #expect(scamem_machine_check(m, nil, nil) == 0)
            scamem_machine_free(m)
        }
    }

    @Test("bad descriptions from C")
    func badDescriptions() throws {
        var results: [Int32] = []
        Self.withCDesc(Fixtures.tiny()) { good in
            func attempt(_ change: (inout scamem_machine_desc) -> Void) -> Int32 {
                var c = good
                change(&c)
                var m: OpaquePointer?
                let rc = scamem_machine_new(&c, &m)
                #expect(m == nil || rc == 0)
                if rc == 0 {
                    #expect(scamem_machine_check(m, nil, nil) == 0)
                    scamem_machine_free(m)
                }
                results.append(rc)
                return rc
            }
            #expect(attempt { $0.nr_nodes = 0 } == -EINVAL)
            #expect(attempt { $0.nr_nodes = 2000 } == -EINVAL)
            #expect(attempt { $0.zones = nil } == -EINVAL)
            #expect(attempt { $0.nr_zones = 0 } == -EINVAL)
            #expect(attempt { $0.holes = nil; $0.nr_holes = 1 } == -EINVAL)
            #expect(attempt { $0.reserved = nil; $0.nr_reserved = 1 } == -EINVAL)
            #expect(attempt { $0.strategy = 7 } == -EINVAL)
            #expect(attempt { $0.reserved0 = 1 } == -EINVAL)
            #expect(attempt { $0.strategy = UInt32(SCAMEM_STRATEGY_PACKED); $0.packed_index_bits = 60 } == -EINVAL)
            #expect(attempt { $0.profile.size = 4 } == -EINVAL)
            #expect(attempt { $0.profile.nodes_shift = 11 } == -EINVAL)
            #expect(attempt { $0.profile.zones_shift = 0 } == -EINVAL)
            #expect(attempt { $0.profile.zones_shift = 4 } == -EINVAL)
            #expect(attempt { $0.profile.max_physmem_bits = 53 } == -EINVAL)
            #expect(attempt { $0.profile.section_size_bits = 21 } == -EINVAL)
            #expect(attempt { $0.profile.sparsemem_vmemmap = 5 } == -EINVAL)
            #expect(attempt { _ in } == 0)
        }
        let overlap = [scamem_zone_span(nid: 0, zone: 2, start_pfn: 0, spanned_pages: 100),
                       scamem_zone_span(nid: 0, zone: 0, start_pfn: 50, spanned_pages: 100)]
        overlap.withUnsafeBufferPointer { zp in
            var c = scamem_machine_desc()
            c.size = Self.descSize
            c.nr_nodes = 1
            c.profile = scamem_profile(size: 24, nodes_shift: 10, zones_shift: 3, section_size_bits: 27,
                                       max_physmem_bits: 46, sparsemem_vmemmap: 1)
            c.zones = zp.baseAddress
            c.nr_zones = 2
            var m: OpaquePointer?
            #expect(scamem_machine_new(&c, &m) == -EINVAL)
            #expect(m == nil)
        }
        #expect(results.allSatisfy { scamem_strerror($0) != nil })
    }

    @Test("scamem_machine_desc_default describes MachineDescription.default")
    func defaultDescription() throws {
        var c = scamem_machine_desc()
        #expect(scamem_machine_desc_default(&c) == 0)
        let d = MachineDescription.default
        #expect(c.size == Self.descSize && Int(c.nr_nodes) == d.nrNodes && c.strategy == 0)
        #expect(c.profile.size == 24 && c.profile.nodes_shift == 10 && c.profile.zones_shift == 3)
        #expect(c.profile.section_size_bits == 27 && c.profile.max_physmem_bits == 46 && c.profile.sparsemem_vmemmap == 1)
        let zones = UnsafeBufferPointer(start: c.zones, count: Int(c.nr_zones)).map {
            ZoneSpan(nid: Int($0.nid), zone: ZoneType(rawValue: $0.zone), startPfn: $0.start_pfn, spannedPages: $0.spanned_pages)
        }
        let holes = UnsafeBufferPointer(start: c.holes, count: Int(c.nr_holes)).map {
            PfnRange(startPfn: $0.start_pfn, nrPages: $0.nr_pages)
        }
        let reserved = UnsafeBufferPointer(start: c.reserved, count: Int(c.nr_reserved)).map {
            PfnRange(startPfn: $0.start_pfn, nrPages: $0.nr_pages)
        }
        #expect(zones == d.zones && holes == d.holes && reserved == d.reserved)
        // And scamem_machine_new_default builds it.
        var m: OpaquePointer?
        #expect(scamem_machine_new_default(&m) == 0)
        defer { scamem_machine_free(m) }
        let i = Self.info(try #require(m))
        #expect(i.end_pfn == 0x240000 && i.nr_nodes == 2 && i.nr_zones == 4)
        #expect(i.free_pages == i.managed_pages && i.managed_pages == i.present_pages - 0x1801)
        #expect(scamem_machine_check(m, nil, nil) == 0)
    }

    // MARK: NULL and bad arguments

    @Test("NULL handles and NULL pointers give -EINVAL")
    func nulls() throws {
        var pfn: UInt64 = 0
        var counts = [UInt64](repeating: 0, count: 16)
        var words: UnsafePointer<UInt64>?
        var info = scamem_machine_info()
        var zone = scamem_zone_info()
        var layout = scamem_layout()
        var md = scamem_metadata()
        var pi = scamem_page_info()
        var wi = scamem_word_info()
        var desc = scamem_machine_desc()
        var out: OpaquePointer?
        let e = -EINVAL
        #expect(scamem_machine_new(nil, nil) == e)
        #expect(scamem_machine_new(nil, &out) == e)
        #expect(scamem_machine_desc_default(&desc) == 0)
        #expect(scamem_machine_new(&desc, nil) == e)
        #expect(scamem_machine_new_default(nil) == e)
        #expect(scamem_machine_desc_default(nil) == e)
        scamem_machine_free(nil)
        #expect(scamem_machine_layout(nil, &layout) == e)
        #expect(scamem_machine_info(nil, &info) == e)
        #expect(scamem_machine_zone(nil, 0, &zone) == e)
        #expect(scamem_machine_words(nil, &words, &pfn) == e)
        #expect(scamem_classify_range(nil, 0, 1, &counts) == Int64(e))
        #expect(scamem_count_pages(nil, -1, -1, &counts) == Int64(e))
        #expect(scamem_machine_metadata(nil, &md) == e)
        #expect(scamem_machine_check(nil, nil, nil) == Int64(e))
        #expect(scamem_machine_check(nil, Self.tally, nil) == Int64(e))
        #expect(scamem_alloc_pages(nil, 0, 0, -1, &pfn) == e)
        #expect(scamem_free_pages(nil, 0, 0) == e)
        #expect(scamem_folio_alloc(nil, UInt32(SCAMEM_TYPE_FILE), 0, 0, -1, &pfn) == e)
        #expect(scamem_folio_get(nil, 0) == e)
        #expect(scamem_folio_put(nil, 0) == e)
        #expect(scamem_slab_alloc(nil, 0, 64, 0, 0, -1, &pfn) == e)
        #expect(scamem_slab_free(nil, 0) == e)
        #expect(scamem_ptdesc_alloc(nil, 0, 0, -1, &pfn) == e)
        #expect(scamem_ptdesc_free(nil, 0) == e)
        #expect(scamem_page_to_nid(nil, 0) == e)
        #expect(scamem_page_zonenum(nil, 0) == e)
        #expect(scamem_page_to_section(nil, 0) == Int64(e))
        #expect(scamem_page_info(nil, 0, &pi) == e)
        #expect(scamem_word_decode(nil, 0, &wi) == e)
        #expect(scamem_word_decode(&layout, 0, nil) == e)

        let m = try Self.newMachine(Fixtures.tiny())
        defer { scamem_machine_free(m) }
        let before = Self.info(m)
        #expect(scamem_machine_layout(m, nil) == e)
        #expect(scamem_machine_info(m, nil) == e)
        #expect(scamem_machine_zone(m, 0, nil) == e)
        #expect(scamem_machine_words(m, nil, nil) == e)
        #expect(scamem_machine_words(m, &words, nil) == e)
        #expect(scamem_machine_words(m, nil, &pfn) == e)
        #expect(scamem_classify_range(m, 0, 1, nil) == Int64(e))
        #expect(scamem_count_pages(m, -1, -1, nil) == Int64(e))
        #expect(scamem_machine_metadata(m, nil) == e)
        #expect(scamem_alloc_pages(m, 0, 0, -1, nil) == e)
        #expect(scamem_folio_alloc(m, UInt32(SCAMEM_TYPE_FILE), 0, 0, -1, nil) == e)
        #expect(scamem_slab_alloc(m, 0, 64, 0, 0, -1, nil) == e)
        #expect(scamem_ptdesc_alloc(m, 0, 0, -1, nil) == e)
        #expect(scamem_page_info(m, 0x100, nil) == e)
        #expect(Self.info(m).free_pages == before.free_pages)
        #expect(scamem_machine_check(m, nil, nil) == 0)
    }

    @Test("bad orders, flags, nodes, types and pfns from C")
    func badArguments() throws {
        let m = try Self.newMachine(Fixtures.mini())
        defer { scamem_machine_free(m) }
        var pfn: UInt64 = 0
        var counts = [UInt64](repeating: 0, count: 16)
        let file = UInt32(SCAMEM_TYPE_FILE)
        #expect(scamem_alloc_pages(m, 0, 11, -1, &pfn) == -EINVAL)
        #expect(scamem_alloc_pages(m, 0, .max, -1, &pfn) == -EINVAL)
        #expect(scamem_alloc_pages(m, 0x200, 0, -1, &pfn) == -EINVAL)
        #expect(scamem_alloc_pages(m, UInt32(SCAMEM_GFP_DMA | SCAMEM_GFP_DMA32), 0, -1, &pfn) == -EINVAL)
        #expect(scamem_alloc_pages(m, 0, 0, 2, &pfn) == -EINVAL)
        #expect(scamem_alloc_pages(m, 0, 0, 5, &pfn) == -EINVAL)
        #expect(scamem_alloc_pages(m, 0, 0, -2, &pfn) == -EINVAL)
        #expect(scamem_alloc_pages(m, 0, 0, .min, &pfn) == -EINVAL)
        #expect(scamem_folio_alloc(m, UInt32(SCAMEM_TYPE_SLAB), 0, 0, -1, &pfn) == -EINVAL)
        #expect(scamem_folio_alloc(m, 99, 0, 0, -1, &pfn) == -EINVAL)
        #expect(scamem_folio_alloc(m, file, 0, 11, -1, &pfn) == -EINVAL)
        #expect(scamem_slab_alloc(m, 0, 0, 0, 0, -1, &pfn) == -EINVAL)
        #expect(scamem_slab_alloc(m, 0, 4097, 0, 0, -1, &pfn) == -EINVAL)
        #expect(scamem_slab_alloc(m, 0, 64, 0, 12, -1, &pfn) == -EINVAL)
        #expect(scamem_ptdesc_alloc(m, 0, 11, -1, &pfn) == -EINVAL)
        #expect(scamem_count_pages(m, -2, -1, &counts) == Int64(-EINVAL))
        #expect(scamem_count_pages(m, -1, Int32(SCAMEM_MAX_NR_ZONES), &counts) == Int64(-EINVAL))
        #expect(scamem_classify_range(m, 0x10000, 1, &counts) == Int64(-ERANGE))
        #expect(scamem_free_pages(m, 0x10000, 0) == -ERANGE)
        #expect(scamem_free_pages(m, .max, 0) == -ERANGE)
        #expect(scamem_free_pages(m, 0x8000, 11) == -EALREADY) // as from Swift: the page is free
        #expect(scamem_free_pages(m, 0x8000, 0) == -EALREADY)
        #expect(scamem_free_pages(m, 0xa0, 0) == -ENXIO)
        #expect(scamem_free_pages(m, 0x6000, 0) == -ENXIO)
        #expect(scamem_free_pages(m, 0, 0) == -EINVAL)
        #expect(scamem_page_to_nid(m, 0x10000) == -ERANGE)
        #expect(scamem_page_zonenum(m, .max) == -ERANGE)
        #expect(scamem_page_to_section(m, .max) == Int64(-ERANGE))
        #expect(scamem_page_to_nid(m, 0x6000) == -ENXIO)
        #expect(scamem_folio_get(m, .max) == -ERANGE)
        #expect(scamem_folio_put(m, 0x6000) == -ENXIO)

        // Double frees and wrong kinds.
        var raw: UInt64 = 0, folio: UInt64 = 0, slab: UInt64 = 0, pt: UInt64 = 0
        #expect(scamem_alloc_pages(m, 0, 3, 0, &raw) == 0)
        #expect(scamem_free_pages(m, raw, 2) == -EINVAL)
        #expect(scamem_free_pages(m, raw + 1, 3) == -EINVAL)
        #expect(scamem_free_pages(m, raw + 8, 0) == -EALREADY)
        #expect(scamem_free_pages(m, raw, 3) == 0)
        #expect(scamem_free_pages(m, raw, 3) == -EALREADY)
        #expect(scamem_folio_alloc(m, file, 0, 0, 1, &folio) == 0)
        #expect(scamem_slab_alloc(m, 1, 64, 0, 0, 1, &slab) == 0)
        #expect(scamem_ptdesc_alloc(m, 0, 0, 1, &pt) == 0)
        #expect(scamem_free_pages(m, folio, 0) == -EINVAL)
        #expect(scamem_folio_put(m, slab) == -EINVAL)
        #expect(scamem_folio_get(m, pt) == -EINVAL)
        #expect(scamem_slab_free(m, folio) == -EINVAL)
        #expect(scamem_ptdesc_free(m, slab) == -EINVAL)
        #expect(scamem_folio_put(m, folio) == 0)
        #expect(scamem_folio_put(m, folio) == -EALREADY)
        #expect(scamem_slab_free(m, slab) == 0)
        #expect(scamem_slab_free(m, slab) == -EALREADY)
        #expect(scamem_ptdesc_free(m, pt) == 0)
        #expect(scamem_ptdesc_free(m, pt) == -EALREADY)
        // NUMA_NO_NODE is the local node.
        #expect(scamem_alloc_pages(m, 0, 0, SCAMEM_NUMA_NO_NODE, &pfn) == 0)
        #expect(scamem_page_to_nid(m, pfn) == 0)
        #expect(scamem_free_pages(m, pfn, 0) == 0)
        #expect(Self.info(m).free_pages == Self.info(m).managed_pages)
        #expect(scamem_machine_check(m, nil, nil) == 0)
    }

    @Test("scamem_word_decode rejects bad layouts")
    func wordDecodeLayouts() throws {
        let m = try Self.newMachine(Fixtures.tiny())
        defer { scamem_machine_free(m) }
        var l = scamem_layout()
        #expect(scamem_machine_layout(m, &l) == 0)
        var wi = scamem_word_info()
        #expect(scamem_word_decode(&l, 1 << 54 | 2 << 51 | 0x5001, &wi) == 0)
        #expect(wi.nid == 1 && wi.zone == 2 && wi.order == 5 && wi.type == 1 && wi.is_inline == 1)
        var bad = l
        bad.version = 2
        #expect(scamem_word_decode(&bad, 0, &wi) == -EINVAL)
        bad = l
        bad.nodes_pgshift = 60
        #expect(scamem_word_decode(&bad, 0, &wi) == -EINVAL)
        bad = l
        bad.zones_width = 64
        #expect(scamem_word_decode(&bad, 0, &wi) == -EINVAL)
        #expect(scamem_machine_check(m, nil, nil) == 0)
    }

    // MARK: Errors and versions

    @Test("scamem_strerror has text for every code, and Int32.min does not trap")
    func strerror() throws {
        let known: [Int32] = [0, EINVAL, ERANGE, ENXIO, ENOMEM, EALREADY, EOVERFLOW, E2BIG, ENOENT, EBADF, EFAULT,
                              EBUSY, EEXIST, ENOSPC, EIO, EACCES]
        var texts = Set<String>()
        for code in known {
            let neg = try #require(scamem_strerror(-code))
            let pos = try #require(scamem_strerror(code))
            #expect(String(cString: neg) == String(cString: pos))
            #expect(String(cString: neg) != "unknown error", "\(code)")
            #expect(String(cString: neg) == ScamemError(rawValue: code).description || code == 0)
            texts.insert(String(cString: neg))
        }
        #expect(texts.count == known.count)
        for code: Int32 in [Int32.min, Int32.max, -Int32.max, 12345, -9999] {
            let s = try #require(scamem_strerror(code))
            #expect(String(cString: s) == "unknown error", "\(code)")
        }
        #expect(String(cString: scamem_strerror(-ENOMEM)).contains("memory"))
    }

    @Test("versions")
    func versions() {
        #expect(scamem_version_number() == UInt32(SCAMEM_VERSION_MAJOR * 10000 + SCAMEM_VERSION_MINOR * 100 + SCAMEM_VERSION_PATCH))
        #expect(String(cString: scamem_version_string()) == "\(SCAMEM_VERSION_MAJOR).\(SCAMEM_VERSION_MINOR).\(SCAMEM_VERSION_PATCH)")
        #expect(String(cString: scamem_version_string()) == SCAMEM_VERSION_STRING)
        #expect(scamem_layout_version() == UInt32(SCAMEM_LAYOUT_VERSION))
    }

    // MARK: The checker through C

    @Test("scamem_machine_check with a C callback counts every issue")
    func checkCallback() throws {
        let m = try Self.newMachine(Fixtures.mini())
        defer { scamem_machine_free(m) }
        var (n, t) = Self.check(m)
        #expect(n == 0 && t.count == 0)

        var base: UnsafePointer<UInt64>?
        var nr: UInt64 = 0
        #expect(scamem_machine_words(m, &base, &nr) == 0)
        let w = UnsafeMutablePointer(mutating: try #require(base))
        let saved = (w[0], w[0x6000], w[0x8005])
        w[0] = .max        // NOPAGE where memory is
        w[0x6000] = 0      // a word where there is no memmap
        w[0x8005] = w[0x8005] & ~0xf  // a free tail turned MISC: the zone's free count is off
        (n, t) = Self.check(m)
        #expect(n == 3)
        #expect(t.count == 3)
        #expect(t.kinds == 1 << UInt32(SCAMEM_CHECK_MEMMAP) | 1 << UInt32(SCAMEM_CHECK_COUNTER))
        #expect(t.pfns == [0, 0x6000, .max]) // no pfn for a counter: UINT64_MAX
        #expect(t.emptyMessages == 0)
        #expect(t.reentrantFree == Self.info(m).free_pages)
        #expect(scamem_machine_check(m, nil, nil) == 3)
        (w[0], w[0x6000], w[0x8005]) = saved
        #expect(scamem_machine_check(m, nil, nil) == 0)
        #expect(scamem_machine_check(m, Self.tally, nil) == 0) // never called, so user may be NULL
    }

    @Test("check kinds match the header")
    func checkKinds() {
        let pairs: [(CheckKind, Int32)] = [(.word, SCAMEM_CHECK_WORD), (.placement, SCAMEM_CHECK_PLACEMENT),
                                           (.memmap, SCAMEM_CHECK_MEMMAP), (.freeList, SCAMEM_CHECK_FREE_LIST),
                                           (.descriptor, SCAMEM_CHECK_DESCRIPTOR), (.refcount, SCAMEM_CHECK_REFCOUNT),
                                           (.counter, SCAMEM_CHECK_COUNTER)]
        for (kind, c) in pairs { #expect(kind.rawValue == c) }
        #expect(Set(pairs.map(\.1)).count == 7)
    }
}
