import CScamem
import Glibc
import Scamem

/// A pfn-returning allocation: checks the out pointer, node and order, stores the pfn.
@inline(__always)
func allocate(_ m: OpaquePointer?, _ pfn: UnsafeMutablePointer<UInt64>?, _ nid: Int32, _ order: UInt32,
              _ body: (Machine, Int?, Int) throws(ScamemError) -> UInt64) -> Int32 {
    withMachine(m, orElse: -EINVAL) { m in
        errnoResult { () throws(ScamemError) -> Int32 in
            guard let pfn else { throw .invalid }
            pfn.pointee = try body(m, nodeArgument(nid), Int(order))
            return 0
        }
    }
}

@c @implementation
public func scamem_alloc_pages(_ m: OpaquePointer!, _ gfp: UInt32, _ order: UInt32, _ nid: Int32,
                               _ pfn: UnsafeMutablePointer<UInt64>!) -> Int32 {
    allocate(m, pfn, nid, order) { m, nid, order throws(ScamemError) in
        try m.allocPages(order: order, gfp: GFP(rawValue: gfp), nid: nid)
    }
}

@c @implementation
public func scamem_free_pages(_ m: OpaquePointer!, _ pfn: UInt64, _ order: UInt32) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.freePages(pfn, order: Int(order)) }
}

@c @implementation
public func scamem_folio_alloc(_ m: OpaquePointer!, _ type: UInt32, _ gfp: UInt32, _ order: UInt32, _ nid: Int32,
                               _ pfn: UnsafeMutablePointer<UInt64>!) -> Int32 {
    allocate(m, pfn, nid, order) { m, nid, order throws(ScamemError) in
        guard type < 16 else { throw .invalid }
        return try m.folioAlloc(PageType(rawValue: UInt8(type)), order: order, gfp: GFP(rawValue: gfp), nid: nid)
    }
}

@c @implementation
public func scamem_folio_get(_ m: OpaquePointer!, _ pfn: UInt64) -> Int32 {
    onMachine(m) { m throws(ScamemError) in Int32(try m.folioGet(pfn)) }
}

@c @implementation
public func scamem_folio_put(_ m: OpaquePointer!, _ pfn: UInt64) -> Int32 {
    onMachine(m) { m throws(ScamemError) in Int32(try m.folioPut(pfn)) }
}

@c @implementation
public func scamem_slab_alloc(_ m: OpaquePointer!, _ cacheID: UInt32, _ objectSize: UInt32, _ gfp: UInt32,
                              _ order: UInt32, _ nid: Int32, _ pfn: UnsafeMutablePointer<UInt64>!) -> Int32 {
    allocate(m, pfn, nid, order) { m, nid, order throws(ScamemError) in
        try m.slabAlloc(cache: cacheID, objectSize: objectSize, order: order, gfp: GFP(rawValue: gfp), nid: nid)
    }
}

@c @implementation
public func scamem_slab_free(_ m: OpaquePointer!, _ pfn: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.slabFree(pfn) }
}

@c @implementation
public func scamem_ptdesc_alloc(_ m: OpaquePointer!, _ gfp: UInt32, _ order: UInt32, _ nid: Int32,
                                _ pfn: UnsafeMutablePointer<UInt64>!) -> Int32 {
    allocate(m, pfn, nid, order) { m, nid, order throws(ScamemError) in
        try m.ptdescAlloc(order: order, gfp: GFP(rawValue: gfp), nid: nid)
    }
}

@c @implementation
public func scamem_ptdesc_free(_ m: OpaquePointer!, _ pfn: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.ptdescFree(pfn) }
}

@c @implementation
public func scamem_page_to_nid(_ m: OpaquePointer!, _ pfn: UInt64) -> Int32 {
    // The one call a debugger or emulator makes per page: no closure layers.
    withMachine(m, orElse: -EINVAL) { m in
        do throws(ScamemError) { return Int32(truncatingIfNeeded: try m.pageToNid(pfn)) } catch { return -error.rawValue }
    }
}

@c @implementation
public func scamem_page_zonenum(_ m: OpaquePointer!, _ pfn: UInt64) -> Int32 {
    onMachine(m) { m throws(ScamemError) in Int32(try m.pageZonenum(pfn).rawValue) }
}

@c @implementation
public func scamem_page_to_section(_ m: OpaquePointer!, _ pfn: UInt64) -> Int64 {
    withMachine(m, orElse: Int64(-EINVAL)) { m in
        errnoResult64 { () throws(ScamemError) -> Int64 in Int64(try m.pageToSection(pfn)) }
    }
}

@c @implementation
public func scamem_page_info(_ m: OpaquePointer!, _ pfn: UInt64, _ info: UnsafeMutablePointer<scamem_page_info>!) -> Int32 {
    onMachine(m) { m throws(ScamemError) in
        guard let info else { throw .invalid }
        let p: PageInfo
        do throws(ScamemError) { p = try m.pageInfo(pfn) } catch {
            if error == .noPage {
                info.pointee = scamem_page_info()
                info.pointee.pfn = pfn
                info.pointee.word = PageWord.nopage.rawValue
                info.pointee.type = UInt32(SCAMEM_TYPE_RESERVED)
            }
            throw error
        }
        var out = scamem_page_info()
        out.pfn = p.pfn
        out.word = p.word.rawValue
        out.desc = p.descriptorAddress
        out.desc_flags = p.flags
        out.head_pfn = p.headPfn
        out.section = p.section
        out.type = UInt32(p.word.type.rawValue)
        out.subtype = p.word.type.isInline ? UInt32(p.word.subtype) : 0
        out.order = UInt32(p.order)
        out.nid = UInt32(p.nid)
        out.zone = p.zone.rawValue
        out.refcount = Int32(clamping: p.refcount)
        out.mapcount = Int32(clamping: p.mapcount)
        out.pincount = Int32(clamping: p.pincount)
        out.cache_id = p.cacheID
        out.objects = p.objects
        info.pointee = out
        return 0
    }
}

@c @implementation
public func scamem_alloc_pages_bulk(_ m: OpaquePointer!, _ gfp: UInt32, _ nid: Int32, _ nr: UInt32,
                                    _ pfns: UnsafeMutablePointer<UInt64>!) -> Int32 {
    onMachine(m) { m throws(ScamemError) in
        guard nr <= UInt32(Int32.max) else { throw .invalid }
        if nr == 0 { return 0 }
        guard let pfns else { throw .invalid }
        return Int32(try m.allocPagesBulk(gfp: GFP(rawValue: gfp), nid: nodeArgument(nid),
                                          UnsafeMutableBufferPointer(start: pfns, count: Int(nr))))
    }
}
