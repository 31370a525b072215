/// Parsers for the text files of a capture (or of the live /proc and /sys).
/// Every number goes through `CaptureLine.number` with the bound a real
/// kernel keeps it under, so a hostile file is `.io` at its line, never a
/// trap or an allocation it sized.

/// A zone as /proc/zoneinfo prints it.
public struct ZoneinfoZone: Hashable, Sendable {
    public var nid: Int
    public var zone: ZoneType
    public var startPfn: UInt64
    public var spanned: UInt64
    public var present: UInt64
    public var managed: UInt64
    /// The line of its "Node N, zone Z" header, for errors.
    public var line: Int
    /// Below `CaptureLimits.maxPfn`: the parser checked the sum.
    public var endPfn: UInt64 { startPfn + spanned }
    var name: String { "zone \(zone) of node \(nid)" }
}

func zoneType(named name: Substring) -> ZoneType? {
    ["DMA": .dma, "DMA32": .dma32, "Normal": .normal, "Movable": .movable, "Device": .device][name]
}

/// A zone being read, with the lines its checked fields came from.
private struct ZoneDraft {
    var zone: ZoneinfoZone
    var presentLine = 0, managedLine = 0, startLine = 0
}

/// /proc/zoneinfo: every zone with pages (spanned > 0), as the kernel keeps
/// them: nid below MAX_NUMNODES, each zone once, present <= spanned,
/// managed <= present, spans inside the profile's pfns. Spans may overlap
/// (hot-added memory onlined block by block, interleaved nodes): the memory
/// blocks say whose each block is (`zoneEntries`).
func parseZoneinfo(_ file: CaptureText) throws(ImportError) -> [ZoneinfoZone] {
    var zones: [ZoneinfoZone] = []
    var seen = Set<Int>()
    var current: ZoneDraft?
    func flush() throws(ImportError) {
        guard let d = current else { return }
        let z = d.zone
        func fail(_ line: Int, _ reason: String) -> ImportError {
            ImportError(.io, file: file.file, line: line > 0 ? line : z.line, reason: reason)
        }
        guard z.present <= z.spanned else { throw fail(d.presentLine, "present \(z.present) exceeds spanned \(z.spanned)") }
        guard z.managed <= z.present else { throw fail(d.managedLine, "managed \(z.managed) exceeds present \(z.present)") }
        // Both are below maxPfn: the sum cannot overflow.
        guard z.startPfn + z.spanned <= CaptureLimits.maxPfn else {
            throw fail(d.startLine, "\(z.name) ends at pfn \(z.startPfn + z.spanned): \(CaptureLimits.pfnBound)")
        }
        if z.spanned > 0 { zones.append(z) }
    }
    for line in file.lines {
        let w = line.words
        if w[0] == "Node" {
            try flush()
            guard w.count >= 4, w[2] == "zone" else { throw line.error("not a \"Node N, zone NAME\" header") }
            let nid = Int(try line.number(w[1], "nid", below: CaptureLimits.maxNodes, CaptureLimits.nodeBound))
            guard let zt = zoneType(named: w[3]) else { throw line.error("no x86_64 zone is called '\(w[3].prefix(24))'") }
            guard seen.insert(nid * ZoneType.count + Int(zt.rawValue)).inserted else {
                throw line.error("zone \(zt) of node \(nid) appears twice")
            }
            current = ZoneDraft(zone: ZoneinfoZone(nid: nid, zone: zt, startPfn: 0, spanned: 0, present: 0, managed: 0,
                                                   line: line.number))
        } else if current != nil, ["spanned", "present", "managed", "start_pfn:"].contains(w[0]) {
            let v = try line.number(line.word(1), String(w[0].prefix { $0 != ":" }), below: CaptureLimits.maxPfn,
                                    CaptureLimits.pfnBound)
            switch w[0] {
            case "spanned": current!.zone.spanned = v
            case "present": current!.zone.present = v; current!.presentLine = line.number
            case "managed": current!.zone.managed = v; current!.managedLine = line.number
            default: current!.zone.startPfn = v; current!.startLine = line.number
            }
        }
    }
    try flush()
    guard !zones.isEmpty else { throw file.error("no zone with pages") }
    return zones
}

/// /proc/iomem: the top-level "System RAM" ranges as pfn ranges, or nil when
/// the addresses read as zero (no CAP_SYS_ADMIN). Every range lies below
/// MAX_PHYSMEM_BITS and ends after it starts, as the kernel's resource tree does.
func parseIomemRAM(_ file: CaptureText) throws(ImportError) -> [Range<UInt64>]? {
    var ram: [Range<UInt64>] = []
    var sawNonZero = false
    for line in file.lines {
        let parts = line.text.split(separator: ":", maxSplits: 1)
        let bounds = parts.count == 2 ? parts[0].split(separator: "-") : []
        guard bounds.count == 2 else { throw line.error("not a \"start-end : name\" line") }
        let lo = try line.number(bounds[0], "start", below: CaptureLimits.maxPhysAddress, CaptureLimits.physBound, radix: 16)
        let hi = try line.number(bounds[1], "end", below: CaptureLimits.maxPhysAddress, CaptureLimits.physBound, radix: 16)
        guard hi >= lo else { throw line.error("range ends before it starts") }
        if hi != 0 { sawNonZero = true }
        if !line.text.hasPrefix(" "), parts[1].drop(while: { $0 == " " }).hasPrefix("System RAM") {
            // Whole pages only: a partial page at either end is not RAM.
            let first = (lo + 4095) / 4096, end = (hi + 1) / 4096
            if end > first { ram.append(first..<end) }
        }
    }
    return sawNonZero ? ram : nil
}

/// memory_block_size_bytes (hex): a power of two from the section size to
/// x86's MAX_BLOCK_SIZE (2 GiB), as probe_memory_block_size() picks it.
func parseMemoryBlockSize(_ file: CaptureText) throws(ImportError) -> UInt64 {
    guard let line = file.firstLine else { throw file.error("empty") }
    let sectionBytes: UInt64 = 1 << UInt64(CaptureLimits.profile.sectionSizeBits)
    let bytes = try line.number(line.word(0), "block size", below: (2 << 30) + 1, "x86_64 blocks are at most 2 GiB", radix: 16)
    guard bytes >= sectionBytes, bytes.nonzeroBitCount == 1 else {
        throw line.error("block size 0x\(String(bytes, radix: 16)) is not a power of two of at least a section (128 MiB)")
    }
    return bytes
}

/// An online memory block of a capture: its pfns, its node and, where the
/// capture recorded valid_zones, the zone it is online in (nil for "none",
/// an early block that holds several zones, or when not recorded).
struct CapturedMemoryBlock: Hashable {
    var pfns: Range<UInt64>
    var nid: Int?
    var zone: ZoneType?
    var line: Int
}

/// memory_blocks ("memoryN phys_index state node [valid_zones]"): online
/// blocks, given the block size in bytes. phys_index is the block's first
/// section, below MAX_PHYSMEM_BITS; node "?" where the block had no node link.
func parseMemoryBlocks(_ file: CaptureText, blockBytes: UInt64) throws(ImportError) -> [CapturedMemoryBlock] {
    var blocks: [CapturedMemoryBlock] = []
    let sectionShift = UInt64(CaptureLimits.profile.sectionSizeBits)
    let pages = blockBytes / 4096
    for line in file.lines {
        let section = try line.number(line.word(1), "phys_index", below: CaptureLimits.maxPhysAddress >> sectionShift,
                                      CaptureLimits.physBound, radix: 16)
        guard line.word(2) == "online" else { continue }
        let nid = line.word(3) != nil && line.word(3) != "?"
            ? Int(try line.number(line.word(3), "node", below: CaptureLimits.maxNodes, CaptureLimits.nodeBound)) : nil
        var zone: ZoneType?
        if let name = line.word(4), name != "none" {
            guard let z = zoneType(named: name) else { throw line.error("no x86_64 zone is called '\(name.prefix(24))'") }
            zone = z
        }
        // Below 2^(52 - 12) plus a block: no overflow.
        let start = section << (sectionShift - 12)
        blocks.append(CapturedMemoryBlock(pfns: start..<start + pages, nid: nid, zone: zone, line: line.number))
    }
    return blocks.sorted { $0.pfns.lowerBound < $1.pfns.lowerBound }
}

/// /proc/buddyinfo: the free pages it counts, node by node and zone by zone.
/// Orders 0...MAX_PAGE_ORDER, and no more free blocks than the machine's
/// `endPfn` pfns can hold.
func parseBuddyinfo(_ file: CaptureText, endPfn: UInt64) throws(ImportError) -> UInt64 {
    var pages: UInt64 = 0
    for line in file.lines {
        let w = line.words
        guard w.count >= 5, w[0] == "Node", w[2] == "zone", zoneType(named: w[3]) != nil else {
            throw line.error("not a \"Node N, zone NAME counts...\" line")
        }
        _ = try line.number(w[1], "nid", below: CaptureLimits.maxNodes, CaptureLimits.nodeBound)
        guard w.count - 4 <= maxPageOrder + 1 else { throw line.error("\(w.count - 4) orders: MAX_PAGE_ORDER is \(maxPageOrder)") }
        for o in 0..<w.count - 4 {
            let blocks = try line.number(w[4 + o], "order-\(o) count", below: (endPfn >> UInt64(o)) + 1,
                                         "the machine has \(endPfn) pfns")
            // pages and each term are at most endPfn (< 2^34): no overflow.
            pages += blocks << UInt64(o)
            guard pages <= endPfn else { throw line.error("free pages exceed the machine's \(endPfn) pfns") }
        }
    }
    return pages
}

/// One /proc/vmallocinfo line.
public struct VmallocinfoArea: Hashable, Sendable {
    public var size: UInt64
    public var caller: String
    /// pages=N, or 0 where the area has no pages array (ioremap, vmap).
    public var pages: Int
    /// The flag words: vmalloc, vmap, ioremap, user, vpages, vm_area, ...
    public var flags: [String]
    /// The line it came from, for errors.
    public var line: Int
    /// A vmalloc'd area with pages: what becomes a scamem.
    public var isVmalloc: Bool { pages > 0 && flags.contains("vmalloc") }
}

/// /proc/vmallocinfo ("addr-addr size caller pages=N flags..."). An area's
/// pages fit its size and vm_struct's unsigned int nr_pages; all areas'
/// pages together fit the machine's `endPfn` pfns.
func parseVmallocinfo(_ file: CaptureText, endPfn: UInt64) throws(ImportError) -> [VmallocinfoArea] {
    let known: Set<Substring> = ["vmalloc", "vmap", "ioremap", "user", "vpages", "vm_area", "vm_map_ram", "dma-coherent", "unpurged"]
    var areas: [VmallocinfoArea] = []
    var total: UInt64 = 0
    for line in file.lines {
        let w = line.words
        let size = try line.number(line.word(1), "size", below: 1 << 56, "the kernel half of a 5-level address space is 2^56 bytes")
        var area = VmallocinfoArea(size: size, caller: w.count > 2 ? String(w[2]) : "", pages: 0, flags: [],
                                   line: line.number)
        for x in w.dropFirst(2) {
            if x.hasPrefix("pages=") {
                let limit = min(size / 4096, UInt64(UInt32.max), endPfn)
                area.pages = Int(try line.number(x.dropFirst(6), "pages", below: limit + 1,
                                                 "at most the area's size, 2^32 - 1 and the machine's \(endPfn) pfns"))
            } else if known.contains(x) { area.flags.append(String(x)) }
        }
        // total and each term are at most endPfn (< 2^34): no overflow.
        total += UInt64(area.pages)
        guard total <= endPfn else { throw line.error("vmalloc pages exceed the machine's \(endPfn) pfns") }
        areas.append(area)
    }
    return areas
}

/// "key value" lines (/proc/vmstat): the value of `key` if the file has it,
/// at most `limit`.
func parseCounter(_ file: CaptureText, _ key: String, atMost limit: UInt64, _ bound: String) throws(ImportError) -> UInt64? {
    guard let line = file.lines.first(where: { $0.words[0] == key }) else { return nil }
    return try line.number(line.word(1), key, below: limit + 1, bound)
}

/// /proc/slabinfo: (slabs, pages) summed over the caches. A slab is at most
/// 2^MAX_PAGE_ORDER pages, and all slabs fit the machine's `endPfn` pfns.
func parseSlabinfo(_ file: CaptureText, endPfn: UInt64) throws(ImportError) -> (slabs: UInt64, pages: UInt64) {
    var slabs: UInt64 = 0, pages: UInt64 = 0
    let machine = "the machine has \(endPfn) pfns"
    for line in file.lines where !line.text.hasPrefix("#") && !line.text.hasPrefix("slabinfo") {
        // name active objs objsize objperslab pagesperslab : tunables a b c : slabdata active num shared
        let w = line.words
        guard let d = w.firstIndex(of: "slabdata"), d > 5 else { throw line.error("not a slabinfo cache line") }
        let perSlab = try line.number(w[5], "pagesperslab", below: (1 << UInt64(maxPageOrder)) + 1, "MAX_PAGE_ORDER is \(maxPageOrder)")
        let num = try line.number(line.word(d + 2), "num_slabs", below: endPfn + 1, machine)
        // Each at most endPfn (< 2^34) before adding, perSlab at most 2^10: no overflow.
        slabs += num
        pages += num * perSlab
        guard slabs <= endPfn, pages <= endPfn else { throw line.error("slab pages exceed the machine's \(endPfn) pfns") }
    }
    return (slabs, pages)
}
