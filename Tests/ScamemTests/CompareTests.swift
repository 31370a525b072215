import Testing
import Scamem

/// The comparison: what each strategy keeps and costs on the workloads.
@Suite struct CompareTests {
    @Test(arguments: Workload.allCases)
    func strategiesSideBySide(workload: Workload) throws {
        let rows = try Machine.compareStrategies(Fixtures.mini(), workload: workload)
        #expect(rows.map(\.strategy) == Strategy.allCases)
        for r in rows {
            #expect(r.workload == workload && r.nrAreas == (workload == .mixed ? 84 : 4096))
            #expect(r.pagesPinned == r.nrAreas)
            // Whole-object refcounting keeps whole areas; LEGACY the pinned pages.
            #expect(r.pagesRetained == (r.strategy == .legacy ? r.pagesPinned : r.nrPages))
            #expect(r.bytesPerPage == (r.strategy == .legacy ? 64 : 8))
            #expect(r.metadataBytes == r.memmapPages * r.bytesPerPage + r.scamemBytes)
            #expect(r.nsPageToNid > 0 && r.nsPin > 0 && r.nsUnpin > 0 && r.nsVmallocVfree > 0)
        }
        let by = Dictionary(uniqueKeysWithValues: rows.map { ($0.strategy, $0) })
        // Per object: pages[] (8 per page) and a header; FLAGS_ARRAY doubles
        // the per-page part; PACKED adds a table slot; VMA_PRIVATE a reverse
        // map entry per pinned page.
        let pages = UInt64(by[.pfnLookup]!.nrPages), areas = UInt64(by[.pfnLookup]!.nrAreas)
        #expect(by[.legacy]!.scamemBytes == 8 * pages)
        #expect(by[.pfnLookup]!.scamemBytes == 8 * areas + 8 * pages)
        #expect(by[.flagsArray]!.scamemBytes == 8 * areas + 16 * pages)
        #expect(by[.packed]!.scamemBytes == 16 * areas + 8 * pages)
        #expect(by[.vmaPrivate]!.scamemBytes == 8 * areas + 8 * pages + 16 * areas)
    }

    @Test func bigEnoughMachineNeeded() throws {
        #expect(throws: ScamemError.noMemory) { try Machine.compareStrategies(Fixtures.tiny(), workload: .mixed) }
    }
}
