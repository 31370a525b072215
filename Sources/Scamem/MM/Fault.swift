/// Page faults on anonymous memory: an ANON folio on first touch.
extension Machine {
    /// The pfn behind `addr`, faulting in an anonymous page if there is none
    /// yet (`fault`), else `.fault` where nothing is mapped.
    func pfnAt(_ s: Int, _ addr: UInt64, fault: Bool) throws(ScamemError) -> UInt64 {
        guard let vi = mms[s].index(containing: addr) else { throw .fault }
        return try pfnAt(s, vma: vi, addr, fault: fault)
    }

    /// The same, in the VMA at index `vi` (which holds `addr`).
    func pfnAt(_ s: Int, vma vi: Int, _ addr: UInt64, fault: Bool) throws(ScamemError) -> UInt64 {
        let idx = mms[s].vmas[vi].pteIndex(addr)
        let pte = mms[s].vmas[vi].ptes[idx]
        if pte != 0 { return pte - 1 }
        guard fault, mms[s].vmas[vi].anonymous else { throw .fault }
        // do_anonymous_page(): a new folio of the mTHP order where the
        // aligned range fits the VMA, is all unmapped and can be allocated;
        // else a smaller one. Each pte holds a reference and a map count.
        let (start, end) = (mms[s].vmas[vi].start, mms[s].vmas[vi].end)
        var order = anonFolioOrderStorage
        while true {
            let span = UInt64(4096) << UInt64(order)
            let base = addr & ~(span - 1)
            let first = Int((base &- start) / 4096)
            if order == 0 || (base >= start && base + span <= end
                              && mms[s].vmas[vi].ptes[first..<first + (1 << order)].allSatisfy { $0 == 0 }) {
                do throws(ScamemError) {
                    let (pfn, d) = try createDescriptor(.anon, order: order, gfp: .movable, nid: nil)
                    d.pointee.mapcount = Int32(1 << order)
                    d.pointee.refcount = Int32(1 << order)
                    d.pointee.callerRefs = 0
                    for k in 0..<1 << order { mms[s].vmas[vi].ptes[first + k] = pfn + UInt64(k) + 1 }
                    return pfn + UInt64(idx - first)
                } catch {
                    if order == 0 { throw error }
                }
            }
            order -= 1
        }
    }

    /// The order of anonymous folios faulted in from now on, as the mTHP
    /// sysfs knobs set it (0: small folios only). The C counterpart is
    /// `scamem_machine_set_anon_order()`.
    public func setAnonFolioOrder(_ order: Int) throws(ScamemError) {
        guard order >= 0, order <= maxPageOrder else { throw .invalid }
        lock.withLock { anonFolioOrderStorage = order }
    }

    /// handle_mm_fault(): makes `addr` present and returns its pfn.
    /// The C counterpart is `scamem_handle_mm_fault()`.
    public func handleMMFault(_ mm: MMID, _ addr: UInt64) throws(ScamemError) -> UInt64 {
        try lock.withLock { () throws(ScamemError) -> UInt64 in try pfnAt(try mmSlot(mm), addr, fault: true) }
    }

    /// follow_page(): the pfn mapped at `addr`, without faulting; `.fault`
    /// on a VM_PFNMAP VMA, where vm_normal_page() finds no page behind the
    /// special pte (6.12's folio_walk_start() returns NULL).
    /// The C counterpart is `scamem_follow_page()`.
    public func followPage(_ mm: MMID, _ addr: UInt64) throws(ScamemError) -> UInt64 {
        try lock.withLock { () throws(ScamemError) -> UInt64 in
            let s = try mmSlot(mm)
            guard let vi = mms[s].index(containing: addr), !mms[s].vmas[vi].flags.contains(.pfnMap) else { throw .fault }
            return try pfnAt(s, vma: vi, addr, fault: false)
        }
    }
}
