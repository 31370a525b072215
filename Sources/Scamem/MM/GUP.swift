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

/// What one GUP reference on a page is taken on: nothing (the zero page),
/// a scamem (or, LEGACY, the pages' own struct pages: no object), or a
/// folio. Consecutive pages with one holder are a run whose references are
/// taken or dropped at once, as try_grab_folio(folio, refs, flags) and
/// gup_put_folio(folio, refs, flags) do for a folio's pages.
struct GupHolder: Equatable {
    enum Kind: UInt8 { case none, zeroPage, scamem, folio }
    let kind: Kind
    /// The scamem's slot (-1: LEGACY's pages, no object) or the folio's descriptor id.
    let id: Int

    static let none = GupHolder(kind: .none, id: 0)
    static let zeroPage = GupHolder(kind: .zeroPage, id: 0)
    @inline(__always) static func scamem(_ slot: Int?) -> GupHolder { GupHolder(kind: .scamem, id: slot ?? -1) }
    @inline(__always) static func folio(_ id: UInt64) -> GupHolder { GupHolder(kind: .folio, id: Int(bitPattern: UInt(id))) }
    /// The scamem slot of a `.scamem` holder (nil under LEGACY).
    var slot: Int? { id < 0 ? nil : id }

    @inline(__always) static func == (a: GupHolder, b: GupHolder) -> Bool { a.kind == b.kind && a.id == b.id }
}

/// A run of pages `start..<start + count` of the caller's array with one
/// holder. `word` is its first page's word: where the word alone names the
/// holder (`byWord`: a folio's pointer word, or a scamem's where the
/// strategy's word names the object), a next page with the same word is
/// the same holder without asking again, as gup_folio_next() compares
/// page_folio() of each page, here the memdesc pointer in the word.
struct GupRun {
    var holder = GupHolder.none
    var word: UInt64 = 0
    var byWord = false
    var start = 0
    var count = 0

    /// Page `index` with word `w` belongs to this run as it is.
    @inline(__always)
    func continues(_ w: UInt64, at index: Int) -> Bool { byWord && w == word && count > 0 && start + count == index }
}

/// get_user_pages(), pin_user_pages() and their release given the page alone.
extension Machine {
    /// The holder a GUP reference on `pfn` (word `w`, mapped by a VMA whose
    /// object is scamem slot `vmaObject`, if any) is taken on; `.fault` for
    /// a page with nothing to hold (the kernel's try_grab_folio() of a page
    /// that is no folio).
    func gupHolder(_ pfn: UInt64, _ w: PageWord, vmaObject: Int?) throws(ScamemError) -> GupHolder {
        // try_grab_folio(): no pin on the zero page, "it's not going
        // anywhere"; a FOLL_GET's count the model keeps in the ledger alone.
        if pfn == zeroPfn { return .zeroPage }
        // A folio's pointer word (no strategy's scamem page has one).
        if PageType.folioTypes & w.type.bit != 0 {
            guard descriptors.lookup(w.descriptorID) != nil else { throw .fault }
            return .folio(w.descriptorID)
        }
        // A scamem page: the strategy says what the reference holds.
        guard let p = strategy.page(pfn, word: w, through: vmaObject, in: self) else { throw .fault }
        return .scamem(p.slot)
    }

    /// A new run for page `index` with word `w` and holder `h`.
    @inline(__always)
    func gupRun(_ h: GupHolder, _ w: UInt64, at index: Int) -> GupRun {
        GupRun(holder: h, word: w, byWord: h.kind != .scamem || strategyWordNamesObject, start: index, count: 1)
    }

    /// Adds page `index` (`pfn`, mapped by a VMA whose object is scamem slot
    /// `vmaObject`) to the run, taking the run's references first when the
    /// holder changes. The page's ledger section is made ready here, so that
    /// taking the run's holds cannot fail.
    @inline(__always)
    func gupExtend(_ run: inout GupRun, _ pfn: UInt64, vmaObject: Int?, index: Int,
                   pfns: UnsafeMutablePointer<UInt64>, pin: Bool) throws(ScamemError) {
        guard pfn < endPfn else { throw .fault }
        guard gupLedger.prepare(pfn) else { throw .noMemory }
        let w = words[Int(pfn)]
        if run.continues(w, at: index) {
            run.count += 1
            return
        }
        let h = try gupHolder(pfn, PageWord(rawValue: w), vmaObject: vmaObject)
        if h == run.holder && run.start + run.count == index {
            run.count += 1
            return
        }
        try gupGrab(&run, pfns, pin: pin)
        run = gupRun(h, w, at: index)
    }

    /// try_grab_folio(folio, refs, flags) for the run, all or nothing, and
    /// its holds into the ledger; the run is empty afterwards if it worked.
    func gupGrab(_ run: inout GupRun, _ pfns: UnsafeMutablePointer<UInt64>, pin: Bool) throws(ScamemError) {
        let r = run
        guard r.count > 0 else { return }
        let pages = UnsafeBufferPointer(start: pfns + r.start, count: r.count)
        switch r.holder.kind {
        case .none, .zeroPage:
            break
        case .scamem:
            try strategy.gupTaken(pages, slot: r.holder.slot, pin: pin, in: self)
        case .folio:
            // A large folio counts pins in _pincount and adds one reference
            // per pin; a small one adds GUP_PIN_COUNTING_BIAS per pin.
            let d = descriptors.lookup(UInt64(r.holder.id)).unsafelyUnwrapped
            let large = d.pointee.order > 0
            let add = Int64(pin && !large ? gupPinCountingBias : 1) * Int64(r.count)
            guard Int64(d.refs) + add <= Int64(Int32.max),
                  !pin || !large || Int64(d.pins) + Int64(r.count) <= Int64(Int32.max) else { throw .overflow }
            d.refAdd(Int32(add))
            if pin && large { d.pinAdd(Int32(r.count)) }
        }
        gupLedger.take(pages, pin: pin)
        run = GupRun()
    }

    /// __get_user_pages(): walks `nrPages` pages from `start`, faulting in
    /// what is missing or must be copied first, and takes a reference on
    /// each into `out`, a run of one holder's pages at a time. Returns how
    /// many were taken; an error after the first page ends the walk early,
    /// as the kernel returns a short count.
    func gupLocked(_ s: Int, start: UInt64, nrPages: Int, flags: FollFlags, pin: Bool,
                   out: UnsafeMutablePointer<UInt64>) throws(ScamemError) -> Int {
        var run = GupRun()
        var i = 0
        do throws(ScamemError) {
            while i < nrPages {
                let addr = start + UInt64(i) * 4096
                guard let vi = mms[s].index(containing: addr) else { throw .fault }
                try checkVMAFlags(mms[s].vmas[vi].flags, flags)
                let n = min(nrPages - i, Int((mms[s].vmas[vi].end - addr) >> 12))
                let object = mms[s].vmas[vi].object.flatMap { scamems.slot(handle: $0) }
                let j = try followPresentPtes(s, vi, addr, n, flags, object: object, &run, out: out, base: i, pin: pin)
                i += j
                guard j < n else { continue }
                // This page needs a fault (which may allocate): the run so far
                // is held first, then the faulted page on its own.
                try gupGrab(&run, out, pin: pin)
                let pfn = try followPageForGUP(s, vi, start + UInt64(i) * 4096, flags)
                out[i] = pfn
                try gupExtend(&run, pfn, vmaObject: object, index: i, pfns: out, pin: pin)
                try gupGrab(&run, out, pin: pin)
                i += 1
            }
            try gupGrab(&run, out, pin: pin)
            return nrPages
        } catch {
            // The pages before the run are held, and the run's too if its
            // grab works now (it failed if the error was its own). With no
            // run, every page before the failing one `i` is held.
            var taken = i
            if run.count > 0 {
                let (first, count) = (run.start, run.count)
                taken = (try? gupGrab(&run, out, pin: pin)) != nil ? first + count : first
            }
            if taken == 0 { throw error }
            return taken
        }
    }

    /// The pages from `addr` (at most `n`, inside VMA `vi`) whose ptes GUP
    /// can follow as they are (follow_page_pte() with no fault to take),
    /// added to the run: one read of the page table, no fault. Returns how
    /// many; the next one, if any, needs a fault.
    func followPresentPtes(_ s: Int, _ vi: Int, _ addr: UInt64, _ n: Int, _ flags: FollFlags, object: Int?,
                           _ run: inout GupRun, out: UnsafeMutablePointer<UInt64>, base: Int,
                           pin: Bool) throws(ScamemError) -> Int {
        let v = mms[s].vmas[vi], ptes = v.ptes
        let first = v.pteIndex(addr)
        let write = flags.contains(.write)
        var j = 0
        while j < n {
            let pte = ptes[first + j]
            guard PTE.isPresent(pte) else { break }
            if write {
                guard canFollowWritePte(v.flags, pte, flags) else { break }
            } else if !v.flags.writable(pte), gupMustUnshare(v.flags, pte, flags) {
                break
            }
            let pfn = PTE.pfn(pte)
            out[base + j] = pfn
            try gupExtend(&run, pfn, vmaObject: object, index: base + j, pfns: out, pin: pin)
            j += 1
            guard run.holder.kind == .folio else { continue }
            // folio_pte_batch(): the ptes that follow with the same bits
            // and the next pfns of this folio are its pages too, followed
            // alike, in one section's ledger cells: a folio is aligned to
            // its size, at most 2^MAX_PAGE_ORDER pages, and FlagsLayout
            // refuses a section smaller than that.
            let d = descriptors.lookup(UInt64(run.holder.id)).unsafelyUnwrapped
            let folioEnd = d.pointee.pfn &+ (1 &<< UInt64(d.pointee.order))
            var next = pte &+ 1, nextPfn = pfn &+ 1
            while j < n, nextPfn < folioEnd, ptes[first + j] == next {
                out[base + j] = nextPfn
                run.count &+= 1
                j += 1
                next &+= 1
                nextPfn &+= 1
            }
        }
        return j
    }

    /// check_vma_flags(): raw pfns have no page to reference; a write needs
    /// VM_WRITE, or FOLL_FORCE on a COW mapping; a read VM_READ, or FOLL_FORCE.
    func checkVMAFlags(_ v: VMAFlags, _ flags: FollFlags) throws(ScamemError) {
        guard v.isDisjoint(with: [.io, .pfnMap]) else { throw .fault }
        if flags.contains(.write) {
            if !v.contains(.write), !flags.contains(.force) || !v.isCOW { throw .fault }
        } else if !v.contains(.read), !flags.contains(.force) || !v.contains(.mayRead) {
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
            if !canFollowWritePte(v.flags, pte, flags) { return try faultPage(s, vi, addr, .write) }
        } else if !v.flags.writable(pte), gupMustUnshare(v.flags, pte, flags) {
            return try faultPage(s, vi, addr, .unshare)
        }
        return PTE.pfn(pte)
    }

    /// can_follow_write_pte(): a writable pte, or FOLL_FORCE on a private
    /// VMA without VM_WRITE (but VM_MAYWRITE) whose page is already an
    /// exclusive anon copy.
    func canFollowWritePte(_ v: VMAFlags, _ pte: UInt64, _ flags: FollFlags) -> Bool {
        if v.writable(pte) { return true }
        guard flags.contains(.force), v.isCOW, !v.contains(.write) else { return false }
        return pte & (PTE.anon | PTE.exclusive) == PTE.anon | PTE.exclusive
    }

    /// gup_must_unshare(): a R/O FOLL_PIN must not pin a page a later COW
    /// could replace: a shared anon page, or (FOLL_LONGTERM) any non-anon
    /// page of a COW mapping.
    func gupMustUnshare(_ v: VMAFlags, _ pte: UInt64, _ flags: FollFlags) -> Bool {
        guard flags.contains(.pin), !flags.contains(.write) else { return false }
        if pte & PTE.anon == 0 { return flags.contains(.longterm) && v.isCOW }
        return pte & PTE.exclusive == 0
    }

    /// is_valid_gup_args(): FOLL_PIN is internal (pin_user_pages() sets
    /// it), FOLL_GET and FOLL_PIN are exclusive, FOLL_LONGTERM pins only;
    /// the range is whole pages inside TASK_SIZE.
    func checkGupArgs(start: UInt64, nrPages: Int, flags: FollFlags, pin: Bool) throws(ScamemError) {
        guard FollFlags.known.isSuperset(of: flags), !flags.contains(.pin), !pin || !flags.contains(.get),
              !flags.contains(.longterm) || pin,
              start & 4095 == 0, nrPages >= 0, nrPages <= 1 << 30,
              start <= taskSize, UInt64(nrPages) * 4096 <= taskSize - start else { throw .invalid }
    }

    func gup(_ mm: MMID, start: UInt64, nrPages: Int, flags: FollFlags, pin: Bool,
             out: UnsafeMutablePointer<UInt64>) throws(ScamemError) -> Int {
        try checkGupArgs(start: start, nrPages: nrPages, flags: flags, pin: pin)
        return try lock.withLock { () throws(ScamemError) -> Int in
            // A stale mm is -EBADF even when there is nothing to take.
            let s = try mmSlot(mm)
            guard nrPages > 0 else { return 0 }
            // mm_set_has_pinned_flag(): fork() now checks for pinned anon pages.
            if pin { mmCell(s).setHasPinned() }
            // GUP-fast finds the VMAs from now on (until they change).
            defer { publishVMAs(s) }
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
        // Each was pinned just now, so the release succeeds.
        _ = try? releasePages(pfns, pin: true)
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

    /// The GUP calls into a new array (fewer than asked if the walk stopped
    /// early), `fast` through GUP-fast first.
    func userPages(_ mm: MMID, start: UInt64, nrPages: Int, flags: FollFlags, pin: Bool,
                   fast: Bool = false) throws(ScamemError) -> [UInt64] {
        guard nrPages >= 0, nrPages <= 1 << 30 else { throw .invalid }
        var pfns = [UInt64](repeating: 0, count: max(nrPages, 1))
        let n = try pfns.withUnsafeMutableBufferPointer { (b) throws(ScamemError) -> Int in
            fast ? try gupFastFallback(mm, start: start, nrPages: nrPages, flags: flags, pin: pin, out: b.baseAddress!)
                : try gup(mm, start: start, nrPages: nrPages, flags: flags, pin: pin, out: b.baseAddress!)
        }
        return Array(pfns.prefix(n))
    }

    /// gup_put_folio(folio, refs, flags) for the run; empty afterwards.
    func gupPut(_ run: inout GupRun, _ pfns: UnsafeBufferPointer<UInt64>, pin: Bool) {
        let r = run
        run = GupRun()
        guard r.count > 0 else { return }
        switch r.holder.kind {
        case .none, .zeroPage:
            // gup_put_folio(): nothing was taken on the zero page.
            break
        case .scamem:
            strategy.gupReleased(UnsafeBufferPointer(rebasing: pfns[r.start..<r.start + r.count]), slot: r.holder.slot,
                                 pin: pin, in: self)
        case .folio:
            let id = UInt64(r.holder.id)
            let d = descriptors.lookup(id).unsafelyUnwrapped
            let large = d.pointee.order > 0
            if pin && large { d.pinSub(Int32(r.count)) }
            if d.refSub((pin && !large ? gupPinCountingBias : 1) * Int32(r.count)) == 0 { destroyDescriptor(id, d) }
        }
    }

    /// unpin_user_pages() (or put_page() of each, `pin` false) given the
    /// pages alone: gup_folio_next() runs of one holder, each released at
    /// once. Stops at the first page GUP does not hold, returning how many
    /// were released before it (throwing if none were).
    func releasePages(_ pfns: UnsafeBufferPointer<UInt64>, pin: Bool) throws(ScamemError) -> Int {
        var run = GupRun()
        var i = 0
        while i < pfns.count {
            let pfn = pfns[i]
            // The run goes on: the page has its word (so it has a memmap).
            // Each page joins the run or starts the next, so runs are contiguous.
            if run.byWord, pfn < endPfn, words[Int(truncatingIfNeeded: pfn)] == run.word, gupLedger.drop(pfn, pin: pin) {
                run.count &+= 1
                i &+= 1
                continue
            }
            let w: PageWord, h: GupHolder
            do throws(ScamemError) {
                w = try checkedWord(pfn)
                guard gupLedger.drop(pfn, pin: pin) else { throw w.type == .buddy ? .alreadyFree : .invalid }
                // The holder from the page alone (no VMA to ask).
                guard let held = try? gupHolder(pfn, w, vmaObject: nil) else {
                    // The ledger and the page disagree: the checker reports it.
                    gupLedger.take(pfn, pin: pin)
                    throw .invalid
                }
                h = held
            } catch {
                gupPut(&run, pfns, pin: pin)
                if i == 0 { throw error }
                return i
            }
            if h == run.holder {
                run.count &+= 1
            } else {
                gupPut(&run, pfns, pin: pin)
                run = gupRun(h, w.rawValue, at: i)
            }
            i &+= 1
        }
        gupPut(&run, pfns, pin: pin)
        return pfns.count
    }

    /// Releases one GUP reference given the page alone.
    func release(_ pfn: UInt64, pin: Bool) throws(ScamemError) {
        _ = try withUnsafePointer(to: pfn) { (p) throws(ScamemError) -> Int in
            try releasePages(UnsafeBufferPointer(start: p, count: 1), pin: pin)
        }
    }

    /// put_page() for a get_user_pages() reference, without the lock where
    /// it can (`gupRelease`). The C counterpart is `scamem_put_page()`.
    public func putPage(_ pfn: UInt64) throws(ScamemError) {
        _ = try withUnsafePointer(to: pfn) { (p) throws(ScamemError) -> Int in
            try gupRelease(UnsafeBufferPointer(start: p, count: 1), pin: false)
        }
    }

    /// unpin_user_page(). The C counterpart is `scamem_unpin_user_page()`.
    public func unpinUserPage(_ pfn: UInt64) throws(ScamemError) {
        _ = try withUnsafePointer(to: pfn) { (p) throws(ScamemError) -> Int in
            try gupRelease(UnsafeBufferPointer(start: p, count: 1), pin: true)
        }
    }

    /// unpin_user_pages(), without the lock where it can (`gupRelease`):
    /// stops at the first page that is not pinned and returns how many were
    /// unpinned before it (throwing if none were). The C counterpart is
    /// `scamem_unpin_user_pages()`.
    @discardableResult
    public func unpinUserPages(_ pfns: UnsafeBufferPointer<UInt64>) throws(ScamemError) -> Int {
        try gupRelease(pfns, pin: true)
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
            return d.pointee.order > 0 ? d.pins > 0 : d.refs >= gupPinCountingBias
        }
    }
}
