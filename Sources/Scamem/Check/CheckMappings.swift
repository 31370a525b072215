/// The checker's half for scamems, vm areas, VMAs and GUP: every reference a
/// scamem counts has a holder, and nothing mapped or held is free.
extension Machine {
    typealias Report = (UInt64?, CheckKind, @autoclosure () -> String) -> Void

    /// Each scamem's count is its holders', its vm_struct is one, and each
    /// page it owns leads back to it as the strategy reads words.
    func checkScamems(_ bad: Report) {
        var vmRefs: [Int: Int32] = [:]
        for a in vmalloc.areas {
            guard scamems.slot(descriptorID: UInt64(a.slot + 1)) != nil else {
                bad(nil, .descriptor, "vm area \(hex(a.addr)) holds a freed scamem")
                continue
            }
            vmRefs[a.slot, default: 0] += 1
            if a.nrPages != scamems[a.slot].block.nr {
                bad(nil, .descriptor, "vm area \(hex(a.addr)) of \(a.nrPages) pages maps a scamem of \(scamems[a.slot].block.nr)")
            }
        }
        for slot in scamems.liveSlots {
            let r = scamems[slot]
            let rc = r.block.refcount.pointee.load(ordering: .relaxed)
            let gup = scamemCell(slot).gupRefs
            let holders = r.vmRefs + r.mapRefs + gup + r.callerRefs
            if rc != holders || rc < 1 {
                bad(nil, .refcount, "scamem \(slot + 1): refcount \(rc), holders \(holders) (vm \(r.vmRefs), maps \(r.mapRefs), gup \(gup), callers \(r.callerRefs))")
            }
            if r.vmRefs != vmRefs[slot, default: 0] {
                bad(nil, .refcount, "scamem \(slot + 1) counts \(r.vmRefs) vm areas, the machine has \(vmRefs[slot, default: 0])")
            }
            if r.ownsPages {
                for i in 0..<r.block.nr {
                    let pfn = r.block.pages[i]
                    let w = PageWord(rawValue: pfn < endPfn ? words[Int(pfn)] : PageWord.nopage.rawValue)
                    guard let p = strategy.page(pfn, word: w, through: slot, in: self), p.slot == nil || p.slot == slot else {
                        bad(pfn, .descriptor, "page \(i) of scamem \(slot + 1) does not lead back to it (word \(hex(w.rawValue)))")
                        continue
                    }
                }
            } else {
                // A plain vmap's pages stay while its scamem lives (area, mapping or GUP).
                for i in 0..<r.block.nr where PageWord(rawValue: words[Int(r.block.pages[i])]).type == .buddy {
                    bad(r.block.pages[i], .refcount, "page \(i) of vmap scamem \(slot + 1) was freed by its owner while mapped")
                }
            }
        }
        checkVmapLedger(bad)
    }

    /// The vmap ledger counts exactly what live plain vmap() scamems list
    /// (an area's, or one a mapping or GUP keeps past vunmap()).
    func checkVmapLedger(_ bad: Report) {
        var listed: [UInt64: Int32] = [:]
        for slot in scamems.liveSlots where !scamems[slot].ownsPages {
            let b = scamems[slot].block
            for i in 0..<b.nr { listed[b.pages[i], default: 0] += 1 }
        }
        if listed != vmapLedger {
            bad(nil, .refcount, "the vmap ledger holds \(vmapLedger.count) pages, live vmap() scamems list \(listed.count)")
        }
    }

    /// What GUP-fast reads of mm `s` is the mm as it is: its cell names the
    /// mm, and a published VMA list (`VMASnapshot`) is a copy of its VMAs,
    /// page tables included. A stale one would let GUP-fast follow a pte no
    /// VMA has any more.
    func checkPublishedVMAs(_ s: Int, _ bad: Report) {
        let c = mmCell(s)
        if c.handle != mms.handle(s) { bad(nil, .descriptor, "mm \(s + 1)'s cell names \(hex(c.handle))") }
        guard let snap = c.vmas else { return }
        let vmas = mms[s].vmas
        let same = snap.count == vmas.count && vmas.indices.allSatisfy { i in
            let e = snap.entries[i]
            return e.start == vmas[i].start && e.end == vmas[i].end && e.flags == vmas[i].flags && e.ptes == vmas[i].ptes.base
        }
        if !same { bad(nil, .descriptor, "mm \(s + 1)'s VMAs changed since GUP-fast's copy of them was published") }
    }

    /// The guarantee itself: every pte and every GUP hold is on a live page
    /// of the right owner, and each folio's counts cover its holders (ptes,
    /// GUP, callers, the shmem page cache).
    func checkMappings(_ bad: Report) {
        struct Holds { var maps: Int64 = 0, gets: Int64 = 0, pins: Int64 = 0, cache: Int64 = 0, hwpoison: Int64 = 0 }
        var folios: [UInt64: Holds] = [:]
        var inserted: [UInt64: Int32] = [:]
        var exclusive: [UInt64] = [], ptesOf: [UInt64: Int] = [:]
        var fileRefs: [Int: Int32] = [:]
        for s in mms.liveSlots {
            checkPublishedVMAs(s, bad)
            for v in mms[s].vmas {
                if let f = v.shmem { fileRefs[f, default: 0] += 1 }
                if v.object != nil, !v.mapsObject {
                    bad(nil, .refcount, "VMA at \(hex(v.start)) holds a scamem it maps no page of")
                }
                let sources = v.object == nil ? 0 : v.ptes.reduce(0) { $0 + (PTE.isSource($1) ? 1 : 0) }
                if v.objectPtes != sources {
                    bad(nil, .refcount, "VMA at \(hex(v.start)) counts \(v.objectPtes) ptes of its scamem, maps \(sources)")
                }
                for (i, pte) in v.ptes.enumerated() where pte != 0 {
                    let pfn = PTE.pfn(pte)
                    let at = hex(v.start + UInt64(i) * 4096)
                    // A hwpoison entry holds nothing; it may outlive unpoison_memory().
                    if pte & PTE.hwpoison != 0 {
                        if pte & (PTE.anon | PTE.exclusive) != 0 || pfn >= endPfn { bad(pfn, .word, "hwpoison entry at \(at) is \(hex(pte))") }
                        continue
                    }
                    guard pfn < endPfn else { bad(pfn, .memmap, "pte beyond the machine"); continue }
                    let w = PageWord(rawValue: words[Int(pfn)])
                    ptesOf[pfn, default: 0] += 1
                    if pte & PTE.anon != 0 {
                        if w.type != .anon { bad(pfn, .refcount, "anon pte at \(at) maps a \(w.type) page"); continue }
                        if v.flags.contains(.shared) { bad(pfn, .refcount, "anon pte at \(at) in a shared VMA") }
                        if pte & PTE.exclusive != 0 { exclusive.append(pfn) }
                        folios[w.descriptorID, default: Holds()].maps += 1
                    } else if pte & PTE.exclusive != 0 {
                        bad(pfn, .refcount, "pte at \(at) is exclusive but maps no anon page")
                    } else if v.flags.contains(.pfnMap) {
                        // remap_pfn_range() maps only pages nothing can free.
                        if !w.isNopage && !(w.type == .misc && w.subtype == MiscSubtype.reserved.rawValue) {
                            bad(pfn, .refcount, "pfnmap pte at \(at) maps a freeable \(w.type) page")
                        }
                    } else if pfn == zeroPfn {
                        if !v.isPrivateAnon { bad(pfn, .refcount, "the zero page at \(at) outside private anon memory") }
                    } else if let f = v.shmem {
                        let index = Int(v.pgoff) + i
                        if w.type != .file || shmemFiles.slot(descriptorID: UInt64(f + 1)) == nil
                            || index >= shmemFiles[f].pages.count || shmemFiles[f].pages[index] != pfn + 1 {
                            bad(pfn, .refcount, "shmem pte at \(at) maps a \(w.type) page its file does not hold")
                        } else {
                            folios[w.descriptorID, default: Holds()].maps += 1
                        }
                    } else if v.anonymous {
                        bad(pfn, .refcount, "anonymous VMA at \(hex(v.start)) maps a \(w.type) page that is not anon")
                    } else if v.object == nil, w.type == .misc, w.subtype == MiscSubtype.unknown.rawValue {
                        // vm_insert_page() of an alloc_pages() page: the pte ledger holds it.
                        inserted[pfn, default: 0] += 1
                    } else if v.object == nil {
                        if w.type != .file { bad(pfn, .refcount, "inserted pte at \(at) maps a \(w.type) page") }
                        else { folios[w.descriptorID, default: Holds()].maps += 1 }
                    } else if strategy.page(pfn, word: w, through: v.object.flatMap { scamems.slot(handle: $0) }, in: self) == nil,
                              !mapsCallerPage(v, pfn, w) {
                        bad(pfn, .refcount, "pte at \(at) maps a page that is no scamem page (word \(hex(w.rawValue)))")
                    }
                }
            }
        }
        if inserted != pteLedger {
            bad(nil, .refcount, "the pte ledger holds \(pteLedger.count) pages, vm_insert_page() ptes map \(inserted.count)")
        }
        // PageAnonExclusive: one pte only.
        for pfn in exclusive where ptesOf[pfn, default: 0] != 1 {
            bad(pfn, .refcount, "an exclusive anon page has \(ptesOf[pfn, default: 0]) ptes")
        }
        for f in shmemFiles.liveSlots {
            if shmemFiles[f].refs != fileRefs[f, default: 0] {
                bad(nil, .refcount, "shmem file \(f) counts \(shmemFiles[f].refs) VMAs, \(fileRefs[f, default: 0]) hold it")
            }
            for pte in shmemFiles[f].pages where pte != 0 {
                let w = PageWord(rawValue: words[Int(PTE.pfn(pte))])
                if w.type != .file { bad(PTE.pfn(pte), .refcount, "shmem page cache holds a \(w.type) page"); continue }
                folios[w.descriptorID, default: Holds()].cache += 1
            }
        }
        gupLedger.forEach { pfn, h in
            let w = PageWord(rawValue: words[Int(pfn)])
            if pfn == zeroPfn { return }
            if strategy.page(pfn, word: w, through: nil, in: self) != nil { return }
            guard PageType.folioTypes & w.type.bit != 0, descriptors.lookup(w.descriptorID) != nil else {
                bad(pfn, .refcount, "GUP holds \(h.gets) gets and \(h.pins) pins on a \(w.type) page")
                return
            }
            folios[w.descriptorID, default: Holds()].gets += Int64(h.gets)
            folios[w.descriptorID, default: Holds()].pins += Int64(h.pins)
        }
        // memory_failure()'s own reference on a poisoned folio.
        for (pfn, held) in hwpoisonInUse where held {
            let w = PageWord(rawValue: words[Int(pfn)])
            if PageType.folioTypes & w.type.bit != 0 { folios[w.descriptorID, default: Holds()].hwpoison += 1 }
        }
        // Every folio's counts are exactly its holders'.
        descriptors.forEach { id, p in
            let d = p.pointee, refs = p.refs, pins = p.pins
            guard PageType.folioTypes & d.type.bit != 0 else { return }
            let h = folios[id, default: Holds()]
            let small = d.order == 0
            if Int64(d.mapcount) != h.maps {
                bad(d.pfn, .refcount, "folio mapcount \(d.mapcount), \(h.maps) ptes map it")
            }
            let need = Int64(d.callerRefs) + h.maps + h.cache + h.gets + h.hwpoison
                + (small ? h.pins * Int64(gupPinCountingBias) : h.pins)
            if Int64(refs) != need {
                bad(d.pfn, .refcount, "folio refcount \(refs), its holders make \(need) (callers \(d.callerRefs), maps \(h.maps), cache \(h.cache), gets \(h.gets), pins \(h.pins), memory_failure \(h.hwpoison))")
            }
            if Int64(pins) != (small ? 0 : h.pins) {
                bad(d.pfn, .refcount, "folio pincount \(pins), GUP holds \(h.pins) pins")
            }
        }
    }

    /// A user mapping of a plain vmap() area (bpf ringbuf) maps the caller's
    /// alloc_pages() page, which its live scamem lists (the vmap ledger).
    func mapsCallerPage(_ v: VMA, _ pfn: UInt64, _ w: PageWord) -> Bool {
        guard let o = v.object, let slot = scamems.slot(handle: o), !scamems[slot].ownsPages else { return false }
        return w.type == .misc && w.subtype == MiscSubtype.unknown.rawValue && vmapLedger[pfn] != nil
    }
}
