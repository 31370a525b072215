#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// What GUP-fast reads of one VMA: a copy of its bounds and flags, and where
/// its ptes are.
struct FastVMA {
    var start: UInt64
    var end: UInt64
    var flags: VMAFlags
    var ptes: UnsafeMutablePointer<Atomic<UInt64>>
}

/// An mm's VMAs as GUP-fast sees them: a sorted, immutable copy published
/// through the mm's cell, as the kernel's lockless VMA lookups read the
/// maple tree under RCU. It is made under the machine lock when the locked
/// GUP finds none, withdrawn (and freed after a grace period) before any
/// change to the VMA list, a VMA's bounds, flags or page table; until the
/// next one is made, GUP-fast falls back to the locked path.
struct VMASnapshot {
    private static let header = 16
    let raw: UnsafeMutableRawPointer

    /// A copy of `vmas`, or nil without host memory.
    static func make(_ vmas: [VMA]) -> VMASnapshot? {
        guard let raw = malloc(header + max(vmas.count, 1) * MemoryLayout<FastVMA>.stride) else { return nil }
        raw.storeBytes(of: vmas.count, as: Int.self)
        let e = (raw + header).bindMemory(to: FastVMA.self, capacity: max(vmas.count, 1))
        for (i, v) in vmas.enumerated() {
            (e + i).initialize(to: FastVMA(start: v.start, end: v.end, flags: v.flags, ptes: v.ptes.base))
        }
        return VMASnapshot(raw: raw)
    }

    func deallocate() { free(raw) }

    @inline(__always) var count: Int { raw.load(as: Int.self) }
    @inline(__always) var entries: UnsafeMutablePointer<FastVMA> {
        (raw + Self.header).assumingMemoryBound(to: FastVMA.self)
    }

    /// The VMA holding `addr` (find_vma() with the address inside).
    @inline(__always)
    func find(_ addr: UInt64) -> UnsafeMutablePointer<FastVMA>? {
        var lo = 0, hi = count
        let e = entries
        while lo < hi {
            let mid = (lo + hi) / 2
            if e[mid].end <= addr { lo = mid + 1 } else if e[mid].start > addr { hi = mid } else { return e + mid }
        }
        return nil
    }
}

/// The part of an mm_struct read without the machine lock, in a
/// `StableCells` cell: the mm's handle while it lives (0 after exit), its
/// published VMAs, mm->write_protect_seq and MMF_HAS_PINNED.
struct MMCell {
    /// [handle, VMA snapshot, write_protect_seq, MMF_HAS_PINNED]
    static let words = 4
    let words: UnsafeMutablePointer<Atomic<UInt64>>

    @inline(__always) var handle: UInt64 { words[0].load(ordering: .acquiring) }
    func setHandle(_ h: UInt64) { words[0].store(h, ordering: .releasing) }

    @inline(__always) var vmas: VMASnapshot? {
        UnsafeMutableRawPointer(bitPattern: UInt(words[1].load(ordering: .acquiring))).map(VMASnapshot.init(raw:))
    }
    func publish(_ s: VMASnapshot) { words[1].store(UInt64(UInt(bitPattern: s.raw)), ordering: .releasing) }
    /// Takes the snapshot away from new readers; the caller frees it after
    /// a grace period (`Machine.vmasChanging`).
    @discardableResult
    func withdrawVMAs() -> VMASnapshot? {
        UnsafeMutableRawPointer(bitPattern: UInt(words[1].exchange(0, ordering: .acquiringAndReleasing))).map(VMASnapshot.init(raw:))
    }

    /// raw_read_seqcount(&mm->write_protect_seq): odd while fork() copies
    /// the mm's page tables.
    @inline(__always) var writeProtectSeq: UInt64 { words[2].load(ordering: .sequentiallyConsistent) }
    /// raw_write_seqcount_begin() / _end(): one step each.
    func writeProtectSeqStep() { words[2].wrappingAdd(1, ordering: .sequentiallyConsistent) }

    /// MMF_HAS_PINNED: FOLL_PIN was used on this mm; fork copies pinned
    /// anon pages only then (folio_needs_cow_for_dma()).
    @inline(__always) var hasPinned: Bool { words[3].load(ordering: .relaxed) != 0 }
    /// mm_set_has_pinned_flag()
    @inline(__always) func setHasPinned() {
        if words[3].load(ordering: .relaxed) == 0 { words[3].store(1, ordering: .relaxed) }
    }
}

extension Machine {
    /// The cell of live mm slot `s` (made by `mmNew`/`fork`).
    @inline(__always)
    func mmCell(_ s: Int) -> MMCell { MMCell(words: mmCells.cell(s).unsafelyUnwrapped) }

    /// The cell of the live mm `handle` names, found without the lock.
    @inline(__always)
    func mmCell(handle: UInt64) -> MMCell? {
        guard handle != 0, let w = mmCells.cell(Int(truncatingIfNeeded: handle & 0xffff_ffff) &- 1) else { return nil }
        let c = MMCell(words: w)
        return c.handle == handle ? c : nil
    }

    /// A new mm's slot with its cell; `.noMemory` without one.
    func insertMM() throws(ScamemError) -> Int {
        let s = mms.insert(MMState())
        guard mmCells.prepare(s) else {
            mms.remove(s)
            throw .noMemory
        }
        let c = mmCell(s)
        for i in 1..<MMCell.words { c.words[i].store(0, ordering: .relaxed) }
        c.setHandle(mms.handle(s))
        return s
    }

    /// exit_mmap()'s end: readers no longer find the mm, then the slot goes.
    func removeMM(_ s: Int) {
        mmCell(s).setHandle(0)
        vmasChanging(s)
        mms.remove(s)
    }

    /// Before any change to mm `s`'s VMA list, a VMA's bounds, flags or
    /// page table: GUP-fast stops finding the VMAs, and those already
    /// reading them finish (synchronize_rcu()) before the snapshot goes.
    func vmasChanging(_ s: Int) {
        guard let old = mmCell(s).withdrawVMAs() else { return }
        rcu.synchronize()
        old.deallocate()
    }

    /// Publishes mm `s`'s VMAs for GUP-fast if they are not (the locked
    /// GUP's last step). Without host memory GUP-fast keeps falling back.
    func publishVMAs(_ s: Int) {
        let c = mmCell(s)
        guard c.vmas == nil, let snap = VMASnapshot.make(mms[s].vmas) else { return }
        c.publish(snap)
    }
}
