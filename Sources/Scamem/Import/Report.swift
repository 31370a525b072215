/// What one strategy's metadata comes to on an imported machine.
public struct StrategyBill: Hashable, Sendable {
    public var strategy: Strategy
    public var bytes: UInt64
    /// Today's bytes minus these (negative: memdescs cost more).
    public var savingBytes: Int64
    /// savingBytes as a percentage of RAM (present pages).
    public var savingPercentOfRAM: Double
}

/// Pages and metadata of one category, today and under memdescs.
public struct CategoryBill: Hashable, Sendable {
    public var category: PageCategory
    public var pages: UInt64
    /// 64 bytes per page with a memmap (absent sections cost nothing).
    public var todayBytes: UInt64
    /// 8 bytes per page with a memmap, plus the category's descriptors.
    public var memdescBytes: UInt64
}

/// Pages per word type and descriptors of one zone.
public struct ZoneBill: Hashable, Sendable {
    public var nid: Int
    public var zone: ZoneType
    public var present: UInt64
    public var pagesByType: TypeCounts
    public var descriptors: UInt64
}

/// The report on a real machine: what memdescs and each scamem strategy
/// would cost against today's 64-byte struct pages.
public struct CaptureReport: Sendable {
    public var result: ImportResult
    public var presentPages: UInt64
    public var memmapPages: UInt64
    /// 64 per memmap pfn, and vm_struct pages arrays (8 per vmalloc page).
    public var todayBytes: UInt64
    /// 8 per memmap pfn.
    public var wordBytes: UInt64
    /// Folios, slabs, ptdescs at the options' sizes.
    public var descriptorBytes: UInt64
    /// The default strategy's scamem objects.
    public var scamemBytes: UInt64
    public var memdescBytes: UInt64 { wordBytes + descriptorBytes + scamemBytes }
    public var strategies: [StrategyBill]
    public var categories: [CategoryBill]
    public var zones: [ZoneBill]
}

extension Machine {
    /// Costs an import. The C counterpart is the cost half of `struct scamem_import_report`.
    public func report(_ r: ImportResult) -> CaptureReport {
        let o = r.options
        let info = self.info()
        var descBytes: [UInt64] = Array(repeating: 0, count: PageCategory.allCases.count)
        var folioBytes: UInt64 = 0
        for c in PageCategory.allCases where c.isFolio {
            let n = r.folioOrders[c.rawValue].reduce(0, +)
            descBytes[c.rawValue] = n * UInt64(o.folioBytes)
            folioBytes += n * UInt64(o.folioBytes)
        }
        descBytes[PageCategory.slab.rawValue] = r.slabs * UInt64(o.slabBytes)
        descBytes[PageCategory.pageTable.rawValue] = r.ptdescs * UInt64(o.ptdescBytes)
        let descriptorBytes = folioBytes + r.slabs * UInt64(o.slabBytes) + r.ptdescs * UInt64(o.ptdescBytes)
        let areaPages = vmAreas().map(\.nrPages)
        func objects(_ s: Strategy) -> UInt64 {
            areaPages.reduce(0) { $0 + UInt64(s.objectBytes(nr: $1) + s.extraBytesPerObject) }
        }
        // A capture whose zones are all holes has no RAM to divide by.
        let ram = Double(info.presentPages) * 4096
        let today = info.memmapPages * 64 + objects(.legacy)
        let strategies = Strategy.allCases.map { s -> StrategyBill in
            let bytes = s == .legacy ? today : info.memmapPages * 8 + descriptorBytes + objects(s)
            let saving = Int64(today) - Int64(bytes)
            return StrategyBill(strategy: s, bytes: bytes, savingBytes: saving,
                               savingPercentOfRAM: ram > 0 ? Double(saving) / ram * 100 : 0)
        }
        // Pages per category that have a memmap: all but holes in absent sections.
        let absent = info.endPfn - info.memmapPages
        var categories: [CategoryBill] = []
        for c in PageCategory.allCases {
            let pages = r.categories[c.rawValue]
            // Holes in sections without memmap cost nothing either way.
            let withMemmap = c == .hole ? pages - min(pages, absent) : pages
            var memdesc = withMemmap * 8 + descBytes[c.rawValue]
            if c == .vmalloc { memdesc += objects(.default) }
            categories.append(CategoryBill(category: c, pages: pages,
                                           todayBytes: withMemmap * 64 + (c == .vmalloc ? objects(.legacy) : 0),
                                           memdescBytes: memdesc))
        }
        // Descriptors by zone index, which is zoneInfos()'s order.
        var zoneDescs = [Int: UInt64]()
        lock.withLock {
            descriptors.forEach { _, d in
                if let z = zoneIndex(flags: d.flags) { zoneDescs[z, default: 0] += 1 }
            }
        }
        let zoneBills = zoneInfos().enumerated().map { i, z in
            ZoneBill(nid: z.nid, zone: z.zone, present: z.presentPages, pagesByType: pagesByType(in: z),
                     descriptors: zoneDescs[i, default: 0])
        }
        return CaptureReport(result: r, presentPages: info.presentPages, memmapPages: info.memmapPages, todayBytes: today,
                             wordBytes: info.memmapPages * 8, descriptorBytes: descriptorBytes,
                             scamemBytes: objects(.default), strategies: strategies, categories: categories, zones: zoneBills)
    }

    /// countPages(nid:zone:) of an imported zone in one pass over its span:
    /// the import writes every word of a span with that zone's node and
    /// zone, so the span is the zone's pages; its NOPAGE pfns (classified
    /// as type 15, which no word has) are not pages. Per zone, not per
    /// zone times the machine: a capture may name 5120 zones.
    func pagesByType(in z: ZoneInfo) -> TypeCounts {
        var counts = classify(z.startPfn..<z.startPfn + z.spannedPages)
        counts[Int(PageType.reserved.rawValue)] = 0
        return counts
    }
}
