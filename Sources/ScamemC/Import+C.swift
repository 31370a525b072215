import CScamem
import Glibc
import Scamem

@c @implementation
public func scamem_import(_ dir: UnsafePointer<CChar>!, _ opts: UnsafePointer<scamem_import_opts>!,
                          _ out: UnsafeMutablePointer<OpaquePointer?>!,
                          _ report: UnsafeMutablePointer<scamem_import_report>!) -> Int32 {
    errnoResult { () throws(ScamemError) -> Int32 in
        guard let out else { throw .invalid }
        var o = ImportOptions()
        if opts != nil {
            let c = try copyStruct(opts, scamem_import_opts.self, minimum: 24)
            guard c.reserved == 0, c.strategy <= UInt32(SCAMEM_NR_STRATEGIES) else { throw .invalid }
            if c.folio_bytes != 0 { o.folioBytes = c.folio_bytes }
            if c.slab_bytes != 0 { o.slabBytes = c.slab_bytes }
            if c.ptdesc_bytes != 0 { o.ptdescBytes = c.ptdesc_bytes }
            if c.strategy != 0 { o.strategy = Strategy(rawValue: c.strategy)! }
        }
        let source: CaptureSource = dir.map { .directory(String(cString: $0)) } ?? .live
        let (m, r) = try Machine.importMachine(from: source, options: o)
        if let report {
            let b = m.report(r)
            var x = scamem_import_report()
            x.pfns = r.pfns
            x.present_pages = b.presentPages
            x.memmap_pages = b.memmapPages
            fill(&x.categories, r.categories)
            x.folios = r.folios
            x.slabs = r.slabs
            x.ptdescs = r.ptdescs
            x.vmalloc_areas = UInt64(r.vmallocAreas)
            x.vmalloc_pages = UInt64(r.vmallocPages)
            x.vmalloc_placed = UInt64(r.vmallocPlaced)
            x.mapped_pages = r.mappedPages
            x.today_bytes = b.todayBytes
            x.word_bytes = b.wordBytes
            x.descriptor_bytes = b.descriptorBytes
            x.scamem_bytes = b.scamemBytes
            x.memdesc_bytes = b.memdescBytes
            x.checker_issues = UInt64(r.checkerIssues)
            // Index 0 is the default strategy's; then one per SCAMEM_STRATEGY_*.
            let byStrategy = Dictionary(uniqueKeysWithValues: b.strategies.map { ($0.strategy, $0.bytes) })
            fill(&x.strategy_bytes, [byStrategy[.default]!] + Strategy.allCases.map { byStrategy[$0]! })
            report.pointee = x
        }
        out.pointee = OpaquePointer(Unmanaged.passRetained(m).toOpaque())
        return 0
    }
}
