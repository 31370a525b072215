#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A separately allocated descriptor: what a pointer word points to.
/// One record type serves folios, slabs and ptdescs; `type` tells them apart.
/// Its flags, _refcount and _pincount are atomics beside it (`flags`,
/// `refcount`, `pincount` of its pointer), which GUP-fast and
/// page_to_nid() read without the lock.
struct Memdesc {
    /// The first pfn (folio->pfn in the memdesc plan); the next free slot's
    /// id while the slot is free.
    var pfn: UInt64
    var mapcount: Int32
    var type: PageType
    var order: UInt8
    var cacheID: UInt32
    var objects: UInt32
    /// References taken through the API (folio_alloc, folio_get): the model's
    /// bookkeeping, so a folio_put without one is refused, not a use-after-free.
    var callerRefs: Int32 = 1
    /// PG_lru: a folio a fault made (anon, COW copy, shmem page cache), which
    /// memory_failure() can handle (HWPoisonHandlable()); folio_alloc()'s
    /// are a driver's own, never on an LRU list.
    var lru = false

    var isLive: Bool { type != .reserved }
}

/// A descriptor's atomic header, in the 16 bytes before its record: the
/// kernel's folio->_refcount (atomic_t) and _pincount, then
/// memdesc_flags_t (node/zone/section of all its pages, written once).
/// Every access is atomic, since GUP-fast and unpin_user_pages() change the
/// counts, and page_to_nid() reads the flags, without the machine lock.
extension UnsafeMutablePointer where Pointee == Memdesc {
    @inline(__always) var refcount: UnsafeMutablePointer<Atomic<Int32>> {
        (UnsafeMutableRawPointer(self) - 16).assumingMemoryBound(to: Atomic<Int32>.self)
    }
    @inline(__always) var pincount: UnsafeMutablePointer<Atomic<Int32>> {
        (UnsafeMutableRawPointer(self) - 12).assumingMemoryBound(to: Atomic<Int32>.self)
    }
    /// memdesc_flags_t
    @inline(__always) var flags: UInt64 {
        (UnsafeMutableRawPointer(self) - 8).assumingMemoryBound(to: Atomic<UInt64>.self).pointee.load(ordering: .relaxed)
    }
    /// folio_ref_count()
    @inline(__always) var refs: Int32 { refcount.pointee.load(ordering: .relaxed) }
    /// folio_maybe_dma_pinned()'s _pincount
    @inline(__always) var pins: Int32 { pincount.pointee.load(ordering: .relaxed) }

    /// folio_ref_add(): the caller already holds a reference.
    @inline(__always) func refAdd(_ n: Int32) { refcount.pointee.wrappingAdd(n, ordering: .relaxed) }
    /// folio_ref_sub_return(): the count left; at zero the caller frees it.
    @inline(__always) func refSub(_ n: Int32) -> Int32 {
        refcount.pointee.wrappingSubtract(n, ordering: .acquiringAndReleasing).newValue
    }
    /// folio_ref_try_add(): `n` more unless the count is zero.
    @inline(__always) func refTryAdd(_ n: Int32) -> Bool { refcount.addUnlessZero(n) }
    /// folio_ref_freeze(): the count from exactly `expected` to zero, so
    /// that no try-get succeeds until folio_ref_unfreeze().
    @inline(__always) func refFreeze(_ expected: Int32) -> Bool {
        refcount.pointee.compareExchange(expected: expected, desired: 0, ordering: .acquiring).exchanged
    }
    /// folio_ref_unfreeze()
    @inline(__always) func refUnfreeze(_ count: Int32) { refcount.pointee.store(count, ordering: .releasing) }
    @inline(__always) func pinAdd(_ n: Int32) { pincount.pointee.wrappingAdd(n, ordering: .relaxed) }
    @inline(__always) func pinSub(_ n: Int32) { pincount.pointee.wrappingSubtract(n, ordering: .relaxed) }
}

/// Bytes each descriptor type costs when allocated separately: the real
/// 6.18 sizes for slab (64), ptdesc (64) and zpdesc (56); the folio of the
/// memdesc Path page (about 80 bytes: flags, lru, mapping, index, private,
/// _refcount, _mapcount, pincount, order, pfn, memcg).
public enum DescriptorSize {
    public static let folio: UInt32 = 80
    public static let slab: UInt32 = 64
    public static let ptdesc: UInt32 = 64
    public static let zpdesc: UInt32 = 56
    /// struct page today.
    public static let structPage: UInt32 = 64
    /// The memdesc word.
    public static let word: UInt32 = 8
    /// A scamem's header (nr, refcount); each page adds 8 more.
    public static let scamemHeader: UInt32 = 8

    /// The size of one descriptor of `type` (0 for inline types).
    public static func of(_ type: PageType) -> UInt32 {
        switch type {
        case .file, .anon, .ksm: return folio
        case .slab: return slab
        case .ptdesc: return ptdesc
        case .zpdesc: return zpdesc
        case .scamem: return scamemHeader
        default: return 0
        }
    }
}

/// The descriptor slab: ids from 1 (0 is NULL), freed slots reused
/// last-in first-out. Type-stable, as a SLAB_TYPESAFE_BY_RCU cache is: the
/// records sit in chunks that never move and are only freed with the
/// machine, and a slot that once held a folio only ever holds folios (the
/// folio cache is its own), so a lockless reader (GUP-fast) with a stale id
/// reads a folio's counts, never freed memory, and tells a reused slot by
/// rechecking the page's word. A folio's slot is freed only at count zero
/// (its last put, or folio_ref_freeze()), so a try-get never revives one.
/// A class: lockless readers use only its `let` chunk table, which the
/// allocator's changes to its other fields do not touch.
final class DescriptorTable {
    /// Records per chunk.
    private static let chunkShift = 10
    private static let chunkSlots = 1 << chunkShift
    /// A slot: the atomic header, then the record.
    private static let slotStride = 16 + MemoryLayout<Memdesc>.stride
    private let chunks: UnsafeMutablePointer<Atomic<UInt>>
    private let nrChunks: Int
    /// Slots handed out so far; ids are 1...used.
    private(set) var used = 0
    /// The free lists: folios' slots, everything else's.
    private var freeFolios: UInt64 = 0
    private var freeOthers: UInt64 = 0
    /// Live descriptors per type.
    private(set) var live = [UInt64](repeating: 0, count: PageType.count)

    /// Room for `capacity` live descriptors (each owns a page at least, so
    /// a machine's pfns bound them), or nil without host memory.
    init?(capacity: Int) {
        let n = capacity / Self.chunkSlots + 1
        guard let c = hostAllocate(UInt.self, count: n, zeroed: true) else { return nil }
        chunks = UnsafeMutableRawPointer(c).bindMemory(to: Atomic<UInt>.self, capacity: n)
        nrChunks = n
    }

    func release() {
        for i in 0..<nrChunks { free(UnsafeMutableRawPointer(bitPattern: chunks[i].load(ordering: .relaxed))) }
        free(chunks)
    }

    /// The record of slot `id` in a chunk that exists, live or not: what a
    /// lockless reader may look at (its counts) before taking a reference.
    @inline(__always)
    func slot(_ id: UInt64) -> UnsafeMutablePointer<Memdesc>? {
        let i = Int(truncatingIfNeeded: id &- 1)
        guard id >= 1, i >> Self.chunkShift < nrChunks,
              let base = UnsafeMutableRawPointer(bitPattern: chunks[i >> Self.chunkShift].load(ordering: .acquiring)) else { return nil }
        return (base + (i & (Self.chunkSlots - 1)) * Self.slotStride + 16).assumingMemoryBound(to: Memdesc.self)
    }

    /// The live descriptor with this id, or nil. Under the machine lock.
    @inline(__always)
    func lookup(_ id: UInt64) -> UnsafeMutablePointer<Memdesc>? {
        guard id <= UInt64(used), let d = slot(id) else { return nil }
        return d.pointee.isLive ? d : nil
    }

    /// A new descriptor with memdesc flags `flags` and `refcount`
    /// references; `.noMemory` if the host (or the table) runs out.
    func allocate(_ d: Memdesc, flags: UInt64, refcount: Int32 = 1) throws(ScamemError) -> UInt64 {
        let id: UInt64
        let folio = PageType.folioTypes & d.type.bit != 0
        if folio ? freeFolios != 0 : freeOthers != 0 {
            id = folio ? freeFolios : freeOthers
            let next = slot(id).unsafelyUnwrapped.pointee.pfn
            if folio { freeFolios = next } else { freeOthers = next }
        } else {
            let i = used
            guard i >> Self.chunkShift < nrChunks else { throw .noMemory }
            if i & (Self.chunkSlots - 1) == 0 {
                guard let raw = calloc(Self.chunkSlots, Self.slotStride) else { throw .noMemory }
                for k in 0..<Self.chunkSlots {
                    let s = raw + k * Self.slotStride
                    s.bindMemory(to: Atomic<Int32>.self, capacity: 2)
                    (s + 8).bindMemory(to: Atomic<UInt64>.self, capacity: 1)
                    (s + 16).bindMemory(to: Memdesc.self, capacity: 1)
                }
                chunks[i >> Self.chunkShift].store(UInt(bitPattern: raw), ordering: .releasing)
            }
            used += 1
            id = UInt64(used)
        }
        let p = slot(id).unsafelyUnwrapped
        // The record, then its header (only ever touched atomically): the
        // count is published last, so a try-get that sees it sees the record.
        p.initialize(to: d)
        (UnsafeMutableRawPointer(p) - 8).assumingMemoryBound(to: Atomic<UInt64>.self).pointee.store(flags, ordering: .relaxed)
        p.pincount.pointee.store(0, ordering: .relaxed)
        p.refcount.pointee.store(refcount, ordering: .releasing)
        live[Int(d.type.rawValue)] += 1
        return id
    }

    /// Frees a live descriptor (a folio's at count zero).
    func deallocate(_ id: UInt64) {
        guard let d = lookup(id) else { return }
        live[Int(d.pointee.type.rawValue)] -= 1
        let folio = PageType.folioTypes & d.pointee.type.bit != 0
        d.pointee.type = .reserved
        d.pointee.pfn = folio ? freeFolios : freeOthers
        if folio { freeFolios = id } else { freeOthers = id }
    }

    /// Every live descriptor with its id.
    func forEach(_ body: (UInt64, UnsafeMutablePointer<Memdesc>) -> Void) {
        for i in 0..<used {
            if let d = slot(UInt64(i + 1)), d.pointee.isLive { body(UInt64(i + 1), d) }
        }
    }
}
