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
    /// 16 bpf ringbufs of 16 KiB to 1 MiB (kernel/bpf/ringbuf.c): caller
    /// pages, data twice in a plain vmap(), consumer and data mapped, a pin
    /// on each data page where the strategy can take one.
    case bpfRingbuf = 2
    /// 32 io_uring rings (io_uring/memmap.c): an SQ/CQ region of 3 pages and
    /// an SQE region of 4, compound on even rings and single pages (the
    /// fragmented fallback) on odd ones, mapped with vm_insert_pages(); a
    /// 64 KiB registered buffer each, pinned FOLL_LONGTERM.
    case ioUring = 3
    /// 32 kcov buffers of 64K entries (512 KiB), kcov_mmap()ed with
    /// vm_insert_page(), one page each pinned.
    case kcov = 4
    /// 4 vb2 queues of 4 MMAP buffers of 1080p YUYV (4,147,200 bytes),
    /// remap_vmalloc_range()d, the first buffer of each imported as a USERPTR
    /// buffer of another device (every page pinned FOLL_LONGTERM).
    case v4l2 = 5
    /// 64 vmalloc_user areas of 4 pages, mapped, one page each pinned
    /// FOLL_LONGTERM and then poisoned (memory_failure(): the kernel leaves a
    /// scamem page as it is, MF_IGNORED): what each strategy pays to keep
    /// PG_hwpoison beside the link (docs/strategies.md), and the poisoned
    /// pages retained for good.
    case hwpoison = 6
    /// Memory hotplug with scamems present: 64 vmalloc_user areas of 16
    /// pages on the last node, mapped, one page each pinned; then every
    /// online memory block of that node offlined (offline_pages()). Blocks
    /// holding a scamem page stay online (unmovable); `pagesRetained` counts
    /// their pages, and PFN_LOOKUP pays for its per-memory-block zone table.
    case hotplug = 7
    /// Long-term pins in a movable zone: 64 vmalloc_user areas of 4 pages
    /// (scamem pages, never in ZONE_MOVABLE: pinned in place) and 256 anon
    /// pages faulted into ZONE_MOVABLE, every page pinned FOLL_LONGTERM
    /// (the anon ones migrate out first). On a description without
    /// ZONE_MOVABLE the upper half of each node's highest zone becomes one,
    /// as movablecore= makes it. `pagesRetained` counts the anon pages that
    /// migrated.
    case longtermMovable = 8

    public var description: String {
        switch self {
        case .mixed: "mixed"
        case .manySmall: "many-small"
        case .bpfRingbuf: "bpf-ringbuf"
        case .ioUring: "io-uring"
        case .kcov: "kcov"
        case .v4l2: "v4l2"
        case .hwpoison: "hwpoison"
        case .hotplug: "hotplug"
        case .longtermMovable: "longterm-movable"
        }
    }

    /// Sizes in pages of the vmalloc_user workloads, deterministic.
    var areaPages: [Int] {
        switch self {
        case .mixed: (0..<64).map { 1 + $0 % 4 } + Array(repeating: 64, count: 16) + Array(repeating: 1024, count: 4)
        case .manySmall: (0..<4096).map { 1 + $0 % 2 }
        case .hwpoison, .longtermMovable: Array(repeating: 4, count: 64)
        case .hotplug: Array(repeating: 16, count: 64)
        default: []
        }
    }
}

/// A workload set up on a machine: what the measurements walk.
struct WorkloadRun {
    var nrAreas = 0
    /// Every page the subjects own, for page_to_nid().
    var pfns: [UInt64] = []
    /// User pages pinned and unpinned one at a time, for the timings.
    var pinAddrs: [UInt64] = []
    /// What stays pinned while the driver frees and the process exits.
    var holds: [(addr: UInt64, pages: Int)] = []
    /// Anon pages faulted into ZONE_MOVABLE, before any pin.
    var movablePfns: [UInt64] = []
}

extension MachineDescription {
    /// This machine, or where it has no ZONE_MOVABLE, one with the upper
    /// half of each node's highest zone made ZONE_MOVABLE (from a
    /// MAX_ORDER-aligned pfn, as find_zone_movable_pfns_for_nodes() rounds
    /// zone_movable_pfn): what movablecore= of half that memory makes.
    func withMovableZones() -> MachineDescription {
        guard !zones.contains(where: { $0.zone == .movable }) else { return self }
        var d = self
        let maxOrderPages = UInt64(1) << UInt64(maxPageOrder)
        for nid in 0..<nrNodes {
            guard let i = d.zones.indices.filter({ d.zones[$0].nid == nid })
                .max(by: { d.zones[$0].zone < d.zones[$1].zone }) else { continue }
            let z = d.zones[i]
            let cut = (z.startPfn + z.spannedPages / 2 + maxOrderPages - 1) & ~(maxOrderPages - 1)
            guard cut > z.startPfn, cut < z.endPfn else { continue }
            d.zones[i].spannedPages = cut - z.startPfn
            d.zones.append(ZoneSpan(nid: nid, zone: .movable, startPfn: cut, spannedPages: z.endPfn - cut))
        }
        return d
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
        let d = workload == .longtermMovable ? desc.withMovableZones() : desc
        for s in Strategy.allCases {
            rows.append(try Machine(d.with(strategy: s, packedIndexBits: d.packedIndexBits)).measure(workload))
        }
        return rows
    }

    /// Sets the workload up in `mm` (the driver's subjects stay in `subjects`
    /// for the release).
    func setUp(_ workload: Workload, _ mm: MMID, _ subjects: inout Subjects) throws(ScamemError) -> WorkloadRun {
        var run = WorkloadRun()
        func userPages(_ u: UInt64, _ n: Int) throws(ScamemError) -> [UInt64] {
            var out: [UInt64] = []
            for i in 0..<UInt64(n) { out.append(try followPage(mm, u + i * 4096)) }
            return out
        }
        switch workload {
        case .mixed, .manySmall, .hwpoison, .hotplug, .longtermMovable:
            let last = machineDescription.nrNodes - 1
            for n in workload.areaPages {
                let k = workload == .hotplug ? try vmalloc(size: UInt64(n) * 4096, flags: .usermap, policy: .node(last))
                    : try vmallocUser(size: UInt64(n) * 4096)
                let u = try mmap(mm, length: UInt64(n) * 4096, flags: .shared)
                try remapVmallocRange(mm, uaddr: u, kaddr: k, pgoff: 0)
                subjects.areas.append(k)
                run.pfns += try userPages(u, n)
                run.pinAddrs += (0..<UInt64(n)).map { u + $0 * 4096 }
                run.holds.append((u, 1))
            }
            if workload == .longtermMovable {
                let a = try mmap(mm, length: 256 * 4096, flags: [.private, .anonymous])
                for p in 0..<256 as Range<UInt64> { run.movablePfns.append(try handleMMFault(mm, a + p * 4096)) }
                run.pinAddrs += (0..<256 as Range<UInt64>).map { a + $0 * 4096 }
                run.holds.append((a, 256))
            }
        case .bpfRingbuf:
            for i in 0..<16 {
                let data = 4 << (2 * (i % 4))
                let (rb, k) = try bpfRingbufAlloc(dataSize: UInt64(data) * 4096)
                subjects.ringbufs.append(rb)
                let cons = try mmap(mm, length: 4096, flags: .shared)
                let u = try mmap(mm, length: UInt64(1 + 2 * data) * 4096, prot: .read, flags: .shared)
                try bpfRingbufMmap(rb, mm, uaddr: cons, pgoff: 0)
                try bpfRingbufMmap(rb, mm, uaddr: u, pgoff: 1)
                for p in 0..<UInt64(Self.ringbufMetaPages + data) { run.pfns.append(try vmallocToPfn(k + p * 4096)) }
                run.pinAddrs += (1...UInt64(data)).map { u + $0 * 4096 }
                run.holds.append((u + 4096, 1))
            }
            run.nrAreas = 16
        case .ioUring:
            for i in 0..<32 {
                for size: UInt64 in [3 * 4096, 4 * 4096] {
                    let (r, _) = try ioUringRegionAlloc(size: size, single: i % 2 == 1)
                    subjects.regions.append(r)
                    let u = try mmap(mm, length: size, flags: .shared)
                    try ioUringRegionMmap(r, mm, uaddr: u)
                    run.pfns += try userPages(u, Int(size / 4096))
                }
                let buf = try mmap(mm, length: 16 * 4096, flags: [.private, .anonymous])
                for p in 0..<16 as Range<UInt64> { _ = try handleMMFault(mm, buf + p * 4096) }
                run.pinAddrs += (0..<16 as Range<UInt64>).map { buf + $0 * 4096 }
                run.holds.append((buf, 16))
            }
            run.nrAreas = 64
        case .kcov:
            for _ in 0..<32 {
                let (kc, _) = try kcovInitTrace(entries: 64 * 1024)
                subjects.kcovs.append(kc)
                let u = try mmap(mm, length: 512 * 1024, flags: .shared)
                try kcovMmap(kc, mm, uaddr: u)
                run.pfns += try userPages(u, 128)
                run.pinAddrs += (0..<128 as Range<UInt64>).map { u + $0 * 4096 }
                run.holds.append((u, 1))
            }
        case .v4l2:
            let frame: UInt64 = 1920 * 1080 * 2, pages = Int((frame + 4095) / 4096)
            for _ in 0..<4 {
                for b in 0..<4 {
                    let (buf, _) = try vb2VmallocAlloc(size: frame)
                    subjects.vb2.append(buf)
                    let u = try mmap(mm, length: frame, flags: .shared)
                    try vb2VmallocMmap(buf, mm, uaddr: u)
                    run.pfns += try userPages(u, pages)
                    run.pinAddrs += (0..<UInt64(pages)).map { u + $0 * 4096 }
                    if b == 0 { run.holds.append((u, pages)) }
                }
            }
        }
        if run.nrAreas == 0 { run.nrAreas = subjects.count }
        return run
    }

    /// The drivers' objects, freed in the kernel's order after the process exits.
    struct Subjects {
        var areas: [UInt64] = [], ringbufs: [BpfRingbufID] = [], regions: [IoUringRegionID] = []
        var kcovs: [KcovID] = [], vb2: [Vb2BufferID] = []
        var count: Int { areas.count + ringbufs.count + regions.count + kcovs.count + vb2.count }
    }

    /// The driver frees what it can: vfree() and kcov/vb2 frees go at once
    /// (mappings and pins keep the pages); a bpf ringbuf or io_uring region
    /// still held is `.busy` and left for `retry`.
    func release(_ s: Subjects) throws(ScamemError) -> Subjects {
        var left = Subjects()
        for k in s.areas { try vfree(k) }
        for k in s.kcovs { try kcovFree(k) }
        for b in s.vb2 { try vb2VmallocPut(b) }
        for rb in s.ringbufs {
            do throws(ScamemError) { try bpfRingbufFree(rb) } catch {
                guard error == .busy else { throw error }
                left.ringbufs.append(rb)
            }
        }
        for r in s.regions { try ioUringRegionFree(r) }
        return left
    }

    /// The workload on this (fresh) machine.
    func measure(_ workload: Workload) throws(ScamemError) -> StrategyComparison {
        let mm = try mmNew()
        var subjects = Subjects()
        let run = try setUp(workload, mm, &subjects)
        let pfns = run.pfns, nrPages = pfns.count

        // page_to_nid() over every page, a few rounds.
        let rounds = max(1, 200_000 / max(nrPages, 1))
        var sink = 0
        var t0 = nowNanoseconds()
        for _ in 0..<rounds { for pfn in pfns { sink &+= try pageToNid(pfn) } }
        let nsNid = Double(nowNanoseconds() - t0) / Double(rounds * pfns.count)

        // Pin and unpin every pin target, one call per page. A strategy that
        // cannot pin a page (a ringbuf page under a word that names no
        // scamem) is timed refusing it.
        var buf: UInt64 = 0
        var got: [UInt64] = []
        got.reserveCapacity(run.pinAddrs.count)
        t0 = nowNanoseconds()
        for a in run.pinAddrs {
            if let n = try? pinUserPages(mm, start: a, nrPages: 1, flags: .longterm, into: &buf), n == 1 { got.append(buf) }
        }
        let nsPin = Double(nowNanoseconds() - t0) / Double(max(run.pinAddrs.count, 1))
        t0 = nowNanoseconds()
        for pfn in got { try unpinUserPage(pfn) }
        let nsUnpin = got.isEmpty ? 0 : Double(nowNanoseconds() - t0) / Double(got.count)
        // The anon pages are pinned last: those whose pfn changed migrated.
        let migrated = zip(got.suffix(run.movablePfns.count), run.movablePfns).filter { $0 != $1 }.count

        // Steady state: everything live and mapped, the holds pinned.
        var pinned: [UInt64] = []
        for h in run.holds {
            for i in 0..<UInt64(h.pages) {
                if let n = try? pinUserPages(mm, start: h.addr + i * 4096, nrPages: 1, flags: .longterm, into: &buf), n == 1 {
                    pinned.append(buf)
                }
            }
        }
        // A hardware error on each held page: poisoned in place (-EBUSY,
        // MF_IGNORED), its word and link untouched.
        if workload == .hwpoison {
            for pfn in pinned {
                do throws(ScamemError) { try memoryFailure(pfn: pfn, flags: .swSimulated) } catch {
                    guard error == .busy else { throw error }
                }
            }
        }
        // Every online block of the last node offlined, the areas' pages
        // holding theirs online.
        var blockedPages = 0
        if workload == .hotplug {
            let last = machineDescription.nrNodes - 1
            for b in 0..<memoryBlockCount {
                let info = try memoryBlock(containing: UInt64(b) * (memoryBlockSizeBytes / 4096))
                guard info.state == .online, info.nid == last, info.zone != nil else { continue }
                do throws(ScamemError) { try offlinePages(startPfn: info.startPfn, nrPages: info.nrPages) } catch {
                    guard error == .busy || error == .invalid else { throw error }
                    if error == .busy { blockedPages += Int(info.nrPages) }
                }
            }
        }
        let cost = strategyCost()
        let memmap = memmapPages

        // The process exits, the driver frees; the pins remain.
        let free0 = info().freePages
        try mmExit(mm)
        let left = try release(subjects)
        let freed = Int(info().freePages - free0)
        let retained = switch workload {
        case .hotplug: blockedPages
        case .longtermMovable: migrated
        default: max(0, nrPages - freed)
        }
        for pfn in pinned { try unpinUserPage(pfn) }
        _ = try release(left)

        // vmalloc + vfree of a 4-page area.
        let n = 2000
        t0 = nowNanoseconds()
        for _ in 0..<n { try vfree(try vmalloc(size: 4 * 4096)) }
        let nsVmalloc = Double(nowNanoseconds() - t0) / Double(n)
        _ = sink

        return StrategyComparison(
            strategy: strategy.kind, workload: workload, nrAreas: run.nrAreas, nrPages: nrPages,
            memmapPages: memmap, bytesPerPage: cost.bytesPerPage,
            bytesPerScamem: Double(cost.objectBytes + cost.extraBytes) / Double(run.nrAreas),
            scamemBytes: cost.objectBytes + cost.extraBytes,
            metadataBytes: memmap * cost.bytesPerPage + cost.objectBytes + cost.extraBytes,
            pagesPinned: pinned.count, pagesRetained: retained,
            nsPageToNid: nsNid, nsPin: nsPin, nsUnpin: nsUnpin, nsVmallocVfree: nsVmalloc)
    }
}
