/// mremap() flags, with the kernel's values. The C counterparts are `SCAMEM_MREMAP_*`.
@frozen
public struct MremapFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let mayMove = MremapFlags(rawValue: 1)
    public static let fixed = MremapFlags(rawValue: 2)
    /// Move the ptes but leave the old VMA, empty, in place.
    public static let dontUnmap = MremapFlags(rawValue: 4)
    static let known: MremapFlags = [.mayMove, .fixed, .dontUnmap]
}

/// mm/mremap.c.
extension Machine {
    /// mremap(): shrinks `[oldAddr, oldAddr + oldLength)` in place, grows it
    /// in place where the room after its VMA is free, or (`.mayMove`) moves
    /// it: to `newAddr` with `.fixed` (what is there is unmapped first), else
    /// where get_unmapped_area() finds room. A move takes the ptes along
    /// (move_page_tables()) with the references they hold; the VMA's file
    /// and scamem references move with it. VM_DONTEXPAND and VM_PFNMAP
    /// mappings cannot grow (`.fault`, vma_to_resize()). `oldLength` 0 (the
    /// kernel's duplicate of a shared mapping) is not modelled: `.invalid`.
    /// Returns the new address. The C counterpart is `scamem_mremap()`.
    public func mremap(_ mm: MMID, oldAddr: UInt64, oldLength: UInt64, newLength: UInt64,
                       flags: MremapFlags, newAddr: UInt64 = 0) throws(ScamemError) -> UInt64 {
        guard MremapFlags.known.isSuperset(of: flags), !flags.contains(.fixed) || flags.contains(.mayMove),
              oldAddr & 4095 == 0, oldLength > 0, oldLength <= taskSize, newLength > 0, newLength <= taskSize,
              oldAddr <= taskSize else { throw .invalid }
        let oldLen = (oldLength + 4095) & ~4095, newLen = (newLength + 4095) & ~4095
        if flags.contains(.dontUnmap), !flags.contains(.mayMove) || oldLen != newLen { throw .invalid }
        return try lock.withLock { () throws(ScamemError) -> UInt64 in
            let s = try mmSlot(mm)
            guard mms[s].index(containing: oldAddr) != nil else { throw .fault }
            if !flags.isDisjoint(with: [.fixed, .dontUnmap]) {
                return try mremapTo(s, oldAddr, oldLen, newLen, flags, newAddr)
            }
            if oldLen >= newLen {
                if oldLen > newLen { try unmapRange(s, oldAddr + newLen, oldAddr + oldLen) }
                return oldAddr
            }
            let vi = try vmaToResize(s, oldAddr, oldLen, newLen, flags)
            let v = mms[s].vmas[vi]
            if oldLen == v.end - oldAddr, newLen - oldLen <= taskSize - v.end, isFree(s, v.end, newLen - oldLen) {
                // vma_expandable(): grow in place.
                guard v.end + (newLen - oldLen) - v.start <= maxVMABytes else { throw .noMemory }
                vmasChanging(s)
                mms[s].vmas[vi].ptes = try PteTable.copy(v.ptes, count: v.nrPages + Int((newLen - oldLen) / 4096))
                mms[s].vmas[vi].end += newLen - oldLen
                return oldAddr
            }
            guard flags.contains(.mayMove) else { throw .noMemory }
            let to = try findGap(s, newLen, from: mmapBase)
            return try moveVMA(s, oldAddr, oldLen, newLen, to, dontUnmap: false)
        }
    }

    /// mremap_to(): a move to `newAddr` (`.fixed`) or, with `.dontUnmap`
    /// alone, to a free range from that hint.
    func mremapTo(_ s: Int, _ addr: UInt64, _ oldLen: UInt64, _ newLen: UInt64, _ flags: MremapFlags,
                  _ newAddr: UInt64) throws(ScamemError) -> UInt64 {
        guard newAddr & 4095 == 0, newLen <= taskSize, newAddr <= taskSize - newLen else { throw .invalid }
        // The old and new ranges must not overlap.
        if addr + oldLen > newAddr, newAddr + newLen > addr { throw .invalid }
        var oldLen = oldLen
        if flags.contains(.fixed) { try unmapRange(s, newAddr, newAddr + newLen) }
        if oldLen > newLen {
            try unmapRange(s, addr + newLen, addr + oldLen)
            oldLen = newLen
        }
        _ = try vmaToResize(s, addr, oldLen, newLen, flags)
        let to = flags.contains(.fixed) ? newAddr : try findGap(s, newLen, from: newAddr == 0 ? mmapBase : newAddr)
        return try moveVMA(s, addr, oldLen, newLen, to, dontUnmap: flags.contains(.dontUnmap))
    }

    /// vma_to_resize(): the VMA holding `[addr, addr + oldLen)` if it may
    /// become `newLen` long.
    func vmaToResize(_ s: Int, _ addr: UInt64, _ oldLen: UInt64, _ newLen: UInt64,
                     _ flags: MremapFlags) throws(ScamemError) -> Int {
        guard let vi = mms[s].index(containing: addr) else { throw .fault }
        let v = mms[s].vmas[vi]
        if flags.contains(.dontUnmap), !v.flags.isDisjoint(with: [.dontExpand, .pfnMap]) { throw .invalid }
        // No remap across VMA boundaries.
        guard oldLen <= v.end - addr else { throw .fault }
        if newLen != oldLen, !v.flags.isDisjoint(with: [.dontExpand, .pfnMap]) { throw .fault }
        guard newLen <= maxVMABytes else { throw .noMemory }
        return vi
    }

    /// move_vma(): `[addr, addr + oldLen)` becomes its own VMA and moves to
    /// `to`, `newLen` long, ptes and references with it. With `dontUnmap`
    /// the old VMA stays with no ptes, and the new one takes its own file
    /// reference (copy_vma()).
    func moveVMA(_ s: Int, _ addr: UInt64, _ oldLen: UInt64, _ newLen: UInt64, _ to: UInt64,
                 dontUnmap: Bool) throws(ScamemError) -> UInt64 {
        let (i, _) = try splitRange(s, addr, addr + oldLen)
        vmasChanging(s)
        var moved = mms[s].vmas[i]
        moved.start = to
        moved.end = to + newLen
        if newLen > oldLen { moved.ptes = try PteTable.copy(moved.ptes, count: moved.nrPages) }
        if dontUnmap {
            if let f = moved.shmem { try shmemGetFile(f) }
            mms[s].vmas[i].ptes = try PteTable.empty(count: mms[s].vmas[i].nrPages)
            mms[s].vmas[i].object = nil
            mms[s].vmas[i].objectPtes = 0
            // unlink_anon_vmas(): the old VMA's anon pages moved away.
            mms[s].vmas[i].anonVMA = false
        } else {
            mms[s].vmas.remove(at: i)
        }
        mms[s].vmas.insert(moved, at: lowerVMA(s, to))
        return to
    }
}
