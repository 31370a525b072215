import CScamem
import Glibc
import Scamem

extension MachineDescription {
    /// From the C description, every field checked.
    init(_ d: scamem_machine_desc) throws(ScamemError) {
        guard d.profile.size == UInt32(MemoryLayout<scamem_profile>.size), d.reserved0 == 0,
              d.strategy <= UInt32(SCAMEM_NR_STRATEGIES), d.packed_index_bits <= 64 else { throw .invalid }
        let p = d.profile
        let zones = try arrayArgument(d.zones, d.nr_zones, limit: 1 << 16) {
            ZoneSpan(nid: Int($0.nid), zone: ZoneType(rawValue: $0.zone), startPfn: $0.start_pfn,
                     spannedPages: $0.spanned_pages)
        }
        let range = { (r: scamem_pfn_range) in PfnRange(startPfn: r.start_pfn, nrPages: r.nr_pages) }
        self.init(nrNodes: Int(d.nr_nodes),
                  profile: LayoutProfile(nodesShift: p.nodes_shift, zonesShift: p.zones_shift,
                                         sectionSizeBits: p.section_size_bits, maxPhysmemBits: p.max_physmem_bits,
                                         sparsememVmemmap: p.sparsemem_vmemmap != 0),
                  zones: zones,
                  holes: try arrayArgument(d.holes, d.nr_holes, limit: 1 << 20, range),
                  reserved: try arrayArgument(d.reserved, d.nr_reserved, limit: 1 << 20, range),
                  strategy: d.strategy == 0 ? .default : Strategy(rawValue: d.strategy)!,
                  packedIndexBits: Int(d.packed_index_bits),
                  cma: try arrayArgument(d.cma, d.nr_cma, limit: 1 << 20, range),
                  memoryBlockSizeOrder: Int(d.memory_block_size_order))
        guard p.sparsemem_vmemmap <= 1, d.nr_nodes <= 1 << 10 else { throw .invalid }
    }
}

/// The default description in C form, built once and never freed: the
/// arrays scamem_machine_desc_default() hands out are borrowed forever.
nonisolated(unsafe) let defaultDescription: scamem_machine_desc = {
    let d = MachineDescription.default
    func copy<T>(_ items: [T]) -> UnsafePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: items.count)
        p.initialize(from: items, count: items.count)
        return UnsafePointer(p)
    }
    let ranges = { (rs: [PfnRange]) in rs.map { scamem_pfn_range(start_pfn: $0.startPfn, nr_pages: $0.nrPages) } }
    let p = d.profile
    return scamem_machine_desc(
        size: UInt32(MemoryLayout<scamem_machine_desc>.size), nr_nodes: UInt32(d.nrNodes),
        profile: scamem_profile(size: UInt32(MemoryLayout<scamem_profile>.size), nodes_shift: p.nodesShift,
                                zones_shift: p.zonesShift, section_size_bits: p.sectionSizeBits,
                                max_physmem_bits: p.maxPhysmemBits, sparsemem_vmemmap: p.sparsememVmemmap ? 1 : 0),
        zones: copy(d.zones.map {
            scamem_zone_span(nid: UInt32($0.nid), zone: $0.zone.rawValue, start_pfn: $0.startPfn,
                             spanned_pages: $0.spannedPages)
        }),
        holes: copy(ranges(d.holes)), reserved: copy(ranges(d.reserved)),
        nr_zones: UInt32(d.zones.count), nr_holes: UInt32(d.holes.count), nr_reserved: UInt32(d.reserved.count),
        strategy: 0, packed_index_bits: 0, reserved0: 0, cma: nil, nr_cma: 0, memory_block_size_order: 0)
}()

func newMachine(_ desc: MachineDescription, _ out: UnsafeMutablePointer<OpaquePointer?>) throws(ScamemError) -> Int32 {
    let m = try Machine(desc)
    out.pointee = OpaquePointer(Unmanaged.passRetained(m).toOpaque())
    return 0
}

@c @implementation
public func scamem_machine_new(_ desc: UnsafePointer<scamem_machine_desc>!,
                               _ out: UnsafeMutablePointer<OpaquePointer?>!) -> Int32 {
    errnoResult { () throws(ScamemError) -> Int32 in
        guard let out else { throw .invalid }
        // 80 bytes: 0.1's struct, without the CMA areas.
        return try newMachine(MachineDescription(copyStruct(desc, scamem_machine_desc.self, minimum: 80)), out)
    }
}

@c @implementation
public func scamem_machine_new_default(_ out: UnsafeMutablePointer<OpaquePointer?>!) -> Int32 {
    errnoResult { () throws(ScamemError) -> Int32 in
        guard let out else { throw .invalid }
        return try newMachine(.default, out)
    }
}

@c @implementation
public func scamem_machine_desc_default(_ desc: UnsafeMutablePointer<scamem_machine_desc>!) -> Int32 {
    guard let desc else { return -EINVAL }
    desc.pointee = defaultDescription
    return 0
}

@c @implementation
public func scamem_machine_free(_ m: OpaquePointer!) {
    guard let m else { return }
    Unmanaged<Machine>.fromOpaque(UnsafeRawPointer(m)).release()
}

@c @implementation
public func scamem_machine_set_local_node(_ m: OpaquePointer!, _ nid: Int32) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.setLocalNode(Int(nid)) }
}

@c @implementation
public func scamem_machine_set_anon_order(_ m: OpaquePointer!, _ order: UInt32) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.setAnonFolioOrder(Int(order)) }
}

@c @implementation
public func scamem_machine_layout(_ m: OpaquePointer!, _ out: UnsafeMutablePointer<scamem_layout>!) -> Int32 {
    withMachine(m, orElse: -EINVAL) { m in
        guard let out else { return -EINVAL }
        let l = m.layout
        out.pointee = scamem_layout(
            version: PageWord.layoutVersion, section_size_bits: l.sectionSizeBits,
            sections_width: l.sectionsWidth, nodes_width: l.nodesWidth, zones_width: l.zonesWidth,
            sections_pgshift: l.sectionsShift, nodes_pgshift: l.nodesShift, zones_pgshift: l.zonesShift)
        return 0
    }
}

@c @implementation
public func scamem_machine_info(_ m: OpaquePointer!, _ out: UnsafeMutablePointer<scamem_machine_info>!) -> Int32 {
    withMachine(m, orElse: -EINVAL) { m in
        guard let out else { return -EINVAL }
        let i = m.info()
        out.pointee = scamem_machine_info(
            end_pfn: i.endPfn, present_pages: i.presentPages, managed_pages: i.managedPages,
            free_pages: i.freePages, memmap_pages: i.memmapPages, nr_sections: i.nrSections,
            present_sections: i.presentSections, nr_nodes: UInt32(i.nrNodes), nr_zones: UInt32(i.nrZones),
            local_node: Int32(i.localNode), strategy: m.placementStrategy.rawValue)
        return 0
    }
}

@c @implementation
public func scamem_machine_zone(_ m: OpaquePointer!, _ index: UInt32,
                                _ out: UnsafeMutablePointer<scamem_zone_info>!) -> Int32 {
    withMachine(m, orElse: -EINVAL) { m in
        guard let out else { return -EINVAL }
        guard let z = m.zoneInfo(Int(index), pageblocks: false) else { return -ENOENT }
        var info = scamem_zone_info()
        info.nid = UInt32(z.nid)
        info.zone = z.zone.rawValue
        info.start_pfn = z.startPfn
        info.spanned_pages = z.spannedPages
        info.present_pages = z.presentPages
        info.managed_pages = z.managedPages
        info.free_pages = z.freePages
        fill(&info.nr_free, z.nrFree)
        out.pointee = info
        return 0
    }
}

@c @implementation
public func scamem_machine_words(_ m: OpaquePointer!, _ words: UnsafeMutablePointer<UnsafePointer<UInt64>?>!,
                                 _ nr: UnsafeMutablePointer<UInt64>!) -> Int32 {
    withMachine(m, orElse: -EINVAL) { m in
        guard let words, let nr else { return -EINVAL }
        words.pointee = m.wordsBaseAddress
        nr.pointee = m.endPfn
        return 0
    }
}

@c @implementation
public func scamem_classify_range(_ m: OpaquePointer!, _ start: UInt64, _ nr: UInt64,
                                  _ counts: UnsafeMutablePointer<UInt64>!) -> Int64 {
    withMachine(m, orElse: Int64(-EINVAL)) { m in
        guard let counts else { return Int64(-EINVAL) }
        guard start < m.endPfn else { return Int64(-ERANGE) }
        let end = nr > m.endPfn - start ? m.endPfn : start + nr
        return Int64(m.classify(start..<end, into: counts))
    }
}

@c @implementation
public func scamem_count_pages(_ m: OpaquePointer!, _ nid: Int32, _ zone: Int32,
                               _ counts: UnsafeMutablePointer<UInt64>!) -> Int64 {
    withMachine(m, orElse: Int64(-EINVAL)) { m in
        guard let counts, nid >= -1, zone >= -1, zone < Int32(ZoneType.count) else { return Int64(-EINVAL) }
        let c = m.countPages(nid: nid < 0 ? nil : Int(nid), zone: zone < 0 ? nil : ZoneType(rawValue: UInt32(zone)))
        for (i, n) in c.enumerated() { counts[i] = n }
        return Int64(c.reduce(0, +))
    }
}

@c @implementation
public func scamem_machine_metadata(_ m: OpaquePointer!, _ out: UnsafeMutablePointer<scamem_metadata>!) -> Int32 {
    withMachine(m, orElse: -EINVAL) { m in
        guard let out else { return -EINVAL }
        let md = m.metadata()
        var r = scamem_metadata()
        r.memmap_pages = md.memmapPages
        r.struct_page_bytes = md.structPageBytes
        r.word_bytes = md.wordBytes
        r.desc_bytes = md.descriptorBytes
        r.memdesc_bytes = md.memdescBytes
        r.scamem_bytes = md.scamemBytes
        fill(&r.nr_desc, md.descriptors)
        fill(&r.desc_size, md.descriptorSizes)
        out.pointee = r
        return 0
    }
}

@c @implementation
public func scamem_machine_check(_ m: OpaquePointer!, _ fn: scamem_check_fn?, _ user: UnsafeMutableRawPointer?) -> Int64 {
    withMachine(m, orElse: Int64(-EINVAL)) { m in
        // Reported after the walk, outside the machine lock, so fn may call in.
        let issues = m.check()
        if let fn {
            for issue in issues {
                issue.message.withCString { fn(user, issue.pfn ?? .max, issue.kind.rawValue, $0) }
            }
        }
        return Int64(issues.count)
    }
}
