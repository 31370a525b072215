#if canImport(Glibc)
import Glibc
#endif

/// LEGACY: today's kernel. Every page has a 64-byte struct page with its own
/// _refcount and _mapcount; the vm_struct owns a pages array holding one
/// reference per page; vm_insert_page() takes a reference and a map count per
/// pte, a get adds 1 and a pin GUP_PIN_COUNTING_BIAS; each page is freed on
/// its own when its count reaches zero. The model's word array still carries
/// MISC/vmalloc words for these pages, so the other code reads them alike.
final class LegacyStrategy: PlacementStrategy {
    let kind = Strategy.legacy
    /// struct page's _refcount and _mapcount, for vmalloc pages.
    private let refcount: UnsafeMutablePointer<Int32>
    private let mapcount: UnsafeMutablePointer<Int32>
    private let count: Int
    /// alloc_pages() pages with a reference from a mapping (bpf ringbuf).
    private var callerPagesHeld = 0

    init(endPfn: UInt64) throws(ScamemError) {
        count = Int(endPfn)
        guard let r = hostAllocate(Int32.self, count: count, zeroed: true),
              let c = hostAllocate(Int32.self, count: count, zeroed: true) else { throw .noMemory }
        refcount = r
        mapcount = c
    }

    deinit {
        free(refcount)
        free(mapcount)
    }

    func attach(slot: Int, usermap: Bool, in m: Machine) throws(ScamemError) {
        writeVmallocWords(slot: slot, usermap: usermap, in: m)
        // The pages array's reference on each page.
        let b = m.scamems[slot].block
        for i in 0..<b.nr { refcount[Int(b.pages[i])] = 1 }
    }

    func flags(pfn: UInt64, word: PageWord, in m: Machine) -> UInt64? { word.flags }

    /// A vmalloc page, or an alloc_pages() page a user mapping of a plain
    /// vmap() area (bpf ringbuf) holds: both have a struct page to count on.
    func page(_ pfn: UInt64, word: PageWord, through vmaObject: Int?, in m: Machine) -> ScamemPage? {
        guard word.type == .misc, word.subtype == MiscSubtype.vmalloc.rawValue || word.subtype == MiscSubtype.unknown.rawValue,
              refcount[Int(pfn)] > 0 else { return nil }
        return ScamemPage(pfn: pfn, slot: nil)
    }

    /// put_page(): a vmalloc page goes when its own count does; an
    /// alloc_pages() page keeps its allocator's reference, which the model
    /// does not count (freePages() is refused while others hold it).
    private func put(_ pfn: UInt64, _ n: Int32, in m: Machine) {
        refcount[Int(pfn)] -= n
        let w = PageWord(rawValue: m.words[Int(pfn)])
        guard refcount[Int(pfn)] == 0 else { return }
        if w.subtype == MiscSubtype.vmalloc.rawValue { m.freeBlock(pfn, 0, flags: w.flags) } else { callerPagesHeld -= 1 }
    }

    func holdsCallerPage(_ pfn: UInt64) -> Bool { refcount[Int(pfn)] > 0 }
    var holdsCallerPages: Bool { callerPagesHeld > 0 }

    private func get(_ pfn: UInt64, _ n: Int32) throws(ScamemError) {
        guard refcount[Int(pfn)] <= Int32.max - n else { throw .overflow }
        refcount[Int(pfn)] += n
    }

    /// vfree(): the pages array's reference on each page goes.
    func objectReleased(slot: Int, in m: Machine) {
        guard m.scamems[slot].ownsPages else { return }
        let b = m.scamems[slot].block
        for i in 0..<b.nr { put(b.pages[i], 1, in: m) }
    }

    func mapped(object: UInt64, pfns: UnsafeBufferPointer<UInt64>, first: Bool, in m: Machine) throws(ScamemError) {
        for pfn in pfns { guard refcount[Int(pfn)] < Int32.max else { throw .overflow } }
        for pfn in pfns {
            if refcount[Int(pfn)] == 0 { callerPagesHeld += 1 } // only a plain vmap's page starts at 0
            refcount[Int(pfn)] += 1
            mapcount[Int(pfn)] += 1
        }
    }

    func unmapped(object: UInt64, pfns: [UInt64], last: Bool, in m: Machine) {
        for pfn in pfns {
            mapcount[Int(pfn)] -= 1
            put(pfn, 1, in: m)
        }
    }

    /// Each page's own count; the room for the whole run is checked first
    /// (a page the run lists twice, a ringbuf's, needs it twice).
    func gupTaken(_ pfns: UnsafeBufferPointer<UInt64>, slot: Int?, pin: Bool, in m: Machine) throws(ScamemError) {
        let n = pin ? gupPinCountingBias : 1
        let room = Int64(Int32.max) - Int64(n) * Int64(pfns.count)
        for pfn in pfns where Int64(refcount[Int(pfn)]) > room { throw .overflow }
        for pfn in pfns { refcount[Int(pfn)] += n }
    }

    func gupReleased(_ pfns: UnsafeBufferPointer<UInt64>, slot: Int?, pin: Bool, in m: Machine) {
        for pfn in pfns { put(pfn, pin ? gupPinCountingBias : 1, in: m) }
    }

    func maybeDmaPinned(_ p: ScamemPage, in m: Machine) -> Bool { refcount[Int(p.pfn)] >= gupPinCountingBias }

    /// The page's own counts.
    func counts(_ p: ScamemPage, in m: Machine) -> (refcount: Int, mapcount: Int) {
        (Int(refcount[Int(p.pfn)]), Int(mapcount[Int(p.pfn)]))
    }

    /// Every vmalloc page's counts are exactly its holders': the pages
    /// array (while the area lives), its ptes, and GUP.
    func check(in m: Machine, _ bad: Machine.Report) {
        var expectRef = [UInt64: Int64](), expectMap = [UInt64: Int64]()
        for slot in m.scamems.liveSlots where m.scamems[slot].ownsPages {
            let b = m.scamems[slot].block
            for i in 0..<b.nr { expectRef[b.pages[i], default: 0] += 1 }
        }
        for s in m.mms.liveSlots {
            // Only vmalloc mappings: inserted FILE folios and special ptes are not these pages.
            for v in m.mms[s].vmas where !v.anonymous && v.object != nil {
                for pte in v.ptes where PTE.isSource(pte) {
                    expectRef[PTE.pfn(pte), default: 0] += 1
                    expectMap[PTE.pfn(pte), default: 0] += 1
                }
            }
        }
        m.gupLedger.forEach { pfn, h in
            let w = PageWord(rawValue: m.words[Int(pfn)])
            if w.type == .misc, w.subtype == MiscSubtype.vmalloc.rawValue || w.subtype == MiscSubtype.unknown.rawValue {
                expectRef[pfn, default: 0] += Int64(h.gets) + Int64(h.pins) * Int64(gupPinCountingBias)
            }
        }
        var held = 0
        for pfn in 0..<count {
            let r = Int64(refcount[pfn]), c = Int64(mapcount[pfn])
            let er = expectRef[UInt64(pfn)] ?? 0, ec = expectMap[UInt64(pfn)] ?? 0
            if r != er || c != ec {
                bad(UInt64(pfn), .refcount, "struct page refcount \(r) mapcount \(c); its holders make \(er) and \(ec)")
            }
            let w = PageWord(rawValue: m.words[pfn])
            let vmalloc = w.type == .misc && w.subtype == MiscSubtype.vmalloc.rawValue
            // A mapped plain-vmap page's count is its ptes' and GUP's, checked above.
            let callerPage = w.type == .misc && w.subtype == MiscSubtype.unknown.rawValue
            if vmalloc ? r == 0 : r > 0 && !callerPage {
                bad(UInt64(pfn), .refcount, vmalloc ? "vmalloc page with no reference" : "refcount \(r) on a \(w.type) page")
            }
            if callerPage && r > 0 { held += 1 }
        }
        if held != callerPagesHeld {
            bad(nil, .counter, "\(callerPagesHeld) alloc_pages() pages counted as mapped, \(held) have references")
        }
    }

    /// 64 bytes of struct page per pfn; each pages array 8 per page.
    func cost(in m: Machine) -> StrategyCost {
        StrategyCost(bytesPerPage: UInt64(DescriptorSize.structPage), objectBytes: liveObjectBytes(in: m), extraBytes: 0)
    }
}
