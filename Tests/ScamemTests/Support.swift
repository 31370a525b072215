import Testing
import Scamem

// Shared fixtures for the suite: small machines (the default one has 2.36M
// pfns and its checker walk costs most of a second in debug builds), a seeded
// RNG, and the checker assertion every machine-building test ends with.

/// SplitMix64: a tiny deterministic generator, so every "random" sequence in
/// the suite is the same on every run.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<n (n > 0; the modulo bias does not matter here).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

enum Fixtures {
    /// The x86_64 profiles with 4 MiB (1024-page) sections, so that small
    /// machines still have several sections, whole-section holes and, under
    /// classic SPARSEMEM, varying section bits.
    static let smallVmemmap = LayoutProfile(nodesShift: 10, zonesShift: 3, sectionSizeBits: 22,
                                            maxPhysmemBits: 46, sparsememVmemmap: true)
    static let smallSparsemem = LayoutProfile(nodesShift: 10, zonesShift: 3, sectionSizeBits: 22,
                                              maxPhysmemBits: 46, sparsememVmemmap: false)

    /// 3072 pfns, no holes or reservations, all in section 0 of the x86_64
    /// VMEMMAP profile. Node 0: DMA [0, 0x100), DMA32 [0x100, 0x400),
    /// NORMAL [0x400, 0x800); node 1: NORMAL [0x800, 0xc00).
    /// Initial free blocks: DMA 0x0/o8; DMA32 0x100/o8, 0x200/o9;
    /// NORMAL0 0x400/o10; NORMAL1 0x800/o10.
    static func tiny(profile: LayoutProfile = .x86_64Vmemmap) -> MachineDescription {
        MachineDescription(nrNodes: 2, profile: profile, zones: [
            ZoneSpan(nid: 0, zone: .dma, startPfn: 0, spannedPages: 0x100),
            ZoneSpan(nid: 0, zone: .dma32, startPfn: 0x100, spannedPages: 0x300),
            ZoneSpan(nid: 0, zone: .normal, startPfn: 0x400, spannedPages: 0x400),
            ZoneSpan(nid: 1, zone: .normal, startPfn: 0x800, spannedPages: 0x400),
        ])
    }

    /// A scaled-down default machine (64Ki pfns, 1024-page sections):
    /// node 0: DMA [0, 0x1000) with a partial hole [0xa0, 0x100) and pfn 0
    /// reserved; DMA32 [0x1000, 0x8000) with a whole-section hole
    /// [0x6000, 0x7000) and [0x1000, 0x1200) reserved; NORMAL [0x8000, 0xa000);
    /// node 1: NORMAL [0xa000, 0x10000).
    static func mini(profile: LayoutProfile = smallVmemmap) -> MachineDescription {
        MachineDescription(
            nrNodes: 2, profile: profile,
            zones: [
                ZoneSpan(nid: 0, zone: .dma, startPfn: 0, spannedPages: 0x1000),
                ZoneSpan(nid: 0, zone: .dma32, startPfn: 0x1000, spannedPages: 0x7000),
                ZoneSpan(nid: 0, zone: .normal, startPfn: 0x8000, spannedPages: 0x2000),
                ZoneSpan(nid: 1, zone: .normal, startPfn: 0xa000, spannedPages: 0x6000),
            ],
            holes: [PfnRange(startPfn: 0xa0, nrPages: 0x60), PfnRange(startPfn: 0x6000, nrPages: 0x1000)],
            reserved: [PfnRange(startPfn: 0, nrPages: 1), PfnRange(startPfn: 0x1000, nrPages: 0x200)])
    }

    /// The zone (nid, type) a description puts `pfn` in, if any.
    static func zone(of pfn: UInt64, in d: MachineDescription) -> (nid: Int, zone: ZoneType)? {
        d.zones.first { $0.startPfn <= pfn && pfn < $0.endPfn }.map { ($0.nid, $0.zone) }
    }
}

/// The invariant checker finds nothing. Every test that builds a machine ends here.
func expectClean(_ machine: Machine, sourceLocation: SourceLocation = #_sourceLocation) {
    let issues = machine.check()
    #expect(issues.isEmpty, "checker: \(issues.prefix(10))", sourceLocation: sourceLocation)
}

/// A copy of the whole word array.
func snapshot(_ machine: Machine) -> [UInt64] {
    machine.withWords { Array($0) }
}

func word(_ machine: Machine, _ pfn: UInt64) -> PageWord {
    machine.withWords { PageWord(rawValue: $0[Int(pfn)]) }
}

/// Runs `body` with the word array writable, for corrupting it on purpose.
func withMutableWords<R>(_ machine: Machine, _ body: (UnsafeMutablePointer<UInt64>) throws -> R) rethrows -> R {
    try body(UnsafeMutablePointer(mutating: machine.wordsBaseAddress))
}

/// Total free pages of a machine, from its zone counters.
func totalFree(_ machine: Machine) -> UInt64 {
    machine.zoneInfos().reduce(0) { $0 + $1.freePages }
}

extension Strategy {
    /// The scamem strategies keep a page alive as long as its object is;
    /// LEGACY frees each page on its own.
    var wholeObject: Bool { self != .legacy }
    /// The word of a scamem page names its object.
    var wordNamesObject: Bool { self == .pfnLookup || self == .flagsArray || self == .packed }
}

/// A page a scamem (or, LEGACY, a vm_struct) owns, as its strategy writes it.
func isScamemPage(_ machine: Machine, _ pfn: UInt64) -> Bool {
    let w = word(machine, pfn)
    return w.type == .scamem || (w.type == .misc && w.subtype == MiscSubtype.vmalloc.rawValue)
}

/// The tiny machine under a strategy.
func tinyMachine(_ strategy: Strategy) throws -> Machine {
    try Machine(Fixtures.tiny().with(strategy: strategy))
}

/// A driver's buffer mapped to userspace: vmalloc_user() of `pages`, a shared
/// mapping of the same size in a new mm, remap_vmalloc_range().
func mappedVmallocUser(_ m: Machine, pages: Int) throws -> (mm: MMID, kaddr: UInt64, uaddr: UInt64) {
    let mm = try m.mmNew()
    let k = try m.vmallocUser(size: UInt64(pages) * 4096)
    let u = try m.mmap(mm, length: UInt64(pages) * 4096, flags: .shared)
    try m.remapVmallocRange(mm, uaddr: u, kaddr: k, pgoff: 0)
    return (mm, k, u)
}

extension Machine {
    /// The lowest watermarks the kernel's sysctls allow (vm.min_free_kbytes 0,
    /// vm.watermark_scale_factor 1, vm.lowmem_reserve_ratio all 0), for tests
    /// of the zonelist and the buddy's own behaviour: zones below 10,000 pages
    /// can be emptied, except ZONE_MOVABLE, which keeps SWAP_CLUSTER_MAX.
    @discardableResult
    func lowestWatermarks() throws -> Machine {
        try setMinFreeKbytes(0)
        try setWatermarkScaleFactor(1)
        try setLowmemReserveRatio([0, 0, 0, 0, 0])
        return self
    }
}

extension ZoneInfo {
    /// A zone's span, counters and free blocks per order (/proc/buddyinfo),
    /// without the migratetype split: after a free, pageblocks keep the type
    /// an allocation claimed, as in the kernel, so only these come back.
    var buddyinfo: [UInt64] {
        [UInt64(nid), UInt64(zone.rawValue), startPfn, spannedPages, presentPages, managedPages, freePages] + nrFree
    }
}
