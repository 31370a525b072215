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
    public static let exec = VMAFlags(rawValue: 0x4)
    public static let shared = VMAFlags(rawValue: 0x8)
    /// VM_MAY*: what mprotect() may add (do_mmap() sets them; the ringbuf's
    /// read-only mapping clears VM_MAYWRITE).
    public static let mayRead = VMAFlags(rawValue: 0x10)
    public static let mayWrite = VMAFlags(rawValue: 0x20)
    public static let mayExec = VMAFlags(rawValue: 0x40)
    public static let mayShare = VMAFlags(rawValue: 0x80)
    /// VM_PFNMAP: raw pfns in special ptes, no struct page behind them.
    public static let pfnMap = VMAFlags(rawValue: 0x400)
    /// VM_IO: memory-mapped I/O; GUP must not touch it.
    public static let io = VMAFlags(rawValue: 0x4000)
    /// VM_DONTCOPY: fork() leaves the VMA out of the child (MADV_DONTFORK).
    public static let dontCopy = VMAFlags(rawValue: 0x20000)
    public static let dontExpand = VMAFlags(rawValue: 0x40000)
    public static let dontDump = VMAFlags(rawValue: 0x0400_0000)
    public static let mixedMap = VMAFlags(rawValue: 0x1000_0000)

    /// is_cow_mapping(): private and may be written.
    var isCOW: Bool { intersection([.shared, .mayWrite]) == .mayWrite }

    /// pte_write() of a pte in a VMA with these flags: a shared VMA's ptes
    /// are writable with VM_WRITE; a private one's only for an exclusive anon
    /// page (the rest are COW).
    func writable(_ pte: UInt64) -> Bool {
        contains(.write) && (contains(.shared) || pte & PTE.exclusive != 0)
    }
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

/// mmap() and mprotect() protections, with the kernel's values. The C
/// counterparts are `SCAMEM_PROT_*`.
@frozen
public struct ProtFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let read = ProtFlags(rawValue: 0x1)
    public static let write = ProtFlags(rawValue: 0x2)
    public static let exec = ProtFlags(rawValue: 0x4)
    static let known: ProtFlags = [.read, .write, .exec]

    /// calc_vm_prot_bits(): the VM_READ/VM_WRITE/VM_EXEC bits.
    var vmFlags: VMAFlags { VMAFlags(rawValue: rawValue & 0x7) }
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

/// A page table entry: pfn + 1 in the low bits (0: none) and two bits the
/// model keeps in the pte. The pte's write bit is not stored: it follows
/// from the VMA (see `VMA.writable`), as the kernel's ptes after
/// mprotect()'s `can_change_pte_writable()`.
enum PTE {
    static let pfnMask: UInt64 = (1 << 52) - 1
    /// The page is an ANON folio's (PageAnon): a faulted anon page, or a COW
    /// copy in a private driver or pfnmap VMA.
    static let anon: UInt64 = 1 << 63
    /// PageAnonExclusive: only this pte maps the anon page, so a write may
    /// reuse it. The kernel keeps the bit in the page; an exclusive page has
    /// exactly one pte, so the model keeps it there.
    static let exclusive: UInt64 = 1 << 62

    /// A hwpoison entry (make_hwpoison_entry()): not present, it holds the
    /// pfn of a poisoned page that try_to_unmap(TTU_HWPOISON) took away and
    /// no reference. A fault on it is VM_FAULT_HWPOISON (`.hwpoison`); a
    /// zap clears it; fork copies it (copy_nonpresent_pte()).
    static let hwpoison: UInt64 = 1 << 61

    @inline(__always) static func pfn(_ pte: UInt64) -> UInt64 { (pte & pfnMask) &- 1 }
    /// A pte from the VMA's source (scamem, inserted folio, special, shmem, zero page).
    @inline(__always) static func isSource(_ pte: UInt64) -> Bool { pte != 0 && pte & (anon | hwpoison) == 0 }
    /// A present pte (not none, not a hwpoison entry).
    @inline(__always) static func isPresent(_ pte: UInt64) -> Bool { pte != 0 && pte & hwpoison == 0 }
}

/// One VMA with its page table, a pte per page. What a non-anon pte holds
/// follows from the VMA, one source per VMA: a shmem folio (`shmem`), the
/// zero page (private anonymous VMAs), a scamem page (`object`), a special
/// pte holding nothing (VM_PFNMAP), or else a vm_insert_page() reference on
/// a FILE folio. Anon ptes (`PTE.anon`) hold an ANON folio in any VMA.
struct VMA {
    var start: UInt64
    var end: UInt64
    var flags: VMAFlags
    var anonymous: Bool
    /// The shmem file (slot) of a MAP_SHARED | MAP_ANONYMOUS VMA: vm_file,
    /// one reference per VMA.
    var shmem: Int? = nil
    /// vma->anon_vma exists: set by the first fault that made an anon page
    /// (vmf_anon_prepare()), kept by splits, moves and fork's child; fork
    /// copies the ptes of a VMA that has one.
    var anonVMA = false
    /// The scamem (handle bits) whose pages this VMA maps. Under whole-object
    /// refcounting the VMA holds one reference on it; under LEGACY its ptes
    /// hold the pages and this only names the area they came from.
    var object: UInt64?
    /// vm_pgoff: the VMA's offset in pages into what it maps (0 at mmap(),
    /// moved by a split, the first pfn of a private remap_pfn_range()).
    var pgoff: UInt64
    var ptes: PteTable

    var nrPages: Int { Int((end - start) / 4096) }
    func pteIndex(_ addr: UInt64) -> Int { Int((addr - start) / 4096) }

    /// A private anonymous VMA (vma_is_anonymous()).
    var isPrivateAnon: Bool { anonymous && !flags.contains(.shared) }


    /// Ptes that map pages of `object` (0 without one): kept as ptes come
    /// and go, so a COW or zap knows in O(1) whether it took the last one.
    var objectPtes = 0
    /// Whether some pte still maps the VMA's source object.
    var mapsObject: Bool { objectPtes > 0 }
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
