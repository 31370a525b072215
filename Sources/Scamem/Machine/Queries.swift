/// What is known of one pfn. The C counterpart is `struct scamem_page_info`.
public struct PageInfo: Hashable, Sendable {
    public var pfn: UInt64
    public var word: PageWord
    /// The descriptor address (pointer types), else 0.
    public var descriptorAddress: UInt64 = 0
    /// The descriptor's memdesc flags (pointer types), else the word's high bits.
    public var flags: UInt64 = 0
    public var headPfn: UInt64
    public var order: Int = 0
    public var nid: Int = 0
    public var zone: ZoneType = .dma
    public var section: UInt64 = 0
    public var refcount: Int = 0
    public var mapcount: Int = 0
    public var pincount: Int = 0
    public var cacheID: UInt32 = 0
    public var objects: UInt32 = 0
}

/// A machine's totals. The C counterpart is `struct scamem_machine_info`.
public struct MachineInfo: Hashable, Sendable {
    public var endPfn: UInt64
    public var presentPages: UInt64
    public var managedPages: UInt64
    public var freePages: UInt64
    public var memmapPages: UInt64
    public var nrSections: UInt64
    public var presentSections: UInt64
    public var nrNodes: Int
    public var nrZones: Int
    public var localNode: Int
}

/// One zone's span and counters. The C counterpart is `struct scamem_zone_info`.
public struct ZoneInfo: Hashable, Sendable {
    public var nid: Int
    public var zone: ZoneType
    public var startPfn: UInt64
    public var spannedPages: UInt64
    public var presentPages: UInt64
    public var managedPages: UInt64
    public var freePages: UInt64
    /// Free blocks per order, as /proc/buddyinfo prints them.
    public var nrFree: [UInt64]
    /// min/low/high/promo, as /proc/zoneinfo prints them. The C counterpart
    /// is `scamem_machine_zone_watermarks()`.
    public var watermark: Watermarks
    /// lowmem_reserve[], zoneinfo's "protection:".
    public var lowmemReserve: LowmemReserve
    /// NR_FREE_CMA_PAGES
    public var freeCmaPages: UInt64
    /// Free pages in MIGRATE_ISOLATE pageblocks (not in `freePages`).
    public var isolatedFreePages: UInt64
    /// Free blocks per order and migratetype, and pageblocks per
    /// migratetype, as /proc/pagetypeinfo prints them. The C counterpart is
    /// `scamem_machine_zone_pagetypeinfo()`.
    public var nrFreeByType: [[UInt64]]
    /// All zero from `zoneInfo(_:pageblocks: false)`.
    public var nrPageblocks: [UInt64]
}

/// Metadata cost: 64-byte struct pages against 8-byte words plus descriptors.
/// The C counterpart is `struct scamem_metadata`.
public struct Metadata: Hashable, Sendable {
    public var memmapPages: UInt64
    /// Live descriptors per type (scamems under `.scamem`).
    public var descriptors: [UInt64]
    /// Bytes per descriptor of each type (a scamem's header under `.scamem`).
    public var descriptorSizes: [UInt32]
    /// The scamem objects in all, as the strategy lays them out, with
    /// whatever else it keeps (reverse map, index table).
    public var scamemBytes: UInt64
    public var structPageBytes: UInt64 { memmapPages * UInt64(DescriptorSize.structPage) }
    public var wordBytes: UInt64 { memmapPages * UInt64(DescriptorSize.word) }
    public var descriptorBytes: UInt64 {
        zip(descriptors, descriptorSizes).enumerated().reduce(scamemBytes) { sum, e in
            e.offset == Int(PageType.scamem.rawValue) ? sum : sum + e.element.0 * UInt64(e.element.1)
        }
    }
    public var memdescBytes: UInt64 { wordBytes + descriptorBytes }
}

/// Pages per word type, indexed by `PageType.rawValue`.
public typealias TypeCounts = [UInt64]

extension Machine {
    /// Node, zone and section of the page at `pfn`, from its word or its
    /// descriptor: the flags the kernel would read.
    func flags(of pfn: UInt64) throws(ScamemError) -> UInt64 {
        let w = try checkedWord(pfn)
        // pfn_to_online_page(): offline memory is in no zone.
        if w.type == .misc, w.subtype == MiscSubtype.offline.rawValue,
           memoryBlocks[Int(pfn >> memoryBlockShift)].state == .offline { throw .noPage }
        if w.type.isInline { return w.flags }
        if w.type == .scamem {
            guard let f = strategy.flags(pfn: pfn, word: w, in: self) else { throw .invalid }
            return f
        }
        guard let d = descriptors.lookup(w.descriptorID) else { throw .invalid }
        return d.flags
    }

    /// `flags(of:)` without the lock, where the word alone (an inline one
    /// in memory that is online) or a folio's, slab's or ptdesc's
    /// descriptor says them: the word is read, then the descriptor's flags
    /// (atomic, in type-stable memory), then the word again; a page freed
    /// or reused meanwhile has another word and is asked under the lock.
    /// Scamem pages, offline memory and errors take the locked path.
    @inline(__always)
    func flagsUnlocked(_ pfn: UInt64) -> UInt64? {
        guard pfn < endPfn else { return nil }
        let raw = words[Int(truncatingIfNeeded: pfn)], w = PageWord(rawValue: raw)
        // SCAMEM_WORD_NOPAGE is no inline type: a hole goes the locked way.
        if w.type.isInline {
            guard w.type != .misc || w.subtype != MiscSubtype.offline.rawValue else { return nil }
            return w.flags
        }
        guard w.type != .scamem, let d = descriptors.slot(w.descriptorID) else { return nil }
        let f = d.flags
        return words[Int(truncatingIfNeeded: pfn)] == raw ? f : nil
    }

    /// page_to_nid(), without the lock for most pages (`flagsUnlocked`).
    /// The C counterpart is `scamem_page_to_nid()`.
    public func pageToNid(_ pfn: UInt64) throws(ScamemError) -> Int {
        if let f = flagsUnlocked(pfn) { return layout.nid(f) }
        return try pageToNidLocked(pfn)
    }

    /// Out of line, so that the lockless path needs no stack frame.
    @inline(never)
    func pageToNidLocked(_ pfn: UInt64) throws(ScamemError) -> Int {
        try lock.withLock { () throws(ScamemError) -> Int in layout.nid(try flags(of: pfn)) }
    }

    /// page_zonenum(), as `pageToNid`. The C counterpart is `scamem_page_zonenum()`.
    public func pageZonenum(_ pfn: UInt64) throws(ScamemError) -> ZoneType {
        if let f = flagsUnlocked(pfn) { return layout.zone(f) }
        return try lock.withLock { () throws(ScamemError) -> ZoneType in layout.zone(try flags(of: pfn)) }
    }

    /// page_to_section(): the section bits when the layout has them, else
    /// pfn_to_section_nr(), as the kernel's VMEMMAP build never needs it.
    /// The C counterpart is `scamem_page_to_section()`.
    public func pageToSection(_ pfn: UInt64) throws(ScamemError) -> UInt64 {
        let section = { (f: UInt64) in self.layout.sectionsWidth == 0 ? self.layout.sectionNumber(ofPfn: pfn) : self.layout.section(f) }
        if let f = flagsUnlocked(pfn) { return section(f) }
        return try lock.withLock { () throws(ScamemError) -> UInt64 in section(try flags(of: pfn)) }
    }

    /// Everything known of `pfn`. The C counterpart is `scamem_page_info()`.
    public func pageInfo(_ pfn: UInt64) throws(ScamemError) -> PageInfo {
        try lock.withLock { () throws(ScamemError) -> PageInfo in
            let w = try checkedWord(pfn)
            var info = PageInfo(pfn: pfn, word: w, headPfn: pfn)
            if let p = strategy.page(pfn, word: w, through: nil, in: self) {
                // The object's model address (slot + 1) << 4, whatever the word holds.
                info.descriptorAddress = p.slot.map { UInt64($0 + 1) << 4 } ?? 0
                info.flags = try flags(of: pfn)
                (info.refcount, info.mapcount) = strategy.counts(p, in: self)
            } else if w.type.isInline {
                info.flags = w.flags
                info.order = Int(w.order)
                if w.type == .buddy {
                    info.headPfn = buddyHead(pfn, w)
                    info.order = Int(PageWord(rawValue: words[Int(info.headPfn)]).order)
                } else {
                    info.headPfn = pfn & ~((1 << UInt64(w.order)) - 1)
                }
            } else {
                guard let d = descriptors.lookup(w.descriptorID) else { throw .invalid }
                info.descriptorAddress = w.descriptorAddress
                info.flags = d.flags
                info.headPfn = d.pointee.pfn
                info.order = Int(d.pointee.order)
                info.refcount = Int(d.refs)
                info.mapcount = Int(d.pointee.mapcount)
                info.pincount = Int(d.pins)
                info.cacheID = d.pointee.cacheID
                info.objects = d.pointee.objects
            }
            info.nid = layout.nid(info.flags)
            info.zone = layout.zone(info.flags)
            info.section = layout.sectionsWidth == 0 ? layout.sectionNumber(ofPfn: pfn) : layout.section(info.flags)
            return info
        }
    }

    /// The head of the free block holding a BUDDY page: the nearest aligned
    /// head below it whose order covers it.
    func buddyHead(_ pfn: UInt64, _ w: PageWord) -> UInt64 {
        if w.subtype == BuddySubtype.head.rawValue { return pfn }
        for o in 1...maxPageOrder {
            let head = pfn & ~((1 << UInt64(o)) - 1)
            let hw = PageWord(rawValue: words[Int(head)])
            if hw.type == .buddy, hw.subtype == BuddySubtype.head.rawValue, Int(hw.order) >= o { return head }
        }
        return pfn
    }

    /// Adds the word types of pfns `range` (clipped at `endPfn`) into
    /// `counts[0..<16]`; NOPAGE counts as `.reserved`. Returns the pfns
    /// classified. The C counterpart is `scamem_classify_range()`.
    @discardableResult
    public func classify(_ range: Range<UInt64>, into counts: UnsafeMutablePointer<UInt64>) -> UInt64 {
        lock.withLock { classifyLocked(range, into: counts) }
    }

    /// Pages per word type in `range`, indexed by `PageType.rawValue`.
    public func classify(_ range: Range<UInt64>) -> TypeCounts {
        var counts = TypeCounts(repeating: 0, count: PageType.count)
        counts.withUnsafeMutableBufferPointer { _ = classify(range, into: $0.baseAddress!) }
        return counts
    }

    /// The scan itself: one load, mask and increment per pfn, no ARC.
    func classifyLocked(_ range: Range<UInt64>, into counts: UnsafeMutablePointer<UInt64>) -> UInt64 {
        let end = min(range.upperBound, endPfn)
        guard range.lowerBound < end else { return 0 }
        for pfn in Int(range.lowerBound)..<Int(end) { counts[Int(words[pfn] & 0xf)] &+= 1 }
        return end - range.lowerBound
    }

    /// Pages of node `nid` and zone `zone` (nil: any) per word type; a
    /// pointer word counts under its descriptor's node and zone. NOPAGE pfns
    /// count only when both are nil. The C counterpart is `scamem_count_pages()`.
    public func countPages(nid: Int? = nil, zone: ZoneType? = nil) -> TypeCounts {
        lock.withLock {
            var counts = TypeCounts(repeating: 0, count: PageType.count)
            if nid == nil && zone == nil {
                counts.withUnsafeMutableBufferPointer { _ = classifyLocked(0..<endPfn, into: $0.baseAddress!) }
                return counts
            }
            func matches(_ f: UInt64) -> Bool {
                (nid == nil || layout.nid(f) == nid) && (zone == nil || layout.zone(f) == zone)
            }
            var lastID: UInt64 = 0, lastFlags: UInt64 = 0
            for pfn in 0..<Int(endPfn) {
                let w = PageWord(rawValue: words[pfn])
                // SCAMEM pages are counted below, from their objects.
                if w.isNopage || w.type == .scamem { continue }
                let f: UInt64
                if w.type.isInline { f = w.flags } else {
                    // Pages of one descriptor are adjacent: look it up once.
                    if w.descriptorID != lastID {
                        lastID = w.descriptorID
                        lastFlags = descriptors.lookup(lastID)?.flags ?? 0
                    }
                    f = lastFlags
                }
                if matches(f) { counts[Int(w.type.rawValue)] += 1 }
            }
            // By index, so that no strategy searches pages[] once per page.
            for slot in scamems.liveSlots where scamems[slot].ownsPages {
                let b = scamems[slot].block
                for i in 0..<b.nr where PageWord(rawValue: words[Int(b.pages[i])]).type == .scamem {
                    if matches(strategy.flags(ofPage: i, slot: slot, in: self) ?? 0) {
                        counts[Int(PageType.scamem.rawValue)] += 1
                    }
                }
            }
            return counts
        }
    }

    /// The placement strategy the machine runs.
    public var placementStrategy: Strategy { strategy.kind }

    /// What the strategy costs now. The C counterpart is part of
    /// `scamem_compare_strategies()`.
    public func strategyCost() -> StrategyCost {
        lock.withLock { strategy.cost(in: self) }
    }

    /// The metadata bill. The C counterpart is `scamem_machine_metadata()`.
    public func metadata() -> Metadata {
        lock.withLock {
            var counts = descriptors.live
            let cost = strategy.cost(in: self)
            let scamemBytes = cost.objectBytes + cost.extraBytes
            counts[Int(PageType.scamem.rawValue)] = UInt64(scamems.live)
            return Metadata(memmapPages: nrMemmapPages, descriptors: counts,
                            descriptorSizes: PageType.all.map(DescriptorSize.of), scamemBytes: scamemBytes)
        }
    }

    /// Totals. The C counterpart is `scamem_machine_info()`.
    public func info() -> MachineInfo {
        lock.withLock {
            var i = MachineInfo(endPfn: endPfn, presentPages: 0, managedPages: 0, freePages: 0,
                                memmapPages: nrMemmapPages, nrSections: nrSections, presentSections: 0,
                                nrNodes: machineDescription.nrNodes, nrZones: nrZones, localNode: localNodeStorage)
            for z in 0..<nrZones {
                i.presentPages += zones[z].presentPages
                i.managedPages += zones[z].managedPages
                i.freePages += zones[z].freePages
            }
            for s in 0..<Int(nrSections) where sectionHasMemmap[s] { i.presentSections += 1 }
            return i
        }
    }

    /// The zones in node then zone order. The C counterpart is `scamem_machine_zone()`.
    public func zoneInfos() -> [ZoneInfo] {
        lock.withLock { (0..<nrZones).map { zoneInfoLocked($0, pageblocks: true) } }
    }

    /// Zone number `index` of `zoneInfos()`, or nil past the last; its
    /// pageblock counts (a walk of the zone's pageblocks) only if asked. The
    /// C functions that report one zone read it here.
    public func zoneInfo(_ index: Int, pageblocks: Bool = true) -> ZoneInfo? {
        lock.withLock { index >= 0 && index < nrZones ? zoneInfoLocked(index, pageblocks: pageblocks) : nil }
    }

    func zoneInfoLocked(_ z: Int, pageblocks: Bool) -> ZoneInfo {
        ZoneInfo(nid: zones[z].nid, zone: zones[z].zone, startPfn: zones[z].startPfn,
                 spannedPages: zones[z].endPfn - zones[z].startPfn,
                 presentPages: zones[z].presentPages, managedPages: zones[z].managedPages,
                 freePages: zones[z].freePages,
                 nrFree: (0...maxPageOrder).map { zones[z].nrFree($0) },
                 watermark: zones[z].watermark, lowmemReserve: zones[z].lowmemReserve,
                 freeCmaPages: zones[z].freeCmaPages, isolatedFreePages: zones[z].isolatedFreePages,
                 nrFreeByType: (0...maxPageOrder).map { o in
                     (0..<MigrateType.count).map { zones[z].area(o, MigrateType(rawValue: UInt8($0))).pointee.nrFree }
                 },
                 nrPageblocks: pageblocks ? pageblockCounts(z) : [UInt64](repeating: 0, count: MigrateType.count))
    }

    /// pagetypeinfo_showblockcount(): the pageblocks of zone `z`, counted by
    /// the type at each 2^pageblock_order step from the zone's start whose
    /// page has a memmap and belongs to the zone.
    func pageblockCounts(_ z: Int) -> [UInt64] {
        var counts = [UInt64](repeating: 0, count: MigrateType.count)
        for pfn in stride(from: zones[z].startPfn, to: zones[z].endPfn, by: 1 << pageblockOrder) {
            // page_zone(), from the word or its descriptor.
            guard !isHole(pfn), let f = try? flags(of: pfn), zoneIndex(flags: f) == z else { continue }
            counts[Int(pageblockMigratetype(pfn).rawValue)] += 1
        }
        return counts
    }

    /// Runs `body` over the word array. A live view: see `scamem_machine_words()`
    /// for what concurrent readers see. The C counterpart is `scamem_machine_words()`.
    public func withWords<R>(_ body: (UnsafeBufferPointer<UInt64>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: words.cView, count: Int(endPfn)))
    }

    /// The word array's base, for the C view (valid for the machine's lifetime).
    public var wordsBaseAddress: UnsafePointer<UInt64> { words.cView }
}
