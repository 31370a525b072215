/// `_watermark[NR_WMARK]` of one zone, in pages. The C counterpart is
/// `struct scamem_zone_watermarks`.
public struct Watermarks: Hashable, Sendable {
    public var min: UInt64 = 0
    public var low: UInt64 = 0
    public var high: UInt64 = 0
    /// WMARK_PROMO (NUMA balancing's promotion target)
    public var promo: UInt64 = 0
}

/// One zone's lowmem_reserve[MAX_NR_ZONES], or the lowmem_reserve_ratio
/// sysctl, indexed by zone type.
public struct LowmemReserve: Hashable, Sendable {
    var pages: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)

    public subscript(_ zone: ZoneType) -> UInt64 {
        get { withUnsafeBytes(of: pages) { $0.load(fromByteOffset: Int(zone.rawValue) * 8, as: UInt64.self) } }
        set { withUnsafeMutableBytes(of: &pages) { $0.storeBytes(of: newValue, toByteOffset: Int(zone.rawValue) * 8, as: UInt64.self) } }
    }

    public var array: [UInt64] { (0..<ZoneType.count).map { self[ZoneType(rawValue: UInt32($0))] } }

    public static func == (a: LowmemReserve, b: LowmemReserve) -> Bool { a.array == b.array }
    public func hash(into h: inout Hasher) { h.combine(array) }
}

/// The kernel's defaults for the three sysctls that set watermarks.
struct WatermarkSysctls {
    /// vm.min_free_kbytes as the kernel last set it.
    var minFreeKbytes: UInt64 = 0
    /// user_min_free_kbytes: -1 until the sysctl is written.
    var userMinFreeKbytes: Int64 = -1
    /// vm.watermark_scale_factor
    var watermarkScaleFactor: UInt64 = 10
    /// vm.lowmem_reserve_ratio (sysctl_lowmem_reserve_ratio[]): DMA and
    /// DMA32 256, NORMAL 32, the rest 0.
    var lowmemReserveRatio: LowmemReserve = {
        var r = LowmemReserve()
        r[.dma] = 256; r[.dma32] = 256; r[.normal] = 32
        return r
    }()
}

/// alloc_flags: which watermark a pass of get_page_from_freelist() checks
/// and which reserves it may dip into (mm/internal.h's ALLOC_*).
struct AllocFlags {
    enum Mark { case min, low, high, none }
    var mark: Mark
    /// ALLOC_MIN_RESERVE (__GFP_HIGH): half the min watermark.
    var minReserve = false
    /// ALLOC_NON_BLOCK: a quarter more of it, with minReserve.
    var nonBlock = false
    /// ALLOC_CMA: movable allocations may use CMA pageblocks.
    var cma = false
}

/// Watermarks as mm/page_alloc.c sets and checks them, and the sysctls
/// that move them. No reclaim, compaction or OOM killer is modelled: where
/// the kernel would reclaim and retry, the model fails with `.noMemory`.
extension Machine {
    /// nr_free_zone_pages(gfp_zone(GFP_USER)) (nr_free_buffer_pages()): pages
    /// above the high watermark in every node's zones up to NORMAL.
    func nrFreeBufferPages() -> UInt64 {
        var sum: UInt64 = 0
        for z in 0..<nrZones where zones[z].zone <= .normal {
            let size = zones[z].managedPages, high = zones[z].watermark.high
            if size > high { sum += size - high }
        }
        return sum
    }

    /// calculate_min_free_kbytes(): sqrt(lowmem kbytes * 16), within
    /// [128, 262144], unless the sysctl set a larger value.
    func calculateMinFreeKbytes() {
        let lowmemKbytes = nrFreeBufferPages() * 4
        let new = UInt64((Double(lowmemKbytes * 16)).squareRoot())
        if Int64(new) > sysctls.userMinFreeKbytes { sysctls.minFreeKbytes = Swift.min(Swift.max(new, 128), 262_144) }
    }

    /// __setup_per_zone_wmarks(): min_free_kbytes shared among the lowmem
    /// zones by managed pages (ZONE_MOVABLE gets managed/1024 in [32, 128]);
    /// low and high each a quarter of that share, or watermark_scale_factor
    /// parts in 10,000 of managed pages, above the one below.
    func setupPerZoneWmarks() {
        let pagesMin = sysctls.minFreeKbytes >> 2
        var lowmemPages: UInt64 = 0
        for z in 0..<nrZones where zones[z].zone != .movable { lowmemPages += zones[z].managedPages }
        for z in 0..<nrZones {
            let managed = zones[z].managedPages
            let tmp = lowmemPages == 0 ? 0 : pagesMin * managed / lowmemPages
            var w = Watermarks()
            // SWAP_CLUSTER_MAX is 32.
            w.min = zones[z].zone == .movable ? Swift.min(Swift.max(managed / 1024, 32), 128) : tmp
            let step = Swift.max(tmp >> 2, managed * sysctls.watermarkScaleFactor / 10_000)
            w.low = w.min + step
            w.high = w.low + step
            w.promo = w.high + step
            zones[z].watermark = w
        }
    }

    /// setup_per_zone_lowmem_reserve(): zone i of a node keeps
    /// (managed pages of its zones i+1...j) / ratio[i] from an allocation
    /// whose highest zone is j; 0 where the ratio is 0 or the zone empty.
    func setupPerZoneLowmemReserve() {
        for z in 0..<nrZones {
            let nid = zones[z].nid, i = zones[z].zone
            let ratio = sysctls.lowmemReserveRatio[i]
            let clear = ratio == 0 || zones[z].managedPages == 0
            var managed: UInt64 = 0
            var reserve = LowmemReserve()
            for j in Int(i.rawValue) + 1..<ZoneType.count {
                let upper = zoneIndexTable[nid * ZoneType.count + j]
                if upper >= 0 { managed += zones[Int(upper)].managedPages }
                reserve[ZoneType(rawValue: UInt32(j))] = clear ? 0 : managed / ratio
            }
            zones[z].lowmemReserve = reserve
        }
    }

    /// khugepaged's set_recommended_min_free_kbytes(), as with THP enabled
    /// (Debian's "madvise"): two pageblocks per populated zone up to NORMAL,
    /// plus MIGRATE_PCPTYPES^2 more, at most 5 % of lowmem.
    func setRecommendedMinFreeKbytes() {
        var nrZonesPopulated: UInt64 = 0
        for z in 0..<nrZones where zones[z].zone <= .normal && zones[z].presentPages > 0 { nrZonesPopulated += 1 }
        let perZone = UInt64(1 << pageblockOrder) * nrZonesPopulated
        let pages = Swift.min(perZone * 2 + perZone * UInt64(MigrateType.pcpTypes * MigrateType.pcpTypes),
                              nrFreeBufferPages() / 20)
        if pages << 2 > sysctls.minFreeKbytes { sysctls.minFreeKbytes = pages << 2 }
        setupPerZoneWmarks()
    }

    /// init_per_zone_wmark_min(), run at boot and when memory comes online.
    func initPerZoneWmarkMin() {
        calculateMinFreeKbytes()
        setupPerZoneWmarks()
        setupPerZoneLowmemReserve()
        setRecommendedMinFreeKbytes()
    }

    /// __zone_watermark_ok() with zone_watermark_fast()'s order-0 shortcut:
    /// free pages, less what this request may not use (CMA without
    /// ALLOC_CMA, the request's own tail), above the mark plus the zone's
    /// lowmem_reserve for the request's highest zone; for order > 0, a free
    /// block of that order on a list it may take from.
    func zoneWatermarkOk(_ z: Int, order: Int, mark: UInt64, highest: ZoneType, _ f: AllocFlags) -> Bool {
        var free = Int64(zones[z].freePages) - Int64((1 << order) - 1)
        if !f.cma { free -= Int64(zones[z].freeCmaPages) }
        var min = Int64(mark)
        if f.minReserve {
            min -= min / 2
            if f.nonBlock { min -= min / 4 }
        }
        if free <= min + Int64(zones[z].lowmemReserve[highest]) { return false }
        if order == 0 { return true }
        for o in order...maxPageOrder {
            for mt in 0..<MigrateType.pcpTypes where zones[z].area(o, MigrateType(rawValue: UInt8(mt))).pointee.nrFree > 0 {
                return true
            }
            if f.cma && zones[z].area(o, .cma).pointee.nrFree > 0 { return true }
        }
        return false
    }

    /// wmark_pages()
    func wmarkPages(_ z: Int, _ mark: AllocFlags.Mark) -> UInt64 {
        switch mark {
        case .min: zones[z].watermark.min
        case .low: zones[z].watermark.low
        case .high: zones[z].watermark.high
        case .none: 0
        }
    }

    // MARK: Public: the sysctls and what they set

    /// vm.min_free_kbytes (min_free_kbytes_sysctl_handler()): 0 or more;
    /// recomputes every zone's watermarks. Fails with `.invalid` for a
    /// value outside an int. The C counterpart is `scamem_sysctl_min_free_kbytes()`.
    public func setMinFreeKbytes(_ kbytes: Int) throws(ScamemError) {
        guard kbytes >= 0, kbytes <= Int(Int32.max) else { throw .invalid }
        lock.withLock {
            sysctls.minFreeKbytes = UInt64(kbytes)
            sysctls.userMinFreeKbytes = Int64(kbytes)
            setupPerZoneWmarks()
        }
    }

    /// vm.watermark_scale_factor, 1 to 3000 (watermark_scale_factor_sysctl_handler()).
    /// The C counterpart is `scamem_sysctl_watermark_scale_factor()`.
    public func setWatermarkScaleFactor(_ factor: Int) throws(ScamemError) {
        guard factor >= 1, factor <= 3000 else { throw .invalid }
        lock.withLock {
            sysctls.watermarkScaleFactor = UInt64(factor)
            setupPerZoneWmarks()
        }
    }

    /// vm.lowmem_reserve_ratio, one per zone type (lowmem_reserve_ratio_sysctl_handler():
    /// a value below 1 becomes 0, no reserve). The C counterpart is
    /// `scamem_sysctl_lowmem_reserve_ratio()`.
    public func setLowmemReserveRatio(_ ratios: [Int]) throws(ScamemError) {
        guard ratios.count == ZoneType.count, ratios.allSatisfy({ $0 <= Int(Int32.max) }) else { throw .invalid }
        lock.withLock {
            for (i, r) in ratios.enumerated() { sysctls.lowmemReserveRatio[ZoneType(rawValue: UInt32(i))] = UInt64(Swift.max(r, 0)) }
            setupPerZoneLowmemReserve()
        }
    }

    /// vm.min_free_kbytes as the machine has it now.
    public var minFreeKbytes: UInt64 { lock.withLock { sysctls.minFreeKbytes } }
}
