/// `gup_flags` (FOLL_*), with the kernel's bit numbers. The C counterparts
/// are `SCAMEM_FOLL_*`.
@frozen
public struct FollFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let write = FollFlags(rawValue: 1 << 0)
    public static let get = FollFlags(rawValue: 1 << 1)
    /// Access a VMA its protections forbid, as ptrace does: a private
    /// mapping gets a COW copy (check_vma_flags(), can_follow_write_pte()).
    public static let force = FollFlags(rawValue: 1 << 4)
    public static let longterm = FollFlags(rawValue: 1 << 8)
    public static let pin = FollFlags(rawValue: 1 << 19)
    static let known: FollFlags = [.write, .get, .force, .longterm, .pin]
}

/// GUP_PIN_COUNTING_BIAS: what a pin adds to a small folio's refcount.
public let gupPinCountingBias: Int32 = 1 << 10

/// References GUP holds on one page (the model's ledger).
struct GupHolds: Hashable {
    var gets: UInt32 = 0
    var pins: UInt32 = 0
}

/// get_user_pages(), pin_user_pages() and their release given the page alone.
extension Machine {
    /// try_grab_folio() and its scamem twin: one GUP reference on the page,
    /// found through the VMA that maps object `vmaObject` (if any).
    func grab(_ pfn: UInt64, pin: Bool, vmaObject: Int?) throws(ScamemError) {
        let w = PageWord(rawValue: words[Int(pfn)])
        if pfn == zeroPfn {
            // try_grab_folio(): no pin on the zero page, "it's not going
            // anywhere"; a FOLL_GET's count the model keeps in the ledger alone.
        } else if let p = strategy.page(pfn, word: w, through: vmaObject, in: self) {
            // A scamem page: the strategy says what the reference holds.
            try strategy.gupTaken(p, pin: pin, in: self)
        } else if let (_, d) = try? descriptor(of: pfn, PageType.folioTypes) {
            let add: Int32 = pin && d.pointee.order == 0 ? gupPinCountingBias : 1
            guard d.pointee.refcount <= Int32.max - add, d.pointee.pincount < Int32.max else { throw .overflow }
            d.pointee.refcount += add
            if pin && d.pointee.order > 0 { d.pointee.pincount += 1 }
        } else {
            throw .fault
        }
        if pin { gupLedger[pfn, default: GupHolds()].pins += 1 } else { gupLedger[pfn, default: GupHolds()].gets += 1 }
    }

    /// __get_user_pages(): walks `nrPages` pages from `start`, faulting in
    /// what is missing or must be copied first, and takes a reference on
    /// each into `out`. Returns how many were taken; an error after the
    /// first page ends the walk early, as the kernel returns a short count.
    func gupLocked(_ s: Int, start: UInt64, nrPages: Int, flags: FollFlags, pin: Bool,
                   out: UnsafeMutablePointer<UInt64>) throws(ScamemError) -> Int {
        for i in 0..<nrPages {
            do throws(ScamemError) {
                let addr = start + UInt64(i) * 4096
                guard let vi = mms[s].index(containing: addr) else { throw .fault }
                try checkVMAFlags(mms[s].vmas[vi], flags)
                let pfn = try followPageForGUP(s, vi, addr, flags)
                try grab(pfn, pin: pin, vmaObject: mms[s].vmas[vi].object.flatMap { scamems.slot(handle: $0) })
                out[i] = pfn
            } catch {
                if i == 0 { throw error }
                return i
            }
        }
        return nrPages
    }

    /// check_vma_flags(): raw pfns have no page to reference; a write needs
    /// VM_WRITE, or FOLL_FORCE on a COW mapping; a read VM_READ, or FOLL_FORCE.
    func checkVMAFlags(_ v: VMA, _ flags: FollFlags) throws(ScamemError) {
        guard v.flags.isDisjoint(with: [.io, .pfnMap]) else { throw .fault }
        if flags.contains(.write) {
            if !v.flags.contains(.write), !flags.contains(.force) || !v.isCOW { throw .fault }
        } else if !v.flags.contains(.read), !flags.contains(.force) || !v.flags.contains(.mayRead) {
            throw .fault
        }
    }

    /// follow_page_pte() with faultin_page() until it succeeds: a missing
    /// pte faults in (a write fault for FOLL_WRITE); FOLL_WRITE through a pte
    /// that is not writable (can_follow_write_pte()) takes a write fault; a
    /// R/O FOLL_PIN that gup_must_unshare() an unshare fault. One fault
    /// leaves the pte as the retry needs it.
    func followPageForGUP(_ s: Int, _ vi: Int, _ addr: UInt64, _ flags: FollFlags) throws(ScamemError) -> UInt64 {
        // vm_fault_to_errno() without FOLL_HWPOISON: VM_FAULT_HWPOISON is -EFAULT.
        do throws(ScamemError) { return try followPageOrFault(s, vi, addr, flags) } catch { throw error == .hwpoison ? .fault : error }
    }

    func followPageOrFault(_ s: Int, _ vi: Int, _ addr: UInt64, _ flags: FollFlags) throws(ScamemError) -> UInt64 {
        let idx = mms[s].vmas[vi].pteIndex(addr)
        let write = flags.contains(.write)
        let first = mms[s].vmas[vi].ptes[idx]
        if first == 0 { _ = try faultPage(s, vi, addr, write ? .write : []) }
        if first & PTE.hwpoison != 0 { throw .hwpoison }
        let v = mms[s].vmas[vi], pte = v.ptes[idx]
        if write {
            if !canFollowWritePte(v, pte, flags) { return try faultPage(s, vi, addr, .write) }
        } else if !v.writable(pte), gupMustUnshare(v, pte, flags) {
            return try faultPage(s, vi, addr, .unshare)
        }
        return PTE.pfn(pte)
    }

    /// can_follow_write_pte(): a writable pte, or FOLL_FORCE on a private
    /// VMA without VM_WRITE (but VM_MAYWRITE) whose page is already an
    /// exclusive anon copy.
    func canFollowWritePte(_ v: VMA, _ pte: UInt64, _ flags: FollFlags) -> Bool {
        if v.writable(pte) { return true }
        guard flags.contains(.force), v.isCOW, !v.flags.contains(.write) else { return false }
        return pte & (PTE.anon | PTE.exclusive) == PTE.anon | PTE.exclusive
    }

    /// gup_must_unshare(): a R/O FOLL_PIN must not pin a page a later COW
    /// could replace: a shared anon page, or (FOLL_LONGTERM) any non-anon
    /// page of a COW mapping.
    func gupMustUnshare(_ v: VMA, _ pte: UInt64, _ flags: FollFlags) -> Bool {
        guard flags.contains(.pin), !flags.contains(.write) else { return false }
        if pte & PTE.anon == 0 { return flags.contains(.longterm) && v.isCOW }
        return pte & PTE.exclusive == 0
    }

    func gup(_ mm: MMID, start: UInt64, nrPages: Int, flags: FollFlags, pin: Bool,
             out: UnsafeMutablePointer<UInt64>) throws(ScamemError) -> Int {
        // is_valid_gup_args(): FOLL_PIN is internal (pin_user_pages() sets
        // it), FOLL_GET and FOLL_PIN are exclusive, FOLL_LONGTERM pins only.
        guard FollFlags.known.isSuperset(of: flags), !flags.contains(.pin), !pin || !flags.contains(.get),
              !flags.contains(.longterm) || pin,
              start & 4095 == 0, nrPages >= 0, nrPages <= 1 << 30,
              start <= taskSize, UInt64(nrPages) * 4096 <= taskSize - start else { throw .invalid }
        return try lock.withLock { () throws(ScamemError) -> Int in
            // A stale mm is -EBADF even when there is nothing to take.
            let s = try mmSlot(mm)
            guard nrPages > 0 else { return 0 }
            // mm_set_has_pinned_flag(): fork() now checks for pinned anon pages.
            if pin { mms[s].hasPinned = true }
            return try gupLongtermLocked(s, start: start, nrPages: nrPages, flags: flags.union(pin ? .pin : .get),
                                         pin: pin, out: out)
        }
    }

    /// __gup_longterm_locked(): without FOLL_LONGTERM just the walk. With
    /// it, the walk's faults allocate as under memalloc_pin_save() (never
    /// ZONE_MOVABLE), and check_and_migrate_movable_pages() moves what must
    /// not be pinned long-term and has the whole range pinned again. The
    /// retry ends: every folio it moves, and every page a retry faults in,
    /// comes from a non-movable allocation, so it is pinnable next time.
    func gupLongtermLocked(_ s: Int, start: UInt64, nrPages: Int, flags: FollFlags, pin: Bool,
                           out: UnsafeMutablePointer<UInt64>) throws(ScamemError) -> Int {
        guard flags.contains(.longterm) else {
            return try gupLocked(s, start: start, nrPages: nrPages, flags: flags, pin: pin, out: out)
        }
        let saved = memallocPin
        memallocPin = true
        defer { memallocPin = saved }
        while true {
            let n = try gupLocked(s, start: start, nrPages: nrPages, flags: flags, pin: pin, out: out)
            guard try checkAndMigrateMovablePages(UnsafeBufferPointer(start: out, count: n)) else { return n }
        }
    }

    /// current_gfp_context() (include/linux/sched/mm.h): inside
    /// memalloc_pin_save()'s scope (PF_MEMALLOC_PIN) no allocation is
    /// __GFP_MOVABLE. The model has one current task: the lock's holder.
    func currentGfpContext(_ gfp: GFP) -> GFP { memallocPin ? gfp.subtracting(.movable) : gfp }

    /// folio_is_longterm_pinnable() (include/linux/mm.h): not in a CMA or
    /// MIGRATE_ISOLATE pageblock (folio_migratetype()); then the zero page,
    /// and any page outside ZONE_MOVABLE. A scamem page is pinnable where
    /// vmalloc() puts it (GFP_KERNEL: never ZONE_MOVABLE or CMA).
    func isLongtermPinnable(_ pfn: UInt64) -> Bool {
        let mt = pageblockMigratetype(pfn)
        if mt == .cma || mt == .isolate { return false }
        guard hasMovableZone, pfn != zeroPfn, let f = try? flags(of: pfn) else { return true }
        return layout.zone(f) != .movable
    }

    /// check_and_migrate_movable_pages(): collect_longterm_unpinnable_folios()
    /// then migrate_longterm_unpinnable_folios(). With every page pinnable
    /// the pins stay and the result is false. Otherwise every page is
    /// unpinned (the pins would fail the migration's refcount check) and the
    /// unpinnable folios migrate to GFP_USER memory on their own node first
    /// (GFP_KERNEL's zones: __GFP_HARDWALL and __GFP_NOWARN change nothing
    /// in the model); true asks for the retry (the kernel's -EAGAIN). If any
    /// folio fails to move, migrate_pages() returns non-zero and the pin
    /// fails `.noMemory` with nothing held; the folios that did move stay
    /// moved. A page that is no LRU folio (a scamem or MISC page in
    /// ZONE_MOVABLE) fails so too, where the kernel, unable to isolate it,
    /// returns -EAGAIN and retries without end.
    func checkAndMigrateMovablePages(_ pfns: UnsafeBufferPointer<UInt64>) throws(ScamemError) -> Bool {
        var heads = Set<UInt64>()
        for pfn in pfns where !isLongtermPinnable(pfn) {
            heads.insert((try? descriptor(of: pfn, PageType.folioTypes))?.desc.pointee.pfn ?? pfn)
        }
        guard !heads.isEmpty else { return false }
        // Each was pinned just now, so each release succeeds.
        for pfn in pfns { try? release(pfn, pin: true) }
        guard migrateFolios(heads, to: MigrationTarget(gfp: .kernel, nid: nil)).failed.isEmpty else { throw .noMemory }
        return true
    }

    /// get_user_pages(): FOLL_GET references; release each with `putPage`.
    /// Returns the pfns (fewer than asked if the walk stopped early).
    /// The C counterpart is `scamem_get_user_pages()`.
    public func getUserPages(_ mm: MMID, start: UInt64, nrPages: Int, flags: FollFlags = []) throws(ScamemError) -> [UInt64] {
        try userPages(mm, start: start, nrPages: nrPages, flags: flags, pin: false)
    }

    /// pin_user_pages(): FOLL_PIN references (FOLL_LONGTERM, FOLL_WRITE
    /// allowed); release each with `unpinUserPage`. The C counterpart is
    /// `scamem_pin_user_pages()`.
    public func pinUserPages(_ mm: MMID, start: UInt64, nrPages: Int, flags: FollFlags = []) throws(ScamemError) -> [UInt64] {
        try userPages(mm, start: start, nrPages: nrPages, flags: flags, pin: true)
    }

    /// get_user_pages() into a caller's buffer of at least `nrPages` pfns.
    /// Returns how many were taken.
    public func getUserPages(_ mm: MMID, start: UInt64, nrPages: Int, flags: FollFlags = [],
                             into out: UnsafeMutablePointer<UInt64>) throws(ScamemError) -> Int {
        try gup(mm, start: start, nrPages: nrPages, flags: flags, pin: false, out: out)
    }

    /// pin_user_pages() into a caller's buffer of at least `nrPages` pfns.
    /// Returns how many were pinned.
    public func pinUserPages(_ mm: MMID, start: UInt64, nrPages: Int, flags: FollFlags = [],
                             into out: UnsafeMutablePointer<UInt64>) throws(ScamemError) -> Int {
        try gup(mm, start: start, nrPages: nrPages, flags: flags, pin: true, out: out)
    }

    func userPages(_ mm: MMID, start: UInt64, nrPages: Int, flags: FollFlags, pin: Bool) throws(ScamemError) -> [UInt64] {
        guard nrPages >= 0, nrPages <= 1 << 30 else { throw .invalid }
        var pfns = [UInt64](repeating: 0, count: max(nrPages, 1))
        let n = try pfns.withUnsafeMutableBufferPointer { (b) throws(ScamemError) -> Int in
            try gup(mm, start: start, nrPages: nrPages, flags: flags, pin: pin, out: b.baseAddress!)
        }
        return Array(pfns.prefix(n))
    }

    /// Releases one GUP reference given the page alone: the scamem behind a
    /// scamem page, the folio otherwise. A page GUP does not hold is refused.
    func release(_ pfn: UInt64, pin: Bool) throws(ScamemError) {
        let w = try checkedWord(pfn)
        guard let held = gupLedger[pfn], pin ? held.pins > 0 : held.gets > 0 else {
            throw w.type == .buddy ? .alreadyFree : .invalid
        }
        if pfn == zeroPfn {
            // gup_put_folio(): nothing was taken on the zero page.
        } else if let p = strategy.page(pfn, word: w, through: nil, in: self) {
            strategy.gupReleased(p, pin: pin, in: self)
        } else {
            let (id, d) = try descriptor(of: pfn, PageType.folioTypes)
            if pin && d.pointee.order > 0 { d.pointee.pincount -= 1 }
            d.pointee.refcount -= pin && d.pointee.order == 0 ? gupPinCountingBias : 1
            if d.pointee.refcount == 0 { destroyDescriptor(id, d) }
        }
        var h = held
        if pin { h.pins -= 1 } else { h.gets -= 1 }
        gupLedger[pfn] = h == GupHolds() ? nil : h
    }

    /// put_page() for a get_user_pages() reference. The C counterpart is
    /// `scamem_put_page()`.
    public func putPage(_ pfn: UInt64) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in try release(pfn, pin: false) }
    }

    /// unpin_user_page(). The C counterpart is `scamem_unpin_user_page()`.
    public func unpinUserPage(_ pfn: UInt64) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in try release(pfn, pin: true) }
    }

    /// unpin_user_pages(): stops at the first page that is not pinned and
    /// returns how many were unpinned before it (throwing if none were).
    /// The C counterpart is `scamem_unpin_user_pages()`.
    @discardableResult
    public func unpinUserPages(_ pfns: UnsafeBufferPointer<UInt64>) throws(ScamemError) -> Int {
        try lock.withLock { () throws(ScamemError) -> Int in
            for (i, pfn) in pfns.enumerated() {
                do throws(ScamemError) { try release(pfn, pin: true) } catch {
                    if i == 0 { throw error }
                    return i
                }
            }
            return pfns.count
        }
    }

    /// folio_maybe_dma_pinned(): a large folio's pincount, a small folio's
    /// refcount against the 1024 bias (false positives included, as in the
    /// kernel); for a scamem page, whether GUP holds the scamem at all (one
    /// count per object cannot tell get from pin, nor one page from another).
    /// The C counterpart is `scamem_folio_maybe_dma_pinned()`.
    public func folioMaybeDmaPinned(_ pfn: UInt64) throws(ScamemError) -> Bool {
        try lock.withLock { () throws(ScamemError) -> Bool in
            let w = try checkedWord(pfn)
            if let p = strategy.page(pfn, word: w, through: nil, in: self) { return strategy.maybeDmaPinned(p, in: self) }
            guard !w.type.isInline, let (_, d) = try? descriptor(of: pfn, PageType.folioTypes) else { return false }
            return d.pointee.order > 0 ? d.pointee.pincount > 0 : d.pointee.refcount >= gupPinCountingBias
        }
    }
}
