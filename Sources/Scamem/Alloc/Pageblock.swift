#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// `enum migratetype` (include/linux/mmzone.h) with the kernel's numbering.
/// The C counterparts are `SCAMEM_MIGRATE_*`.
@frozen
public struct MigrateType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let unmovable = MigrateType(rawValue: 0)
    public static let movable = MigrateType(rawValue: 1)
    public static let reclaimable = MigrateType(rawValue: 2)
    /// MIGRATE_HIGHATOMIC (= MIGRATE_PCPTYPES). The model reserves no
    /// high-atomic pageblocks (reserve_highatomic_pageblock()), so none has it.
    public static let highatomic = MigrateType(rawValue: 3)
    public static let cma = MigrateType(rawValue: 4)
    public static let isolate = MigrateType(rawValue: 5)
    /// MIGRATE_TYPES
    public static let count = 6
    /// MIGRATE_PCPTYPES: the types that fall back to each other and merge.
    static let pcpTypes = 3

    /// migratetype_is_mergeable(): free blocks of these merge across
    /// pageblocks of different types; HIGHATOMIC, CMA and ISOLATE do not.
    var isMergeable: Bool { rawValue < MigrateType.highatomic.rawValue }

    /// fallbacks[]: where __rmqueue_claim() and __rmqueue_steal() look
    /// when a type's own free lists are empty.
    var fallbacks: (MigrateType, MigrateType) {
        switch self {
        case .unmovable: (.reclaimable, .movable)
        case .movable: (.reclaimable, .unmovable)
        default: (.unmovable, .movable)
        }
    }

    public var description: String {
        rawValue < 6 ? ["Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate"][Int(rawValue)]
            : "migratetype\(rawValue)"
    }
}

/// pageblock_order on x86_64 (HUGETLB_PAGE_ORDER).
public let pageblockOrder = 9

/// The pageblock bitmap (`pageblock_flags`, PB_migrate bits): one
/// migratetype per 2^pageblock_order pfns, kept flat over the pfn space
/// where the kernel keeps it per section (mem_section_usage). Each entry is
/// a relaxed atomic, as get_pfnblock_flags_mask() reads the kernel's with
/// READ_ONCE(): a zone's pageblocks change under its zone lock, and a merge
/// in a zone whose span overlaps another's may read the other's.
struct PageblockBitmap {
    private let cells: UnsafeMutablePointer<Atomic<UInt8>>

    /// `count` entries, unset, or nil without host memory.
    init?(count: Int) {
        guard let raw = hostAllocate(UInt8.self, count: count) else { return nil }
        cells = UnsafeMutableRawPointer(raw).bindMemory(to: Atomic<UInt8>.self, capacity: max(count, 1))
    }

    func deallocate() { free(cells) }

    subscript(i: Int) -> MigrateType {
        @inline(__always) get { MigrateType(rawValue: cells[i].load(ordering: .relaxed)) }
        @inline(__always) nonmutating set { cells[i].store(newValue.rawValue, ordering: .relaxed) }
    }

    /// Sets `count` entries from `i` to `mt`.
    func update(_ i: Int, repeating mt: MigrateType, count: Int) {
        for k in i..<i + count { cells[k].store(mt.rawValue, ordering: .relaxed) }
    }
}

extension Machine {
    /// get_pfnblock_migratetype()
    @inline(__always)
    func pageblockMigratetype(_ pfn: UInt64) -> MigrateType {
        pageblocks[Int(pfn >> UInt64(pageblockOrder))]
    }

    /// set_pageblock_migratetype()
    @inline(__always)
    func setPageblockMigratetype(_ pfn: UInt64, _ mt: MigrateType) {
        pageblocks[Int(pfn >> UInt64(pageblockOrder))] = mt
    }

    /// change_pageblock_range(): every pageblock of a block of `order`.
    func changePageblockRange(_ pfn: UInt64, _ order: Int, _ mt: MigrateType) {
        pageblocks.update(Int(pfn >> UInt64(pageblockOrder)), repeating: mt, count: 1 << max(0, order - pageblockOrder))
    }

    /// The type of the pageblock holding `pfn`. The C counterpart is
    /// `scamem_pageblock_migratetype()`.
    public func pageblockMigratetype(of pfn: UInt64) throws(ScamemError) -> MigrateType {
        try lock.withLock { () throws(ScamemError) -> MigrateType in
            _ = try checkedWord(pfn)
            if isHole(pfn) { throw .noPage }
            return pageblockMigratetype(pfn)
        }
    }
}
