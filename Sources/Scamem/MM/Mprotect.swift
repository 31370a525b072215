/// mm/mprotect.c.
extension Machine {
    /// do_mprotect_pkey(): sets `prot` on `[addr, addr + length)`, splitting
    /// VMAs at the edges, one VMA after the other as the kernel does (a
    /// failure leaves the VMAs before it changed): `.noMemory` where the
    /// range is not all mapped, `.permission` where a VMA may not get the
    /// access (VM_MAYREAD/VM_MAYWRITE/VM_MAYEXEC). Ptes follow the VMA: a
    /// private VMA made writable writes in place only to exclusive anon
    /// pages (can_change_pte_writable()), the rest COW on the next write.
    /// Length 0 is a no-op. The C counterpart is `scamem_mprotect()`.
    public func mprotect(_ mm: MMID, addr: UInt64, length: UInt64, prot: ProtFlags) throws(ScamemError) {
        guard ProtFlags.known.isSuperset(of: prot), addr & 4095 == 0, length <= taskSize else { throw .invalid }
        let end = addr &+ ((length + 4095) & ~4095)
        guard end >= addr else { throw .noMemory }
        try lock.withLock { () throws(ScamemError) in
            let s = try mmSlot(mm)
            guard end > addr else { return }
            var at = addr
            while at < end {
                guard let i = mms[s].index(containing: at) else { throw .noMemory }
                let new = mms[s].vmas[i].flags.subtracting([.read, .write, .exec]).union(prot.vmFlags)
                // The VM_MAY* bits are the access bits shifted by 4.
                guard prot.vmFlags.rawValue & ~(new.rawValue >> 4) == 0 else { throw .permission }
                var j = i
                if mms[s].vmas[j].start < at { try splitVMA(s, j, at: at); j += 1 }
                if mms[s].vmas[j].end > end { try splitVMA(s, j, at: end) }
                setVMAFlags(s, j, new)
                at = mms[s].vmas[j].end
            }
        }
    }
}
