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
