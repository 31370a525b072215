import Synchronization

/// GUP-fast (mm/gup.c: gup_fast(), gup_fast_pte_range(),
/// try_grab_folio_fast(), gup_fast_fallback()) and the unpin that, as
/// unpin_user_pages(), takes no lock.
///
/// The lockless walk reads an mm's published VMAs (`VMASnapshot`), the
/// ptes, the page words, and takes references with try-get-unless-zero
/// on folios (type-stable `DescriptorTable` slots) and on scamems whose
/// word points at them (`ScamemCell`), then rechecks the word and the pte.
/// What it reached through a pte stays alive until it is done, because
/// every pte change that drops a reference waits for a grace period first
/// (`zap`, `wpPageCopy`, migration, memory_failure()): the kernel's TLB
/// flush that waits for a GUP-fast running with interrupts off. On any
/// doubt (no published VMAs, a pte that is not present or not writable
/// enough, a page that is no folio and no pointer-word scamem, a frozen
/// count, a recheck that fails, a fork() copying the page tables) it stops,
/// and the rest goes to the locked walk.
///
/// Where the model differs: the kernel's GUP-fast reads no VMA at all (the
/// pte bits say what check_vma_flags() would), and checks
/// folio_is_longterm_pinnable() itself; the model's ptes keep no write or
/// special bit, so the VMA's flags come with its published copy, and
/// FOLL_LONGTERM always takes the locked path.
extension Machine {
    /// gup_fast(): as many pages from `start` as can be taken without the
    /// lock, into `out`. Returns how many.
    func gupFast(_ mm: MMID, start: UInt64, nrPages: Int, flags: FollFlags, pin: Bool,
                 out: UnsafeMutablePointer<UInt64>) -> Int {
        guard nrPages > 0, !flags.contains(.longterm), let cell = mmCell(handle: mm.rawValue) else { return 0 }
        // gup_fast_fallback(): FOLL_PIN marks the mm before anything is pinned.
        if pin { cell.setHasPinned() }
        guard let idx = rcu.readLock() else { return 0 }
        // raw_seqcount_try_begin(&mm->write_protect_seq): not while fork()
        // copies the page tables.
        let seq = pin ? cell.writeProtectSeq : 0
        var taken = 0
        if seq & 1 == 0, let vmas = cell.vmas {
            while taken < nrPages {
                let addr = start &+ UInt64(taken) &* 4096
                guard let v = vmas.find(addr), (try? checkVMAFlags(v.pointee.flags, flags)) != nil else { break }
                let n = min(nrPages - taken, Int((v.pointee.end - addr) >> 12))
                let j = gupFastPteRange(v.pointee, addr, n, flags, pin: pin, out: out + taken)
                taken += j
                guard j == n else { break }
            }
        }
        // read_seqcount_retry(): a fork() began meanwhile and may have
        // shared a page just pinned with its child: give them all back.
        let forked = pin && taken > 0 && cell.writeProtectSeq != seq
        rcu.readUnlock(idx)
        if forked {
            _ = try? gupRelease(UnsafeBufferPointer(start: out, count: taken), pin: true)
            return 0
        }
        return taken
    }

    /// gup_fast_pte_range() over `n` pages of `v` from `addr`: a run of one
    /// folio's or one scamem's pages at a time, each run's references taken
    /// at once. Returns how many pages were taken.
    func gupFastPteRange(_ v: FastVMA, _ addr: UInt64, _ n: Int, _ flags: FollFlags, pin: Bool,
                         out: UnsafeMutablePointer<UInt64>) -> Int {
        let ptes = v.ptes + Int((addr - v.start) >> 12)
        let write = flags.contains(.write)
        /// The pte a GUP can follow as it is, and its page ready in the ledger.
        func follow(_ pte: UInt64) -> UInt64? {
            guard PTE.isPresent(pte) else { return nil }
            if write {
                guard canFollowWritePte(v.flags, pte, flags) else { return nil }
            } else if !v.flags.writable(pte), gupMustUnshare(v.flags, pte, flags) {
                return nil
            }
            let pfn = PTE.pfn(pte)
            return pfn < endPfn && gupLedger.prepare(pfn) ? pfn : nil
        }
        var j = 0
        while j < n {
            let pte = ptes[j].load(ordering: .acquiring)
            guard let pfn = follow(pte) else { break }
            let w = words[Int(pfn)], word = PageWord(rawValue: w)
            out[j] = pfn
            var nr = 1
            if PageType.folioTypes & word.type.bit != 0 {
                // Alive while its pte's reference is (see `zap`), so its
                // record holds still: folio_pte_batch() over its next pages.
                guard let d = descriptors.slot(word.descriptorID) else { break }
                let large = d.pointee.order > 0
                let folioEnd = d.pointee.pfn &+ (1 &<< UInt64(d.pointee.order))
                while j + nr < n, pfn &+ UInt64(nr) < folioEnd,
                      ptes[j + nr].load(ordering: .acquiring) == pte &+ UInt64(nr) {
                    out[j + nr] = pfn &+ UInt64(nr)
                    nr += 1
                }
                let refs = Int32(nr) * (pin && !large ? gupPinCountingBias : 1)
                // try_grab_folio_fast(): not a frozen (migrating) folio.
                guard d.refTryAdd(refs) else { break }
                if pin && large { d.pinAdd(Int32(nr)) }
                // page_folio(page) != folio, then the pte recheck.
                if words[Int(pfn)] != w || !ptesUnchanged(ptes + j, pte, nr) {
                    if pin && large { d.pinSub(Int32(nr)) }
                    // Never the last reference: the pte's outlives this walk.
                    _ = d.refSub(refs)
                    break
                }
            } else if word.type == .scamem, strategyWordIsPointer,
                      let c = scamemCells.cell(Int(truncatingIfNeeded: word.descriptorID &- 1)).map(ScamemCell.init),
                      let block = c.block {
                // The next ptes to pages of the same scamem (the same word),
                // with the same pte bits.
                let bits = pte & ~PTE.pfnMask
                while j + nr < n {
                    let next = ptes[j + nr].load(ordering: .acquiring)
                    guard next & ~PTE.pfnMask == bits, let p = follow(next), words[Int(p)] == w else { break }
                    out[j + nr] = p
                    nr += 1
                }
                guard block.refcount.addUnlessZero(Int32(nr)) else { break }
                c.gupAdd(Int32(nr))
                var same = true
                for k in 0..<nr where words[Int(out[j + k])] != w
                    || ptes[j + k].load(ordering: .acquiring) != (out[j + k] &+ 1) | bits {
                    same = false
                    break
                }
                if !same {
                    c.gupAdd(-Int32(nr))
                    // Never the last reference: the pte's outlives this walk.
                    block.refcount.pointee.wrappingSubtract(Int32(nr), ordering: .releasing)
                    break
                }
            } else {
                // The zero page, MISC pages, and scamems the word does not
                // point at: the locked walk's.
                break
            }
            gupLedger.take(UnsafeBufferPointer(start: out + j, count: nr), pin: pin)
            j += nr
        }
        return j
    }

    /// Whether the `nr` ptes from `ptes` still map `pte`'s next pages.
    @inline(__always)
    func ptesUnchanged(_ ptes: UnsafeMutablePointer<Atomic<UInt64>>, _ pte: UInt64, _ nr: Int) -> Bool {
        for k in 0..<nr where ptes[k].load(ordering: .acquiring) != pte &+ UInt64(k) { return false }
        return true
    }

    /// unpin_user_pages() (or put_page() of each, `pin` false) without the
    /// lock: runs of one folio's or one pointer-word scamem's pages, each
    /// released at once, up to the first page it leaves to the locked path
    /// (one not held, one of another kind, or a run whose release would be
    /// the last reference, which is freed under the lock). Returns how many
    /// were released.
    func releasePagesUnlocked(_ pfns: UnsafeBufferPointer<UInt64>, pin: Bool) -> Int {
        guard let idx = rcu.readLock() else { return 0 }
        defer { rcu.readUnlock(idx) }
        var i = 0
        while i < pfns.count {
            let pfn = pfns[i]
            guard pfn < endPfn else { break }
            let w = words[Int(pfn)], word = PageWord(rawValue: w)
            let folio = PageType.folioTypes & word.type.bit != 0
            guard folio || word.type == .scamem && strategyWordIsPointer else { break }
            // The ledger first: a page GUP does not hold ends the run. Once
            // one hold is dropped, the reference it stood for keeps the
            // folio or scamem alive.
            var k = 0
            while i + k < pfns.count, pfns[i + k] < endPfn, words[Int(pfns[i + k])] == w,
                  gupLedger.drop(pfns[i + k], pin: pin) {
                k += 1
            }
            guard k > 0 else { break }
            // The word read before the drops still names the holder: a page
            // freed and taken again meanwhile (by a caller's misuse) goes to
            // the locked path, which looks again.
            let released: Bool
            if words[Int(pfn)] != w {
                released = false
            } else if folio, let d = descriptors.slot(word.descriptorID) {
                let large = d.pointee.order > 0
                released = d.refcount.subtractUnlessLast(Int32(k) * (pin && !large ? gupPinCountingBias : 1))
                if released, pin && large { d.pinSub(Int32(k)) }
            } else if !folio, let c = scamemCells.cell(Int(truncatingIfNeeded: word.descriptorID &- 1)).map(ScamemCell.init),
                      let block = c.block {
                released = block.refcount.subtractUnlessLast(Int32(k))
                if released { c.gupAdd(-Int32(k)) }
            } else {
                released = false
            }
            guard released else {
                for p in pfns[i..<i + k] { gupLedger.take(p, pin: pin) }
                break
            }
            i += k
        }
        return i
    }

    /// unpin_user_pages() given the pages alone: without the lock where it
    /// can, the rest under it (`releasePages`). Stops at the first page GUP
    /// does not hold and returns how many were released before it (throwing
    /// if none were).
    func gupRelease(_ pfns: UnsafeBufferPointer<UInt64>, pin: Bool) throws(ScamemError) -> Int {
        let n = releasePagesUnlocked(pfns, pin: pin)
        guard n < pfns.count else { return n }
        do throws(ScamemError) {
            return try lock.withLock { () throws(ScamemError) -> Int in
                n + (try releasePages(UnsafeBufferPointer(rebasing: pfns[n...]), pin: pin))
            }
        } catch {
            if n > 0 { return n }
            throw error
        }
    }

    /// get_user_pages_fast() / pin_user_pages_fast(): GUP-fast, then the
    /// locked walk for what it left (gup_fast_fallback()). Returns how many
    /// were taken; an error after the first page is a short count.
    func gupFastFallback(_ mm: MMID, start: UInt64, nrPages: Int, flags: FollFlags, pin: Bool,
                         out: UnsafeMutablePointer<UInt64>) throws(ScamemError) -> Int {
        try checkGupArgs(start: start, nrPages: nrPages, flags: flags, pin: pin)
        let n = gupFast(mm, start: start, nrPages: nrPages, flags: flags, pin: pin, out: out)
        if nrPages > 0, n == nrPages { return n }
        do throws(ScamemError) {
            return n + (try gup(mm, start: start + UInt64(n) * 4096, nrPages: nrPages - n, flags: flags, pin: pin, out: out + n))
        } catch {
            if n > 0 { return n }
            throw error
        }
    }

    /// get_user_pages_fast(): FOLL_GET references without the mm's lock
    /// where it can; release each with `putPage`. The C counterpart is
    /// `scamem_get_user_pages_fast()`.
    public func getUserPagesFast(_ mm: MMID, start: UInt64, nrPages: Int, flags: FollFlags = [],
                                 into out: UnsafeMutablePointer<UInt64>) throws(ScamemError) -> Int {
        try gupFastFallback(mm, start: start, nrPages: nrPages, flags: flags, pin: false, out: out)
    }

    /// pin_user_pages_fast(): FOLL_PIN references without the mm's lock
    /// where it can; release with `unpinUserPages`. The C counterpart is
    /// `scamem_pin_user_pages_fast()`.
    public func pinUserPagesFast(_ mm: MMID, start: UInt64, nrPages: Int, flags: FollFlags = [],
                                 into out: UnsafeMutablePointer<UInt64>) throws(ScamemError) -> Int {
        try gupFastFallback(mm, start: start, nrPages: nrPages, flags: flags, pin: true, out: out)
    }

    /// pin_user_pages_fast() into a new array (fewer than asked if it
    /// stopped early).
    public func pinUserPagesFast(_ mm: MMID, start: UInt64, nrPages: Int, flags: FollFlags = []) throws(ScamemError) -> [UInt64] {
        try userPages(mm, start: start, nrPages: nrPages, flags: flags, pin: true, fast: true)
    }

    /// get_user_pages_fast() into a new array.
    public func getUserPagesFast(_ mm: MMID, start: UInt64, nrPages: Int, flags: FollFlags = []) throws(ScamemError) -> [UInt64] {
        try userPages(mm, start: start, nrPages: nrPages, flags: flags, pin: false, fast: true)
    }
}
