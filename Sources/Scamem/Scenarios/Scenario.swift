/// The kernel's users of scattered memory, each as the objects its source
/// allocates, maps and frees (bpf ringbuf, io_uring, kcov, perf, videobuf2).
/// Each entry point is one step a C caller can interleave with munmap, GUP
/// and mm exit; the checker holds after every step.

/// A scenario object's identity, typed by its subject. The C counterparts
/// are `struct scamem_bpf_ringbuf *`, `struct scamem_io_uring_region *`, ...
@frozen
public struct ScenarioHandle<Subject>: Hashable, Sendable {
    public let rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
}

/// The subjects, as handle types.
public enum BpfRingbufSubject {}
public enum IoUringRegionSubject {}
public enum IoUringBufferSubject {}
public enum KcovSubject {}
public enum PerfBufferSubject {}
public enum Vb2BufferSubject {}

public typealias BpfRingbufID = ScenarioHandle<BpfRingbufSubject>
public typealias IoUringRegionID = ScenarioHandle<IoUringRegionSubject>
public typealias IoUringBufferID = ScenarioHandle<IoUringBufferSubject>
public typealias KcovID = ScenarioHandle<KcovSubject>
public typealias PerfBufferID = ScenarioHandle<PerfBufferSubject>
public typealias Vb2BufferID = ScenarioHandle<Vb2BufferSubject>

/// One live subject object.
struct ScenarioRecord {
    enum Kind {
        case bpfRingbuf, bpfUserRingbuf, ioUringRegion, ioUringBuffer, kcov, perfBuffer, vb2Buffer, vb2Userptr
        /// The subject allocated its pages itself and frees them.
        var ownsPages: Bool { self == .bpfRingbuf || self == .bpfUserRingbuf || self == .ioUringRegion }
    }
    let kind: Kind
    /// The kernel address its memory is at: a vm area's, or the direct map's
    /// for a compound io_uring region (0 for pinned user memory).
    let kaddr: UInt64
    /// Bytes as the subject counts them (kcov: entries * 8).
    let size: UInt64
    /// Pages the subject allocated itself (bpf, io_uring) or pinned (user
    /// buffers), in order.
    let pages: [UInt64]
    /// A compound io_uring region's block order: its pages are one block,
    /// freed at once. 0: pages freed one by one.
    let order: Int
    /// The scamem (handle bits) of its vm area, to tell the area from one a
    /// caller's own vfree()/vunmap() made room for at the same address.
    var object: UInt64? = nil
}

/// x86_64's PAGE_OFFSET (4-level): page_address() of a direct-mapped page.
let directMapBase: UInt64 = 0xffff_8880_0000_0000

extension Machine {
    /// Records a subject; `kaddr` in a vm area names that area as its own,
    /// and a bpf ringbuf's or io_uring region's pages become its own.
    func newScenario(_ r: ScenarioRecord) -> UInt64 {
        var r = r
        if let i = vmalloc.index(containing: r.kaddr) { r.object = scamems.handle(vmalloc.areas[i].slot) }
        if r.kind.ownsPages { subjectPages.formUnion(r.pages) }
        let slot = scenarios.insert(r)
        return scenarios.handle(slot)
    }

    /// Drops a subject (its pages, if it owned any, already freed).
    func removeScenario(_ slot: Int) {
        let r = scenarios[slot]
        if r.kind.ownsPages { subjectPages.subtract(r.pages) }
        scenarios.remove(slot)
    }

    /// The index of the subject's own vm area, if it still has one (a
    /// caller may have vfree()d or vunmap()ed it behind its back).
    func subjectArea(_ r: ScenarioRecord) -> Int? {
        guard let o = r.object, let slot = scamems.slot(handle: o), let i = vmalloc.index(containing: r.kaddr),
              vmalloc.areas[i].slot == slot else { return nil }
        return i
    }

    /// The live record a handle names, of the kind its type says.
    func scenarioSlot<S>(_ h: ScenarioHandle<S>, _ kinds: ScenarioRecord.Kind...) throws(ScamemError) -> Int {
        guard let s = scenarios.slot(handle: h.rawValue), kinds.contains(scenarios[s].kind) else { throw .badHandle }
        return s
    }

    /// alloc_page() one by one, as bpf and io_uring allocate: MISC pages the
    /// subject frees itself. All or none.
    func allocCallerPages(_ n: Int, nid: Int?) throws(ScamemError) -> [UInt64] {
        var pfns: [UInt64] = []
        pfns.reserveCapacity(n)
        for _ in 0..<n {
            do throws(ScamemError) { pfns.append(try allocCallerBlock(order: 0, nid: nid)) } catch {
                freeCallerPages(pfns, order: 0)
                throw error
            }
        }
        return pfns
    }

    /// alloc_pages_node(): one block with MISC/unknown words, as allocPages().
    func allocCallerBlock(order: Int, nid: Int?) throws(ScamemError) -> UInt64 {
        let (pfn, z) = try allocBlock(order: order, gfp: .kernel, nid: nid)
        setWords(pfn, order, .inline(.misc, subtype: MiscSubtype.unknown.rawValue, order: UInt8(order), flags: pageFlags(z, pfn)))
        return pfn
    }

    /// __free_pages() of blocks nothing else holds any more.
    func freeCallerPages(_ pfns: [UInt64], order: Int) {
        for pfn in pfns { freeBlock(pfn, order, flags: PageWord(rawValue: words[Int(pfn)]).flags) }
    }

    /// True if anything but the subject holds one of its pages (a pte, GUP,
    /// another vmap()), counting area `area`, which the subject is about to
    /// vunmap(), as its own.
    func subjectPagesHeld(_ r: ScenarioRecord, area: Int?) -> Bool {
        var own: [UInt64: Int32] = [:]
        if let area {
            let slot = vmalloc.areas[area].slot, rec = scamems[slot]
            if rec.mapRefs + scamemCell(slot).gupRefs + rec.callerRefs > 0 { return true }
            for i in 0..<rec.block.nr { own[rec.block.pages[i], default: 0] += 1 }
        }
        for p in r.pages {
            if pteLedger[p] != nil || strategy.holdsCallerPage(p) { return true }
            if let n = vmapLedger[p], n > own[p, default: 0] { return true }
        }
        return false
    }

    /// A user VMA for a subject's mmap handler: the one holding `uaddr`, a
    /// driver's (not anonymous).
    func driverVMA(_ mm: MMID, _ uaddr: UInt64) throws(ScamemError) -> (s: Int, vi: Int) {
        let s = try mmSlot(mm)
        guard let vi = mms[s].index(containing: uaddr) else { throw .fault }
        guard !mms[s].vmas[vi].anonymous else { throw .invalid }
        return (s, vi)
    }

    /// vmalloc_user() under the lock: a VM_USERMAP area of `size` bytes.
    func vmallocUserLocked(_ size: UInt64) throws(ScamemError) -> UInt64 {
        guard size > 0, size <= Self.maxVmallocPages * 4096 else { throw .invalid }
        let nr = Int((size + 4095) / 4096)
        let slot = try createScamem(nr: nr, gfp: .kernel, policy: .local, usermap: true)
        return try mapArea(slot, nrPages: nr, flags: [.usermap, .alloc], caller: 0)
    }

    /// A subject whose buffer is a vmalloc_user() area of `size` bytes
    /// (kcov, the perf ring buffer, a videobuf2 MMAP buffer).
    func newVmallocSubject<S>(_ kind: ScenarioRecord.Kind, size: UInt64) throws(ScamemError) -> (ScenarioHandle<S>, kaddr: UInt64) {
        try lock.withLock { () throws(ScamemError) -> (ScenarioHandle<S>, kaddr: UInt64) in
            let kaddr = try vmallocUserLocked(size)
            let h = newScenario(ScenarioRecord(kind: kind, kaddr: kaddr, size: size, pages: [], order: 0))
            return (ScenarioHandle(rawValue: h), kaddr)
        }
    }

    /// A driver mmap() that inserts the whole buffer page by page (kcov,
    /// perf): the driver VMA holding `uaddr` must be exactly the buffer
    /// (vm_pgoff 0, its length) else `.invalid`, with nothing mapped yet
    /// else `.busy`. Returns the VMA, under the lock.
    func insertWholeSubject<S>(_ h: ScenarioHandle<S>, _ kind: ScenarioRecord.Kind, _ mm: MMID,
                               uaddr: UInt64) throws(ScamemError) -> (s: Int, vi: Int) {
        let r = scenarios[try scenarioSlot(h, kind)]
        let (s, vi) = try driverVMA(mm, uaddr)
        let v = mms[s].vmas[vi]
        guard v.pgoff == 0, v.end - v.start == r.size else { throw .invalid }
        guard !v.ptes.contains(where: { $0 != 0 }) else { throw .busy }
        try insertVmallocPages(s, vi, r, nrPages: v.nrPages)
        return (s, vi)
    }

    /// The vm_insert_page() of each vmalloc_to_page() of the subject's area
    /// from page 0, at the start of VMA `vi`: kcov_mmap(), and the faults of
    /// perf_mmap(). The VMA names the area first (vm_private_data), as
    /// VMA_PRIVATE needs. A page's error stops the walk, earlier ptes stay.
    /// `.badHandle` if the subject's area is gone.
    func insertVmallocPages(_ s: Int, _ vi: Int, _ r: ScenarioRecord, nrPages: Int) throws(ScamemError) {
        guard let ai = subjectArea(r) else { throw .badHandle }
        let a = vmalloc.areas[ai]
        setVMAFlags(s, vi, mms[s].vmas[vi].flags.union([.mixedMap, .dontExpand]))
        for k in 0..<min(nrPages, a.nrPages) {
            try insertAreaPage(s, vi, pte: k, scamems[a.slot].block.pages[k], slot: a.slot)
        }
    }
}
