#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A VMA's page table: one pte per page in host memory that never moves,
/// each an atomic, as the kernel's ptes are read with ptep_get() and written
/// with set_pte_at(). A store releases (and a load acquires) what was made
/// before it, the folio or scamem the pte maps, for a reader without the
/// lock; on x86_64 both are plain moves. Writers hold the machine
/// lock; GUP-fast reads a table through the mm's published VMA list
/// (`VMASnapshot`) without it, so a table is only replaced or freed after
/// that list is withdrawn and the readers are gone (`Machine.vmasChanging`).
/// Copies of a VMA share its table; a split, fork or move makes new ones.
final class PteTable: RandomAccessCollection {
    let base: UnsafeMutablePointer<Atomic<UInt64>>
    let count: Int

    /// `count` empty ptes, or nil without host memory.
    init?(count: Int) {
        guard let raw = hostAllocate(UInt64.self, count: count, zeroed: true) else { return nil }
        base = UnsafeMutableRawPointer(raw).bindMemory(to: Atomic<UInt64>.self, capacity: Swift.max(count, 1))
        self.count = count
    }

    /// `count` empty ptes; `.noMemory` without host memory.
    static func empty(count: Int) throws(ScamemError) -> PteTable {
        guard let t = PteTable(count: count) else { throw .noMemory }
        return t
    }

    /// A table of `count` ptes holding `ptes` first; `.noMemory` without host memory.
    static func copy<C: Collection<UInt64>>(_ ptes: C, count: Int) throws(ScamemError) -> PteTable {
        let t = try empty(count: count)
        for (i, pte) in ptes.enumerated() { t[i] = pte }
        return t
    }

    deinit { free(base) }

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(i: Int) -> UInt64 {
        @inline(__always) get { base[i].load(ordering: .acquiring) }
        @inline(__always) set { base[i].store(newValue, ordering: .releasing) }
    }
}
