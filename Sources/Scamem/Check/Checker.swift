/// What an inconsistency is about. The C counterparts are `SCAMEM_CHECK_*`.
@frozen
public struct CheckKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    @inlinable public init(rawValue: Int32) { self.rawValue = rawValue }
    public static let word = CheckKind(rawValue: 1)
    public static let placement = CheckKind(rawValue: 2)
    public static let memmap = CheckKind(rawValue: 3)
    public static let freeList = CheckKind(rawValue: 4)
    public static let descriptor = CheckKind(rawValue: 5)
    public static let refcount = CheckKind(rawValue: 6)
    public static let counter = CheckKind(rawValue: 7)
    public var description: String {
        (1...7).contains(rawValue)
            ? ["word", "placement", "memmap", "free-list", "descriptor", "refcount", "counter"][Int(rawValue) - 1]
            : "check\(rawValue)"
    }
}

/// One inconsistency found by `Machine.check`.
public struct CheckIssue: Hashable, Sendable, CustomStringConvertible {
    /// The pfn it concerns, if one does.
    public var pfn: UInt64?
    public var kind: CheckKind
    public var message: String
    public var description: String {
        pfn.map { "pfn \(hex($0)): \(kind): \(message)" } ?? "\(kind): \(message)"
    }
}

func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

extension Machine {
    /// Every inconsistency between words, free lists, descriptors and
    /// counters, found in one walk under the machine lock with GUP-fast and
    /// the fast unpin turned away (they change counts without the lock), so
    /// it sees every count at rest. The C counterpart is
    /// `scamem_machine_check()`.
    public func check() -> [CheckIssue] {
        var issues: [CheckIssue] = []
        lock.withLock {
            rcu.disable()
            defer { rcu.enable() }
            checkLocked { issues.append($0) }
        }
        return issues
    }

    private func checkLocked(_ report: (CheckIssue) -> Void) {
        func bad(_ pfn: UInt64?, _ kind: CheckKind, _ message: @autoclosure () -> String) {
            report(CheckIssue(pfn: pfn, kind: kind, message: message()))
        }
        var pagesOf = [UInt64](repeating: 0, count: descriptors.used + 1)
        var freeCounted = [UInt64](repeating: 0, count: nrZones)
        // Free heads per zone and free list (order * MIGRATE_TYPES + migratetype);
        // free pages per zone in CMA and in ISOLATE pageblocks.
        var headsCounted = [[UInt64]](repeating: [UInt64](repeating: 0, count: nrFreeLists), count: nrZones)
        var cmaCounted = [UInt64](repeating: 0, count: nrZones)
        var isolatedCounted = [UInt64](repeating: 0, count: nrZones)
        var freeBlockMt = MigrateType.movable
        // Every page an owning scamem lists, and at which index, to check words against.
        var ownedBy: [UInt64: (slot: Int, index: Int)] = [:]
        for slot in scamems.liveSlots where scamems[slot].ownsPages {
            let b = scamems[slot].block
            for i in 0..<b.nr { ownedBy[b.pages[i]] = (slot, i) }
        }
        var freeBlockEnd: UInt64 = 0
        var hwpoisonCounted = 0
        var holeCursor = 0
        var zoneCursor = 0

        // account_freepages()'s three counters, as the words give them.
        func countFree(_ z: Int, _ mt: MigrateType) {
            if mt == .isolate { isolatedCounted[z] += 1; return }
            freeCounted[z] += 1
            if mt == .cma { cmaCounted[z] += 1 }
        }

        let blockMask = memoryBlockPages - 1
        var block = memoryBlocks[0]
        for pfn in 0..<endPfn {
            let w = PageWord(rawValue: words[Int(pfn)])
            while zoneCursor < zoneRanges.count, zoneRanges[zoneCursor].endPfn <= pfn { zoneCursor += 1 }
            let z = zoneCursor < zoneRanges.count && zoneRanges[zoneCursor].startPfn <= pfn
                ? Int(zoneRanges[zoneCursor].zone) : -1
            while holeCursor < holes.count, holes[holeCursor].upperBound <= pfn { holeCursor += 1 }
            let hole = holeCursor < holes.count && holes[holeCursor].contains(pfn)
            if pfn & blockMask == 0 { block = memoryBlocks[Int(pfn >> memoryBlockShift)] }
            if block.state == .offline {
                if w != offlineWord(pfn, nid: Int(block.nid)) { bad(pfn, .memmap, "word \(hex(w.rawValue)) in an offline memory block") }
                continue
            }
            let memmap = z >= 0 && sectionHasMemmap[Int(layout.sectionNumber(ofPfn: pfn))]

            if !memmap {
                if !w.isNopage { bad(pfn, .memmap, "word \(hex(w.rawValue)) where there is no memmap") }
                continue
            }
            if w.isNopage { bad(pfn, .memmap, "NOPAGE inside a present section of a zone"); continue }
            if hole, !(w.type == .misc && w.subtype == MiscSubtype.reserved.rawValue) {
                bad(pfn, .memmap, "hole holds a \(w.type) word, not MISC/reserved")
            }
            let expected = pageFlags(z, pfn)

            if w.type.isInline {
                if w.flags != expected {
                    bad(pfn, .placement, "word flags \(hex(w.flags)) but the machine places it at \(hex(expected))")
                }
                if w.type != .misc, w.usermap { bad(pfn, .word, "usermap bit on a \(w.type) word") }
                // Free blocks stop at MAX_PAGE_ORDER; imported compound pages may be larger.
                if w.type == .buddy, Int(w.order) > maxPageOrder { bad(pfn, .word, "order \(w.order) > \(maxPageOrder)") }
            }
            switch w.type {
            case .misc:
                if Int(w.subtype) >= MiscSubtype.count { bad(pfn, .word, "unknown MISC subtype \(w.subtype)") }
                // A multi-page block carries the same word on every page.
                let head = pfn & ~((1 << UInt64(w.order)) - 1)
                if w.order > 0, PageWord(rawValue: words[Int(head)]).rawValue & 0x3ffff != w.rawValue & 0x3ffff {
                    bad(pfn, .word, "MISC block of order \(w.order) disagrees with its first page")
                }
            case .buddy:
                if w.subtype == BuddySubtype.head.rawValue {
                    let o = Int(w.order)
                    guard o <= maxPageOrder else { break }
                    if pfn & ((1 << UInt64(o)) - 1) != 0 { bad(pfn, .freeList, "free block of order \(o) not aligned") }
                    if pfn + (1 << UInt64(o)) > zones[z].endPfn { bad(pfn, .freeList, "free block runs past its zone") }
                    let mt = pageblockMigratetype(pfn)
                    if !zones[z].area(o, mt).pointee.contains(zones[z].index(pfn, o)) {
                        bad(pfn, .freeList, "BUDDY head of order \(o) is not on its pageblock's \(mt) free list")
                    }
                    // A block of more than a pageblock has one type throughout.
                    if o > pageblockOrder, pageblockMigratetype(pfn + (1 << UInt64(o)) - 1) != mt {
                        bad(pfn, .freeList, "free block of order \(o) spans pageblocks of different migratetypes")
                    }
                    freeBlockEnd = pfn + (1 << UInt64(o))
                    freeBlockMt = mt
                    headsCounted[z][o * MigrateType.count + Int(mt.rawValue)] += 1
                    countFree(z, mt)
                } else if w.subtype == BuddySubtype.tail.rawValue {
                    if pfn >= freeBlockEnd { bad(pfn, .freeList, "BUDDY tail outside any free block") }
                    if w.order != 0 { bad(pfn, .word, "BUDDY tail with order \(w.order)") }
                    countFree(z, freeBlockMt)
                } else {
                    bad(pfn, .word, "unknown BUDDY subtype \(w.subtype)")
                }
            case .hwpoison:
                // Taken off the allocator for good (take_page_off_buddy(), or freed while poisoned).
                // (An imported compound page keeps its order.)
                hwpoisonCounted += 1
                if w.subtype > HWPoisonSubtype.takenOff.rawValue || w.usermap || (w.subtype != 0 && w.order != 0) {
                    bad(pfn, .word, "HWPOISON word \(hex(w.rawValue)) with an unknown subtype, a usermap bit or a taken-off order")
                }
            case .scamem:
                guard let slot = strategy.page(pfn, word: w, through: nil, in: self)?.slot else {
                    bad(pfn, .descriptor, "SCAMEM word \(hex(w.rawValue)) names no live scamem")
                    break
                }
                guard let owner = ownedBy[pfn], owner.slot == slot else {
                    bad(pfn, .descriptor, "SCAMEM word names scamem \(slot + 1), which does not list the page")
                    break
                }
                let placed = strategy.flags(ofPage: owner.index, slot: slot, in: self)
                if placed != expected {
                    bad(pfn, .placement, "scamem page placed at \(hex(placed ?? 0)), the machine says \(hex(expected))")
                }
            case .file, .anon, .slab, .ptdesc:
                guard let d = descriptors.lookup(w.descriptorID) else {
                    bad(pfn, .descriptor, "\(w.type) word names no live descriptor (\(hex(w.descriptorAddress)))")
                    break
                }
                pagesOf[Int(w.descriptorID)] += 1
                if d.pointee.type != w.type { bad(pfn, .descriptor, "\(w.type) word names a \(d.pointee.type) descriptor") }
                if pfn < d.pointee.pfn || pfn >= d.pointee.pfn + (1 << UInt64(d.pointee.order)) {
                    bad(pfn, .descriptor, "outside its descriptor's pages \(hex(d.pointee.pfn))+\(1 << Int(d.pointee.order))")
                }
                if d.flags != expected {
                    bad(pfn, .placement, "descriptor flags \(hex(d.flags)) but the machine places it at \(hex(expected))")
                }
            default:
                bad(pfn, .word, "type \(w.type) is not used by this model")
            }
        }

        checkMemoryBlocks(bad)
        checkHWPoison(words: hwpoisonCounted, bad)
        checkScamems(bad)
        checkMappings(bad)
        checkScenarios(bad)
        strategy.check(in: self, bad)

        descriptors.forEach { id, p in
            let d = p.pointee, refs = p.refs, pins = p.pins
            let n = UInt64(1) << UInt64(d.order)
            if pagesOf[Int(id)] != n {
                bad(d.pfn, .descriptor, "\(d.type) descriptor of \(n) pages is named by \(pagesOf[Int(id)]) words")
            }
            if refs < 1 { bad(d.pfn, .refcount, "live \(d.type) with refcount \(refs)") }
            if d.mapcount < 0 { bad(d.pfn, .refcount, "mapcount \(d.mapcount)") }
            if pins < 0 || pins > refs { bad(d.pfn, .refcount, "pincount \(pins) against refcount \(refs)") }
        }

        for z in 0..<nrZones {
            for l in 0..<nrFreeLists {
                let o = l / MigrateType.count, mt = MigrateType(rawValue: UInt8(l % MigrateType.count))
                zones[z].areas[l].forEach { idx in
                    let pfn = zones[z].pfn(idx, o)
                    let w = PageWord(rawValue: pfn < endPfn ? words[Int(pfn)] : 0)
                    if w.type != .buddy || w.subtype != BuddySubtype.head.rawValue || Int(w.order) != o {
                        bad(pfn, .freeList, "on the order-\(o) \(mt) free list but its word is \(hex(w.rawValue))")
                    }
                }
                if zones[z].areas[l].nrFree != headsCounted[z][l] {
                    bad(nil, .counter, "node \(zones[z].nid) \(zones[z].zone): nr_free[\(o)][\(mt)] \(zones[z].areas[l].nrFree), words say \(headsCounted[z][l])")
                }
            }
            if zones[z].freePages != freeCounted[z] {
                bad(nil, .counter, "node \(zones[z].nid) \(zones[z].zone): \(zones[z].freePages) free pages counted, words say \(freeCounted[z])")
            }
            if zones[z].freeCmaPages != cmaCounted[z] || zones[z].isolatedFreePages != isolatedCounted[z] {
                bad(nil, .counter, "node \(zones[z].nid) \(zones[z].zone): \(zones[z].freeCmaPages) free CMA and \(zones[z].isolatedFreePages) isolated pages counted, words say \(cmaCounted[z]) and \(isolatedCounted[z])")
            }
            if zones[z].freePages > zones[z].managedPages || zones[z].managedPages > zones[z].presentPages {
                bad(nil, .counter, "node \(zones[z].nid) \(zones[z].zone): free \(zones[z].freePages) managed \(zones[z].managedPages) present \(zones[z].presentPages)")
            }
        }
    }
}
