/// madvise() advice, with the kernel's values. The C counterparts are `SCAMEM_MADV_*`.
@frozen
public struct Madvice: RawRepresentable, Hashable, Sendable {
    public let rawValue: Int32
    @inlinable public init(rawValue: Int32) { self.rawValue = rawValue }
    /// Zap the ptes; the VMA stays (anon memory reads zero again; a driver
    /// VMA faults -EFAULT, its VM_FAULT_SIGBUS).
    public static let dontNeed = Madvice(rawValue: 4)
    /// Set VM_DONTCOPY: fork() leaves the range out of the child.
    public static let dontFork = Madvice(rawValue: 10)
    /// Clear VM_DONTCOPY (refused on VM_IO).
    public static let doFork = Madvice(rawValue: 11)
}

/// mm/madvise.c.
extension Machine {
    /// do_madvise() -> madvise_walk_vmas(): applies `advice` to each VMA
    /// part in `[addr, addr + length)`, skipping holes but failing with
    /// `.noMemory` at the end if there were any, as the kernel does. MADV_DONTNEED
    /// refuses VM_PFNMAP (`.invalid`, madvise_dontneed_free_valid_vma());
    /// MADV_DONTFORK/DOFORK split VMAs as madvise_update_vma() does.
    /// Length 0 is a no-op. The C counterpart is `scamem_madvise()`.
    public func madvise(_ mm: MMID, addr: UInt64, length: UInt64, advice: Madvice) throws(ScamemError) {
        guard [.dontNeed, .dontFork, .doFork].contains(advice), addr & 4095 == 0, length <= taskSize,
              addr <= taskSize else { throw .invalid }
        let end = addr + ((length + 4095) & ~4095)
        try lock.withLock { () throws(ScamemError) in
            let s = try mmSlot(mm)
            var hole = false, at = addr
            while at < end {
                let i = lowerVMA(s, at)
                guard i < mms[s].vmas.count, mms[s].vmas[i].start < end else { hole = true; break }
                if mms[s].vmas[i].start > at { hole = true; at = mms[s].vmas[i].start }
                at = try madviseVMA(s, i, at, min(end, mms[s].vmas[i].end), advice)
            }
            if hole { throw .noMemory }
        }
    }

    /// madvise_vma_behavior() on `[from, to)` of VMA `i`; returns where it ended.
    func madviseVMA(_ s: Int, _ i: Int, _ from: UInt64, _ to: UInt64, _ advice: Madvice) throws(ScamemError) -> UInt64 {
        let v = mms[s].vmas[i]
        if advice == .dontNeed {
            guard !v.flags.contains(.pfnMap) else { throw .invalid }
            zap(s, i, v.pteIndex(from)..<v.pteIndex(to))
            return to
        }
        if advice == .doFork, v.flags.contains(.io) { throw .invalid }
        let new = advice == .dontFork ? v.flags.union(.dontCopy) : v.flags.subtracting(.dontCopy)
        guard new != v.flags else { return to }
        var j = i
        if v.start < from { try splitVMA(s, j, at: from); j += 1 }
        if mms[s].vmas[j].end > to { try splitVMA(s, j, at: to) }
        setVMAFlags(s, j, new)
        return to
    }
}
