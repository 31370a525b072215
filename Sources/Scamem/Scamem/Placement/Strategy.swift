/// The five answers to the seed mail's open question, all behind one
/// interface. The C counterparts are `SCAMEM_STRATEGY_*`.
public enum Strategy: UInt32, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// Today's kernel: 64-byte struct pages with their own refcount and
    /// mapcount; vm_struct owns a pages array; pages are freed one by one.
    case legacy = 1
    /// SCAMEM pointer words; node/zone/section rebuilt from the pfn table.
    case pfnLookup = 2
    /// SCAMEM pointer words; the scamem keeps a flags array beside pages[],
    /// found by searching pages[] (Wilcox's rejected variant).
    case flagsArray = 3
    /// MISC/vmalloc words with inline node/zone/section; GUP finds the scamem
    /// through the VMA; release by page alone needs a reverse map.
    case vmaPrivate = 4
    /// A bounded scamem index packed with node/zone/section in the word.
    case packed = 5

    /// The strategy a machine gets when it asks for none.
    public static let `default` = Strategy.pfnLookup

    /// Bytes of one object of `nr` pages: a scamem's 8-byte header and 8 per
    /// page (FLAGS_ARRAY 16 per page); LEGACY's vm_struct pages array, 8 per page.
    public func objectBytes(nr: Int) -> Int {
        switch self {
        case .legacy: 8 * nr
        case .flagsArray: ScamemBlock.headerBytes + 16 * nr
        default: ScamemBlock.headerBytes + 8 * nr
        }
    }

    /// Bytes kept per object outside it (PACKED's index table slot).
    public var extraBytesPerObject: Int { self == .packed ? 8 : 0 }

    public var description: String {
        switch self {
        case .legacy: "LEGACY"
        case .pfnLookup: "SCAMEM_PFN_LOOKUP"
        case .flagsArray: "SCAMEM_FLAGS_ARRAY"
        case .vmaPrivate: "SCAMEM_VMA_PRIVATE"
        case .packed: "SCAMEM_PACKED"
        }
    }

    func make(endPfn: UInt64, layout: FlagsLayout, packedIndexBits: Int) throws(ScamemError) -> any PlacementStrategy {
        switch self {
        case .legacy: try LegacyStrategy(endPfn: endPfn)
        case .pfnLookup: PfnLookupStrategy()
        case .flagsArray: FlagsArrayStrategy()
        case .vmaPrivate: VmaPrivateStrategy()
        case .packed: try PackedStrategy(layout: layout, indexBits: packedIndexBits)
        }
    }
}

/// What a strategy costs beyond the page words (or struct pages).
public struct StrategyCost: Hashable, Sendable {
    /// Bytes per pfn with a memmap: the word (8), or struct page (64).
    public var bytesPerPage: UInt64
    /// Bytes of every live scamem (or, LEGACY, every vm_struct pages array).
    public var objectBytes: UInt64
    /// Anything else the strategy keeps: reverse map, index table.
    public var extraBytes: UInt64
}

/// The interface every strategy implements; one conforming class per file.
/// All of it runs under the machine lock. The defaults are whole-object
/// refcounting, which the four scamem strategies share and LEGACY replaces
/// with per-page refcounts.
protocol PlacementStrategy: AnyObject {
    var kind: Strategy { get }

    // MARK: Words and placement

    /// Bytes per page a scamem keeps beside pages[] (FLAGS_ARRAY: flags).
    var extraBytesPerPage: Int { get }
    /// Owned pages joined scamem `slot`: write their words and whatever the
    /// strategy keeps. `usermap` says the area may be mapped to userspace.
    func attach(slot: Int, usermap: Bool, in m: Machine) throws(ScamemError)
    /// The object is about to go (its pages already dealt with).
    func detach(slot: Int, in m: Machine)
    /// node/zone/section of a page this strategy wrote the word of.
    func flags(pfn: UInt64, word: PageWord, in m: Machine) -> UInt64?
    /// The same for page `index` of scamem `slot`, for walks that know the
    /// index (freeing, checking): no strategy needs to search for it.
    func flags(ofPage index: Int, slot: Int, in m: Machine) -> UInt64?
    /// The scamem page behind `pfn`, if it is one: found from the page alone,
    /// or (GUP) through the object the VMA maps. LEGACY pages have no object
    /// to find: `slot` is nil.
    func page(_ pfn: UInt64, word: PageWord, through vmaObject: Int?, in m: Machine) -> ScamemPage?
    /// The word of a scamem page names its object alone: two pages with one
    /// word are pages of one scamem (a pointer or an index in the word).
    var wordNamesObject: Bool { get }
    /// The word points at the object (a SCAMEM pointer word, descriptor id
    /// slot + 1): GUP-fast and the fast unpin follow it with no table to
    /// read. Strategies that find the object through a table (PACKED's
    /// index, which the kernel would keep in an RCU-safe XArray but the model
    /// keeps under the lock), a reverse map or per-page counts leave their
    /// pages to the locked paths.
    var wordIsPointer: Bool { get }

    // MARK: References

    /// The object's last reference went: its pages are released.
    func objectReleased(slot: Int, in m: Machine)
    /// A VMA now maps `pfns` of `object` (handle bits); `first` if it mapped
    /// none of it before (a new VMA: remap, a split's second part, fork's
    /// child). Under LEGACY the object may be gone (vfreed) while its pages
    /// are still mapped.
    func mapped(object: UInt64, pfns: UnsafeBufferPointer<UInt64>, first: Bool, in m: Machine) throws(ScamemError)
    /// A VMA's ptes for `pfns` went (zap, COW); `object` is what it mapped,
    /// `last` if the VMA maps none of it any more.
    func unmapped(object: UInt64, pfns: [UInt64], last: Bool, in m: Machine)
    /// GUP takes a reference on each of `pfns`, scamem pages of object
    /// `slot` (nil under LEGACY) found by `page()`: all of them or, throwing,
    /// none, as try_grab_folio(folio, refs, flags) takes `refs` at once.
    func gupTaken(_ pfns: UnsafeBufferPointer<UInt64>, slot: Int?, pin: Bool, in m: Machine) throws(ScamemError)
    /// GUP releases one reference on each of `pfns` (gup_put_folio()).
    func gupReleased(_ pfns: UnsafeBufferPointer<UInt64>, slot: Int?, pin: Bool, in m: Machine)
    /// True if the strategy itself keeps an alloc_pages() page from being
    /// freed (LEGACY: a struct page reference from a mapping or GUP), and
    /// whether it holds any at all (so a free need not ask page by page).
    func holdsCallerPage(_ pfn: UInt64) -> Bool
    var holdsCallerPages: Bool { get }
    /// folio_maybe_dma_pinned() for a scamem page.
    func maybeDmaPinned(_ p: ScamemPage, in m: Machine) -> Bool
    /// The refcount and mapcount a scamem page reports (page_info).
    func counts(_ p: ScamemPage, in m: Machine) -> (refcount: Int, mapcount: Int)

    // MARK: Checking and cost

    /// The strategy's own invariants.
    func check(in m: Machine, _ bad: Machine.Report)
    func cost(in m: Machine) -> StrategyCost
}

/// A page of a scamem, as a strategy found it.
struct ScamemPage {
    let pfn: UInt64
    /// The object, where the strategy can name it.
    let slot: Int?
}

extension PlacementStrategy {
    var extraBytesPerPage: Int { 0 }
    var wordNamesObject: Bool { false }
    var wordIsPointer: Bool { false }
    func objectBytes(nr: Int) -> Int { kind.objectBytes(nr: nr) }
    func detach(slot: Int, in m: Machine) {}
    /// Whole-object strategies hold a caller's pages through the scamem (the vmap ledger).
    func holdsCallerPage(_ pfn: UInt64) -> Bool { false }
    var holdsCallerPages: Bool { false }

    func flags(ofPage index: Int, slot: Int, in m: Machine) -> UInt64? {
        let pfn = m.scamems[slot].block.pages[index]
        return flags(pfn: pfn, word: PageWord(rawValue: m.words[Int(pfn)]), in: m)
    }

    /// The scamem strategies' word for an owned page: a SCAMEM pointer.
    func writePointerWords(slot: Int, in m: Machine) {
        let b = m.scamems[slot].block
        for i in 0..<b.nr { m.words[Int(b.pages[i])] = PageWord.pointer(.scamem, descriptor: UInt64(slot + 1)).rawValue }
    }

    /// The inline word for an owned page (VMA_PRIVATE, LEGACY): MISC/vmalloc
    /// with the page's node/zone/section kept from its current word.
    func writeVmallocWords(slot: Int, usermap: Bool, in m: Machine) {
        let b = m.scamems[slot].block
        for i in 0..<b.nr {
            let pfn = b.pages[i]
            let flags = PageWord(rawValue: m.words[Int(pfn)]).flags
            m.words[Int(pfn)] = PageWord.inline(.misc, subtype: MiscSubtype.vmalloc.rawValue, usermap: usermap,
                                                flags: flags).rawValue
        }
    }

    /// The slot a SCAMEM pointer word names.
    func pointerSlot(_ word: PageWord, in m: Machine) -> Int? {
        word.type == .scamem ? m.scamems.slot(descriptorID: word.descriptorID) : nil
    }

    // Whole-object refcounting: pages go with the object.

    func objectReleased(slot: Int, in m: Machine) {
        let b = m.scamems[slot].block
        guard m.scamems[slot].ownsPages else { return }
        for i in 0..<b.nr {
            if let f = flags(ofPage: i, slot: slot, in: m) { m.freeBlock(b.pages[i], 0, flags: f) }
        }
    }

    func mapped(object: UInt64, pfns: UnsafeBufferPointer<UInt64>, first: Bool, in m: Machine) throws(ScamemError) {
        guard first else { return }
        // A VMA holding the object keeps it alive: a mapped object is live.
        guard let slot = m.scamems.slot(handle: object) else { throw .fault }
        try m.scamemGetLocked(slot)
        m.scamems[slot].mapRefs += 1
    }

    /// The VMA's reference goes with its last pte of the object.
    func unmapped(object: UInt64, pfns: [UInt64], last: Bool, in m: Machine) {
        guard last, let slot = m.scamems.slot(handle: object) else { return }
        m.scamems[slot].mapRefs -= 1
        m.scamemPutLocked(slot)
    }

    /// One reference on the object per page (the run is at most 2^30 pages).
    func gupTaken(_ pfns: UnsafeBufferPointer<UInt64>, slot: Int?, pin: Bool, in m: Machine) throws(ScamemError) {
        guard let slot else { throw .fault }
        try m.scamemGetLocked(slot, refs: Int32(truncatingIfNeeded: pfns.count))
        m.scamemCell(slot).gupAdd(Int32(truncatingIfNeeded: pfns.count))
    }

    func gupReleased(_ pfns: UnsafeBufferPointer<UInt64>, slot: Int?, pin: Bool, in m: Machine) {
        guard let slot else { return }
        m.scamemCell(slot).gupAdd(-Int32(truncatingIfNeeded: pfns.count))
        m.scamemPutLocked(slot, refs: Int32(truncatingIfNeeded: pfns.count))
    }

    /// One count per object cannot tell get from pin, nor one page from another.
    func maybeDmaPinned(_ p: ScamemPage, in m: Machine) -> Bool {
        p.slot.map { m.scamemCell($0).gupRefs > 0 } ?? false
    }

    /// The object's count: a scamem page has no count of its own.
    func counts(_ p: ScamemPage, in m: Machine) -> (refcount: Int, mapcount: Int) {
        (p.slot.map { Int(m.scamems[$0].block.refcount.pointee.load(ordering: .relaxed)) } ?? 0, 0)
    }

    func check(in m: Machine, _ bad: Machine.Report) {
        checkObjectReferences(in: m, bad)
    }

    /// Whole-object refcounting's invariants: each VMA mapping an object and
    /// each GUP hold on one of its pages is one of its references.
    func checkObjectReferences(in m: Machine, _ bad: Machine.Report) {
        var mapRefs: [Int: Int32] = [:], gupRefs: [Int: Int32] = [:]
        for s in m.mms.liveSlots {
            for v in m.mms[s].vmas {
                guard let o = v.object else { continue }
                guard let slot = m.scamems.slot(handle: o) else {
                    bad(nil, .refcount, "a VMA at \(hex(v.start)) maps a freed scamem")
                    continue
                }
                mapRefs[slot, default: 0] += 1
            }
        }
        m.gupLedger.forEach { pfn, h in
            if let slot = page(pfn, word: PageWord(rawValue: m.words[Int(pfn)]), through: nil, in: m)?.slot {
                gupRefs[slot, default: 0] += Int32(h.gets + h.pins)
            }
        }
        for slot in m.scamems.liveSlots {
            let r = m.scamems[slot]
            let held = m.scamemCell(slot).gupRefs
            if r.mapRefs != mapRefs[slot, default: 0] || held != gupRefs[slot, default: 0] {
                bad(nil, .refcount, "scamem \(slot + 1) counts \(r.mapRefs) mappings and \(held) GUP references; the machine has \(mapRefs[slot, default: 0]) and \(gupRefs[slot, default: 0])")
            }
        }
    }

    /// Every live object's bytes.
    func liveObjectBytes(in m: Machine) -> UInt64 {
        m.scamems.liveSlots.reduce(0) { $0 + UInt64(objectBytes(nr: m.scamems[$1].block.nr)) }
    }

    /// 8 bytes of word per pfn; each scamem's header, pages[] and any array
    /// beside it; PFN_LOOKUP's hwpoison side table and pfn-to-zone table.
    func cost(in m: Machine) -> StrategyCost {
        StrategyCost(bytesPerPage: UInt64(DescriptorSize.word), objectBytes: liveObjectBytes(in: m),
                     extraBytes: kind == .pfnLookup ? hwpoisonSideBytes(in: m) + m.pfnZoneTableBytesLocked : 0)
    }

    /// PG_hwpoison of scamem pages in use where neither the word nor the
    /// object has a bit for it (PFN_LOOKUP: the word is all pointer; PACKED:
    /// all index and node/zone): an entry per poisoned page in a pfn-keyed
    /// side table, counted at 16 bytes as VMA_PRIVATE's reverse map.
    /// LEGACY (struct page's flags), FLAGS_ARRAY (flags[i]) and VMA_PRIVATE
    /// (an inline word with spare bits) need none. See docs/strategies.md.
    func hwpoisonSideBytes(in m: Machine) -> UInt64 {
        guard !m.hwpoisonInUse.isEmpty else { return 0 }
        var n: UInt64 = 0
        for pfn in m.hwpoisonInUse.keys
        where page(pfn, word: PageWord(rawValue: m.words[Int(pfn)]), through: nil, in: m) != nil { n += 1 }
        return n * 16
    }
}
