#if canImport(Glibc)
import Glibc
#endif

/// The machine lock. A pthread mutex rather than `Synchronization.Mutex`:
/// it is what ThreadSanitizer understands from C callers too.
///
/// It covers everything a call changes but the atomics below: zones and
/// free lists, VMA lists, scamem and shmem records, the descriptors' plain
/// fields, the strategies' tables and the debug ledgers. Wider than the
/// kernel's mmap_lock and zone->lock; docs/performance.md says so.
/// Without it run GUP-fast, the unpins and puts short of a last reference,
/// and page_to_nid() and its kin: they read atomics only (words, ptes, a
/// descriptor's header, a scamem's count and cell, an mm's cell, the GUP
/// ledger) inside an `RCU` read section. The order: the machine lock, then
/// a grace period (`RCU.synchronize`/`disable` wait for readers); a reader
/// never takes the lock inside its section, so the two cannot deadlock.
final class Lock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    func withLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
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
