#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The flat word array: one 8-byte word per pfn, each stored and loaded as a
/// relaxed atomic. Writers hold the machine lock; readers that do not (a
/// debugger or emulator scanning `scamem_machine_words()` from another
/// thread) then see whole words without a data race in the C and Swift
/// memory models. On x86_64 both are plain moves, so the scan costs nothing.
struct WordArray {
    private let cells: UnsafeMutablePointer<Atomic<UInt64>>

    /// `count` words reading `SCAMEM_WORD_NOPAGE`, or nil when the host has no memory for them.
    init?(count: Int) {
        guard let raw = hostAllocate(UInt64.self, count: count) else { return nil }
        memset(raw, 0xff, count * 8)
        cells = UnsafeMutableRawPointer(raw).bindMemory(to: Atomic<UInt64>.self, capacity: max(count, 1))
    }

    func deallocate() { free(cells) }

    subscript(pfn: Int) -> UInt64 {
        @inline(__always) get { cells[pfn].load(ordering: .relaxed) }
        @inline(__always) nonmutating set { cells[pfn].store(newValue, ordering: .relaxed) }
    }

    /// Writes `word` into `count` words from `pfn`.
    @inline(__always)
    func update(_ pfn: Int, repeating word: UInt64, count: Int) {
        for i in pfn..<pfn + count { cells[i].store(word, ordering: .relaxed) }
    }

    /// The words as C sees them (`const uint64_t *`): same size and alignment.
    var cView: UnsafePointer<UInt64> { UnsafeRawPointer(cells).assumingMemoryBound(to: UInt64.self) }
}
