import Synchronization

/// The refcount operations the lockless paths need, on an atomic count in
/// host memory (a folio's _refcount, a scamem's refcount_t).
extension UnsafeMutablePointer where Pointee == Atomic<Int32> {
    /// page_ref_add_unless(page, n, 0): adds `n` unless the count is zero
    /// (freed, or frozen by folio_ref_freeze()) or would pass Int32.max.
    @inline(__always)
    func addUnlessZero(_ n: Int32) -> Bool {
        var old = pointee.load(ordering: .relaxed)
        while old > 0, old <= Int32.max - n {
            let (done, seen) = pointee.weakCompareExchange(expected: old, desired: old + n, ordering: .acquiring)
            if done { return true }
            old = seen
        }
        return false
    }

    /// Drops `n` unless that would leave none: the last reference is freed
    /// under the machine lock, so a lockless put stops short of it.
    @inline(__always)
    func subtractUnlessLast(_ n: Int32) -> Bool {
        var old = pointee.load(ordering: .relaxed)
        while old > n {
            let (done, seen) = pointee.weakCompareExchange(expected: old, desired: old - n, ordering: .releasing)
            if done { return true }
            old = seen
        }
        return false
    }
}
