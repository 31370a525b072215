/// The buddy allocator (mm/page_alloc.c): per-zone free lists per order
/// and migratetype, node-ordered zonelists, watermarks (Watermarks.swift),
/// migratetype fallback, splitting (expand()) and coalescing
/// (__free_one_page()). All of it runs under the machine lock; held
/// shared (alloc_pages(), alloc_pages_bulk(), __free_pages()), a zone's
/// state changes only under its zone lock (`withZoneLock`).
extension Machine {
    /// spin_lock_irqsave(&zone->lock) around `body`, where it is needed:
    /// under the machine lock held shared. Held exclusive, the machine lock
    /// already keeps every other user of the zone out.
    @inline(__always)
    func withZoneLock<R, E: Error>(_ z: Int, _ body: () throws(E) -> R) throws(E) -> R {
        if lock.exclusive { return try body() }
        zoneLocks.lock(z)
        defer { zoneLocks.unlock(z) }
        return try body()
    }

    /// account_freepages(): NR_FREE_PAGES leaves out isolated pageblocks;
    /// NR_FREE_CMA_PAGES counts CMA ones too.
    @inline(__always)
    func accountFreepages(_ z: Int, _ nr: Int64, _ mt: MigrateType) {
        if mt == .isolate {
            zones[z].isolatedFreePages = UInt64(Int64(zones[z].isolatedFreePages) + nr)
            return
        }
        zones[z].freePages = UInt64(Int64(zones[z].freePages) + nr)
        if mt == .cma { zones[z].freeCmaPages = UInt64(Int64(zones[z].freeCmaPages) + nr) }
    }

    /// Puts a naturally aligned block on its free list and writes its BUDDY
    /// words, without coalescing (memblock handing memory over at boot).
    func insertFreeBlock(_ z: Int, _ pfn: UInt64, _ order: Int, flags: UInt64) {
        words[Int(pfn)] = PageWord.inline(.buddy, subtype: BuddySubtype.head.rawValue,
                                          order: UInt8(order), flags: flags).rawValue
        let tail = PageWord.inline(.buddy, subtype: BuddySubtype.tail.rawValue, flags: flags).rawValue
        words.update(Int(pfn) + 1, repeating: tail, count: (1 << order) - 1)
        let mt = pageblockMigratetype(pfn)
        zones[z].area(order, mt).pointee.insert(zones[z].index(pfn, order))
        accountFreepages(z, 1 << Int64(order), mt)
    }

    /// expand(): the upper halves of a block of `high` split down to `low`
    /// go back as free heads on `mt`'s lists.
    func expand(_ z: Int, _ pfn: UInt64, low: Int, high: Int, _ mt: MigrateType) {
        var cur = high
        while cur > low {
            cur -= 1
            let upper = pfn + 1 << UInt64(cur)
            let flags = PageWord(rawValue: words[Int(upper)]).flags
            words[Int(upper)] = PageWord.inline(.buddy, subtype: BuddySubtype.head.rawValue,
                                                order: UInt8(cur), flags: flags).rawValue
            zones[z].area(cur, mt).pointee.insert(zones[z].index(upper, cur))
        }
    }

    /// __rmqueue_smallest(): the lowest free block of at least `order` on
    /// `mt`'s lists, split down to `order` (page_del_and_expand()).
    func rmqueueSmallest(_ z: Int, _ order: Int, _ mt: MigrateType) -> UInt64? {
        for o in order...maxPageOrder {
            let area = zones[z].area(o, mt)
            guard let idx = area.pointee.lowest() else { continue }
            area.pointee.remove(idx)
            let pfn = zones[z].pfn(idx, o)
            expand(z, pfn, low: order, high: o, mt)
            accountFreepages(z, -(1 << Int64(order)), mt)
            return pfn
        }
        return nil
    }

    /// find_suitable_fallback(): the first of `start`'s fallbacks with a
    /// free block of `order`, and can_steal_fallback()'s verdict on it.
    func findSuitableFallback(_ z: Int, _ order: Int, _ start: MigrateType) -> (MigrateType, canSteal: Bool)? {
        let (a, b) = start.fallbacks
        for mt in [a, b] where zones[z].area(order, mt).pointee.nrFree > 0 {
            // can_steal_fallback()
            let canSteal = order >= pageblockOrder / 2 || start == .reclaimable || start == .unmovable
            return (mt, canSteal)
        }
        return nil
    }

    /// __rmqueue_claim(): the largest block of a fallback type, taking its
    /// whole pageblock for `start` where try_to_steal_block() may.
    func rmqueueClaim(_ z: Int, _ order: Int, _ start: MigrateType) -> UInt64? {
        var o = maxPageOrder
        while o >= order {
            defer { o -= 1 }
            guard let (mt, canSteal) = findSuitableFallback(z, o, start) else { continue }
            guard canSteal else { break }
            let area = zones[z].area(o, mt)
            if let idx = area.pointee.lowest(), let pfn = tryToStealBlock(z, zones[z].pfn(idx, o), o, order, start) {
                return pfn
            }
        }
        return nil
    }

    /// try_to_steal_block(): a block of a pageblock or more changes type
    /// whole; a smaller one moves its pageblock's free blocks to `start`
    /// if at least half the pageblock is free or alike (movable pages for a
    /// movable request; for others, the used non-movable pages of a movable
    /// pageblock), and the request is then served from them.
    func tryToStealBlock(_ z: Int, _ pfn: UInt64, _ current: Int, _ order: Int, _ start: MigrateType) -> UInt64? {
        let blockType = pageblockMigratetype(pfn)
        if blockType == .highatomic { return nil }
        if current >= pageblockOrder {
            zones[z].area(current, blockType).pointee.remove(zones[z].index(pfn, current))
            accountFreepages(z, -(1 << Int64(current)), blockType)
            changePageblockRange(pfn, current, start)
            expand(z, pfn, low: order, high: current, start)
            accountFreepages(z, (1 << Int64(current)) - (1 << Int64(order)), start)
            return pfn
        }
        let nr = UInt64(1) << UInt64(pageblockOrder)
        let first = pfn & ~(nr - 1)
        // prep_move_freepages_block(): not across the zone's edge (nor, where
        // spans overlap, into another zone's pageblock).
        guard zoneIndex(ofPfn: first) == z, zoneIndex(ofPfn: first + nr - 1) == z else { return nil }
        var freePages: UInt64 = 0, movablePages: UInt64 = 0
        var p = first
        while p < first + nr {
            let w = PageWord(rawValue: words[Int(p)])
            if w.type == .buddy, w.subtype == BuddySubtype.head.rawValue {
                freePages += 1 << UInt64(w.order)
                p += 1 << UInt64(w.order)
                continue
            }
            // PageLRU(): anon and file folios are what migration can move.
            if w.type == .anon || w.type == .file { movablePages += 1 }
            p += 1
        }
        let alike = start == .movable ? movablePages : blockType == .movable ? nr - (freePages + movablePages) : 0
        guard freePages + alike >= nr / 2 else { return nil }
        moveFreepagesBlock(z, first, from: blockType, to: start)
        return rmqueueSmallest(z, order, start)
    }

    /// __move_freepages_block(): every free block in the pageblock at
    /// `first` from `old`'s lists to `new`'s, and the pageblock's type.
    func moveFreepagesBlock(_ z: Int, _ first: UInt64, from old: MigrateType, to new: MigrateType) {
        let end = first + 1 << UInt64(pageblockOrder)
        var p = first
        while p < end {
            let w = PageWord(rawValue: words[Int(p)])
            guard w.type == .buddy, w.subtype == BuddySubtype.head.rawValue else { p += 1; continue }
            let o = Int(w.order)
            zones[z].area(o, old).pointee.remove(zones[z].index(p, o))
            zones[z].area(o, new).pointee.insert(zones[z].index(p, o))
            accountFreepages(z, -(1 << Int64(o)), old)
            accountFreepages(z, 1 << Int64(o), new)
            p += 1 << UInt64(o)
        }
        setPageblockMigratetype(first, new)
    }

    /// __rmqueue_steal(): the smallest block of a fallback type, split off
    /// without changing its pageblock's type.
    func rmqueueSteal(_ z: Int, _ order: Int, _ start: MigrateType) -> UInt64? {
        for o in order...maxPageOrder {
            guard let (mt, _) = findSuitableFallback(z, o, start),
                  let idx = zones[z].area(o, mt).pointee.lowest() else { continue }
            zones[z].area(o, mt).pointee.remove(idx)
            let pfn = zones[z].pfn(idx, o)
            expand(z, pfn, low: order, high: o, mt)
            accountFreepages(z, -(1 << Int64(order)), mt)
            return pfn
        }
        return nil
    }

    /// __rmqueue(): CMA first when it holds over half the zone's free
    /// pages (ALLOC_CMA), then `mt`'s own lists, CMA, a claimed pageblock
    /// of a fallback type, a stolen block.
    func rmqueue(_ z: Int, _ order: Int, _ mt: MigrateType, _ f: AllocFlags) -> UInt64? {
        if f.cma, zones[z].freeCmaPages > zones[z].freePages / 2, let pfn = rmqueueSmallest(z, order, .cma) { return pfn }
        if let pfn = rmqueueSmallest(z, order, mt) { return pfn }
        if f.cma, let pfn = rmqueueSmallest(z, order, .cma) { return pfn }
        if let pfn = rmqueueClaim(z, order, mt) { return pfn }
        return rmqueueSteal(z, order, mt)
    }

    /// The node a request starts from: `nid`, or the local node for nil.
    func preferredNode(_ nid: Int?) throws(ScamemError) -> Int {
        guard let nid else { return localNodeStorage }
        guard nid >= 0, nid < machineDescription.nrNodes else { throw .invalid }
        return nid
    }

    /// The zone index of (node, zone), or nil where the node has none.
    @inline(__always)
    func zoneIndex(node: Int, _ zone: Int) -> Int? {
        let z = zoneIndexTable[node * ZoneType.count + zone]
        return z < 0 ? nil : Int(z)
    }

    /// get_page_from_freelist(): walks the zonelist (the preferred node
    /// first, then the others in id order, or that node alone under
    /// __GFP_THISNODE; in each node from the highest allowed zone down) and
    /// takes from the first zone whose watermark allows it.
    func getPageFromFreelist(_ order: Int, _ gfp: GFP, _ mt: MigrateType, highest: ZoneType, first: Int,
                             _ f: AllocFlags) -> (pfn: UInt64, zone: Int)? {
        let nodes = gfp.contains(.thisNode) ? 1 : machineDescription.nrNodes
        for k in 0..<nodes {
            let node = (first + k) % machineDescription.nrNodes
            var zone = Int(highest.rawValue)
            while zone >= 0 {
                defer { zone -= 1 }
                guard let z = zoneIndex(node: node, zone) else { continue }
                let pfn = withZoneLock(z) { () -> UInt64? in
                    if f.mark != .none, !zoneWatermarkOk(z, order: order, mark: wmarkPages(z, f.mark), highest: highest, f) {
                        return nil
                    }
                    return rmqueue(z, order, mt, f)
                }
                if let pfn { return (pfn, z) }
            }
        }
        return nil
    }

    /// __alloc_pages(): the low watermark first; then the slow path as
    /// gfp_to_alloc_flags() sets it (the min watermark, half of it for
    /// __GFP_HIGH, a quarter less again without __GFP_DIRECT_RECLAIM); then
    /// no watermark for __GFP_MEMALLOC; then __GFP_NOFAIL's
    /// ALLOC_MIN_RESERVE. The kernel would reclaim, compact and OOM-kill
    /// between these; the model has none of that and fails with `.noMemory`.
    func allocBlock(order: Int, gfp requested: GFP, nid: Int?) throws(ScamemError) -> (pfn: UInt64, zone: Int) {
        let gfp = currentGfpContext(requested)
        guard order >= 0, order <= maxPageOrder, GFP.known.isSuperset(of: gfp),
              let highest = gfp.zone, let mt = gfp.migratetype else { throw .invalid }
        let first = try preferredNode(nid)
        // gfp_to_alloc_flags_cma()
        let cma = mt == .movable
        if let r = getPageFromFreelist(order, gfp, mt, highest: highest, first: first, AllocFlags(mark: .low, cma: cma)) {
            return r
        }
        var f = AllocFlags(mark: .min, minReserve: gfp.contains(.high), cma: cma)
        if !gfp.contains(.directReclaim), !gfp.contains(.nomemalloc) { f.nonBlock = true }
        if let r = getPageFromFreelist(order, gfp, mt, highest: highest, first: first, f) { return r }
        // __gfp_pfmemalloc_flags(): ALLOC_NO_WATERMARKS.
        if gfp.contains(.memalloc), !gfp.contains(.nomemalloc),
           let r = getPageFromFreelist(order, gfp, mt, highest: highest, first: first, AllocFlags(mark: .none, cma: cma)) {
            return r
        }
        // __alloc_pages_cpuset_fallback(ALLOC_MIN_RESERVE); NOFAIL without
        // direct reclaim fails in the kernel too.
        if gfp.contains(.nofail), gfp.contains(.directReclaim),
           let r = getPageFromFreelist(order, gfp, mt, highest: highest, first: first, AllocFlags(mark: .min, minReserve: true)) {
            return r
        }
        throw .noMemory
    }

    /// alloc_pages_bulk(): fills the `nr` slots of `array` that hold
    /// `pfnNone` with order-0 pages (MISC words) and returns how many slots
    /// are then filled, counting from the first. All pages come from the
    /// first zone of the preferred node whose low watermark holds the
    /// whole request (no watermark check per page, as with the pcp lists);
    /// one page, no such zone, or __GFP_ACCOUNT (memcg) take the single-page
    /// path, which may give one page from anywhere. Zero is not an error.
    func allocPagesBulkLocked(gfp: GFP, nid: Int?, _ array: UnsafeMutablePointer<UInt64>, _ nr: Int) throws(ScamemError) -> Int {
        guard GFP.known.isSuperset(of: gfp), let highest = gfp.zone, let mt = gfp.migratetype else { throw .invalid }
        let node = try preferredNode(nid)
        var populated = 0
        while populated < nr, array[populated] != pfnNone { populated += 1 }
        if populated == nr { return populated }
        func single() -> Int {
            guard let (pfn, z) = try? allocBlock(order: 0, gfp: gfp, nid: node) else { return populated }
            setWords(pfn, 0, .inline(.misc, subtype: MiscSubtype.unknown.rawValue, flags: pageFlags(z, pfn)))
            array[populated] = pfn
            return populated + 1
        }
        if gfp.contains(.account) || nr - populated == 1 { return single() }
        let f = AllocFlags(mark: .low, cma: mt == .movable)
        var zt = Int(highest.rawValue)
        while zt >= 0 {
            defer { zt -= 1 }
            guard let z = zoneIndex(node: node, zt) else { continue }
            // The watermark and the pages under one hold of the zone lock,
            // as rmqueue_bulk() takes them.
            var suitable = false
            let taken = withZoneLock(z) { () -> Int in
                guard zoneWatermarkOk(z, order: 0, mark: zones[z].watermark.low + UInt64(nr), highest: highest, f) else { return 0 }
                suitable = true
                var taken = 0
                while populated < nr {
                    if array[populated] != pfnNone { populated += 1; continue }
                    guard let pfn = rmqueue(z, 0, mt, f) else { break }
                    setWords(pfn, 0, .inline(.misc, subtype: MiscSubtype.unknown.rawValue, flags: pageFlags(z, pfn)))
                    array[populated] = pfn
                    populated += 1
                    taken += 1
                }
                return taken
            }
            guard suitable else { continue }
            return taken == 0 ? single() : populated
        }
        return single()
    }

    /// free_one_page(): gives a block back to its zone under the zone lock
    /// (`freeBlockInZone`), with BUDDY words carrying `flags` (node, zone
    /// and section restored from the owner).
    func freeBlock(_ pfn: UInt64, _ order: Int, flags: UInt64) {
        // An imported gigantic folio goes back as MAX_PAGE_ORDER blocks.
        if order > maxPageOrder {
            for k in 0..<UInt64(1) << UInt64(order - maxPageOrder) {
                freeBlock(pfn + k << UInt64(maxPageOrder), maxPageOrder, flags: flags)
            }
            return
        }
        guard let z = zoneIndex(flags: flags) else { return }
        // free_pages_prepare(): a poisoned page never reaches the free lists.
        if !hwpoisonInUse.isEmpty, freeHWPoisoned(pfn, order, zone: z) { return }
        withZoneLock(z) { freeBlockInZone(z, pfn, order, flags: flags) }
    }

    /// __free_one_page(): writes BUDDY words, then merges with free buddies
    /// upwards. A pageblock boundary stops the merge where either side
    /// cannot merge (CMA, ISOLATE); otherwise the buddy's pageblock takes
    /// this one's type. Zone `z`'s lock held (or the machine lock exclusive).
    @inline(__always)
    func freeBlockInZone(_ z: Int, _ pfn: UInt64, _ order: Int, flags: UInt64) {
        let mt = pageblockMigratetype(pfn)
        accountFreepages(z, 1 << Int64(order), mt)
        let tailWord = PageWord.inline(.buddy, subtype: BuddySubtype.tail.rawValue, flags: flags).rawValue
        words.update(Int(pfn), repeating: tailWord, count: 1 << order)
        var head = pfn, o = order
        while o < maxPageOrder {
            let buddy = head ^ (1 << UInt64(o))
            guard zones[z].spans(buddy) else { break }
            var buddyMt = mt
            if o >= pageblockOrder {
                buddyMt = pageblockMigratetype(buddy)
                if mt != buddyMt, !mt.isMergeable || !buddyMt.isMergeable { break }
            }
            guard zones[z].area(o, buddyMt).pointee.contains(zones[z].index(buddy, o)) else { break }
            zones[z].area(o, buddyMt).pointee.remove(zones[z].index(buddy, o))
            if buddyMt != mt { changePageblockRange(buddy, o, mt) }
            // The higher of the two heads becomes a tail of the merged block.
            let upper = max(head, buddy)
            words[Int(upper)] = tailWord
            head = min(head, buddy)
            o += 1
        }
        words[Int(head)] = PageWord.inline(.buddy, subtype: BuddySubtype.head.rawValue,
                                           order: UInt8(o), flags: flags).rawValue
        zones[z].area(o, mt).pointee.insert(zones[z].index(head, o))
    }

    /// Writes `word` into the 2^order words from `pfn`.
    @inline(__always)
    func setWords(_ pfn: UInt64, _ order: Int, _ word: PageWord) {
        words.update(Int(pfn), repeating: word.rawValue, count: 1 << order)
    }

    /// The word of `pfn`, or `.outOfRange` / `.noPage`.
    @inline(__always)
    func checkedWord(_ pfn: UInt64) throws(ScamemError) -> PageWord {
        guard pfn < endPfn else { throw .outOfRange }
        let w = PageWord(rawValue: words[Int(pfn)])
        guard !w.isNopage else { throw .noPage }
        return w
    }

    // MARK: Public: pages without a descriptor

    /// alloc_pages_node(): 2^order naturally aligned pages with MISC/UNKNOWN
    /// words. Returns the first pfn. The C counterpart is `scamem_alloc_pages()`.
    public func allocPages(order: Int, gfp: GFP = .kernel, nid: Int? = nil) throws(ScamemError) -> UInt64 {
        try lock.withSharedLock { () throws(ScamemError) -> UInt64 in
            let (pfn, z) = try allocBlock(order: order, gfp: gfp, nid: nid)
            setWords(pfn, order, .inline(.misc, subtype: MiscSubtype.unknown.rawValue, order: UInt8(order),
                                         flags: pageFlags(z, pfn)))
            return pfn
        }
    }

    /// alloc_pages_bulk(): fills the slots of `pages` that hold `pfnNone`
    /// with order-0 pages, as `allocPages(order: 0)` gives them, and returns
    /// how many slots are filled counting from the first (fewer than
    /// `pages.count` when memory runs short; see `allocPagesBulkLocked`).
    /// The C counterpart is `scamem_alloc_pages_bulk()`.
    public func allocPagesBulk(gfp: GFP = .kernel, nid: Int? = nil, _ pages: inout [UInt64]) throws(ScamemError) -> Int {
        try pages.withUnsafeMutableBufferPointer { (b) throws(ScamemError) -> Int in try allocPagesBulk(gfp: gfp, nid: nid, b) }
    }

    /// `allocPagesBulk` over caller memory (the C array).
    public func allocPagesBulk(gfp: GFP = .kernel, nid: Int? = nil, _ pages: UnsafeMutableBufferPointer<UInt64>) throws(ScamemError) -> Int {
        try lock.withSharedLock { () throws(ScamemError) -> Int in
            guard let base = pages.baseAddress else { return 0 }
            return try allocPagesBulkLocked(gfp: gfp, nid: nid, base, pages.count)
        }
    }

    /// __free_pages(): returns a block from `allocPages` to the allocator.
    /// The C counterpart is `scamem_free_pages()`.
    public func freePages(_ pfn: UInt64, order: Int) throws(ScamemError) {
        // With poisoned pages in use the free may turn into taking pages off
        // (freeHWPoisoned()), which changes machine-wide records: exclusive.
        if try lock.withSharedLock({ () throws(ScamemError) -> Bool in
            guard hwpoisonInUse.isEmpty else { return false }
            let w = try checkFreePages(pfn, order: order)
            guard let z = zoneIndex(flags: w.flags) else { throw .invalid }
            // The word again under the zone lock: a second free of the same
            // block (a caller's misuse) in another thread finds it free. Held
            // shared, nothing else checkFreePages() reads can change.
            try withZoneLock(z) { () throws(ScamemError) in
                guard words[Int(pfn)] == w.rawValue else { throw .alreadyFree }
                freeBlockInZone(z, pfn, order, flags: w.flags)
            }
            return true
        }) { return }
        try lock.withLock { () throws(ScamemError) in
            let w = try checkFreePages(pfn, order: order)
            guard zoneIndex(flags: w.flags) != nil else { throw .invalid }
            freeBlock(pfn, order, flags: w.flags)
        }
    }

    /// The word of a block `freePages` may free, or why not.
    func checkFreePages(_ pfn: UInt64, order: Int) throws(ScamemError) -> PageWord {
        let w = try checkedWord(pfn)
        if isHole(pfn) { throw .noPage }
        if w.type == .buddy { throw .alreadyFree }
        guard order >= 0, order <= maxPageOrder, w.type == .misc, w.subtype == MiscSubtype.unknown.rawValue,
              Int(w.order) == order, pfn & ((1 << UInt64(order)) - 1) == 0 else { throw .invalid }
        // Still mapped by a vmap() area or a pte: the kernel would free a
        // mapped page (or, with struct pages, defer it to the last put).
        if callerPageHeld(pfn, order: order) { throw .busy }
        return w
    }
}

/// An empty slot for `allocPagesBulk` (the kernel's NULL page pointer).
/// The C counterpart is `SCAMEM_PFN_NONE`.
public let pfnNone = UInt64.max
