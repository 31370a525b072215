/// `enum zone_type` with x86_64 numbering. The C counterparts are `SCAMEM_ZONE_*`.
@frozen
public struct ZoneType: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let dma = ZoneType(rawValue: 0)
    public static let dma32 = ZoneType(rawValue: 1)
    public static let normal = ZoneType(rawValue: 2)
    public static let movable = ZoneType(rawValue: 3)
    public static let device = ZoneType(rawValue: 4)
    /// MAX_NR_ZONES
    public static let count = 5

    public static func < (a: ZoneType, b: ZoneType) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        rawValue < 5 ? ["DMA", "DMA32", "Normal", "Movable", "Device"][Int(rawValue)] : "zone\(rawValue)"
    }
}

/// Allocation flags: the kernel's zone modifiers plus THISNODE.
/// The C counterparts are `SCAMEM_GFP_*`.
@frozen
public struct GFP: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// GFP_KERNEL: NORMAL, then DMA32, then DMA.
    public static let kernel: GFP = []
    public static let dma = GFP(rawValue: 0x01)
    public static let dma32 = GFP(rawValue: 0x04)
    public static let movable = GFP(rawValue: 0x08)
    public static let thisNode = GFP(rawValue: 0x100)
    static let known: GFP = [.dma, .dma32, .movable, .thisNode]

    /// gfp_zone(), as GFP_ZONE_TABLE has it: DMA and DMA32 win over
    /// MOVABLE; DMA with DMA32 is the one bad mix (nil).
    var highestZone: ZoneType? {
        if contains(.dma) { return contains(.dma32) ? nil : .dma }
        if contains(.dma32) { return .dma32 }
        return contains(.movable) ? .movable : .normal
    }
}
