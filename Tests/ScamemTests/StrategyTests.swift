import Testing
import Scamem

/// What sets the strategies apart, and what they must agree on.
@Suite struct StrategyTests {
    /// The same seeded sequence on all five: the guarantee holds on each
    /// (the checker after every step), the four scamem strategies agree on
    /// every GUP result, node, zone and error, and LEGACY on every error and
    /// count (its pages are freed at other times, so its pfns drift).
    @Test(arguments: [7, 8] as [UInt64])
    func differential(seed: UInt64) throws {
        var runs = try Strategy.allCases.map { try SequenceRunner(tinyMachine($0), seed: seed) }
        for step in 0..<1500 {
            let lines = runs.indices.map { runs[$0].step() }
            for (run, line) in zip(runs, lines) {
                let issues = run.machine.check()
                #expect(issues.isEmpty, "\(run.machine.placementStrategy) step \(step): \(issues.prefix(3))")
                if !issues.isEmpty { return }
                #expect(line.shape == lines[1].shape, "step \(step): \(run.machine.placementStrategy) \(line) vs \(lines[1])")
                if run.machine.placementStrategy.wholeObject {
                    #expect(line.pages == lines[1].pages, "step \(step): \(run.machine.placementStrategy) \(line) vs \(lines[1])")
                }
            }
        }
        for i in runs.indices { try runs[i].finish() }
    }

    /// A large area under every strategy: freeing, checking and counting it
    /// walk pages[] by index (FLAGS_ARRAY once searched it per page, which
    /// made a 65,536-page area take seconds).
    @Test(arguments: Strategy.allCases)
    func largeAreaIsLinear(strategy: Strategy) throws {
        let m = try Machine(MachineDescription.default.with(strategy: strategy))
        let free = totalFree(m)
        let addr = try m.vmalloc(size: 65536 * 4096, policy: .interleave)
        expectClean(m)
        let perNode = (0..<2).map { m.countPages(nid: $0)[Int(PageType.scamem.rawValue)] }
        #expect(strategy.wordNamesObject ? perNode == [32768, 32768] : perNode == [0, 0])
        try m.vfree(addr)
        #expect(totalFree(m) == free)
        expectClean(m)
    }

    @Test func packedBoundIsEnforced() throws {
        let m = try Machine(Fixtures.tiny().with(strategy: .packed, packedIndexBits: 3))
        var ids = try (0..<8).map { (_: Int) throws(ScamemError) -> ScamemID in try m.scamemAlloc(nrPages: 1) }
        #expect(throws: ScamemError.noSpace) { try m.scamemAlloc(nrPages: 2) }
        #expect(throws: ScamemError.noSpace) { try m.vmalloc(size: 4096) }
        let free = totalFree(m)
        expectClean(m)
        try m.scamemPut(ids.removeFirst())
        #expect(totalFree(m) == free + 1)
        ids.append(try m.scamemAlloc(nrPages: 1))
        expectClean(m)
        for id in ids { try m.scamemPut(id) }
        expectClean(m)
    }

    /// The bound is the bits between the type and the layout's lowest field.
    @Test func packedBoundFollowsTheLayout() throws {
        // Classic SPARSEMEM with 46 physical bits: zones at 32, 28 index bits.
        #expect(throws: ScamemError.invalid) {
            try Machine(Fixtures.tiny(profile: .x86_64Sparsemem).with(strategy: .packed, packedIndexBits: 29))
        }
        _ = try Machine(Fixtures.tiny(profile: .x86_64Sparsemem).with(strategy: .packed, packedIndexBits: 28))
        // 52 physical bits (5-level paging): 25 section bits leave 22.
        let big = LayoutProfile(nodesShift: 10, zonesShift: 3, sectionSizeBits: 27, maxPhysmemBits: 52, sparsememVmemmap: false)
        #expect(throws: ScamemError.invalid) {
            try Machine(Fixtures.tiny(profile: big).with(strategy: .packed, packedIndexBits: 23))
        }
        _ = try Machine(Fixtures.tiny(profile: big).with(strategy: .packed, packedIndexBits: 22))
    }

    @Test func vmaPrivateCountsItsReverseMap() throws {
        let m = try tinyMachine(.vmaPrivate)
        let (mm, k, u) = try mappedVmallocUser(m, pages: 4)
        #expect(m.strategyCost().extraBytes == 0)
        let a = try m.pinUserPages(mm, start: u, nrPages: 3)
        let b = try m.getUserPages(mm, start: u, nrPages: 1)
        #expect(m.strategyCost().extraBytes == 3 * 16)
        // The word stays MISC/vmalloc with the node/zone inline, usermap set.
        let w = word(m, a[0])
        #expect(w.type == .misc && w.subtype == MiscSubtype.vmalloc.rawValue && w.usermap)
        for pfn in a { try m.unpinUserPage(pfn) }
        #expect(m.strategyCost().extraBytes == 16)
        try m.putPage(b[0])
        #expect(m.strategyCost().extraBytes == 0)
        expectClean(m)
        try m.mmExit(mm)
        try m.vfree(k)
        expectClean(m)
    }

    @Test(arguments: Strategy.allCases)
    func costsPerPageAndPerObject(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let k = try m.vmalloc(size: 10 * 4096)
        let c = m.strategyCost()
        #expect(c.bytesPerPage == (strategy == .legacy ? 64 : 8))
        let expected: UInt64
        switch strategy {
        case .legacy: expected = 10 * 8                // the pages array
        case .flagsArray: expected = 8 + 10 * 16       // header, pages[], flags[]
        case .packed: expected = 8 + 10 * 8 + 8        // and its index table slot
        default: expected = 8 + 10 * 8                 // header, pages[]
        }
        // PFN_LOOKUP also keeps the memory blocks' zones: tiny's one block
        // holds four zones, so 2 bytes and its four zone ranges at 16.
        let table: UInt64 = strategy == .pfnLookup ? 2 + 4 * 16 : 0
        #expect(m.pfnZoneTableBytes == 2 + 4 * 16)
        #expect(c.objectBytes + c.extraBytes == expected + table)
        try m.vfree(k)
        #expect(m.strategyCost().objectBytes + m.strategyCost().extraBytes == table)
        expectClean(m)
    }

    @Test func descriptionsCarryTheStrategy() throws {
        for s in Strategy.allCases {
            #expect(try tinyMachine(s).placementStrategy == s)
        }
        #expect(try Machine(Fixtures.tiny()).placementStrategy == .pfnLookup)
    }
}
