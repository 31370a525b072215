import CScamem
import Scamem

@c @implementation
public func scamem_memory_block_size_bytes(_ m: OpaquePointer!, _ bytes: UnsafeMutablePointer<UInt64>!) -> Int32 {
    perform(m) { m throws(ScamemError) in
        guard let bytes else { throw .invalid }
        bytes.pointee = m.memoryBlockSizeBytes
    }
}

@c @implementation
public func scamem_memory_block_info(_ m: OpaquePointer!, _ pfn: UInt64,
                                     _ out: UnsafeMutablePointer<scamem_memory_block>!) -> Int32 {
    perform(m) { m throws(ScamemError) in
        guard out != nil else { throw .invalid }
        let b = try m.memoryBlock(containing: pfn)
        var r = scamem_memory_block()
        r.size = UInt32(MemoryLayout<scamem_memory_block>.size)
        r.id = UInt32(truncatingIfNeeded: b.id)
        r.start_pfn = b.startPfn
        r.nr_pages = b.nrPages
        r.state = UInt32(b.state.rawValue)
        r.nid = Int32(truncatingIfNeeded: b.nid)
        r.zone = b.zone.map { Int32(bitPattern: $0.rawValue) } ?? -1
        try copyStructOut(r, to: out)
    }
}

@c @implementation
public func scamem_add_memory(_ m: OpaquePointer!, _ nid: UInt32, _ startPfn: UInt64, _ nrPages: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in
        guard let n = Int(exactly: nid) else { throw .invalid }
        try m.addMemory(nid: n, startPfn: startPfn, nrPages: nrPages)
    }
}

@c @implementation
public func scamem_online_pages(_ m: OpaquePointer!, _ startPfn: UInt64, _ nrPages: UInt64, _ zone: UInt32) -> Int32 {
    perform(m) { m throws(ScamemError) in
        try m.onlinePages(startPfn: startPfn, nrPages: nrPages, zone: ZoneType(rawValue: zone))
    }
}

@c @implementation
public func scamem_offline_pages(_ m: OpaquePointer!, _ startPfn: UInt64, _ nrPages: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.offlinePages(startPfn: startPfn, nrPages: nrPages) }
}

@c @implementation
public func scamem_remove_memory(_ m: OpaquePointer!, _ startPfn: UInt64, _ nrPages: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.removeMemory(startPfn: startPfn, nrPages: nrPages) }
}
