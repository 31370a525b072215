/// `fault_flags` (FAULT_FLAG_*), with the kernel's values. The C
/// counterparts are `SCAMEM_FAULT_FLAG_*`.
@frozen
public struct FaultFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let write = FaultFlags(rawValue: 0x1)
    /// Break COW for a read access: the page becomes an exclusive anon page
    /// (GUP's R/O FOLL_PIN of a shared anon page).
    public static let unshare = FaultFlags(rawValue: 0x400)
    static let known: FaultFlags = [.write, .unshare]
}

/// Page faults (mm/memory.c): anonymous, shmem and COW faults.
extension Machine {
    /// my_zero_pfn(): the shared zero page, nil until a read fault of
    /// private anonymous memory needed it.
    public var zeroPagePfn: UInt64? { lock.withLock { zeroPfn } }

    /// The shared zero page (empty_zero_page): a reserved page taken from
    /// the allocator by the first read fault and never freed.
    func zeroPage() throws(ScamemError) -> UInt64 {
        if let z = zeroPfn { return z }
        let (pfn, zone) = try allocBlock(order: 0, gfp: .kernel, nid: nil)
        setWords(pfn, 0, .inline(.misc, subtype: MiscSubtype.reserved.rawValue, flags: pageFlags(zone, pfn)))
        zeroPfn = pfn
        return pfn
    }

    /// handle_mm_fault() after the access checks, on the pte for `addr` in
    /// VMA `vi`: makes it present and, for a write or unshare fault, writable
    /// or exclusive (do_wp_page()). Returns the pfn the pte maps afterwards.
    func faultPage(_ s: Int, _ vi: Int, _ addr: UInt64, _ flags: FaultFlags) throws(ScamemError) -> UInt64 {
        let idx = mms[s].vmas[vi].pteIndex(addr)
        let pte = mms[s].vmas[vi].ptes[idx]
        if pte == 0 {
            if let f = mms[s].vmas[vi].shmem {
                // shmem_fault(): the page cache's folio, mapped shared.
                let pfn = try shmemGetFolio(f, index: Int(mms[s].vmas[vi].pgoff) + idx)
                // __do_fault(): PageHWPoison(vmf->page) is VM_FAULT_HWPOISON.
                if hwpoisonInUse[pfn] != nil { throw .hwpoison }
                try takeFolioMapping(pfn)
                mms[s].vmas[vi].ptes[idx] = pfn + 1
                return pfn
            }
            // A driver VMA has no ->fault: VM_FAULT_SIGBUS.
            guard mms[s].vmas[vi].isPrivateAnon else { throw .fault }
            if !flags.contains(.write) {
                // do_anonymous_page(): a read maps the zero page.
                let z = try zeroPage()
                mms[s].vmas[vi].ptes[idx] = z + 1
                return z
            }
            return try doAnonymousPage(s, vi, addr)
        }
        // do_swap_page(): a hwpoison entry is VM_FAULT_HWPOISON.
        if pte & PTE.hwpoison != 0 { throw .hwpoison }
        let v = mms[s].vmas[vi]
        guard !flags.isDisjoint(with: [.write, .unshare]), !v.flags.contains(.shared),
              pte & PTE.exclusive == 0 else { return PTE.pfn(pte) }
        return try doWpPage(s, vi, idx)
    }

    /// do_anonymous_page() for a write: a new folio of the mTHP order where
    /// the aligned range fits the VMA, is all unmapped and can be allocated;
    /// else a smaller one. Each pte holds a reference and a map count, and
    /// is exclusive.
    func doAnonymousPage(_ s: Int, _ vi: Int, _ addr: UInt64) throws(ScamemError) -> UInt64 {
        let (start, end) = (mms[s].vmas[vi].start, mms[s].vmas[vi].end)
        let idx = mms[s].vmas[vi].pteIndex(addr)
        var order = anonFolioOrderStorage
        while true {
            let span = UInt64(4096) << UInt64(order)
            let base = addr & ~(span - 1)
            let first = Int((base &- start) / 4096)
            if order == 0 || (base >= start && base + span <= end
                              && mms[s].vmas[vi].ptes[first..<first + (1 << order)].allSatisfy { $0 == 0 }) {
                do throws(ScamemError) {
                    let (pfn, d) = try createDescriptor(.anon, order: order, gfp: .highuserMovable, nid: nil,
                                                        refcount: Int32(1 << order))
                    d.pointee.mapcount = Int32(1 << order)
                    d.pointee.callerRefs = 0
                    d.pointee.lru = true
                    for k in 0..<1 << order {
                        mms[s].vmas[vi].ptes[first + k] = (pfn + UInt64(k) + 1) | PTE.anon | PTE.exclusive
                    }
                    mms[s].vmas[vi].anonVMA = true
                    return pfn + UInt64(idx - first)
                } catch {
                    if order == 0 { throw error }
                }
            }
            order -= 1
        }
    }

    /// do_wp_page() in a private VMA: an anon page nothing else holds
    /// (wp_can_reuse_anon_folio(): a small folio with refcount 1) is reused;
    /// anything else (a shared anon page, the zero page, a driver's, scamem
    /// or special page) is copied (wp_page_copy()).
    func doWpPage(_ s: Int, _ vi: Int, _ idx: Int) throws(ScamemError) -> UInt64 {
        let pte = mms[s].vmas[vi].ptes[idx]
        let pfn = PTE.pfn(pte)
        if pte & PTE.anon != 0, let (_, d) = try? descriptor(of: pfn, PageType.anon.bit),
           d.pointee.order == 0, d.refs == 1 {
            mms[s].vmas[vi].ptes[idx] |= PTE.exclusive
            return pfn
        }
        return try wpPageCopy(s, vi, idx)
    }

    /// wp_page_copy(): a new exclusive order-0 anon folio takes the pte; what
    /// the old pte held is dropped after it is replaced, as the kernel frees
    /// the old page only after the TLB flush.
    func wpPageCopy(_ s: Int, _ vi: Int, _ idx: Int) throws(ScamemError) -> UInt64 {
        let (pfn, d) = try createDescriptor(.anon, order: 0, gfp: .highuserMovable, nid: nil)
        d.pointee.mapcount = 1
        d.pointee.callerRefs = 0
        d.pointee.lru = true
        let old = mms[s].vmas[vi].ptes[idx]
        mms[s].vmas[vi].ptes[idx] = (pfn + 1) | PTE.anon | PTE.exclusive
        mms[s].vmas[vi].anonVMA = true
        tlbFlush(s)
        dropPtes(s, vi, CollectionOfOne(old))
        return pfn
    }

    /// access_error() (x86): a write needs VM_WRITE; a read any access.
    func checkAccess(_ v: VMA, write: Bool) throws(ScamemError) {
        if write ? !v.flags.contains(.write) : v.flags.isDisjoint(with: [.read, .write, .exec]) { throw .fault }
    }

    /// The largest order of anonymous folios faulted in from now on, as if
    /// the mTHP sysfs knobs enabled every order from 1 to `order` (0: small
    /// folios only): a write fault tries the highest that fits, then the
    /// next, as alloc_anon_folio() walks its enabled orders. The C
    /// counterpart is `scamem_machine_set_anon_order()`.
    public func setAnonFolioOrder(_ order: Int) throws(ScamemError) {
        guard order >= 0, order <= maxPageOrder else { throw .invalid }
        lock.withLock { anonFolioOrderStorage = order }
    }

    /// handle_mm_fault() for a user access to `addr`: a write where the VMA
    /// has VM_WRITE, else a read (0.1's one fault kind). Returns the pfn
    /// mapped afterwards. The C counterpart is `scamem_handle_mm_fault()`.
    public func handleMMFault(_ mm: MMID, _ addr: UInt64) throws(ScamemError) -> UInt64 {
        try lock.withLock { () throws(ScamemError) -> UInt64 in
            let s = try mmSlot(mm)
            guard let vi = mms[s].index(containing: addr) else { throw .fault }
            let write = mms[s].vmas[vi].flags.contains(.write)
            try checkAccess(mms[s].vmas[vi], write: write)
            return try faultPage(s, vi, addr, write ? .write : [])
        }
    }

    /// fixup_user_fault(): a fault of the given kind at `addr`, as futexes
    /// and KVM resolve one; `vma_permits_fault()` wants VM_WRITE for a write
    /// and VM_READ otherwise. Returns the pfn mapped afterwards. The C
    /// counterpart is `scamem_fixup_user_fault()`.
    public func fixupUserFault(_ mm: MMID, _ addr: UInt64, flags: FaultFlags) throws(ScamemError) -> UInt64 {
        guard FaultFlags.known.isSuperset(of: flags), flags != .known else { throw .invalid }
        return try lock.withLock { () throws(ScamemError) -> UInt64 in
            let s = try mmSlot(mm)
            guard let vi = mms[s].index(containing: addr) else { throw .fault }
            guard mms[s].vmas[vi].flags.contains(flags.contains(.write) ? .write : .read) else { throw .fault }
            // vm_fault_to_errno(ret, 0): VM_FAULT_HWPOISON is -EFAULT here.
            do throws(ScamemError) { return try faultPage(s, vi, addr, flags) } catch { throw error == .hwpoison ? .fault : error }
        }
    }

    /// follow_page(): the pfn mapped at `addr`, without faulting; `.fault`
    /// for a special pte of a VM_PFNMAP VMA, where vm_normal_page() finds no
    /// page (6.12's folio_walk_start() returns NULL).
    /// The C counterpart is `scamem_follow_page()`.
    public func followPage(_ mm: MMID, _ addr: UInt64) throws(ScamemError) -> UInt64 {
        try lock.withLock { () throws(ScamemError) -> UInt64 in
            let s = try mmSlot(mm)
            guard let vi = mms[s].index(containing: addr) else { throw .fault }
            let v = mms[s].vmas[vi]
            let pte = v.ptes[v.pteIndex(addr)]
            guard PTE.isPresent(pte), !v.flags.contains(.pfnMap) || pte & PTE.anon != 0 else { throw .fault }
            return PTE.pfn(pte)
        }
    }
}
