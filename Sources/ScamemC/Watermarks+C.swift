import CScamem
import Glibc
import Scamem

/// The zone behind `index` (as scamem_machine_zone() counts them), or
/// `.notFound`; its pageblocks counted only where they are reported.
func zoneArgument(_ m: Machine, _ index: UInt32, pageblocks: Bool = false) throws(ScamemError) -> ZoneInfo {
    guard let z = m.zoneInfo(Int(index), pageblocks: pageblocks) else { throw .notFound }
    return z
}

@c @implementation
public func scamem_machine_zone_watermarks(_ m: OpaquePointer!, _ index: UInt32,
                                           _ out: UnsafeMutablePointer<scamem_zone_watermarks>!) -> Int32 {
    perform(m) { m throws(ScamemError) in
        guard out != nil else { throw .invalid }
        let z = try zoneArgument(m, index)
        var w = scamem_zone_watermarks()
        w.size = UInt32(MemoryLayout<scamem_zone_watermarks>.size)
        w.min_free_kbytes = m.minFreeKbytes
        w.wmark_min = z.watermark.min
        w.wmark_low = z.watermark.low
        w.wmark_high = z.watermark.high
        w.wmark_promo = z.watermark.promo
        fill(&w.lowmem_reserve, z.lowmemReserve.array)
        w.nr_free_cma = z.freeCmaPages
        w.nr_free_isolated = z.isolatedFreePages
        try copyStructOut(w, to: out)
    }
}

@c @implementation
public func scamem_machine_zone_pagetypeinfo(_ m: OpaquePointer!, _ index: UInt32,
                                             _ out: UnsafeMutablePointer<scamem_zone_pagetypeinfo>!) -> Int32 {
    perform(m) { m throws(ScamemError) in
        guard out != nil else { throw .invalid }
        let z = try zoneArgument(m, index, pageblocks: true)
        var p = scamem_zone_pagetypeinfo()
        p.size = UInt32(MemoryLayout<scamem_zone_pagetypeinfo>.size)
        fill(&p.nr_free, z.nrFreeByType.joined())
        fill(&p.nr_pageblocks, z.nrPageblocks)
        try copyStructOut(p, to: out)
    }
}

@c @implementation
public func scamem_pageblock_migratetype(_ m: OpaquePointer!, _ pfn: UInt64) -> Int32 {
    onMachine(m) { m throws(ScamemError) in Int32(try m.pageblockMigratetype(of: pfn).rawValue) }
}

@c @implementation
public func scamem_sysctl_min_free_kbytes(_ m: OpaquePointer!, _ kbytes: Int32) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.setMinFreeKbytes(Int(kbytes)) }
}

@c @implementation
public func scamem_sysctl_watermark_scale_factor(_ m: OpaquePointer!, _ factor: Int32) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.setWatermarkScaleFactor(Int(factor)) }
}

@c @implementation
public func scamem_sysctl_lowmem_reserve_ratio(_ m: OpaquePointer!, _ ratio: UnsafePointer<Int32>!) -> Int32 {
    perform(m) { m throws(ScamemError) in
        guard let ratio else { throw .invalid }
        try m.setLowmemReserveRatio((0..<ZoneType.count).map { Int(ratio[$0]) })
    }
}
