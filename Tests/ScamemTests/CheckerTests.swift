import Scamem
import Testing

/// The checker must find corruption: each test damages the word array on
/// purpose, asserts what is reported, restores the word and asserts the
/// machine is clean again.
@Suite("Invariant checker")
struct CheckerTests {
    /// Writes `value` at `pfn`, returns the issues, and puts the old word back.
    static func corrupt(_ m: Machine, _ pfn: UInt64, _ value: UInt64) -> [CheckIssue] {
        withMutableWords(m) { w in
            let old = w[Int(pfn)]
            w[Int(pfn)] = value
            defer { w[Int(pfn)] = old }
            return m.check()
        }
    }

    @Test("a fresh machine and a busy one are clean", arguments: [Fixtures.smallVmemmap, Fixtures.smallSparsemem])
    func clean(profile: LayoutProfile) throws {
        let m = try Machine(Fixtures.mini(profile: profile))
        expectClean(m)
        _ = try m.folioAlloc(.file, order: 3)
        _ = try m.slabAlloc(cache: 1, objectSize: 64, order: 1, gfp: .dma)
        _ = try m.ptdescAlloc(nid: 1)
        _ = try m.allocPages(order: 4, gfp: .dma32)
        expectClean(m)
    }

    @Test("zone bits changed on a free page: placement")
    func placement() throws {
        let m = try Machine(Fixtures.mini())
        let pfn: UInt64 = 0xa123 // a BUDDY tail of node 1 NORMAL
        let w = word(m, pfn)
        #expect(w.type == .buddy && w.subtype == BuddySubtype.tail.rawValue)
        let zoneMask: UInt64 = 0x7 << UInt64(m.layout.zonesShift)
        let dma32 = w.rawValue & ~zoneMask | UInt64(ZoneType.dma32.rawValue) << UInt64(m.layout.zonesShift)
        let issues = Self.corrupt(m, pfn, dma32)
        #expect(issues.count == 1)
        #expect(issues.first?.kind == .placement)
        #expect(issues.first?.pfn == pfn)
        // The node bits too.
        let nodeMask: UInt64 = 0x3ff << UInt64(m.layout.nodesShift)
        let node0 = Self.corrupt(m, pfn, w.rawValue & ~nodeMask)
        #expect(node0.map(\.kind) == [.placement])
        expectClean(m)
    }

    @Test("section bits changed: placement")
    func sectionPlacement() throws {
        let m = try Machine(Fixtures.mini(profile: Fixtures.smallSparsemem))
        let pfn: UInt64 = 0x2345
        let w = word(m, pfn)
        #expect(m.layout.section(w.flags) == 8)
        let moved = w.rawValue ^ 1 << UInt64(m.layout.sectionsShift)
        let issues = Self.corrupt(m, pfn, moved)
        #expect(issues.map(\.kind) == [.placement])
        #expect(issues.first?.pfn == pfn)
        expectClean(m)
    }

    @Test("a BUDDY head overwritten with a MISC word: free list")
    func freeList() throws {
        let m = try Machine(Fixtures.mini())
        let head: UInt64 = 0x40 // DMA: order-6 block [0x40, 0x80)
        let w = word(m, head)
        #expect(w.type == .buddy && w.subtype == BuddySubtype.head.rawValue && w.order == 6)
        let misc = PageWord.inline(.misc, subtype: MiscSubtype.unknown.rawValue, order: 0, flags: w.flags)
        let issues = Self.corrupt(m, head, misc.rawValue)
        // The free list names a non-head, and its 63 tails belong to no block.
        #expect(issues.contains { $0.kind == .freeList && $0.pfn == head })
        #expect(issues.filter { $0.kind == .freeList }.count == 1 + 63)
        #expect(issues.contains { $0.kind == .freeList && $0.pfn == head + 63 })
        #expect(Set(issues.map(\.kind)).isSubset(of: [.freeList, .counter]))
        // Wrong order in a head: the free lists disagree too.
        let o5 = PageWord.inline(.buddy, subtype: BuddySubtype.head.rawValue, order: 5, flags: w.flags)
        let orderIssues = Self.corrupt(m, head, o5.rawValue)
        #expect(orderIssues.contains { $0.kind == .freeList && $0.pfn == head })
        #expect(Set(orderIssues.map(\.kind)).isSubset(of: [.freeList, .counter]))
        expectClean(m)
    }

    @Test("a free tail turned into a MISC page: counters")
    func counter() throws {
        let m = try Machine(Fixtures.mini())
        let pfn: UInt64 = 0x8005
        let misc = PageWord.inline(.misc, subtype: MiscSubtype.unknown.rawValue, flags: word(m, pfn).flags)
        let issues = Self.corrupt(m, pfn, misc.rawValue)
        #expect(issues.count == 1)
        #expect(issues.first?.kind == .counter)
        #expect(issues.first?.pfn == nil)
        expectClean(m)
    }

    @Test("a pointer word naming a bogus or wrong descriptor: descriptor")
    func descriptor() throws {
        let m = try Machine(Fixtures.mini())
        let f = try m.folioAlloc(.file, order: 0, nid: 1)
        let id = word(m, f).descriptorID
        let bogus = Self.corrupt(m, f, PageWord.pointer(.file, descriptor: 9999).rawValue)
        #expect(!bogus.isEmpty)
        #expect(bogus.allSatisfy { $0.kind == .descriptor })
        #expect(bogus.contains { $0.pfn == f })
        // The right id under the wrong type.
        let wrongType = Self.corrupt(m, f, PageWord.pointer(.anon, descriptor: id).rawValue)
        #expect(wrongType.map(\.kind) == [.descriptor])
        // A descriptor named from outside its pages (f + 3 is a BUDDY tail).
        let outside = Self.corrupt(m, f + 3, PageWord.pointer(.file, descriptor: id).rawValue)
        #expect(outside.contains { $0.kind == .descriptor && $0.pfn == f + 3 })
        #expect(outside.contains { $0.kind == .descriptor && $0.pfn == f }) // named by 2 words, has 1 page
        #expect(Set(outside.map(\.kind)).isSubset(of: [.descriptor, .counter]))
        #expect(try m.folioPut(f) == 0)
        expectClean(m)
    }

    @Test("NOPAGE where memory is, a word where there is no memmap, a hole not reserved: memmap")
    func memmap() throws {
        let m = try Machine(Fixtures.mini())
        let nopage = Self.corrupt(m, 0, PageWord.nopage.rawValue) // reserved pfn 0
        #expect(nopage.map(\.kind) == [.memmap])
        #expect(nopage.first?.pfn == 0)
        let inHole = Self.corrupt(m, 0x6123, 0) // no memmap there
        #expect(inHole.map(\.kind) == [.memmap])
        #expect(inHole.first?.pfn == 0x6123)
        let hole = Self.corrupt(m, 0xa0, PageWord.inline(.misc, subtype: MiscSubtype.unknown.rawValue, flags: 0).rawValue)
        #expect(hole.map(\.kind) == [.memmap])
        expectClean(m)
    }

    @Test("bad subtypes, orders, usermap and unused types: word")
    func wordIssues() throws {
        let m = try Machine(Fixtures.mini())
        let flags = word(m, 0).flags
        let badSubtype = Self.corrupt(m, 0, PageWord.inline(.misc, subtype: 9, flags: flags).rawValue)
        #expect(badSubtype.map(\.kind) == [.word])
        let ksm = Self.corrupt(m, 0, PageWord.pointer(.ksm, descriptor: 1).rawValue)
        #expect(ksm.map(\.kind) == [.word])
        let tail = word(m, 0x8005)
        let usermapTail = Self.corrupt(m, 0x8005, tail.rawValue | PageWord.usermapBit)
        #expect(usermapTail.map(\.kind) == [.word])
        let tailWithOrder = Self.corrupt(m, 0x8005, tail.rawValue | 2 << PageWord.orderShift)
        #expect(tailWithOrder.contains { $0.kind == .word && $0.pfn == 0x8005 })
        let badBuddySubtype = Self.corrupt(m, 0x8005, tail.rawValue | 5 << PageWord.subtypeShift)
        #expect(badBuddySubtype.contains { $0.kind == .word && $0.pfn == 0x8005 })
        // A MISC block whose pages disagree.
        let raw = try m.allocPages(order: 2, nid: 0)
        let rawWord = word(m, raw + 1)
        let split = Self.corrupt(m, raw + 1, PageWord.inline(.misc, subtype: MiscSubtype.zero.rawValue, order: 2,
                                                              flags: rawWord.flags).rawValue)
        #expect(split.map(\.kind) == [.word])
        try m.freePages(raw, order: 2)
        expectClean(m)
    }

    @Test("every issue is reported, with a message")
    func everyIssueReported() throws {
        let m = try Machine(Fixtures.mini())
        let issues = withMutableWords(m) { w -> [CheckIssue] in
            let old = (w[0], w[0x6000])
            w[0] = .max
            w[0x6000] = 0
            defer { (w[0], w[0x6000]) = old }
            return m.check()
        }
        #expect(issues.map(\.pfn) == [0, 0x6000])
        #expect(issues.allSatisfy { $0.kind == .memmap && !$0.message.isEmpty && $0.description.contains("memmap") })
        expectClean(m)
    }
}
