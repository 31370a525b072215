/// `enum mf_flags` (include/linux/mm.h), with the kernel's values. The C
/// counterparts are `SCAMEM_MF_*`.
@frozen
public struct MFFlags: OptionSet, Hashable, Sendable {
    public let rawValue: Int32
    @inlinable public init(rawValue: Int32) { self.rawValue = rawValue }
    /// The caller passes in a reference it holds (madvise(MADV_HWPOISON)):
    /// not accepted, the model's callers have no way to name one.
    public static let countIncreased = MFFlags(rawValue: 1 << 0)
    /// Kill the current task if it maps the page: the model has no current
    /// task; not accepted.
    public static let actionRequired = MFFlags(rawValue: 1 << 1)
    /// Unmap with TTU_HWPOISON even where a clean page could be dropped
    /// (unmap_poisoned_folio()); accepted, the model's only file pages
    /// (shmem) always get hwpoison entries.
    public static let mustKill = MFFlags(rawValue: 1 << 2)
    public static let softOffline = MFFlags(rawValue: 1 << 3)
    public static let unpoison = MFFlags(rawValue: 1 << 4)
    /// A software-injected error (hwpoison-inject, MADV_HWPOISON): without
    /// it the machine records a real one and unpoison_memory() is refused.
    public static let swSimulated = MFFlags(rawValue: 1 << 5)
    public static let noRetry = MFFlags(rawValue: 1 << 6)
    public static let memPreRemove = MFFlags(rawValue: 1 << 7)
    static let known: MFFlags = [.mustKill, .swSimulated]
}

/// mm/memory-failure.c: memory_failure(), unpoison_memory() and
/// PageHWPoison, with take_page_off_buddy() (mm/page_alloc.c).
///
/// Where PG_hwpoison lives: a page in use keeps its word untouched (a
/// scamem's word is its link back to the object under PFN_LOOKUP,
/// FLAGS_ARRAY and PACKED) and is recorded in `hwpoisonInUse`; a poisoned
/// page that leaves its owner, or a free page taken off the allocator,
/// becomes an inline HWPOISON word (type 9, node/zone/section kept) and
/// never reaches the free lists again (free_pages_prepare()). See
/// docs/strategies.md for what each strategy would keep and pay.
extension Machine {
    /// PageHWPoison() under the lock.
    @inline(__always)
    func isHWPoison(_ pfn: UInt64, _ w: PageWord) -> Bool {
        w.type == .hwpoison || (!hwpoisonInUse.isEmpty && hwpoisonInUse[pfn] != nil)
    }

    /// memory_failure(): handles a hardware memory error on `pfn`, as 6.12:
    /// - no online page there (beyond the machine, no memmap): `.noPage`
    ///   (-ENXIO, "memory outside kernel control");
    /// - already poisoned (TestSetPageHWPoison()): `.hwpoison` (-EHWPOISON);
    /// - a free page: take_page_off_buddy() splits its free block, the page
    ///   becomes a HWPOISON word, the rest stays free (MF_MSG_BUDDY,
    ///   MF_RECOVERED: returns);
    /// - a page get_hwpoison_page() cannot handle (HWPoisonHandlable(): not
    ///   on an LRU list: slab, page table, reserved, MISC, vmalloc and every
    ///   scamem page, a folio_alloc() folio): poisoned, left as it is,
    ///   mapped and linked ("unhandlable page", MF_MSG_GET_HWPOISON,
    ///   MF_IGNORED): `.busy`;
    /// - an LRU folio (faulted anon, COW copy, shmem): memory_failure()
    ///   keeps the reference it took, so the folio is never freed;
    ///   a large one cannot be split in the model (try_to_split_thp_page()
    ///   failing: MF_MSG_UNSPLIT_THP, the reference dropped, the page stays
    ///   poisoned): `.hwpoison`; a small one is unmapped from every pte
    ///   (hwpoison_user_mappings() -> try_to_unmap(TTU_HWPOISON)): each pte
    ///   becomes a hwpoison entry and a later fault there is `.hwpoison`;
    ///   then identify_page_state(): anon is MF_RECOVERED (returns, even
    ///   with GUP references: me_pagecache_clean()); shmem stays in its page
    ///   cache (shmem_error_remove_folio()) and is MF_FAILED, `.busy`, where
    ///   anything beyond the cache holds it (has_extra_refcount()); a shmem
    ///   folio no longer in a page cache is MF_MSG_TRUNCATED_LRU, `.busy`.
    /// `flags`: MF_MUST_KILL and MF_SW_SIMULATED; any other is `.invalid`.
    /// The C counterpart is `scamem_memory_failure()`.
    public func memoryFailure(pfn: UInt64, flags: MFFlags = []) throws(ScamemError) {
        guard MFFlags.known.isSuperset(of: flags) else { throw .invalid }
        try lock.withLock { () throws(ScamemError) in
            // pfn_to_online_page()
            guard pfn < endPfn, !PageWord(rawValue: words[Int(pfn)]).isNopage else { throw .noPage }
            let w = PageWord(rawValue: words[Int(pfn)])
            if !flags.contains(.swSimulated) { hwMemoryFailure = true }
            if isHWPoison(pfn, w) { throw .hwpoison }
            if w.type == .buddy {
                takePageOffBuddy(pfn, w)
                return
            }
            // get_hwpoison_page() -> HWPoisonHandlable(): PageLRU only.
            guard PageType.folioTypes & w.type.bit != 0, let d = descriptors.lookup(w.descriptorID), d.pointee.lru,
                  d.refs < Int32.max else {
                hwpoisonInUse[pfn] = false
                throw .busy
            }
            if d.pointee.order > 0 {
                // The model cannot split a folio: try_to_split_thp_page() fails.
                hwpoisonInUse[pfn] = false
                throw .hwpoison
            }
            d.refAdd(1)
            hwpoisonInUse[pfn] = true
            hwpoisonUserMappings(pfn, d)
            // The ptes' references went: GUP-fast readers of them finish
            // before anything frees the folio (`zap`).
            rcu.synchronize()
            if d.pointee.type == .anon { return }
            // Torn down by someone else: an LRU folio with no mapping.
            guard inShmemPageCache(pfn) else { throw .busy }
            // me_pagecache_clean() for shmem: extra_pins, the cache's reference.
            if d.refs - 1 - 1 > 0 { throw .busy }
        }
    }

    /// take_page_off_buddy(): removes the free block holding `pfn`, gives
    /// back every part of it but `pfn` (break_down_buddy_pages()) and makes
    /// `pfn` a HWPOISON word. The zone's free count drops by one.
    func takePageOffBuddy(_ pfn: UInt64, _ w: PageWord) {
        let head = buddyHead(pfn, w)
        let order = Int(PageWord(rawValue: words[Int(head)]).order)
        guard let z = zoneIndex(flags: w.flags) else { return }
        let mt = pageblockMigratetype(head)
        zones[z].area(order, mt).pointee.remove(zones[z].index(head, order))
        accountFreepages(z, -(1 << Int64(order)), mt)
        var low = head, o = order
        while o > 0 {
            o -= 1
            let half = UInt64(1) << UInt64(o)
            let other: UInt64
            if pfn >= low + half { other = low; low += half } else { other = low + half }
            insertFreeBlock(z, other, o, flags: pageFlags(z, other))
        }
        words[Int(pfn)] = PageWord.inline(.hwpoison, subtype: HWPoisonSubtype.takenOff.rawValue, flags: pageFlags(z, pfn)).rawValue
        hwpoisonWords += 1
    }

    /// free_pages_prepare() for a block with poisoned pages (called by
    /// freeBlock() when any page is poisoned): the poisoned pages become
    /// HWPOISON words, the others go back one by one. Returns false, doing
    /// nothing, when no page of the block is poisoned.
    func freeHWPoisoned(_ pfn: UInt64, _ order: Int, zone z: Int) -> Bool {
        let range = pfn..<pfn + (UInt64(1) << UInt64(order))
        guard range.contains(where: { hwpoisonInUse[$0] != nil }) else { return false }
        for p in range {
            if hwpoisonInUse.removeValue(forKey: p) != nil {
                words[Int(p)] = PageWord.inline(.hwpoison, subtype: HWPoisonSubtype.takenOff.rawValue, flags: pageFlags(z, p)).rawValue
                hwpoisonWords += 1
            } else {
                freeBlock(p, 0, flags: pageFlags(z, p))
            }
        }
        return true
    }

    /// hwpoison_user_mappings() -> try_to_unmap(TTU_HWPOISON): every
    /// present pte of `pfn` in every mm becomes a hwpoison entry and lets go
    /// of its folio reference and map count (the model has no rmap: a walk).
    func hwpoisonUserMappings(_ pfn: UInt64, _ d: UnsafeMutablePointer<Memdesc>) {
        guard d.pointee.mapcount > 0 else { return }
        rmapWalk { pte in
            guard PTE.pfn(pte) == pfn else { return }
            pte = PTE.hwpoison | (pfn + 1)
            d.pointee.mapcount -= 1
            _ = d.refSub(1)
        }
    }

    /// folio_mapping() != NULL for a FILE folio: a shmem page cache holds it.
    func inShmemPageCache(_ pfn: UInt64) -> Bool {
        shmemFiles.liveSlots.contains { shmemFiles[$0].pages.contains(pfn + 1) }
    }

    /// unpoison_memory(), as 6.12 (a debugging aid for injected errors):
    /// - no online page: `.io` (-EIO);
    /// - after a real memory failure (one without MF_SW_SIMULATED):
    ///   `.notSupported` (-EOPNOTSUPP);
    /// - not poisoned ("already unpoisoned"): `.busy`;
    /// - a page taken off the allocator (a HWPOISON word):
    ///   put_page_back_buddy(), it is free again;
    /// - a folio memory_failure() holds: freed if that is its only reference
    ///   and nothing maps it (no pte, no page cache), else `.busy`;
    /// - slab, page table, reserved pages: `.busy`;
    /// - any other page in use (MISC, vmalloc, scamem pages, a large folio's
    ///   page): PG_hwpoison is cleared and the page stays its owner's. The
    ///   kernel would also drop a reference memory_failure() never took,
    ///   freeing a page in use; the model never frees what something holds.
    /// The C counterpart is `scamem_unpoison_memory()`.
    public func unpoisonMemory(pfn: UInt64) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            guard pfn < endPfn, !PageWord(rawValue: words[Int(pfn)]).isNopage else { throw .io }
            if hwMemoryFailure { throw .notSupported }
            let w = PageWord(rawValue: words[Int(pfn)])
            if w.type == .hwpoison {
                // PageHWPoisonTakenOff(): only what the model took off goes back;
                // an imported poisoned page was never its allocator's.
                guard w.subtype == HWPoisonSubtype.takenOff.rawValue, zoneIndex(flags: w.flags) != nil else { throw .busy }
                hwpoisonWords -= 1
                freeBlock(pfn, 0, flags: w.flags)
                return
            }
            guard let held = hwpoisonInUse[pfn] else { throw .busy }
            switch w.type {
            case .slab, .ptdesc: throw .busy
            case .misc where w.subtype == MiscSubtype.reserved.rawValue: throw .busy
            case .file, .anon:
                guard let d = descriptors.lookup(w.descriptorID) else { throw .busy }
                guard held else { break }
                guard d.pointee.mapcount == 0, !inShmemPageCache(pfn), d.refFreeze(1) else { throw .busy }
                hwpoisonInUse[pfn] = nil
                destroyDescriptor(w.descriptorID, d)
                return
            default: break
            }
            hwpoisonInUse[pfn] = nil
        }
    }

    /// PageHWPoison(): whether `pfn` is poisoned (in use or taken off the
    /// allocator). `.outOfRange` / `.noPage` as every page query. The C
    /// counterpart is `scamem_page_hwpoison()`.
    public func pageHWPoison(_ pfn: UInt64) throws(ScamemError) -> Bool {
        try lock.withLock { () throws(ScamemError) -> Bool in isHWPoison(pfn, try checkedWord(pfn)) }
    }

    /// num_poisoned_pages: pages poisoned now, in use or taken off.
    public var numPoisonedPages: Int { lock.withLock { hwpoisonInUse.count + hwpoisonWords } }

    /// The checker's half for poisoned pages: HWPOISON words are counted,
    /// pages in use recorded as poisoned are in use, and a folio
    /// memory_failure() holds is a small live folio.
    func checkHWPoison(words counted: Int, _ bad: Report) {
        if counted != hwpoisonWords {
            bad(nil, .counter, "\(hwpoisonWords) pages counted as taken off for hwpoison, \(counted) HWPOISON words")
        }
        for (pfn, held) in hwpoisonInUse {
            let w = PageWord(rawValue: pfn < endPfn ? words[Int(pfn)] : PageWord.nopage.rawValue)
            if w.isNopage || w.type == .buddy || w.type == .hwpoison {
                bad(pfn, .word, "poisoned page in use has a \(w.isNopage ? "NOPAGE" : w.type.description) word")
                continue
            }
            if held {
                guard PageType.folioTypes & w.type.bit != 0, let d = descriptors.lookup(w.descriptorID),
                      d.pointee.order == 0 else {
                    bad(pfn, .refcount, "memory_failure() holds a reference on a \(w.type) page that is no small folio")
                    continue
                }
            }
        }
    }
}
