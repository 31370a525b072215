/// One page's 8-byte memdesc word, layout version 1.
///
/// Inline types: bits 4-10 subtype, bit 11 "may be mapped to userspace",
/// bits 12-17 order, node/zone/section above bit 17 as the machine's
/// `FlagsLayout` places them. Pointer types: a 16-byte-aligned descriptor
/// address in bits 4-63. The C counterparts are the `scamem_word_*` inline
/// decoders and `scamem_word_decode()`.
@frozen
public struct PageWord: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let layoutVersion: UInt32 = 1
    public static let subtypeShift: UInt64 = 4
    public static let subtypeMask: UInt64 = 0x7f
    public static let usermapBit: UInt64 = 1 << 11
    public static let orderShift: UInt64 = 12
    public static let orderMask: UInt64 = 0x3f
    /// Node/zone/section bits must sit at or above this bit.
    public static let inlineBits: UInt32 = 18
    public static let descriptorMask: UInt64 = ~0xf

    /// The marker of a pfn without memmap (`SCAMEM_WORD_NOPAGE`).
    public static let nopage = PageWord(rawValue: .max)

    /// An inline word; `flags` holds node/zone/section in the layout's high bits.
    @inlinable
    public static func inline(_ type: PageType, subtype: UInt8, order: UInt8 = 0,
                              usermap: Bool = false, flags: UInt64) -> PageWord {
        PageWord(rawValue: UInt64(type.rawValue)
            | (UInt64(subtype) & subtypeMask) << subtypeShift
            | (usermap ? usermapBit : 0)
            | (UInt64(order) & orderMask) << orderShift
            | flags)
    }

    /// A pointer word naming descriptor `id` (address `id << 4`).
    @inlinable
    public static func pointer(_ type: PageType, descriptor id: UInt64) -> PageWord {
        PageWord(rawValue: id << 4 | UInt64(type.rawValue))
    }

    @inlinable public var type: PageType { PageType(rawValue: UInt8(truncatingIfNeeded: rawValue)) }
    @inlinable public var isNopage: Bool { rawValue == .max }
    @inlinable public var subtype: UInt8 { UInt8(truncatingIfNeeded: (rawValue >> Self.subtypeShift) & Self.subtypeMask) }
    @inlinable public var usermap: Bool { rawValue & Self.usermapBit != 0 }
    @inlinable public var order: UInt8 { UInt8(truncatingIfNeeded: (rawValue >> Self.orderShift) & Self.orderMask) }
    /// The high bits of an inline word: node/zone/section, as in descriptor flags.
    @inlinable public var flags: UInt64 { rawValue & ~((1 << UInt64(Self.inlineBits)) - 1) }
    /// The descriptor address of a pointer word, 0 for inline words.
    @inlinable public var descriptorAddress: UInt64 { type.isInline ? 0 : rawValue & Self.descriptorMask }
    /// The descriptor id of a pointer word (address >> 4).
    @inlinable public var descriptorID: UInt64 { rawValue >> 4 }
}
