#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Cells of atomic words, one per slot of a `SlotTable`, in host memory that
/// never moves: what a reader without the machine lock (GUP-fast, the fast
/// unpin) may look up by slot while writers insert and remove records. The
/// chunks of 2^10 cells are allocated as slots first need them and freed
/// with the machine, so a cell, once there, stays readable.
struct StableCells {
    private static let chunkShift = 10
    private static let chunkSlots = 1 << chunkShift
    /// At most 2^20 slots have a cell.
    static let maxSlots = 1 << 20
    private let chunks: UnsafeMutablePointer<Atomic<UInt>>
    private let wordsPerCell: Int

    init?(wordsPerCell: Int) {
        let n = Self.maxSlots >> Self.chunkShift
        guard let c = hostAllocate(UInt.self, count: n, zeroed: true) else { return nil }
        chunks = UnsafeMutableRawPointer(c).bindMemory(to: Atomic<UInt>.self, capacity: n)
        self.wordsPerCell = wordsPerCell
    }

    func deallocate() {
        for i in 0..<Self.maxSlots >> Self.chunkShift { free(UnsafeMutableRawPointer(bitPattern: chunks[i].load(ordering: .relaxed))) }
        free(chunks)
    }

    /// Makes the cell of `slot` exist, zeroed the first time. Under the
    /// machine lock; false without host memory or beyond `maxSlots`.
    func prepare(_ slot: Int) -> Bool {
        guard slot >= 0, slot < Self.maxSlots else { return false }
        let c = slot >> Self.chunkShift
        if chunks[c].load(ordering: .relaxed) != 0 { return true }
        guard let raw = calloc(Self.chunkSlots * wordsPerCell, 8) else { return false }
        raw.bindMemory(to: Atomic<UInt64>.self, capacity: Self.chunkSlots * wordsPerCell)
        chunks[c].store(UInt(bitPattern: raw), ordering: .releasing)
        return true
    }

    /// The words of the cell of `slot`, if it exists.
    @inline(__always)
    func cell(_ slot: Int) -> UnsafeMutablePointer<Atomic<UInt64>>? {
        guard slot >= 0, slot < Self.maxSlots,
              let raw = UnsafeMutableRawPointer(bitPattern: chunks[slot >> Self.chunkShift].load(ordering: .acquiring))
        else { return nil }
        return raw.assumingMemoryBound(to: Atomic<UInt64>.self) + (slot & (Self.chunkSlots - 1)) * wordsPerCell
    }
}
