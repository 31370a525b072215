import CScamem
import Glibc
import Scamem

@c @implementation
public func scamem_machine_strategy_cost(_ m: OpaquePointer!, _ out: UnsafeMutablePointer<scamem_strategy_cost>!) -> Int32 {
    onMachine(m) { m throws(ScamemError) in
        guard let out else { throw .invalid }
        let c = m.strategyCost()
        out.pointee = scamem_strategy_cost(bytes_per_page: c.bytesPerPage, object_bytes: c.objectBytes,
                                           extra_bytes: c.extraBytes)
        return 0
    }
}

@c @implementation
public func scamem_compare_strategies(_ desc: UnsafePointer<scamem_machine_desc>!, _ workload: UInt32,
                                      _ rows: UnsafeMutablePointer<scamem_compare_row>!, _ nrRows: UInt32) -> Int32 {
    errnoResult { () throws(ScamemError) -> Int32 in
        guard rows != nil || nrRows == 0, let w = Workload(rawValue: workload) else { throw .invalid }
        var d = MachineDescription.default
        if desc != nil {
            // Every strategy runs: the one the description names is ignored.
            var c = try copyStruct(desc, scamem_machine_desc.self)
            c.strategy = 0
            d = try MachineDescription(c)
        }
        let results = try Machine.compareStrategies(d, workload: w)
        for (i, r) in results.prefix(Int(nrRows)).enumerated() {
            rows[i] = scamem_compare_row(
                strategy: r.strategy.rawValue, workload: r.workload.rawValue, nr_areas: UInt64(r.nrAreas),
                nr_pages: UInt64(r.nrPages), memmap_pages: r.memmapPages, bytes_per_page: r.bytesPerPage,
                scamem_bytes: r.scamemBytes, metadata_bytes: r.metadataBytes, pages_pinned: UInt64(r.pagesPinned),
                pages_retained: UInt64(r.pagesRetained), bytes_per_scamem: r.bytesPerScamem,
                ns_page_to_nid: r.nsPageToNid, ns_pin: r.nsPin, ns_unpin: r.nsUnpin, ns_vmalloc_vfree: r.nsVmallocVfree)
        }
        return Int32(min(results.count, Int(nrRows)))
    }
}
