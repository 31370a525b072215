/// An address space's identity. The C counterpart is `struct scamem_mm *`.
@frozen
public struct MMID: Hashable, Sendable {
    public let rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
}

/// `vm_flags` bits the model sets, with the kernel's values. The C
/// counterparts are `SCAMEM_VM_*` flags of `struct scamem_vma`.
@frozen
public struct VMAFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let read = VMAFlags(rawValue: 0x1)
    public static let write = VMAFlags(rawValue: 0x2)
    public static let shared = VMAFlags(rawValue: 0x8)
    /// VM_PFNMAP: raw pfns in special ptes, no struct page behind them.
    public static let pfnMap = VMAFlags(rawValue: 0x400)
    /// VM_IO: memory-mapped I/O; GUP must not touch it.
    public static let io = VMAFlags(rawValue: 0x4000)
    public static let dontExpand = VMAFlags(rawValue: 0x40000)
    public static let dontDump = VMAFlags(rawValue: 0x0400_0000)
    public static let mixedMap = VMAFlags(rawValue: 0x1000_0000)
}

/// mmap() flags, with the kernel's values. The C counterparts are `SCAMEM_MAP_*`.
@frozen
public struct MapFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let shared = MapFlags(rawValue: 0x01)
    public static let `private` = MapFlags(rawValue: 0x02)
    public static let fixed = MapFlags(rawValue: 0x10)
    /// Anonymous memory: pages fault in as ANON folios. Without it the
    /// mapping is a driver's (a device file): empty until
    /// remap_vmalloc_range() fills it.
    public static let anonymous = MapFlags(rawValue: 0x20)
    static let known: MapFlags = [.shared, .private, .fixed, .anonymous]
}

/// A VMA as callers see it. The C counterpart is `struct scamem_vma`.
public struct VMAInfo: Hashable, Sendable {
    public var start: UInt64
    public var end: UInt64
    public var flags: VMAFlags
    public var anonymous: Bool
    /// Pages with a page table entry.
    public var mappedPages: Int
    /// The scamem this mapping holds a reference on (vmalloc mappings).
    public var scamem: ScamemID?
}

/// One VMA with its page table: a pte per page, pfn + 1, 0 for none. What a
/// pte holds follows from the VMA, one source per VMA: an anon folio
/// (`anonymous`), a scamem page (`object`), a special pte holding nothing
/// (VM_PFNMAP), or else a vm_insert_page() reference on a FILE folio.
struct VMA {
    var start: UInt64
    var end: UInt64
    var flags: VMAFlags
    var anonymous: Bool
    /// The scamem (handle bits) whose pages this VMA maps. Under whole-object
    /// refcounting the VMA holds one reference on it; under LEGACY its ptes
    /// hold the pages and this only names the area they came from.
    var object: UInt64?
    /// vm_pgoff: the VMA's offset in pages into what it maps (0 at mmap(),
    /// moved by a split, the first pfn of a private remap_pfn_range()).
    var pgoff: UInt64
    var ptes: [UInt64]

    var nrPages: Int { Int((end - start) / 4096) }
    func pteIndex(_ addr: UInt64) -> Int { Int((addr - start) / 4096) }
}

/// mm_struct: its VMAs, sorted and disjoint.
struct MMState {
    var vmas: [VMA] = []

    /// find_vma() that also requires `addr` inside: the VMA holding it.
    func index(containing addr: UInt64) -> Int? {
        var lo = 0, hi = vmas.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if vmas[mid].end <= addr { lo = mid + 1 } else if vmas[mid].start > addr { hi = mid } else { return mid }
        }
        return nil
    }
}

/// Where mmap() looks for room when not given an address.
let mmapBase: UInt64 = 0x1000_0000
/// The largest VMA the model maps (4 GiB): it keeps a pte per page.
public let maxVMABytes: UInt64 = 1 << 32
/// TASK_SIZE of x86_64 4-level paging.
let taskSize: UInt64 = 0x7fff_ffff_f000
