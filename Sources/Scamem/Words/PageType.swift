/// The memdesc type in bits 0-3 of a page word (2025 plan numbering, with
/// SCAMEM at 14 as this project's extension).
///
/// The C counterparts are the `SCAMEM_TYPE_*` constants.
@frozen
public struct PageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue & 0xf }

    public static let misc = PageType(rawValue: 0)
    public static let buddy = PageType(rawValue: 1)
    public static let file = PageType(rawValue: 2)
    public static let anon = PageType(rawValue: 3)
    public static let ksm = PageType(rawValue: 4)
    public static let slab = PageType(rawValue: 5)
    public static let bump = PageType(rawValue: 6)
    public static let movable = PageType(rawValue: 7)
    public static let ptdesc = PageType(rawValue: 8)
    public static let hwpoison = PageType(rawValue: 9)
    public static let percpu = PageType(rawValue: 10)
    public static let acctmem = PageType(rawValue: 11)
    public static let zpdesc = PageType(rawValue: 12)
    public static let managed = PageType(rawValue: 13)
    public static let scamem = PageType(rawValue: 14)
    public static let reserved = PageType(rawValue: 15)

    public static let count = 16
    public static let all: [PageType] = (0..<16).map { PageType(rawValue: UInt8($0)) }

    /// MISC, BUDDY and HWPOISON carry their data in the word; the rest point
    /// to a descriptor.
    @inlinable public var isInline: Bool {
        self == .misc || self == .buddy || self == .hwpoison
    }

    /// This type's bit in a 16-bit set of types.
    @inline(__always) var bit: UInt16 { 1 << UInt16(rawValue) }
    /// The folio types, as a set of bits.
    static let folioTypes: UInt16 = file.bit | anon.bit

    public var description: String {
        ["misc", "buddy", "file", "anon", "ksm", "slab", "bump", "movable",
         "ptdesc", "hwpoison", "percpu", "acctmem", "zpdesc", "managed",
         "scamem", "reserved"][Int(rawValue)]
    }
}

/// Subtypes of MISC words (bits 4-10). The C counterparts are `SCAMEM_MISC_*`.
@frozen
public struct MiscSubtype: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let reserved = MiscSubtype(rawValue: 0)
    public static let zero = MiscSubtype(rawValue: 1)
    public static let unknown = MiscSubtype(rawValue: 2)
    public static let vmalloc = MiscSubtype(rawValue: 3)
    public static let guardPage = MiscSubtype(rawValue: 4)
    public static let offline = MiscSubtype(rawValue: 5)
    public static let kmallocLarge = MiscSubtype(rawValue: 6)
    public static let exact = MiscSubtype(rawValue: 7)
    public static let brd = MiscSubtype(rawValue: 8)
    public static let count = 9
}

/// Subtypes of HWPOISON words (since 0.2): 0 a poisoned page of unknown
/// history (an imported capture's KPF_HWPOISON), 1 a page the model's
/// memory_failure() took off the allocator or kept from it at its free (the
/// kernel's PageHWPoisonTakenOff(), MAGIC_HWPOISON in page_private), which
/// unpoison_memory() gives back. The C counterparts are `SCAMEM_HWPOISON_*`.
@frozen
public struct HWPoisonSubtype: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let unknown = HWPoisonSubtype(rawValue: 0)
    public static let takenOff = HWPoisonSubtype(rawValue: 1)
}

/// Subtypes of BUDDY words: the first page of a free block carries its order,
/// the others are tails. The C counterparts are `SCAMEM_BUDDY_HEAD`/`_TAIL`.
@frozen
public struct BuddySubtype: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let head = BuddySubtype(rawValue: 0)
    public static let tail = BuddySubtype(rawValue: 1)
}
