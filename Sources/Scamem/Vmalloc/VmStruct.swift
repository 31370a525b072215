/// `VM_*` flags of a vm_struct, with the kernel's values. The C counterparts
/// are `SCAMEM_VM_*`.
@frozen
public struct VmFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let ioremap = VmFlags(rawValue: 0x1)
    public static let alloc = VmFlags(rawValue: 0x2)
    public static let map = VmFlags(rawValue: 0x4)
    /// Suitable for remap_vmalloc_range().
    public static let usermap = VmFlags(rawValue: 0x8)
    public static let dmaCoherent = VmFlags(rawValue: 0x10)
    public static let noGuard = VmFlags(rawValue: 0x40)
    /// vmap(): the pages' references pass to the area and vfree() drops them.
    public static let mapPutPages = VmFlags(rawValue: 0x200)
    public static let sparse = VmFlags(rawValue: 0x1000)
}

/// One vmalloc area: `struct vm_struct` with a scamem where the kernel has
/// `struct page **pages`. The C counterpart is `struct scamem_vm_struct`.
public struct VmStruct: Hashable, Sendable {
    public var addr: UInt64
    /// Bytes reserved, guard page included (get_vm_area_size() excludes it).
    public var size: UInt64
    public var flags: VmFlags
    /// The one scamem reference the area holds.
    public var scamem: ScamemID
    /// Who asked for it (the kernel keeps a return address).
    public var caller: UInt64
    public var nrPages: Int
    /// get_vm_area_size(): the usable bytes.
    public var usableSize: UInt64 { UInt64(nrPages) * 4096 }
}

/// An area as the model keeps it: the scamem by slot.
struct VmArea {
    var addr: UInt64
    var size: UInt64
    var flags: VmFlags
    var slot: Int
    var caller: UInt64
    var nrPages: Int
    var end: UInt64 { addr + size }
    var usableSize: UInt64 { UInt64(nrPages) * 4096 }
}

/// The vmalloc address space (x86_64, 4-level: 32 TiB at
/// 0xffffc90000000000) and its areas sorted by address. Addresses are handed
/// out upwards and a freed range is reused for the next area of the same
/// size, so runs are reproducible.
struct VmallocSpace {
    static let start: UInt64 = 0xffff_c900_0000_0000
    static let end: UInt64 = start + (32 << 40)

    private(set) var areas: [VmArea] = []
    private var next = start
    private var freeBySize: [UInt64: [UInt64]] = [:]

    /// An address range of `size` bytes, or nil when the space is full.
    mutating func reserve(_ size: UInt64) -> UInt64? {
        if let addr = freeBySize[size]?.popLast() { return addr }
        guard size <= Self.end - next else { return nil }
        defer { next += size }
        return next
    }

    mutating func insert(_ area: VmArea) {
        areas.insert(area, at: lowerBound(area.addr))
    }

    mutating func remove(at i: Int) -> VmArea {
        let a = areas.remove(at: i)
        freeBySize[a.size, default: []].append(a.addr)
        return a
    }

    /// The first index whose area starts at or after `addr`.
    func lowerBound(_ addr: UInt64) -> Int {
        var lo = 0, hi = areas.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if areas[mid].addr < addr { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// find_vmap_area(): the area whose range (guard page included) holds `addr`.
    func index(containing addr: UInt64) -> Int? {
        let i = lowerBound(addr &+ 1) - 1
        return i >= 0 && addr < areas[i].end ? i : nil
    }
}
