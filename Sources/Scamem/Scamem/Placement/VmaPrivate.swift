/// SCAMEM_VMA_PRIVATE: the page word stays MISC/vmalloc with node, zone and
/// section inline (bit 11 set when the area may be mapped to userspace), so
/// page_to_nid() costs nothing. The scamem lives in the VMA's private data:
/// GUP, which has the VMA, finds it there. unpin_user_page() and put_page()
/// have only the page, so every page GUP holds gets an entry in a reverse
/// map (pfn to scamem) until its last GUP reference goes; its memory is
/// counted at 16 bytes per entry (an XArray slot and its share of nodes, as a
/// lower bound).
final class VmaPrivateStrategy: PlacementStrategy {
    let kind = Strategy.vmaPrivate
    static let bytesPerEntry: UInt64 = 16
    /// pfn to (scamem slot, GUP references on the page).
    private(set) var reverseMap: [UInt64: (slot: Int, refs: Int)] = [:]

    func attach(slot: Int, usermap: Bool, in m: Machine) throws(ScamemError) {
        writeVmallocWords(slot: slot, usermap: usermap, in: m)
    }

    func flags(pfn: UInt64, word: PageWord, in m: Machine) -> UInt64? { word.flags }

    /// A vmalloc page, or an alloc_pages() page of a user-mapped plain
    /// vmap() area (bpf ringbuf): the VMA names the scamem either way, and
    /// the reverse map, keyed by pfn, has one entry for a page listed twice.
    func page(_ pfn: UInt64, word: PageWord, through vmaObject: Int?, in m: Machine) -> ScamemPage? {
        guard word.type == .misc,
              word.subtype == MiscSubtype.vmalloc.rawValue || word.subtype == MiscSubtype.unknown.rawValue else { return nil }
        if let vmaObject { return ScamemPage(pfn: pfn, slot: vmaObject) }
        return reverseMap[pfn].map { ScamemPage(pfn: pfn, slot: $0.slot) }
    }

    /// The object's references at once; a reverse-map entry per page.
    func gupTaken(_ pfns: UnsafeBufferPointer<UInt64>, slot: Int?, pin: Bool, in m: Machine) throws(ScamemError) {
        guard let slot else { throw .fault }
        // One scamem per reverse-map entry: a caller page two user-mapped
        // plain vmap() areas share is held through the first one only.
        for pfn in pfns { if let e = reverseMap[pfn], e.slot != slot { throw .fault } }
        let n = Int32(truncatingIfNeeded: pfns.count)
        try m.scamemGetLocked(slot, refs: n)
        m.scamemCell(slot).gupAdd(n)
        for pfn in pfns { reverseMap[pfn, default: (slot, 0)].refs += 1 }
    }

    func gupReleased(_ pfns: UnsafeBufferPointer<UInt64>, slot: Int?, pin: Bool, in m: Machine) {
        guard let slot else { return }
        for pfn in pfns {
            guard let e = reverseMap[pfn] else { continue }
            reverseMap[pfn] = e.refs > 1 ? (e.slot, e.refs - 1) : nil
        }
        let n = Int32(truncatingIfNeeded: pfns.count)
        m.scamemCell(slot).gupAdd(-n)
        m.scamemPutLocked(slot, refs: n)
    }

    func check(in m: Machine, _ bad: Machine.Report) {
        checkObjectReferences(in: m, bad)
        var owner: [UInt64: Int] = [:]
        for slot in m.scamems.liveSlots where m.scamems[slot].ownsPages {
            let b = m.scamems[slot].block
            for i in 0..<b.nr { owner[b.pages[i]] = slot }
        }
        for (pfn, e) in reverseMap {
            let h = m.gupLedger.holds(pfn)
            let held = Int(h.gets + h.pins)
            // A plain vmap() scamem owns nothing but lists the page.
            let lists = owner[pfn] == nil && m.scamems.slot(descriptorID: UInt64(e.slot + 1)) != nil
                && !m.scamems[e.slot].ownsPages
                && UnsafeBufferPointer(start: m.scamems[e.slot].block.pages, count: m.scamems[e.slot].block.nr).contains(pfn)
            if (owner[pfn] != e.slot && !lists) || held != e.refs {
                bad(pfn, .refcount, "reverse map says scamem \(e.slot + 1) with \(e.refs) GUP references; the page belongs to \(owner[pfn].map { "scamem \($0 + 1)" } ?? "none") with \(held)")
            }
        }
        m.gupLedger.forEach { pfn, h in
            if owner[pfn] != nil && reverseMap[pfn] == nil {
                bad(pfn, .refcount, "GUP holds \(h.gets + h.pins) references on a scamem page the reverse map does not have")
            }
        }
        // Every vmalloc word belongs to a live scamem.
        for pfn in 0..<Int(m.endPfn) {
            let w = PageWord(rawValue: m.words[pfn])
            if w.type == .misc, w.subtype == MiscSubtype.vmalloc.rawValue, owner[UInt64(pfn)] == nil {
                bad(UInt64(pfn), .descriptor, "vmalloc word on a page no scamem owns")
            }
        }
    }

    func cost(in m: Machine) -> StrategyCost {
        StrategyCost(bytesPerPage: UInt64(DescriptorSize.word), objectBytes: liveObjectBytes(in: m),
                     extraBytes: UInt64(reverseMap.count) * Self.bytesPerEntry)
    }
}
