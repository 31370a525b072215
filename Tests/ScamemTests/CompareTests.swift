import Testing
import Scamem

/// The comparison: what each strategy keeps and costs on the workloads.
@Suite struct CompareTests {
    @Test(arguments: [Workload.mixed, .manySmall])
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
        // map entry per pinned page; PFN_LOOKUP keeps its pfn-to-zone table
        // (2 bytes for each of mini's 64 memory blocks).
        let pages = UInt64(by[.pfnLookup]!.nrPages), areas = UInt64(by[.pfnLookup]!.nrAreas)
        #expect(by[.legacy]!.scamemBytes == 8 * pages)
        #expect(by[.pfnLookup]!.scamemBytes == 8 * areas + 8 * pages + 2 * 64)
        #expect(by[.flagsArray]!.scamemBytes == 8 * areas + 16 * pages)
        #expect(by[.packed]!.scamemBytes == 16 * areas + 8 * pages)
        #expect(by[.vmaPrivate]!.scamemBytes == 8 * areas + 8 * pages + 16 * areas)
    }

    /// The real users: what each strategy can pin and what it keeps.
    @Test(arguments: [Workload.bpfRingbuf, .ioUring, .kcov, .v4l2])
    func scenarioWorkloads(workload: Workload) throws {
        let rows = try Machine.compareStrategies(Fixtures.mini(), workload: workload)
        #expect(rows.map(\.strategy) == Strategy.allCases)
        for r in rows {
            #expect(r.workload == workload && r.metadataBytes == r.memmapPages * r.bytesPerPage + r.scamemBytes)
            #expect(r.nsPageToNid > 0 && r.nsPin > 0 && r.nsVmallocVfree > 0)
            switch workload {
            case .bpfRingbuf:
                // 16 rings of 4-256 data pages and 3 meta pages each.
                #expect(r.nrAreas == 16 && r.nrPages == 16 * 3 + 4 * (4 + 16 + 64 + 256))
                // The ring's pages carry their allocator's word: only LEGACY's
                // struct page and VMA_PRIVATE's VMA lead GUP to a holder.
                let canPin = r.strategy == .legacy || r.strategy == .vmaPrivate
                #expect(r.pagesPinned == (canPin ? 16 : 0))
                #expect(r.pagesRetained == (canPin ? r.nrPages : 0))
            case .ioUring:
                #expect(r.nrAreas == 64 && r.nrPages == 32 * 7 && r.pagesPinned == 32 * 16 && r.pagesRetained == 0)
            case .kcov:
                #expect(r.nrAreas == 32 && r.nrPages == 32 * 128 && r.pagesPinned == 32)
                #expect(r.pagesRetained == (r.strategy == .legacy ? 32 : r.nrPages))
            default:
                #expect(r.nrAreas == 16 && r.nrPages == 16 * 1013 && r.pagesPinned == 4 * 1013)
                #expect(r.pagesRetained == 4 * 1013)
            }
        }
    }

    /// A pinned scamem page poisoned in every area: the side table is what
    /// PFN_LOOKUP and PACKED pay beside the link; the poisoned pages stay.
    @Test func hwpoisonWorkloadChargesTheSideTable() throws {
        let rows = try Machine.compareStrategies(Fixtures.mini(), workload: .hwpoison)
        #expect(rows.map(\.strategy) == Strategy.allCases)
        let by = Dictionary(uniqueKeysWithValues: rows.map { ($0.strategy, $0) })
        let areas: UInt64 = 64, pages: UInt64 = 256
        for r in rows {
            #expect(r.workload == .hwpoison && r.nrAreas == 64 && r.nrPages == 256 && r.pagesPinned == 64)
            #expect(r.pagesRetained == (r.strategy == .legacy ? 64 : 256))
        }
        #expect(by[.legacy]!.scamemBytes == 8 * pages)
        // PFN_LOOKUP also keeps its pfn-to-zone table: 2 bytes for each of mini's 64 memory blocks.
        #expect(by[.pfnLookup]!.scamemBytes == 8 * areas + 8 * pages + 16 * areas + 2 * 64)
        #expect(by[.flagsArray]!.scamemBytes == 8 * areas + 16 * pages)
        #expect(by[.packed]!.scamemBytes == 16 * areas + 8 * pages + 16 * areas)
        // VMA_PRIVATE's reverse map already holds the pinned pages; poison adds nothing.
        #expect(by[.vmaPrivate]!.scamemBytes == 8 * areas + 8 * pages + 16 * areas)
    }

    /// offline_pages() of node 1's memory blocks with scamems in them: the
    /// blocks holding scamem pages stay online under every strategy (a
    /// scamem page is unmovable, as a vmalloc page is); PFN_LOOKUP pays
    /// for its per-memory-block zone table.
    @Test func hotplugWorkloadKeepsTheScamemsBlocksOnline() throws {
        let rows = try Machine.compareStrategies(Fixtures.mini(), workload: .hotplug)
        let block = 1024
        for r in rows {
            #expect(r.workload == .hotplug && r.nrAreas == 64 && r.nrPages == 1024 && r.pagesPinned == 64)
            // 1024 pages lowest-first in node 1's 24 blocks: one or two blocks, not all.
            #expect(r.pagesRetained > 0 && r.pagesRetained % block == 0 && r.pagesRetained <= 2 * block, "\(r.strategy)")
            #expect(r.pagesRetained == rows[0].pagesRetained)
        }
        let by = Dictionary(uniqueKeysWithValues: rows.map { ($0.strategy, $0) })
        #expect(by[.pfnLookup]!.scamemBytes == 8 * 64 + 8 * 1024 + 2 * 64)
    }

    /// FOLL_LONGTERM of anon pages in ZONE_MOVABLE (carved out of mini's
    /// highest zones): every one migrates first, under every strategy.
    @Test func longtermMovableWorkloadMigratesTheAnonPages() throws {
        let rows = try Machine.compareStrategies(Fixtures.mini(), workload: .longtermMovable)
        for r in rows {
            #expect(r.workload == .longtermMovable && r.nrAreas == 64 && r.nrPages == 256)
            #expect(r.pagesPinned == 64 + 256 && r.pagesRetained == 256, "\(r.strategy)")
        }
    }

    @Test func bigEnoughMachineNeeded() throws {
        #expect(throws: ScamemError.noMemory) { try Machine.compareStrategies(Fixtures.tiny(), workload: .mixed) }
    }
}
