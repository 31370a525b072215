/// One zone of one node: `zone_start_pfn` and `spanned_pages` (holes included).
/// Several entries with the same node and zone describe one zone in pieces,
/// whose span is their hull and holds the other zones' memory between them
/// (interleaved nodes, `movablecore=`, hot-added memory onlined block by
/// block). The C counterpart is `struct scamem_zone_span`.
public struct ZoneSpan: Hashable, Sendable {
    public var nid: Int
    public var zone: ZoneType
    public var startPfn: UInt64
    public var spannedPages: UInt64
    public init(nid: Int, zone: ZoneType, startPfn: UInt64, spannedPages: UInt64) {
        self.nid = nid; self.zone = zone; self.startPfn = startPfn; self.spannedPages = spannedPages
    }
    public var endPfn: UInt64 { startPfn &+ spannedPages }
}

/// A run of pfns `[startPfn, startPfn + nrPages)`. The C counterpart is
/// `struct scamem_pfn_range`.
public struct PfnRange: Hashable, Sendable {
    public var startPfn: UInt64
    public var nrPages: UInt64
    public init(startPfn: UInt64, nrPages: UInt64) { self.startPfn = startPfn; self.nrPages = nrPages }
    public var endPfn: UInt64 { startPfn &+ nrPages }
}

/// What a machine is made of. The C counterpart is `struct scamem_machine_desc`.
///
/// Holes are pfns inside zone spans without memory; reserved ranges are
/// memory the page allocator never gets (memblock reservations).
public struct MachineDescription: Hashable, Sendable {
    public var nrNodes: Int
    public var profile: LayoutProfile
    public var zones: [ZoneSpan]
    public var holes: [PfnRange]
    public var reserved: [PfnRange]
    /// Where scamem pages keep node/zone/section and find their scamem.
    public var strategy: Strategy
    /// SCAMEM_PACKED: bits of scamem index in the word (0: every free bit, at most 32).
    public var packedIndexBits: Int
    /// CMA areas (cma_declare_contiguous()): pageblock-aligned ranges, each
    /// inside one zone and clear of holes and reserved ranges, whose
    /// pageblocks start MIGRATE_CMA (init_cma_reserved_pageblock()).
    public var cma: [PfnRange]
    /// log2 of memory_block_size_bytes(), as set_memory_block_size_order()
    /// sets it (from SECTION_SIZE_BITS to 31); 0 probes it as x86_64's
    /// probe_memory_block_size() does on bare metal.
    public var memoryBlockSizeOrder: Int

    public init(nrNodes: Int, profile: LayoutProfile = .x86_64Vmemmap, zones: [ZoneSpan],
                holes: [PfnRange] = [], reserved: [PfnRange] = [], strategy: Strategy = .default,
                packedIndexBits: Int = 0, cma: [PfnRange] = [], memoryBlockSizeOrder: Int = 0) {
        self.nrNodes = nrNodes; self.profile = profile; self.zones = zones
        self.holes = holes; self.reserved = reserved
        self.strategy = strategy; self.packedIndexBits = packedIndexBits
        self.cma = cma
        self.memoryBlockSizeOrder = memoryBlockSizeOrder
    }

    /// The same machine under another strategy.
    public func with(strategy: Strategy, packedIndexBits: Int = 0) -> MachineDescription {
        var d = self
        d.strategy = strategy
        d.packedIndexBits = packedIndexBits
        return d
    }

    /// 2 nodes of 4 GiB, x86_64 zones: node 0 has DMA [0, 16 MiB), DMA32
    /// [16 MiB, 4 GiB) with the VGA/BIOS hole [640 KiB, 1 MiB) and the PCI
    /// hole [3 GiB, 4 GiB), NORMAL [4, 5 GiB); node 1 has NORMAL [5, 9 GiB).
    /// pfn 0 and a 24 MiB kernel image at 16 MiB are reserved.
    public static let `default` = MachineDescription(
        nrNodes: 2,
        zones: [
            ZoneSpan(nid: 0, zone: .dma, startPfn: 0, spannedPages: 0x1000),
            ZoneSpan(nid: 0, zone: .dma32, startPfn: 0x1000, spannedPages: 0xff000),
            ZoneSpan(nid: 0, zone: .normal, startPfn: 0x100000, spannedPages: 0x40000),
            ZoneSpan(nid: 1, zone: .normal, startPfn: 0x140000, spannedPages: 0x100000),
        ],
        holes: [PfnRange(startPfn: 0xa0, nrPages: 0x60), PfnRange(startPfn: 0xc0000, nrPages: 0x40000)],
        reserved: [PfnRange(startPfn: 0, nrPages: 1), PfnRange(startPfn: 0x1000, nrPages: 0x1800)])
}

/// The runs of `[start, end)` not covered by `cut` (sorted, non-overlapping output).
func subtract(_ start: UInt64, _ end: UInt64, _ cut: [PfnRange]) -> [Range<UInt64>] {
    subtract(start, end, sorted: merged(cut))
}

/// `ranges` sorted by start with overlapping and touching ones merged: the
/// form `subtract(_:_:sorted:)` takes. Ranges must not wrap.
func merged(_ ranges: [PfnRange]) -> [PfnRange] {
    var out: [PfnRange] = []
    for r in ranges.sorted(by: { $0.startPfn < $1.startPfn }) where r.nrPages > 0 {
        if let last = out.last, r.startPfn <= last.endPfn {
            out[out.count - 1].nrPages = max(last.endPfn, r.endPfn) - last.startPfn
        } else {
            out.append(r)
        }
    }
    return out
}

/// `subtract` for cuts already `merged`: a binary search to the first cut
/// that can overlap, then only the cuts inside `[start, end)`, so a machine
/// with many zones and holes is laid out in O((zones + holes) log holes).
func subtract(_ start: UInt64, _ end: UInt64, sorted cut: [PfnRange]) -> [Range<UInt64>] {
    var lo = 0, hi = cut.count
    while lo < hi {
        let mid = (lo + hi) / 2
        if cut[mid].endPfn <= start { lo = mid + 1 } else { hi = mid }
    }
    var runs: [Range<UInt64>] = []
    var p = start
    while lo < cut.count, cut[lo].startPfn < end {
        if cut[lo].startPfn > p { runs.append(p..<cut[lo].startPfn) }
        p = max(p, cut[lo].endPfn)
        lo += 1
    }
    if p < end { runs.append(p..<end) }
    return runs
}

/// Splits `[start, end)` into naturally aligned power-of-two blocks of order
/// at most `maxOrder`, lowest first: how memblock hands memory to the buddy
/// allocator, and how a run of free pages is rebuilt into buddy blocks.
@inlinable
public func forEachAlignedBlock(_ start: UInt64, _ end: UInt64, maxOrder: Int,
                                _ body: (UInt64, Int) throws -> Void) rethrows {
    var p = start
    while p < end {
        var o = p == 0 ? maxOrder : min(maxOrder, p.trailingZeroBitCount)
        while p &+ (1 << UInt64(o)) > end { o -= 1 }
        try body(p, o)
        p += 1 << UInt64(o)
    }
}
