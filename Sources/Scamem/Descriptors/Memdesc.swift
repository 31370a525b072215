#if canImport(Glibc)
import Glibc
#endif

/// A separately allocated descriptor: what a pointer word points to.
/// One record type serves folios, slabs and ptdescs; `type` tells them apart.
struct Memdesc {
    /// memdesc_flags_t: node/zone/section of all its pages, copied once.
    var flags: UInt64
    /// The first pfn (folio->pfn in the memdesc plan); the next free slot's
    /// id while the slot is free.
    var pfn: UInt64
    var refcount: Int32
    var mapcount: Int32
    var pincount: Int32
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

/// The descriptor slab: records in one growable buffer, ids from 1 (0 is
/// NULL), freed slots reused last-in first-out.
struct DescriptorTable {
    private var slots: UnsafeMutablePointer<Memdesc>?
    private var capacity = 0
    /// Slots handed out so far; ids are 1...used.
    private(set) var used = 0
    private var freeHead: UInt64 = 0
    /// Live descriptors per type.
    private(set) var live = [UInt64](repeating: 0, count: PageType.count)

    func release() { free(slots) }

    /// The live descriptor with this id, or nil.
    @inline(__always)
    func lookup(_ id: UInt64) -> UnsafeMutablePointer<Memdesc>? {
        guard id >= 1, id <= UInt64(used), let slots else { return nil }
        let d = slots + Int(id - 1)
        return d.pointee.isLive ? d : nil
    }

    /// A new descriptor; `.noMemory` if the host runs out.
    mutating func allocate(_ d: Memdesc) throws(ScamemError) -> UInt64 {
        let id: UInt64
        if freeHead != 0 {
            id = freeHead
            freeHead = slots![Int(id - 1)].pfn
        } else {
            if used == capacity {
                let newCapacity = max(64, capacity * 2)
                guard let grown = realloc(slots, newCapacity * MemoryLayout<Memdesc>.stride) else { throw .noMemory }
                slots = grown.bindMemory(to: Memdesc.self, capacity: newCapacity)
                capacity = newCapacity
            }
            used += 1
            id = UInt64(used)
        }
        (slots! + Int(id - 1)).initialize(to: d)
        live[Int(d.type.rawValue)] += 1
        return id
    }

    mutating func deallocate(_ id: UInt64) {
        guard let d = lookup(id) else { return }
        live[Int(d.pointee.type.rawValue)] -= 1
        d.pointee.type = .reserved
        d.pointee.pfn = freeHead
        freeHead = id
    }

    /// Every live descriptor with its id.
    func forEach(_ body: (UInt64, Memdesc) -> Void) {
        guard let slots else { return }
        for i in 0..<used where slots[i].isLive { body(UInt64(i + 1), slots[i]) }
    }
}
