/// Memory hotplug (mm/memory_hotplug.c), one memory block at a time or a
/// run of them: add_memory() gives sections a memmap, online_pages() moves
/// the range into a zone and frees it to the buddy allocator,
/// offline_pages() isolates it, migrates its folios out and takes its free
/// pages back, and remove_memory() drops the memmap again.
///
/// Where the model differs (docs/kernel-fidelity.md): the word array is
/// sized at machine creation, so memory is added only below the end of the
/// highest zone (into a hole, the model's hotpluggable SRAT range); a zone
/// must be in the machine's description to be onlined into (all hole if it
/// starts empty); and where offline_pages() would retry a folio that does
/// not migrate (a pin, an extra reference) until it can or a signal comes,
/// the model stops at once with `.busy` and undoes the isolation.
extension Machine {
    /// The blocks `[startPfn, startPfn + nrPages)` covers, if it is whole
    /// memory blocks below `endPfn`.
    func memoryBlockRange(_ startPfn: UInt64, _ nrPages: UInt64) -> Range<Int>? {
        let mask = memoryBlockPages - 1
        guard nrPages > 0, startPfn & mask == 0, nrPages & mask == 0, startPfn < endPfn,
              nrPages <= endPfn - startPfn else { return nil }
        return Int(startPfn >> memoryBlockShift)..<Int((startPfn + nrPages) >> memoryBlockShift)
    }

    /// The word of a page with memmap but offline: MISC/OFFLINE with its node
    /// and section, zone bits 0 (its zone is set when it is onlined).
    func offlineWord(_ pfn: UInt64, nid: Int) -> PageWord {
        .inline(.misc, subtype: MiscSubtype.offline.rawValue,
                flags: layout.flags(nid: nid, zone: .dma, section: layout.sectionNumber(ofPfn: pfn)))
    }

    /// Sets which zone `[start, end)` belongs to (nil: none), keeping the
    /// ranges sorted, disjoint and merged.
    func assignZone(_ start: UInt64, _ end: UInt64, _ z: Int?) {
        var out: [ZoneRange] = []
        out.reserveCapacity(zoneRanges.count + 2)
        for r in zoneRanges {
            if r.endPfn <= start || r.startPfn >= end { out.append(r); continue }
            if r.startPfn < start { out.append(ZoneRange(startPfn: r.startPfn, endPfn: start, zone: r.zone)) }
            if r.endPfn > end { out.append(ZoneRange(startPfn: end, endPfn: r.endPfn, zone: r.zone)) }
        }
        if let z { out.append(ZoneRange(startPfn: start, endPfn: end, zone: Int32(z))) }
        out.sort { $0.startPfn < $1.startPfn }
        zoneRanges = []
        for r in out {
            if let last = zoneRanges.last, last.zone == r.zone, last.endPfn == r.startPfn {
                zoneRanges[zoneRanges.count - 1].endPfn = r.endPfn
            } else {
                zoneRanges.append(r)
            }
        }
    }

    /// add_memory() (add_memory_resource(), arch_add_memory(),
    /// sparse_add_section()): `[startPfn, startPfn + nrPages)`, whole memory
    /// blocks with no memmap, gains its memmap on node `nid`; its blocks are
    /// offline (memhp_default_state=offline). The C counterpart is
    /// `scamem_add_memory()`.
    public func addMemory(nid: Int, startPfn: UInt64, nrPages: UInt64) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            guard nid >= 0, nid < machineDescription.nrNodes,
                  let blocks = memoryBlockRange(startPfn, nrPages) else { throw .invalid }
            // register_memory_resource(): not over memory that is there.
            for b in blocks where memoryBlocks[b].state != .absent { throw .exists }
            let end = startPfn + nrPages
            for s in layout.sectionNumber(ofPfn: startPfn)...layout.sectionNumber(ofPfn: end - 1) {
                sectionHasMemmap[Int(s)] = true
            }
            nrMemmapPages += nrPages
            holes = holes.flatMap { h -> [Range<UInt64>] in
                guard h.lowerBound < end, h.upperBound > startPfn else { return [h] }
                return (h.lowerBound < startPfn ? [h.lowerBound..<startPfn] : []) + (h.upperBound > end ? [end..<h.upperBound] : [])
            }
            // Memory of no zone until it is onlined, whatever span it lies in.
            assignZone(startPfn, end, nil)
            var p = startPfn
            while p < end {
                words[Int(p)] = offlineWord(p, nid: nid).rawValue
                p += 1
            }
            for b in blocks { memoryBlocks[b] = MemoryBlock(state: .offline, nid: Int32(nid), zone: -1) }
        }
    }

    /// remove_memory() (try_remove_memory(), arch_remove_memory()): offline
    /// blocks lose their memmap, their pfns reading SCAMEM_WORD_NOPAGE.
    /// `.busy` if a block is online. The C counterpart is `scamem_remove_memory()`.
    public func removeMemory(startPfn: UInt64, nrPages: UInt64) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            guard let blocks = memoryBlockRange(startPfn, nrPages) else { throw .invalid }
            for b in blocks {
                // check_memblock_offlined_cb()
                guard memoryBlocks[b].state != .online else { throw .busy }
                guard memoryBlocks[b].state == .offline else { throw .invalid }
            }
            let end = startPfn + nrPages
            for s in layout.sectionNumber(ofPfn: startPfn)...layout.sectionNumber(ofPfn: end - 1) {
                sectionHasMemmap[Int(s)] = false
            }
            nrMemmapPages -= nrPages
            words.update(Int(startPfn), repeating: PageWord.nopage.rawValue, count: Int(nrPages))
            for b in blocks { memoryBlocks[b] = MemoryBlock(state: .absent, nid: -1, zone: -1) }
        }
    }

    /// online_pages() with the zone memory_block_online() chose: the range
    /// (offline blocks of one node) joins `zone` of that node
    /// (move_pfn_range_to_zone(): the span grows as resize_zone_range()
    /// grows it, so spans come to overlap), its pageblocks are
    /// MIGRATE_MOVABLE, every page goes to the buddy allocator
    /// (online_pages_range()), and the watermarks are computed again
    /// (init_per_zone_wmark_min()). `zone` is `.normal` (online_kernel) or
    /// `.movable` (online_movable). Throws `.invalid` (not whole offline
    /// blocks of one node, another zone, a zone the machine does not have)
    /// and `.noMemory` (the host). The C counterpart is `scamem_online_pages()`.
    public func onlinePages(startPfn: UInt64, nrPages: UInt64, zone: ZoneType) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            guard let blocks = memoryBlockRange(startPfn, nrPages), zone == .normal || zone == .movable else {
                throw .invalid
            }
            let nid = Int(memoryBlocks[blocks.lowerBound].nid)
            for b in blocks where memoryBlocks[b].state != .offline || Int(memoryBlocks[b].nid) != nid { throw .invalid }
            guard let z = zoneIndex(node: nid, Int(zone.rawValue)) else { throw .invalid }
            let end = startPfn + nrPages
            guard zones[z].coverAreas(startPfn, end) else { throw .noMemory }
            // resize_zone_range()
            if zones[z].startPfn == zones[z].endPfn { zones[z].startPfn = startPfn; zones[z].endPfn = end }
            zones[z].startPfn = min(zones[z].startPfn, startPfn)
            zones[z].endPfn = max(zones[z].endPfn, end)
            assignZone(startPfn, end, z)
            for b in blocks { memoryBlocks[b] = MemoryBlock(state: .online, nid: Int32(nid), zone: Int32(z)) }
            var pb = startPfn
            while pb < end {
                setPageblockMigratetype(pb, .movable)
                pb += 1 << UInt64(pageblockOrder)
            }
            forEachAlignedBlock(startPfn, end, maxOrder: maxPageOrder) { pfn, o in
                insertFreeBlock(z, pfn, o, flags: pageFlags(z, pfn))
            }
            zones[z].presentPages += nrPages
            zones[z].managedPages += nrPages
            initPerZoneWmarkMin()
        }
    }

    /// offline_pages() of whole online memory blocks in one zone (not an
    /// early block that holds several zones: `.invalid`, as
    /// memory_block_offline() refuses a block without `mem->zone`; nor one
    /// with holes). start_isolate_page_range() makes every pageblock
    /// MIGRATE_ISOLATE unless has_unmovable_pages() finds a page that cannot
    /// leave (any reserved page; outside ZONE_MOVABLE also slab, page
    /// tables, scamem, MISC and driver pages, a CMA pageblock): `.busy`.
    /// Then do_migrate_range() moves every folio out (to another node with
    /// memory first, as its nodemask does; GFP_USER | __GFP_MOVABLE, so to
    /// ZONE_NORMAL at most) and test_pages_isolated() needs every page free
    /// or poisoned: a folio that did not move (pinned, long-term or not, or
    /// otherwise held), or an unmovable page inside ZONE_MOVABLE, is `.busy`
    /// with the isolation undone (folios already moved stay moved, as in
    /// the kernel). Success takes the free pages off the buddy allocator
    /// (__offline_isolated_pages()), shrinks present and managed pages and
    /// the span (shrink_zone_span()) and computes the watermarks again. The
    /// C counterpart is `scamem_offline_pages()`.
    public func offlinePages(startPfn: UInt64, nrPages: UInt64) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            guard let blocks = memoryBlockRange(startPfn, nrPages) else { throw .invalid }
            let zi = memoryBlocks[blocks.lowerBound].zone
            for b in blocks where memoryBlocks[b].state != .online || memoryBlocks[b].zone != zi || zi < 0 {
                throw .invalid
            }
            let z = Int(zi), end = startPfn + nrPages
            // walk_system_ram_range(): no holes.
            for h in holes where h.lowerBound < end && h.upperBound > startPfn { throw .invalid }
            let pageblock = UInt64(1) << UInt64(pageblockOrder)
            var old: [MigrateType] = []
            old.reserveCapacity(Int(nrPages / pageblock))
            var pb = startPfn
            while pb < end {
                guard !hasUnmovablePages(z, pb) else {
                    undoIsolatePageRange(z, startPfn, old)
                    throw .busy
                }
                let mt = pageblockMigratetype(pb)
                old.append(mt)
                moveFreepagesBlock(z, pb, from: mt, to: .isolate)
                pb += pageblock
            }
            // scan_movable_pages() and do_migrate_range(): every folio.
            var heads = Set<UInt64>()
            var p = startPfn
            while p < end {
                let w = PageWord(rawValue: words[Int(p)])
                if PageType.folioTypes & w.type.bit != 0, let (_, d) = try? descriptor(of: p, PageType.folioTypes) {
                    heads.insert(d.pointee.pfn)
                    p = max(p + 1, d.pointee.pfn + (1 << UInt64(d.pointee.order)))
                } else {
                    p += 1
                }
            }
            if !heads.isEmpty {
                let nid = zones[z].nid
                let others = (1..<machineDescription.nrNodes).map { (nid + $0) % machineDescription.nrNodes }
                    .filter(nodeHasMemory)
                let gfp: GFP = GFP.user.union([.movable, .retryMayfail])
                var left = heads
                for target in others.isEmpty ? [nid] : others where !left.isEmpty {
                    let r = migrateFolios(left, to: MigrationTarget(gfp: gfp.union(.thisNode), nid: target))
                    left.subtract(r.moved.keys)
                }
            }
            // test_pages_isolated(MEMORY_OFFLINE): free or poisoned pages only.
            p = startPfn
            while p < end {
                let w = PageWord(rawValue: words[Int(p)])
                if w.type == .buddy, w.subtype == BuddySubtype.head.rawValue {
                    p += 1 << UInt64(w.order)
                } else if w.type == .hwpoison {
                    p += 1
                } else {
                    undoIsolatePageRange(z, startPfn, old)
                    throw .busy
                }
            }
            // __offline_isolated_pages()
            var freed: UInt64 = 0
            let nid = zones[z].nid
            p = startPfn
            while p < end {
                let w = PageWord(rawValue: words[Int(p)])
                if w.type == .buddy {
                    let o = Int(w.order)
                    zones[z].area(o, .isolate).pointee.remove(zones[z].index(p, o))
                    accountFreepages(z, -(1 << Int64(o)), .isolate)
                    freed += 1 << UInt64(o)
                    p += 1 << UInt64(o)
                } else {
                    hwpoisonWords -= 1
                    p += 1
                }
            }
            p = startPfn
            while p < end {
                words[Int(p)] = offlineWord(p, nid: nid).rawValue
                p += 1
            }
            zones[z].managedPages -= freed
            zones[z].presentPages -= nrPages
            assignZone(startPfn, end, nil)
            for b in blocks { memoryBlocks[b] = MemoryBlock(state: .offline, nid: Int32(nid), zone: -1) }
            shrinkZoneSpan(z, startPfn, end)
            initPerZoneWmarkMin()
        }
    }

    /// node_state(nid, N_MEMORY)
    func nodeHasMemory(_ nid: Int) -> Bool {
        (0..<ZoneType.count).contains { zoneIndex(node: nid, $0).map { zones[$0].presentPages > 0 } ?? false }
    }

    /// has_unmovable_pages() for the pageblock at `first`, as
    /// offline_pages() asks it (MEMORY_OFFLINE, MIGRATE_MOVABLE).
    func hasUnmovablePages(_ z: Int, _ first: UInt64) -> Bool {
        if pageblockMigratetype(first) == .cma { return true }
        let end = first + 1 << UInt64(pageblockOrder)
        var p = first
        while p < end {
            let w = PageWord(rawValue: words[Int(p)])
            // PageReserved: bootmem and holes, in ZONE_MOVABLE too.
            if w.type == .misc, w.subtype == MiscSubtype.reserved.rawValue { return true }
            if zones[z].zone == .movable { p += 1; continue }
            switch w.type {
            case .buddy where w.subtype == BuddySubtype.head.rawValue: p += 1 << UInt64(w.order)
            case .buddy, .hwpoison, .movable: p += 1
            case .anon, .file:
                // An LRU folio (or THP): movable, all its pages at once.
                guard let (_, d) = try? descriptor(of: p, PageType.folioTypes) else { return true }
                p = max(p + 1, d.pointee.pfn + (1 << UInt64(d.pointee.order)))
            case .misc where w.subtype == MiscSubtype.offline.rawValue: p += 1
            default: return true
            }
        }
        return false
    }

    /// undo_isolate_page_range(): the first `old.count` pageblocks from
    /// `start` back to the types they had.
    func undoIsolatePageRange(_ z: Int, _ start: UInt64, _ old: [MigrateType]) {
        for (i, mt) in old.enumerated() {
            moveFreepagesBlock(z, start + UInt64(i) << UInt64(pageblockOrder), from: .isolate, to: mt)
        }
    }

    /// shrink_zone_span(): a zone that loses the range at an edge of its
    /// span ends at the memory it still has, in present sections
    /// (find_smallest_section_pfn(), find_biggest_section_pfn()); 0 and 0
    /// with none.
    func shrinkZoneSpan(_ z: Int, _ start: UInt64, _ end: UInt64) {
        guard zones[z].startPfn == start || zones[z].endPfn == end else { return }
        let pagesPerSection = UInt64(1) << UInt64(layout.pfnSectionShift)
        var lo = UInt64.max, hi: UInt64 = 0
        for r in zoneRanges where Int(r.zone) == z {
            var p = r.startPfn
            while p < r.endPfn {
                let next = min(r.endPfn, (p | (pagesPerSection - 1)) + 1)
                if sectionHasMemmap[Int(layout.sectionNumber(ofPfn: p))] { lo = min(lo, p); hi = max(hi, next) }
                p = next
            }
        }
        zones[z].startPfn = hi > 0 ? lo : 0
        zones[z].endPfn = hi
    }
}
