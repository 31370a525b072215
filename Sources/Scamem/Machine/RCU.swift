#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The grace periods that let GUP-fast read page tables, VMA lists and
/// scamems without a lock. The kernel's gup_fast() runs with interrupts off,
/// so a page table or an object freed after synchronize_rcu() (or the TLB
/// shootdown IPI) is one it no longer reads; this is SRCU's scheme in
/// miniature: readers count themselves in one of two counters chosen by the
/// epoch's low bit, and `synchronize()` flips the epoch twice, waiting each
/// time for the previous counter to drain, so it returns once every reader
/// that began before it has finished, and new readers cannot hold it off.
///
/// Readers never block. A writer holds the machine lock (so writers are
/// serialised), withdraws what readers must stop finding, calls
/// `synchronize()`, then frees it. `disable()` turns readers away (they
/// fall back to the locked path) until `enable()`: the invariant checker
/// uses it to see counts that no reader is changing.
struct RCU {
    /// [epoch, readers of even epochs, readers of odd epochs, disabled depth]
    private let cells: UnsafeMutablePointer<Atomic<Int>>

    init?() {
        guard let raw = hostAllocate(Int.self, count: 4, zeroed: true) else { return nil }
        cells = UnsafeMutableRawPointer(raw).bindMemory(to: Atomic<Int>.self, capacity: 4)
    }

    func deallocate() { free(cells) }

    /// rcu_read_lock(): the counter to hand to `readUnlock`, or nil while
    /// readers are disabled.
    @inline(__always)
    func readLock() -> Int? {
        let idx = cells[0].load(ordering: .sequentiallyConsistent) & 1
        cells[1 + idx].wrappingAdd(1, ordering: .sequentiallyConsistent)
        if cells[3].load(ordering: .sequentiallyConsistent) != 0 {
            readUnlock(idx)
            return nil
        }
        return idx
    }

    /// rcu_read_unlock()
    @inline(__always)
    func readUnlock(_ idx: Int) {
        cells[1 + idx].wrappingSubtract(1, ordering: .releasing)
    }

    /// synchronize_rcu(): every reader that began before the call has
    /// finished when it returns. Under the machine lock.
    func synchronize() {
        for _ in 0..<2 {
            let old = cells[0].load(ordering: .relaxed)
            cells[0].store(old &+ 1, ordering: .sequentiallyConsistent)
            while cells[1 + (old & 1)].load(ordering: .sequentiallyConsistent) != 0 { sched_yield() }
        }
    }

    /// Turns readers away and waits for those inside. Under the machine lock;
    /// nests.
    func disable() {
        cells[3].wrappingAdd(1, ordering: .sequentiallyConsistent)
        synchronize()
    }

    func enable() {
        cells[3].wrappingSubtract(1, ordering: .sequentiallyConsistent)
    }
}
