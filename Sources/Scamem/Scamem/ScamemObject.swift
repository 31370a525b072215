#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A scamem as the kernel would lay it out, in one host allocation:
/// `struct scamem { unsigned int nr; refcount_t refcount; struct page *pages[]; }`
/// with pfns standing for the page pointers: 8 bytes of header and 8 per page.
struct ScamemBlock {
    let raw: UnsafeMutableRawPointer

    static let headerBytes = Int(DescriptorSize.scamemHeader)

    /// `extraPerPage` bytes per page follow pages[] (a strategy's array).
    static func allocate(nr: Int, extraPerPage: Int = 0) -> ScamemBlock? {
        guard let raw = malloc(headerBytes + (8 + extraPerPage) * max(nr, 1)) else { return nil }
        raw.storeBytes(of: UInt32(truncatingIfNeeded: nr), as: UInt32.self)
        (raw + 4).bindMemory(to: Atomic<Int32>.self, capacity: 1).initialize(to: Atomic(1))
        return ScamemBlock(raw: raw)
    }

    func deallocate() { free(raw) }

    /// nr
    @inline(__always) var nr: Int { Int(raw.load(as: UInt32.self)) }
    /// refcount: an atomic, as refcount_t is.
    @inline(__always) var refcount: UnsafeMutablePointer<Atomic<Int32>> {
        (raw + 4).assumingMemoryBound(to: Atomic<Int32>.self)
    }
    /// pages[]
    @inline(__always) var pages: UnsafeMutablePointer<UInt64> {
        (raw + Self.headerBytes).assumingMemoryBound(to: UInt64.self)
    }
    /// The words after pages[] (FLAGS_ARRAY's flags[]).
    @inline(__always) var extra: UnsafeMutablePointer<UInt64> { pages + nr }
}

/// Who holds a scamem's references, kept beside it by the model so the
/// checker can prove refcount = vm_structs + mappings + GUP + callers (GUP's
/// in the scamem's `ScamemCell`). None of it is the object's metadata: the
/// kernel would have only the count.
struct ScamemRecord {
    var block: ScamemBlock
    /// Pages return to the allocator at refcount zero (vmalloc, or vmap with
    /// VM_MAP_PUT_PAGES); a plain vmap's pages stay the caller's.
    var ownsPages: Bool
    var vmRefs: Int32 = 0
    var mapRefs: Int32 = 0
    var callerRefs: Int32 = 0
}

/// What GUP-fast and the fast unpin find of a scamem from its slot alone,
/// without the machine lock: its block (none once freed) and the references
/// GUP holds on it, the model's bookkeeping beside the object's one count.
struct ScamemCell {
    /// [block, GUP references]
    static let words = 2
    let words: UnsafeMutablePointer<Atomic<UInt64>>

    @inline(__always) var block: ScamemBlock? {
        UnsafeMutableRawPointer(bitPattern: UInt(words[0].load(ordering: .acquiring))).map(ScamemBlock.init(raw:))
    }
    /// The block readers find from now on. Under the machine lock.
    func publish(_ b: ScamemBlock?) {
        words[0].store(UInt64(UInt(bitPattern: b?.raw)), ordering: .releasing)
    }
    @inline(__always) var gupRefs: Int32 { Int32(truncatingIfNeeded: words[1].load(ordering: .relaxed)) }
    @inline(__always) func gupAdd(_ n: Int32) {
        words[1].wrappingAdd(UInt64(bitPattern: Int64(n)), ordering: .relaxed)
    }
}

/// A scamem's identity: slot and generation (see `SlotTable`).
/// The C counterpart is `struct scamem *`.
@frozen
public struct ScamemID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "scamem#\(rawValue & 0xffff_ffff)" }
}
