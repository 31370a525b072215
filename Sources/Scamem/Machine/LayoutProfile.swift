/// The configuration a word layout is computed from: the CONFIG_* values that
/// `include/linux/page-flags-layout.h` reads. Profiles are data.
///
/// The C counterpart is `struct scamem_profile`.
public struct LayoutProfile: Hashable, Sendable {
    /// CONFIG_NODES_SHIFT.
    public var nodesShift: UInt32
    /// ZONES_SHIFT.
    public var zonesShift: UInt32
    /// SECTION_SIZE_BITS.
    public var sectionSizeBits: UInt32
    /// MAX_PHYSMEM_BITS.
    public var maxPhysmemBits: UInt32
    /// SPARSEMEM_VMEMMAP puts no section bits in the word; classic SPARSEMEM does.
    public var sparsememVmemmap: Bool

    public init(nodesShift: UInt32, zonesShift: UInt32, sectionSizeBits: UInt32,
                maxPhysmemBits: UInt32, sparsememVmemmap: Bool) {
        self.nodesShift = nodesShift
        self.zonesShift = zonesShift
        self.sectionSizeBits = sectionSizeBits
        self.maxPhysmemBits = maxPhysmemBits
        self.sparsememVmemmap = sparsememVmemmap
    }

    /// x86_64 default: VMEMMAP, NODES_SHIFT 10 (MAXSMP), ZONES_SHIFT 3, 4-level paging.
    public static let x86_64Vmemmap = LayoutProfile(
        nodesShift: 10, zonesShift: 3, sectionSizeBits: 27, maxPhysmemBits: 46, sparsememVmemmap: true)
    /// x86_64 classic SPARSEMEM: 19 section bits in the word.
    public static let x86_64Sparsemem = LayoutProfile(
        nodesShift: 10, zonesShift: 3, sectionSizeBits: 27, maxPhysmemBits: 46, sparsememVmemmap: false)
}

/// Where node, zone and section sit in a word's high bits and in descriptor
/// flags (`memdesc_flags_t`), computed from a profile as
/// `page-flags-layout.h` does: from the top, section, node, zone.
///
/// The C counterpart is `struct scamem_layout` with `scamem_memdesc_nid()`,
/// `scamem_memdesc_zonenum()` and `scamem_memdesc_section()`.
public struct FlagsLayout: Hashable, Sendable {
    public let sectionSizeBits: UInt32
    public let sectionsWidth: UInt32
    public let nodesWidth: UInt32
    public let zonesWidth: UInt32
    public let sectionsShift: UInt32
    public let nodesShift: UInt32
    public let zonesShift: UInt32
    /// PFN_SECTION_SHIFT.
    public var pfnSectionShift: UInt32 { sectionSizeBits - 12 }

    /// Computes the layout, or fails with `.invalid` when the profile is out of
    /// the kernel's ranges or its fields do not fit above the inline bits.
    public init(_ p: LayoutProfile) throws(ScamemError) {
        guard p.nodesShift <= 10, (1...3).contains(p.zonesShift),
              p.maxPhysmemBits <= 52, p.sectionSizeBits >= 12 + 10,
              p.sectionSizeBits <= p.maxPhysmemBits else { throw .invalid }
        let sections = p.sparsememVmemmap ? 0 : p.maxPhysmemBits - p.sectionSizeBits
        guard sections + p.nodesShift + p.zonesShift <= 64 - PageWord.inlineBits else { throw .invalid }
        sectionSizeBits = p.sectionSizeBits
        sectionsWidth = sections
        nodesWidth = p.nodesShift
        zonesWidth = p.zonesShift
        // X_PGOFF counts down from the top; X_PGSHIFT is 0 for an absent field.
        let sectionsOff = 64 - sections
        let nodesOff = sectionsOff - p.nodesShift
        let zonesOff = nodesOff - p.zonesShift
        sectionsShift = sections == 0 ? 0 : sectionsOff
        nodesShift = p.nodesShift == 0 ? 0 : nodesOff
        zonesShift = zonesOff
    }

    /// A layout given field by field (`struct scamem_layout`), checked so
    /// that every field fits in the word and node and zone numbers fit the
    /// 32 bits `struct scamem_word_info` gives them (the kernel's widest are
    /// NODES_SHIFT 10 and ZONES_SHIFT 3).
    public init(sectionSizeBits: UInt32, sectionsWidth: UInt32, nodesWidth: UInt32, zonesWidth: UInt32,
                sectionsShift: UInt32, nodesShift: UInt32, zonesShift: UInt32) throws(ScamemError) {
        func fits(_ shift: UInt32, _ width: UInt32) -> Bool { width < 64 && shift < 64 && shift + width <= 64 }
        guard fits(sectionsShift, sectionsWidth), fits(nodesShift, nodesWidth), fits(zonesShift, zonesWidth),
              nodesWidth <= 32, zonesWidth <= 32, sectionSizeBits >= 12, sectionSizeBits < 64 else { throw .invalid }
        self.sectionSizeBits = sectionSizeBits
        self.sectionsWidth = sectionsWidth
        self.nodesWidth = nodesWidth
        self.zonesWidth = zonesWidth
        self.sectionsShift = sectionsShift
        self.nodesShift = nodesShift
        self.zonesShift = zonesShift
    }

    /// A field's value; a width of 0 gives 0. init() keeps shift and width
    /// below 64, so the masking shifts are exact (and branch-free).
    @inlinable @inline(__always) static func field(_ flags: UInt64, _ shift: UInt32, _ width: UInt32) -> UInt64 {
        (flags &>> UInt64(shift)) & ((1 &<< UInt64(width)) &- 1)
    }

    /// memdesc_nid()
    @inlinable @inline(__always) public func nid(_ flags: UInt64) -> Int { Int(Self.field(flags, nodesShift, nodesWidth)) }
    /// memdesc_zonenum()
    @inlinable @inline(__always) public func zone(_ flags: UInt64) -> ZoneType {
        ZoneType(rawValue: UInt32(truncatingIfNeeded: Self.field(flags, zonesShift, zonesWidth)))
    }
    /// memdesc_section(): the section bits, 0 when the layout has none.
    @inlinable @inline(__always) public func section(_ flags: UInt64) -> UInt64 { Self.field(flags, sectionsShift, sectionsWidth) }
    /// pfn_to_section_nr()
    @inlinable @inline(__always) public func sectionNumber(ofPfn pfn: UInt64) -> UInt64 { pfn >> UInt64(pfnSectionShift) }

    /// set_page_links(): node, zone and (if the layout has them) section bits.
    @inlinable
    public func flags(nid: Int, zone: ZoneType, section: UInt64) -> UInt64 {
        var f = UInt64(zone.rawValue) << UInt64(zonesShift)
        if nodesWidth != 0 { f |= UInt64(nid) << UInt64(nodesShift) }
        if sectionsWidth != 0 { f |= (section & ((1 << UInt64(sectionsWidth)) - 1)) << UInt64(sectionsShift) }
        return f
    }

    /// All bits node/zone/section may occupy.
    public var mask: UInt64 {
        var m: UInt64 = ((1 << UInt64(zonesWidth)) - 1) << UInt64(zonesShift)
        if nodesWidth != 0 { m |= ((1 << UInt64(nodesWidth)) - 1) << UInt64(nodesShift) }
        if sectionsWidth != 0 { m |= ((1 << UInt64(sectionsWidth)) - 1) << UInt64(sectionsShift) }
        return m
    }
}
