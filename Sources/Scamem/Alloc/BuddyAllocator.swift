/// The buddy allocator: per-zone free areas, node-ordered zonelists,
/// splitting (expand()) and coalescing (__free_one_page()). All of it runs
/// under the machine lock.
extension Machine {
    /// Puts a naturally aligned block on its free list and writes its BUDDY
    /// words, without coalescing (memblock handing memory over at boot).
    func insertFreeBlock(_ z: Int, _ pfn: UInt64, _ order: Int, flags: UInt64) {
        words[Int(pfn)] = PageWord.inline(.buddy, subtype: BuddySubtype.head.rawValue,
                                          order: UInt8(order), flags: flags).rawValue
        let tail = PageWord.inline(.buddy, subtype: BuddySubtype.tail.rawValue, flags: flags).rawValue
        words.update(Int(pfn) + 1, repeating: tail, count: (1 << order) - 1)
        zones[z].areas[order].insert(zones[z].index(pfn, order))
        zones[z].freePages += 1 << UInt64(order)
    }

    /// __rmqueue_smallest(): the lowest free block of at least `order` in
    /// zone `z`, split down to `order`; the upper halves go back as free heads.
    func takeBlock(_ z: Int, _ order: Int) -> UInt64? {
        for o in order...maxPageOrder {
            guard let idx = zones[z].areas[o].lowest() else { continue }
            zones[z].areas[o].remove(idx)
            let pfn = zones[z].pfn(idx, o)
            var cur = o
            while cur > order {
                cur -= 1
                let upper = pfn + 1 << UInt64(cur)
                let flags = PageWord(rawValue: words[Int(upper)]).flags
                words[Int(upper)] = PageWord.inline(.buddy, subtype: BuddySubtype.head.rawValue,
                                                    order: UInt8(cur), flags: flags).rawValue
                zones[z].areas[cur].insert(zones[z].index(upper, cur))
            }
            zones[z].freePages -= 1 << UInt64(order)
            return pfn
        }
        return nil
    }

    /// The node a request starts from: `nid`, or the local node for nil.
    func preferredNode(_ nid: Int?) throws(ScamemError) -> Int {
        guard let nid else { return localNodeStorage }
        guard nid >= 0, nid < machineDescription.nrNodes else { throw .invalid }
        return nid
    }

    /// __alloc_pages(): walks the zonelist (preferred node first, then the
    /// others in id order; in each node from the highest allowed zone down)
    /// and returns the first pfn of a block and its zone index.
    func allocBlock(order: Int, gfp: GFP, nid: Int?) throws(ScamemError) -> (pfn: UInt64, zone: Int) {
        guard order >= 0, order <= maxPageOrder, GFP.known.isSuperset(of: gfp),
              let highest = currentGfpContext(gfp).highestZone else { throw .invalid }
        let first = try preferredNode(nid)
        let nodes = gfp.contains(.thisNode) ? 1 : machineDescription.nrNodes
        for k in 0..<nodes {
            let node = (first + k) % machineDescription.nrNodes
            var zone = Int(highest.rawValue)
            while zone >= 0 {
                let z = zoneIndexTable[node * ZoneType.count + zone]
                if z >= 0, let pfn = takeBlock(Int(z), order) { return (pfn, Int(z)) }
                zone -= 1
            }
        }
        throw .noMemory
    }

    /// __free_pages_ok(): writes BUDDY words with `flags` (node/zone/section
    /// restored from the owner), then merges with free buddies upwards.
    func freeBlock(_ pfn: UInt64, _ order: Int, flags: UInt64) {
        // An imported gigantic folio goes back as MAX_PAGE_ORDER blocks.
        if order > maxPageOrder {
            for k in 0..<UInt64(1) << UInt64(order - maxPageOrder) {
                freeBlock(pfn + k << UInt64(maxPageOrder), maxPageOrder, flags: flags)
            }
            return
        }
        guard let z = zoneIndex(flags: flags) else { return }
        let tailWord = PageWord.inline(.buddy, subtype: BuddySubtype.tail.rawValue, flags: flags).rawValue
        words.update(Int(pfn), repeating: tailWord, count: 1 << order)
        var head = pfn, o = order
        while o < maxPageOrder {
            let buddy = head ^ (1 << UInt64(o))
            guard zones[z].spans(buddy), zones[z].areas[o].contains(zones[z].index(buddy, o)) else { break }
            zones[z].areas[o].remove(zones[z].index(buddy, o))
            // The higher of the two heads becomes a tail of the merged block.
            let upper = max(head, buddy)
            words[Int(upper)] = tailWord
            head = min(head, buddy)
            o += 1
        }
        words[Int(head)] = PageWord.inline(.buddy, subtype: BuddySubtype.head.rawValue,
                                           order: UInt8(o), flags: flags).rawValue
        zones[z].areas[o].insert(zones[z].index(head, o))
        zones[z].freePages += 1 << UInt64(order)
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
        try lock.withLock { () throws(ScamemError) -> UInt64 in
            let (pfn, z) = try allocBlock(order: order, gfp: gfp, nid: nid)
            setWords(pfn, order, .inline(.misc, subtype: MiscSubtype.unknown.rawValue, order: UInt8(order),
                                         flags: pageFlags(z, pfn)))
            return pfn
        }
    }

    /// __free_pages(): returns a block from `allocPages` to the allocator.
    /// The C counterpart is `scamem_free_pages()`.
    public func freePages(_ pfn: UInt64, order: Int) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            let w = try checkedWord(pfn)
            if isHole(pfn) { throw .noPage }
            if w.type == .buddy { throw .alreadyFree }
            guard order >= 0, order <= maxPageOrder, w.type == .misc, w.subtype == MiscSubtype.unknown.rawValue,
                  Int(w.order) == order, pfn & ((1 << UInt64(order)) - 1) == 0 else { throw .invalid }
            // Still mapped by a vmap() area or a pte: the kernel would free a
            // mapped page (or, with struct pages, defer it to the last put).
            if callerPageHeld(pfn, order: order) { throw .busy }
            freeBlock(pfn, order, flags: w.flags)
        }
    }
}
