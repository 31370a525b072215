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
        var detail: UnsafeMutablePointer<scamem_import_error>?
        if opts != nil {
            let c = try copyStruct(opts, scamem_import_opts.self, minimum: 24)
            // Zeroed first: a success leaves it so.
            detail = c.error
            detail?.pointee = scamem_import_error()
            guard c.reserved == 0, c.strategy <= UInt32(SCAMEM_NR_STRATEGIES) else { throw .invalid }
            o = ImportOptions(folioBytes: c.folio_bytes, slabBytes: c.slab_bytes, ptdescBytes: c.ptdesc_bytes)
            if c.strategy != 0 { o.strategy = Strategy(rawValue: c.strategy)! }
        }
        let source: CaptureSource = dir.map { .directory(String(cString: $0)) } ?? .live
        let m: Machine, r: ImportResult
        do throws(ImportError) { (m, r) = try Machine.importMachine(from: source, options: o) } catch {
            if let detail { describe(error, into: detail) }
            throw error.error
        }
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

/// Where and why an import failed, as `struct scamem_import_error` has it.
func describe(_ e: ImportError, into out: UnsafeMutablePointer<scamem_import_error>) {
    var x = scamem_import_error()
    x.line = UInt64(e.line)
    x.offset = e.offset
    copyCString(e.file, into: &x.file)
    copyCString(e.reason, into: &x.reason)
    out.pointee = x
}

/// `s` into a C char array (imported as a tuple), NUL-terminated, cut at a
/// character boundary if it does not fit.
func copyCString<Tuple>(_ s: String, into tuple: inout Tuple) {
    withUnsafeMutableBytes(of: &tuple) { raw in
        let bytes = Array(s.utf8)
        var n = min(bytes.count, raw.count - 1)
        while n < bytes.count, n > 0, bytes[n] & 0xc0 == 0x80 { n -= 1 }
        raw.copyBytes(from: bytes[0..<n])
        raw[n] = 0
    }
}
