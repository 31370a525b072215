#if canImport(Glibc)
import Glibc
#endif

/// A workload the strategies are compared on. The C counterparts are
/// `SCAMEM_WORKLOAD_*`.
public enum Workload: UInt32, CaseIterable, Sendable, CustomStringConvertible {
    /// 64 areas of 1-4 pages, 16 of 64 pages, 4 of 1024 pages (4 MiB).
    case mixed = 0
    /// 4096 areas of 1-2 pages, as vmalloc'd kernel stacks and small buffers.
    case manySmall = 1

    public var description: String { self == .mixed ? "mixed" : "many-small" }

    /// Sizes in pages, deterministic.
    var areaPages: [Int] {
        switch self {
        case .mixed: (0..<64).map { 1 + $0 % 4 } + Array(repeating: 64, count: 16) + Array(repeating: 1024, count: 4)
        case .manySmall: (0..<4096).map { 1 + $0 % 2 }
        }
    }
}

/// One strategy's row of the comparison. The C counterpart is
/// `struct scamem_compare_row`.
public struct StrategyComparison: Hashable, Sendable {
    public var strategy: Strategy
    public var workload: Workload
    public var nrAreas: Int
    public var nrPages: Int
    public var memmapPages: UInt64
    /// The word (8) or struct page (64).
    public var bytesPerPage: UInt64
    /// Object and extra bytes per area, averaged.
    public var bytesPerScamem: Double
    /// Objects, reverse map, index table, with every area live and pinned.
    public var scamemBytes: UInt64
    /// memmap (bytes per page times memmap pfns) plus scamemBytes.
    public var metadataBytes: UInt64
    /// Pages the workload pinned (one per area).
    public var pagesPinned: Int
    /// vmalloc pages still allocated after every area was vfreed and unmapped
    /// while the pins are held: whole-object refcounting keeps whole areas,
    /// LEGACY only the pinned pages.
    public var pagesRetained: Int
    public var nsPageToNid: Double
    public var nsPin: Double
    public var nsUnpin: Double
    public var nsVmallocVfree: Double
}

@inline(__always)
func nowNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

extension Machine {
    /// Runs `workload` on a fresh machine of `desc` under each strategy and
    /// measures what it costs. The C counterpart is `scamem_compare_strategies()`.
    public static func compareStrategies(_ desc: MachineDescription = .default,
                                         workload: Workload) throws(ScamemError) -> [StrategyComparison] {
        var rows: [StrategyComparison] = []
        for s in Strategy.allCases {
            rows.append(try Machine(desc.with(strategy: s, packedIndexBits: desc.packedIndexBits)).measure(workload))
        }
        return rows
    }

    /// The workload on this (fresh) machine.
    func measure(_ workload: Workload) throws(ScamemError) -> StrategyComparison {
        let sizes = workload.areaPages
        let mm = mmNew()
        var areas: [(k: UInt64, u: UInt64, n: Int)] = []
        for n in sizes {
            let k = try vmallocUser(size: UInt64(n) * 4096)
            let u = try mmap(mm, length: UInt64(n) * 4096, flags: .shared)
            try remapVmallocRange(mm, uaddr: u, kaddr: k, pgoff: 0)
            areas.append((k, u, n))
        }
        let nrPages = sizes.reduce(0, +)
        var pfns: [UInt64] = []
        pfns.reserveCapacity(nrPages)
        for a in areas { for i in 0..<a.n { pfns.append(try vmallocToPfn(a.k + UInt64(i) * 4096)) } }

        // page_to_nid() over every vmalloc page, a few rounds.
        let rounds = max(1, 200_000 / max(nrPages, 1))
        var sink = 0
        var t0 = nowNanoseconds()
        for _ in 0..<rounds { for pfn in pfns { sink &+= try pageToNid(pfn) } }
        let nsNid = Double(nowNanoseconds() - t0) / Double(rounds * pfns.count)

        // Pin and unpin every page, one call per page.
        var buf: UInt64 = 0
        t0 = nowNanoseconds()
        for a in areas { for i in 0..<a.n { _ = try pinUserPages(mm, start: a.u + UInt64(i) * 4096, nrPages: 1, flags: .longterm, into: &buf) } }
        let nsPin = Double(nowNanoseconds() - t0) / Double(nrPages)
        t0 = nowNanoseconds()
        for pfn in pfns { try unpinUserPage(pfn) }
        let nsUnpin = Double(nowNanoseconds() - t0) / Double(nrPages)

        // Steady state: every area live, mapped, one page of each pinned.
        var pinned: [UInt64] = []
        for a in areas {
            _ = try pinUserPages(mm, start: a.u, nrPages: 1, flags: .longterm, into: &buf)
            pinned.append(buf)
        }
        let cost = strategyCost()
        let memmap = memmapPages

        // The driver frees, the process exits; the pins remain.
        let free0 = info().freePages
        for a in areas { try vfree(a.k) }
        try mmExit(mm)
        let retained = nrPages - Int(info().freePages - free0)
        for pfn in pinned { try unpinUserPage(pfn) }

        // vmalloc + vfree of a 4-page area.
        let n = 2000
        t0 = nowNanoseconds()
        for _ in 0..<n { try vfree(try vmalloc(size: 4 * 4096)) }
        let nsVmalloc = Double(nowNanoseconds() - t0) / Double(n)
        _ = sink

        return StrategyComparison(
            strategy: strategy.kind, workload: workload, nrAreas: areas.count, nrPages: nrPages,
            memmapPages: memmap, bytesPerPage: cost.bytesPerPage,
            bytesPerScamem: Double(cost.objectBytes + cost.extraBytes) / Double(areas.count),
            scamemBytes: cost.objectBytes + cost.extraBytes,
            metadataBytes: memmap * cost.bytesPerPage + cost.objectBytes + cost.extraBytes,
            pagesPinned: pinned.count, pagesRetained: retained,
            nsPageToNid: nsNid, nsPin: nsPin, nsUnpin: nsUnpin, nsVmallocVfree: nsVmalloc)
    }
}
