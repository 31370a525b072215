/// The bits of /proc/kpageflags (include/uapi/linux/kernel-page-flags.h),
/// and KPF_RESERVED, one of the "hacker" bits fs/proc/page.c also exports.
enum KPF {
    static let locked: UInt64 = 1 << 0
    static let lru: UInt64 = 1 << 5
    static let slab: UInt64 = 1 << 7
    static let buddy: UInt64 = 1 << 10
    static let mmap: UInt64 = 1 << 11
    static let anon: UInt64 = 1 << 12
    static let swapbacked: UInt64 = 1 << 14
    static let compoundHead: UInt64 = 1 << 15
    static let compoundTail: UInt64 = 1 << 16
    static let huge: UInt64 = 1 << 17
    static let hwpoison: UInt64 = 1 << 19
    static let nopage: UInt64 = 1 << 20
    static let ksm: UInt64 = 1 << 21
    static let thp: UInt64 = 1 << 22
    static let offline: UInt64 = 1 << 23
    static let zeroPage: UInt64 = 1 << 24
    static let pgtable: UInt64 = 1 << 26
    static let reserved: UInt64 = 1 << 32
}

/// What a pfn of a real machine is, as the importer sorts it.
/// The C counterparts are `SCAMEM_CAT_*`.
public enum PageCategory: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// Not RAM (iomem): in a zone's span or outside every zone; or NOPAGE.
    case hole
    /// RAM whose memmap was never initialised (deferred struct page init): a
    /// whole section of all-zero flags.
    case uninitialised
    /// PG_reserved (memblock reservations, firmware, kernel image).
    case reserved
    /// KPF_BUDDY: in the buddy allocator.
    case free
    case slab
    case pageTable
    case anon
    case file
    /// Swap-backed file pages (shmem, tmpfs).
    case shmem
    /// Compound pages with KPF_HUGE that are not on an LRU.
    case hugetlb
    /// Other compound pages (kernel allocations of order > 0).
    case compound
    case zero
    case offline
    case hwpoison
    /// Initialised pages with no telling flags: kernel stacks, percpu chunks,
    /// per-cpu free lists, driver pages, and vmalloc pages (userspace cannot
    /// tell which pfns back a vmalloc area).
    case unknown
    /// Unknown pages the importer gave to the vmalloc areas of vmallocinfo.
    case vmalloc

    public var description: String {
        ["hole", "uninitialised", "reserved", "free", "slab", "page table", "anon", "file", "shmem",
         "hugetlb", "compound", "zero page", "offline", "hwpoison", "unknown", "vmalloc"][rawValue]
    }

    /// Categories whose pages belong to a folio.
    var isFolio: Bool { self == .anon || self == .file || self == .shmem || self == .hugetlb }

    /// The word a page of this category gets (folios, slabs, page tables
    /// get descriptors instead).
    var miscSubtype: MiscSubtype {
        switch self {
        case .hole, .uninitialised, .reserved: .reserved
        case .zero: .zero
        case .offline: .offline
        default: .unknown
        }
    }

    /// Sorts one page (or the head of a compound page) by its flags. Slab
    /// first: slab pages can show stale ANON or KSM bits.
    static func of(_ f: UInt64, compound: Bool) -> PageCategory {
        if f & KPF.hwpoison != 0 { return .hwpoison }
        if f & KPF.offline != 0 { return .offline }
        if f & KPF.slab != 0 { return .slab }
        if f & KPF.pgtable != 0 { return .pageTable }
        if f & KPF.zeroPage != 0 { return .zero }
        if f & KPF.huge != 0 && f & KPF.lru == 0 && compound { return .hugetlb }
        if f & (KPF.lru | KPF.anon) != 0 {
            if f & KPF.anon != 0 { return .anon }
            return f & KPF.swapbacked != 0 ? .shmem : .file
        }
        if f & KPF.reserved != 0 { return .reserved }
        return compound ? .compound : .unknown
    }
}
