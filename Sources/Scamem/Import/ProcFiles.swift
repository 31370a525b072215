/// Parsers for the text files of a capture (or of the live /proc and /sys).

/// A zone as /proc/zoneinfo prints it.
public struct ZoneinfoZone: Hashable, Sendable {
    public var nid: Int
    public var zone: ZoneType
    public var startPfn: UInt64
    public var spanned: UInt64
    public var present: UInt64
    public var managed: UInt64
}

func zoneType(named name: String) -> ZoneType? {
    ["DMA": .dma, "DMA32": .dma32, "Normal": .normal, "Movable": .movable, "Device": .device][name]
}

func words(_ line: Substring) -> [Substring] {
    line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })
}

/// /proc/zoneinfo: every zone with pages (spanned > 0).
func parseZoneinfo(_ text: String) -> [ZoneinfoZone] {
    var zones: [ZoneinfoZone] = []
    var current: ZoneinfoZone?
    func flush() { if let z = current, z.spanned > 0 { zones.append(z) } }
    for line in text.split(separator: "\n") {
        let w = words(line)
        if w.count >= 4, w[0] == "Node", w[2] == "zone", let nid = Int(w[1]), let zt = zoneType(named: String(w[3])) {
            flush()
            current = ZoneinfoZone(nid: nid, zone: zt, startPfn: 0, spanned: 0, present: 0, managed: 0)
        } else if current != nil, w.count >= 2 {
            switch w[0] {
            case "spanned": current!.spanned = UInt64(w[1]) ?? 0
            case "present": current!.present = UInt64(w[1]) ?? 0
            case "managed": current!.managed = UInt64(w[1]) ?? 0
            case "start_pfn:": current!.startPfn = UInt64(w[1]) ?? 0
            default: break
            }
        }
    }
    flush()
    return zones
}

/// /proc/iomem: the top-level "System RAM" ranges as pfn ranges, or nil when
/// the addresses read as zero (no CAP_SYS_ADMIN).
func parseIomemRAM(_ text: String) -> [Range<UInt64>]? {
    var ram: [Range<UInt64>] = []
    var sawNonZero = false
    for line in text.split(separator: "\n") where !line.hasPrefix(" ") {
        let parts = line.split(separator: ":", maxSplits: 1)
        guard parts.count == 2 else { continue }
        let bounds = parts[0].split(separator: "-")
        guard bounds.count == 2, let lo = UInt64(bounds[0].filter { $0 != " " }, radix: 16),
              let hi = UInt64(bounds[1].filter { $0 != " " }, radix: 16) else { continue }
        if hi != 0 { sawNonZero = true }
        if parts[1].drop(while: { $0 == " " }).hasPrefix("System RAM"), hi >= lo {
            // Whole pages only: a partial page at either end is not RAM.
            let first = (lo + 4095) / 4096, end = (hi &+ 1) / 4096
            if end > first { ram.append(first..<end) }
        }
    }
    return sawNonZero ? ram : nil
}

/// memory_blocks ("memoryN phys_index state node"): online blocks as pfn
/// ranges, given the block size in bytes.
func parseMemoryBlocks(_ text: String, blockBytes: UInt64, sectionShift: UInt32) -> [Range<UInt64>] {
    var ranges: [Range<UInt64>] = []
    let pages = blockBytes / 4096
    for line in text.split(separator: "\n") {
        let w = words(line)
        guard w.count >= 3, w[2] == "online", let section = UInt64(w[1], radix: 16) else { continue }
        let start = section << UInt64(sectionShift)
        ranges.append(start..<start + pages)
    }
    return ranges.sorted { $0.lowerBound < $1.lowerBound }
}

/// /proc/buddyinfo: free blocks per order, by node and zone.
func parseBuddyinfo(_ text: String) -> [(nid: Int, zone: ZoneType, free: [UInt64])] {
    text.split(separator: "\n").compactMap { line in
        let w = words(line)
        guard w.count >= 5, w[0] == "Node", let nid = Int(w[1]), let z = zoneType(named: String(w[3])) else { return nil }
        return (nid, z, w[4...].compactMap { UInt64($0) })
    }
}

/// One /proc/vmallocinfo line.
public struct VmallocinfoArea: Hashable, Sendable {
    public var size: UInt64
    public var caller: String
    /// pages=N, or 0 where the area has no pages array (ioremap, vmap).
    public var pages: Int
    /// The flag words: vmalloc, vmap, ioremap, user, vpages, vm_area, ...
    public var flags: [String]
    /// A vmalloc'd area with pages: what becomes a scamem.
    public var isVmalloc: Bool { pages > 0 && flags.contains("vmalloc") }
}

func parseVmallocinfo(_ text: String) -> [VmallocinfoArea] {
    let known: Set<Substring> = ["vmalloc", "vmap", "ioremap", "user", "vpages", "vm_area", "vm_map_ram", "dma-coherent", "unpurged"]
    return text.split(separator: "\n").compactMap { line in
        let w = words(line)
        guard w.count >= 3, let size = UInt64(w[1]) else { return nil }
        var area = VmallocinfoArea(size: size, caller: String(w[2]), pages: 0, flags: [])
        for x in w[3...] {
            if x.hasPrefix("pages=") { area.pages = Int(x.dropFirst(6)) ?? 0 }
            else if known.contains(x) { area.flags.append(String(x)) }
        }
        return area
    }
}

/// "key value" files (/proc/vmstat) and "Key: value kB" (/proc/meminfo).
func parseKeyValues(_ text: String) -> [String: UInt64] {
    var out: [String: UInt64] = [:]
    for line in text.split(separator: "\n") {
        let w = words(line)
        guard w.count >= 2, let v = UInt64(w[1]) else { continue }
        out[String(w[0].hasSuffix(":") ? w[0].dropLast() : w[0])] = v
    }
    return out
}

/// /proc/slabinfo: (slabs, pages) summed over the caches.
func parseSlabinfo(_ text: String) -> (slabs: UInt64, pages: UInt64) {
    var slabs: UInt64 = 0, pages: UInt64 = 0
    for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("slabinfo") {
        let w = words(line)
        // name active objs objsize objperslab pagesperslab : tunables a b c : slabdata active num shared
        guard let d = w.firstIndex(of: "slabdata"), w.count > d + 2, w.count > 5,
              let perSlab = UInt64(w[5]), let num = UInt64(w[d + 2]) else { continue }
        slabs += num
        pages += num * perSlab
    }
    return (slabs, pages)
}
