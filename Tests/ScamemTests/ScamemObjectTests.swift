import Testing
import Scamem

/// The scamem object: nr, one refcount, pages from several nodes and zones.
@Suite struct ScamemObjectTests {
    @Test(arguments: Strategy.allCases)
    func createdWithRefcountOneAndScamemWords(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let s = try m.scamemAlloc(nrPages: 5)
        let st = try m.scamemStat(s)
        #expect(st.nrPages == 5 && st.refcount == 1 && st.callerRefs == 1 && st.ownsPages)
        // Header and pages[]; FLAGS_ARRAY adds flags[]; LEGACY is a pages array.
        let bytes = [Strategy.legacy: 5 * 8, .flagsArray: 8 + 5 * 16][strategy] ?? 8 + 5 * 8
        #expect(st.bytes == bytes)
        let pages = try m.scamemPages(s)
        #expect(Set(pages).count == 5)
        for (i, pfn) in pages.enumerated() {
            #expect(try m.scamemPage(s, at: i) == pfn)
            #expect(word(m, pfn).type == (strategy.wordNamesObject ? .scamem : .misc))
            #expect(isScamemPage(m, pfn))
            if strategy.wordNamesObject {
                #expect(try m.pageScamem(pfn) == s)
            } else {
                // The page alone does not lead to its object.
                #expect(throws: ScamemError.invalid) { try m.pageScamem(pfn) }
            }
            // Every strategy answers page_to_nid and page_zonenum alike.
            let z = Fixtures.zone(of: pfn, in: Fixtures.tiny())!
            #expect(try m.pageToNid(pfn) == z.nid && m.pageZonenum(pfn) == z.zone)
        }
        #expect(throws: ScamemError.outOfRange) { try m.scamemPage(s, at: 5) }
        #expect(totalFree(m) == free0 - 5)
        expectClean(m)
        #expect(try m.scamemPut(s) == 0)
        #expect(totalFree(m) == free0)
        for pfn in pages { #expect(word(m, pfn).type == .buddy) }
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func nodePolicies(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let inter = try m.scamemAlloc(nrPages: 6, policy: .interleave)
        #expect(try m.scamemPages(inter).map { try m.pageToNid($0) } == [0, 1, 0, 1, 0, 1])
        let on1 = try m.scamemAlloc(nrPages: 3, policy: .node(1))
        #expect(try m.scamemPages(on1).allSatisfy { try m.pageToNid($0) == 1 })
        try m.setLocalNode(1)
        let local = try m.scamemAlloc(nrPages: 2, policy: .local)
        #expect(try m.scamemPages(local).allSatisfy { try m.pageToNid($0) == 1 })
        // Pages from several zones: DMA32 and DMA under GFP_DMA32.
        let dma = try m.scamemAlloc(nrPages: 4, gfp: .dma32, policy: .node(0))
        #expect(try m.scamemPages(dma).allSatisfy { try m.pageZonenum($0) == .dma32 })
        #expect(throws: ScamemError.invalid) { try m.scamemAlloc(nrPages: 1, policy: .node(2)) }
        #expect(throws: ScamemError.invalid) { try m.scamemAlloc(nrPages: 0) }
        expectClean(m)
        for s in [inter, on1, local, dma] { try m.scamemPut(s) }
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func allocationFailureGivesEverythingBack(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        #expect(throws: ScamemError.noMemory) { try m.scamemAlloc(nrPages: Int(free0) + 1) }
        #expect(totalFree(m) == free0)
        // THISNODE: node 1 alone cannot give more than its 1024 pages.
        #expect(throws: ScamemError.noMemory) { try m.scamemAlloc(nrPages: 1025, gfp: .thisNode, policy: .node(1)) }
        #expect(totalFree(m) == free0)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func callerReferences(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let s = try m.scamemAlloc(nrPages: 2)
        #expect(try m.scamemGet(s) == 2)
        #expect(try m.scamemPut(s) == 1)
        expectClean(m)
        #expect(try m.scamemPut(s) == 0)
        // The handle is stale now, and stays stale when the slot is reused.
        #expect(throws: ScamemError.badHandle) { try m.scamemPut(s) }
        let t = try m.scamemAlloc(nrPages: 1)
        #expect(t != s)
        #expect(throws: ScamemError.badHandle) { try m.scamemGet(s) }
        #expect(throws: ScamemError.badHandle) { try m.scamemStat(ScamemID(rawValue: 0xdead_beef)) }
        // A vmalloc area's reference is the area's, not a caller's to drop.
        let addr = try m.vmalloc(size: 4096)
        let area = m.findVmArea(addr)!.scamem
        #expect(throws: ScamemError.invalid) { try m.scamemPut(area) }
        try m.scamemGet(area)
        try m.vfree(addr)
        #expect(try m.scamemStat(area).refcount == 1)
        #expect(try m.scamemPut(area) == 0)
        try m.scamemPut(t)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func metadataCountsScamems(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let a = try m.scamemAlloc(nrPages: 3)
        let b = try m.scamemAlloc(nrPages: 10)
        let md = m.metadata()
        #expect(md.descriptors[Int(PageType.scamem.rawValue)] == 2)
        let perPage = [Strategy.legacy: 8, .flagsArray: 16][strategy] ?? 8
        let headers = strategy == .legacy ? 0 : 2 * 8
        // PACKED's index table slots; PFN_LOOKUP's pfn-to-zone table.
        let table = strategy == .packed ? 2 * 8 : 0
        let zoneTable = strategy == .pfnLookup ? m.pfnZoneTableBytes : 0
        #expect(md.scamemBytes == UInt64(headers + 13 * perPage + table) + zoneTable)
        #expect(md.descriptorBytes == md.scamemBytes)
        #expect(m.countPages()[Int(PageType.scamem.rawValue)] == (strategy.wordNamesObject ? 13 : 0))
        #expect(m.countPages()[Int(PageType.misc.rawValue)] == (strategy.wordNamesObject ? 0 : 13))
        try m.scamemPut(a)
        try m.scamemPut(b)
        #expect(m.metadata().descriptorBytes == zoneTable)
        expectClean(m)
    }
}
