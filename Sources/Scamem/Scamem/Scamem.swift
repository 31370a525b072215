/// Which nodes a scamem's pages come from. The C counterparts are
/// `SCAMEM_POLICY_*` with a node id.
public enum NodePolicy: Hashable, Sendable {
    /// The local node first, then the zonelist's fallbacks.
    case local
    /// Page i from node (first + i) mod nr_nodes, first being the local node.
    case interleave
    /// This node first (vmalloc_node()); with GFP.thisNode, only this node.
    case node(Int)
}

/// A scamem's state. The C counterpart is `struct scamem_stat`.
public struct ScamemStat: Hashable, Sendable {
    public var nrPages: Int
    public var refcount: Int
    /// References by holder: vm_structs, user mappings, GUP, callers.
    public var vmRefs: Int
    public var mapRefs: Int
    public var gupRefs: Int
    public var callerRefs: Int
    /// Pages go back to the allocator when the last reference goes.
    public var ownsPages: Bool
    /// Bytes of the object itself, as its strategy lays it out (scamem:
    /// 8 of header, 8 per page, plus FLAGS_ARRAY's 8 per page; LEGACY: the
    /// pages array, 8 per page).
    public var bytes: Int
}

/// The scamem object: nr, one refcount, pages[]. Created with refcount 1,
/// freed (with its pages, if it owns them) when the count reaches zero.
extension Machine {
    // MARK: Under the lock

    /// A scamem over `nr` new order-0 pages placed by `policy`; `usermap`
    /// if its area may be mapped to userspace.
    func createScamem(nr: Int, gfp: GFP, policy: NodePolicy, usermap: Bool = false) throws(ScamemError) -> Int {
        guard nr >= 1, nr <= Int(UInt32.max) else { throw .invalid }
        let first: Int
        switch policy {
        case .local, .interleave: first = localNodeStorage
        case .node(let nid): first = try preferredNode(nid)
        }
        // More pages than are free cannot succeed: say so before asking the
        // host for the pages[] array.
        var free: UInt64 = 0
        for z in 0..<nrZones { free += zones[z].freePages }
        guard UInt64(nr) <= free, let block = ScamemBlock.allocate(nr: nr, extraPerPage: strategy.extraBytesPerPage)
        else { throw .noMemory }
        do throws(ScamemError) { try vmAreaAllocPages(gfp: gfp, policy: policy, first: first, block.pages, nr) } catch {
            block.deallocate()
            throw error
        }
        let slot: Int
        do throws(ScamemError) {
            slot = try insertScamem(ScamemRecord(block: block, ownsPages: true))
            do throws(ScamemError) { try strategy.attach(slot: slot, usermap: usermap, in: self) } catch {
                removeScamem(slot)
                throw error
            }
        } catch {
            for i in 0..<nr { freeBlock(block.pages[i], 0, flags: PageWord(rawValue: words[Int(block.pages[i])]).flags) }
            block.deallocate()
            throw error
        }
        return slot
    }

    /// vm_area_alloc_pages(): order-0 pages by alloc_pages_bulk() in
    /// requests of at most 100 until one comes back short, the rest one by
    /// one. `.interleave` is the model's own policy (page i on node
    /// first + i): one page at a time. On failure every page goes back.
    func vmAreaAllocPages(gfp: GFP, policy: NodePolicy, first: Int, _ pages: UnsafeMutablePointer<UInt64>,
                          _ nr: Int) throws(ScamemError) {
        pages.update(repeating: pfnNone, count: nr)
        var allocated = 0
        do throws(ScamemError) {
            if case .interleave = policy {} else {
                while allocated < nr {
                    let request = Swift.min(100, nr - allocated)
                    let n = try allocPagesBulkLocked(gfp: gfp, nid: first, pages + allocated, request)
                    allocated += n
                    if n != request { break }
                }
            }
            let nodes = machineDescription.nrNodes
            while allocated < nr {
                let nid = if case .interleave = policy { (first + allocated) % nodes } else { first }
                pages[allocated] = try allocBlock(order: 0, gfp: gfp, nid: nid).pfn
                allocated += 1
            }
        } catch {
            for k in 0..<allocated { freeBlock(pages[k], 0, flags: PageWord(rawValue: words[Int(pages[k])]).flags) }
            throw error
        }
    }

    /// A scamem over pages the caller already has (vmap). With `owning`,
    /// their words become the scamem's and they are freed with it.
    func adoptScamem(_ pfns: [UInt64], owning: Bool, usermap: Bool) throws(ScamemError) -> Int {
        guard !pfns.isEmpty, pfns.count <= Int(UInt32.max) else { throw .invalid }
        var seen = Set<UInt64>()
        for pfn in pfns {
            let w = try checkedWord(pfn)
            if w.type == .buddy { throw .alreadyFree }
            if isHole(pfn) { throw .noPage }
            // Another area's pages: that area frees them when it goes.
            if strategy.page(pfn, word: w, through: nil, in: self) != nil
                || (w.type == .misc && w.subtype == MiscSubtype.vmalloc.rawValue) { throw .busy }
            if owning {
                // Owned pages must be the caller's order-0 alloc_pages() pages,
                // each given once and mapped by no other area: they will be
                // freed one by one when the scamem goes.
                guard w.type == .misc, w.subtype == MiscSubtype.unknown.rawValue, w.order == 0,
                      seen.insert(pfn).inserted else { throw .invalid }
                if vmapLedger[pfn] != nil || subjectPages.contains(pfn) { throw .busy }
            } else {
                try checkVmapPage(pfn, w)
                // A user-mappable area of caller pages (bpf ringbuf): only
                // alloc_pages() pages, whose free the ledger can refuse while
                // a mapping or GUP holds the area; a folio's last put cannot be.
                if usermap, w.type != .misc { throw .invalid }
            }
        }
        guard let block = ScamemBlock.allocate(nr: pfns.count, extraPerPage: strategy.extraBytesPerPage)
        else { throw .noMemory }
        for (i, pfn) in pfns.enumerated() { block.pages[i] = pfn }
        let slot: Int
        do throws(ScamemError) { slot = try insertScamem(ScamemRecord(block: block, ownsPages: owning)) } catch {
            block.deallocate()
            throw error
        }
        if !owning {
            for pfn in pfns { vmapLedger[pfn, default: 0] += 1 }
        } else {
            do throws(ScamemError) { try strategy.attach(slot: slot, usermap: usermap, in: self) } catch {
                removeScamem(slot)
                block.deallocate()
                throw error
            }
        }
        return slot
    }

    /// What a plain vmap() may map and keep: alloc_pages() pages (freed only
    /// by free_pages(), which the ledger guards) and pages of a folio the
    /// caller holds a reference on (folio_put() of the last one is guarded).
    /// Slab and page-table pages, and folios only a mapping or GUP holds,
    /// could be freed by a call that cannot be refused: `.invalid`.
    func checkVmapPage(_ pfn: UInt64, _ w: PageWord) throws(ScamemError) {
        switch w.type {
        case .misc where w.subtype == MiscSubtype.unknown.rawValue:
            return
        case .file, .anon:
            guard let d = descriptors.lookup(w.descriptorID), d.pointee.callerRefs > 0 else { throw .invalid }
        default:
            throw .invalid
        }
    }

    /// A plain vmap() scamem went (with its area, or after the last
    /// mapping or GUP reference that outlived the area): its pages are the
    /// caller's to free again.
    func releaseVmapHolds(_ slot: Int) {
        let b = scamems[slot].block
        for i in 0..<b.nr {
            let pfn = b.pages[i]
            if let n = vmapLedger[pfn], n > 1 { vmapLedger[pfn] = n - 1 } else { vmapLedger[pfn] = nil }
        }
    }

    /// True if a live plain vmap() scamem lists any of the 2^order pages at `pfn`.
    func vmapped(_ pfn: UInt64, order: Int) -> Bool {
        guard !vmapLedger.isEmpty else { return false }
        for p in pfn..<pfn + (1 << UInt64(order)) where vmapLedger[p] != nil { return true }
        return false
    }

    /// True if anything but its allocator holds one of the 2^order
    /// alloc_pages() pages at `pfn`: a vmap() scamem, a vm_insert_page()
    /// pte, or (LEGACY) a struct page reference from a mapping or GUP.
    func callerPageHeld(_ pfn: UInt64, order: Int) -> Bool {
        if vmapped(pfn, order: order) { return true }
        let range = pfn..<pfn + (1 << UInt64(order))
        // Both checks cost nothing unless something was ever held this way.
        if !pteLedger.isEmpty, range.contains(where: { pteLedger[$0] != nil }) { return true }
        if !subjectPages.isEmpty, range.contains(where: subjectPages.contains) { return true }
        return strategy.holdsCallerPages && range.contains(where: strategy.holdsCallerPage)
    }

    /// refcount_add(refs) (refcount_inc() for one).
    func scamemGetLocked(_ slot: Int, refs: Int32 = 1) throws(ScamemError) {
        let rc = scamems[slot].block.refcount
        guard rc.pointee.load(ordering: .relaxed) <= Int32.max - refs else { throw .overflow }
        rc.pointee.add(refs, ordering: .relaxed)
    }

    /// refcount_sub_and_test(refs) (refcount_dec_and_test() for one): the
    /// last reference frees the object; its
    /// pages go as the strategy says (with it, or one by one under LEGACY).
    func scamemPutLocked(_ slot: Int, refs: Int32 = 1) {
        let block = scamems[slot].block
        guard block.refcount.pointee.subtract(refs, ordering: .acquiringAndReleasing).newValue == 0 else { return }
        if !scamems[slot].ownsPages { releaseVmapHolds(slot) }
        strategy.objectReleased(slot: slot, in: self)
        strategy.detach(slot: slot, in: self)
        // No reader without the lock can be looking at it: a pte that led
        // to it went before a grace period (`zap`), and GUP's own
        // references were all dropped.
        removeScamem(slot)
        block.deallocate()
    }

    /// A new scamem's record, its cell made and its block published.
    func insertScamem(_ r: ScamemRecord) throws(ScamemError) -> Int {
        let slot = scamems.insert(r)
        guard scamemCells.prepare(slot) else {
            scamems.remove(slot)
            throw .noMemory
        }
        let c = scamemCell(slot)
        c.words[1].store(0, ordering: .relaxed)
        c.publish(r.block)
        return slot
    }

    func removeScamem(_ slot: Int) {
        scamemCell(slot).publish(nil)
        scamems.remove(slot)
    }

    /// The cell of a live scamem (made by `insertScamem`).
    @inline(__always)
    func scamemCell(_ slot: Int) -> ScamemCell { ScamemCell(words: scamemCells.cell(slot).unsafelyUnwrapped) }

    func scamemSlot(_ id: ScamemID) throws(ScamemError) -> Int {
        guard let s = scamems.slot(handle: id.rawValue) else { throw .badHandle }
        return s
    }

    func stat(_ slot: Int) -> ScamemStat {
        let r = scamems[slot]
        return ScamemStat(nrPages: r.block.nr, refcount: Int(r.block.refcount.pointee.load(ordering: .relaxed)),
                          vmRefs: Int(r.vmRefs), mapRefs: Int(r.mapRefs), gupRefs: Int(scamemCell(slot).gupRefs),
                          callerRefs: Int(r.callerRefs), ownsPages: r.ownsPages,
                          bytes: strategy.objectBytes(nr: r.block.nr))
    }

    // MARK: Public

    /// A scamem of `nrPages` order-0 pages, refcount 1 (the caller's).
    /// The C counterpart is `scamem_alloc()`.
    public func scamemAlloc(nrPages: Int, gfp: GFP = .kernel, policy: NodePolicy = .local) throws(ScamemError) -> ScamemID {
        try lock.withLock { () throws(ScamemError) -> ScamemID in
            let slot = try createScamem(nr: nrPages, gfp: gfp, policy: policy)
            scamems[slot].callerRefs = 1
            return ScamemID(rawValue: scamems.handle(slot))
        }
    }

    /// Takes a caller reference. Returns the new refcount. The C counterpart
    /// is `scamem_get()`.
    @discardableResult
    public func scamemGet(_ id: ScamemID) throws(ScamemError) -> Int {
        try lock.withLock { () throws(ScamemError) -> Int in
            let s = try scamemSlot(id)
            try scamemGetLocked(s)
            scamems[s].callerRefs += 1
            return Int(scamems[s].block.refcount.pointee.load(ordering: .relaxed))
        }
    }

    /// Drops a caller reference (one from `scamemAlloc` or `scamemGet`).
    /// Returns the remaining refcount; 0 means the scamem is gone. A caller
    /// without a reference to drop gets `.invalid`. The C counterpart is
    /// `scamem_put()`.
    @discardableResult
    public func scamemPut(_ id: ScamemID) throws(ScamemError) -> Int {
        try lock.withLock { () throws(ScamemError) -> Int in
            let s = try scamemSlot(id)
            guard scamems[s].callerRefs > 0 else { throw .invalid }
            scamems[s].callerRefs -= 1
            let left = Int(scamems[s].block.refcount.pointee.load(ordering: .relaxed)) - 1
            scamemPutLocked(s)
            return left
        }
    }

    /// The scamem's counts. The C counterpart is `scamem_stat()`.
    public func scamemStat(_ id: ScamemID) throws(ScamemError) -> ScamemStat {
        try lock.withLock { () throws(ScamemError) -> ScamemStat in stat(try scamemSlot(id)) }
    }

    /// pages[index]. The C counterpart is `scamem_page()`.
    public func scamemPage(_ id: ScamemID, at index: Int) throws(ScamemError) -> UInt64 {
        try lock.withLock { () throws(ScamemError) -> UInt64 in
            let b = scamems[try scamemSlot(id)].block
            guard index >= 0, index < b.nr else { throw .outOfRange }
            return b.pages[index]
        }
    }

    /// Every page, in order. The C counterpart is `scamem_pages()`.
    public func scamemPages(_ id: ScamemID) throws(ScamemError) -> [UInt64] {
        try lock.withLock { () throws(ScamemError) -> [UInt64] in
            let b = scamems[try scamemSlot(id)].block
            return Array(UnsafeBufferPointer(start: b.pages, count: b.nr))
        }
    }

    /// The scamem owning a page, from the page alone (`.invalid` where the
    /// strategy cannot tell: LEGACY, or VMA_PRIVATE for a page GUP does not
    /// hold). The C counterpart is `scamem_page_scamem()`.
    public func pageScamem(_ pfn: UInt64) throws(ScamemError) -> ScamemID {
        try lock.withLock { () throws(ScamemError) -> ScamemID in
            let w = try checkedWord(pfn)
            guard let s = strategy.page(pfn, word: w, through: nil, in: self)?.slot else { throw .invalid }
            return ScamemID(rawValue: scamems.handle(s))
        }
    }
}
