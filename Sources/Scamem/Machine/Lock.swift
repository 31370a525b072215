#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The machine lock: a reader-writer lock (pthread's rather than
/// `Synchronization.Mutex`: ThreadSanitizer understands it from C callers
/// too), writers first, so a stream of shared holders cannot starve an
/// exclusive one.
///
/// Held exclusive, it covers everything a call changes but the atomics
/// below: zones and free lists, VMA lists, scamem and shmem records, the
/// descriptors' plain fields, the strategies' tables and the debug ledgers.
/// Held shared, it keeps all of that still but what a finer lock covers:
/// a zone's free lists and counters under that zone's lock (`ZoneLocks`,
/// zone->lock), so page allocation and freeing in different zones run at
/// once. The kernel has no lock above zone->lock there; the nearest is
/// mem_hotplug_lock, which hotplug takes for writing against
/// get_online_mems() readers. Every other call takes it exclusive, wider
/// than the kernel's mmap_lock; docs/performance.md says so.
/// Without it run GUP-fast, the unpins and puts short of a last reference,
/// and page_to_nid() and its kin: they read atomics only (words, ptes, a
/// descriptor's header, a scamem's count and cell, an mm's cell, the GUP
/// ledger, the pageblock bitmap) inside an `RCU` read section.
/// The order: the machine lock, then a zone lock, then a grace period
/// (`RCU.synchronize`/`disable` wait for readers); a reader never takes a
/// lock inside its section, so none of them can deadlock.
final class Lock: @unchecked Sendable {
    private let rwlock: UnsafeMutablePointer<pthread_rwlock_t>
    /// True while a thread holds the lock exclusive. Only that thread
    /// writes it, and a shared holder cannot overlap it, so a shared holder
    /// always reads false: "do I need the finer locks" in one load (an
    /// atomic for the load alone: a class's plain var would be checked for
    /// exclusive access at every read).
    private let exclusiveHeld = Atomic<Bool>(false)

    @inline(__always) var exclusive: Bool { exclusiveHeld.load(ordering: .relaxed) }

    init() {
        rwlock = .allocate(capacity: 1)
        rwlock.initialize(to: pthread_rwlock_t())
        var attr = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attr)
        pthread_rwlockattr_setkind_np(&attr, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        pthread_rwlock_init(rwlock, &attr)
        pthread_rwlockattr_destroy(&attr)
    }

    deinit {
        pthread_rwlock_destroy(rwlock)
        rwlock.deallocate()
    }

    /// Runs `body` holding the lock exclusive.
    @inline(__always)
    func withLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_rwlock_wrlock(rwlock)
        exclusiveHeld.store(true, ordering: .relaxed)
        defer {
            exclusiveHeld.store(false, ordering: .relaxed)
            pthread_rwlock_unlock(rwlock)
        }
        return try body()
    }

    /// Runs `body` holding the lock shared: it may change only what a finer
    /// lock it takes covers.
    @inline(__always)
    func withSharedLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_rwlock_rdlock(rwlock)
        defer { pthread_rwlock_unlock(rwlock) }
        return try body()
    }
}

/// zone->lock for every zone, in host memory that never moves: a zone's
/// free lists, counters and pageblocks' types, taken under the machine lock
/// held shared (`Machine.withZoneLock`).
struct ZoneLocks {
    private let mutexes: UnsafeMutablePointer<pthread_mutex_t>

    /// `count` unlocked mutexes, or nil without host memory.
    init?(count: Int) {
        guard let m = hostAllocate(pthread_mutex_t.self, count: count) else { return nil }
        for i in 0..<count {
            (m + i).initialize(to: pthread_mutex_t())
            pthread_mutex_init(m + i, nil)
        }
        mutexes = m
    }

    func deallocate(count: Int) {
        for i in 0..<count { pthread_mutex_destroy(mutexes + i) }
        free(mutexes)
    }

    @inline(__always) func lock(_ z: Int) { pthread_mutex_lock(mutexes + z) }
    @inline(__always) func unlock(_ z: Int) { pthread_mutex_unlock(mutexes + z) }
}

/// Host memory that can fail: the model must answer ENOMEM, not abort, when a
/// caller describes a machine too large for this host.
@inline(__always)
func hostAllocate<T>(_ type: T.Type, count: Int, zeroed: Bool = false) -> UnsafeMutablePointer<T>? {
    let bytes = count.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
    guard !bytes.overflow else { return nil }
    let raw = zeroed ? calloc(max(count, 1), MemoryLayout<T>.stride) : malloc(max(bytes.partialValue, 1))
    return raw?.bindMemory(to: T.self, capacity: max(count, 1))
}
