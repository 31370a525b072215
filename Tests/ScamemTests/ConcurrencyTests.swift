import CScamem
import Dispatch
import Scamem
import Testing

/// Hands values the workers share (a C handle, per-worker result slots) to
/// the @Sendable closure of concurrentPerform. The library does the locking;
/// the slots are written by one worker each and read after the join.
struct Unchecked<T>: @unchecked Sendable {
    let value: T
}

@Suite("Concurrency")
struct ConcurrencyTests {
    /// What one worker did; each worker writes only its own slot.
    struct Result {
        var allocations = 0
        var noMemory = 0
        var otherErrors = 0
        var misplaced = 0
    }

    @Test("4 threads allocating and freeing folios, slabs and pages on one machine")
    func fourThreads() throws {
        let m = try Machine(Fixtures.mini())
        let initialWords = snapshot(m)
        let initialZones = m.zoneInfos()
        let slots = Unchecked(value: UnsafeMutableBufferPointer<Result>.allocate(capacity: 4))
        let results = slots.value
        results.initialize(repeating: Result())
        defer { results.deallocate() }

        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            var rng = SplitMix64(seed: UInt64(worker) &+ 1000)
            var r = Result()
            var mine: [(pfn: UInt64, kind: Int, order: Int)] = []
            for _ in 0..<1500 {
                if mine.isEmpty || rng.chance(55) {
                    let kind = rng.below(4), order = rng.below(5), nid = worker % 2
                    do {
                        let pfn: UInt64
                        switch kind {
                        case 0: pfn = try m.folioAlloc(rng.chance(50) ? .file : .anon, order: order, nid: nid)
                        case 1: pfn = try m.slabAlloc(cache: UInt32(worker), objectSize: 256, order: order, nid: nid)
                        case 2: pfn = try m.ptdescAlloc(order: order, nid: nid)
                        default: pfn = try m.allocPages(order: order, nid: nid)
                        }
                        // Another thread must never have been handed the same pages.
                        let w = word(m, pfn)
                        if w.type == .buddy || pfn & ((1 << UInt64(order)) - 1) != 0 { r.misplaced += 1 }
                        if kind == 0, (try? m.folioGet(pfn)) != 2 { r.misplaced += 1 }
                        if kind == 0 { _ = try m.folioPut(pfn) }
                        mine.append((pfn, kind, order))
                        r.allocations += 1
                    } catch {
                        if (error as? ScamemError) == .noMemory { r.noMemory += 1 } else { r.otherErrors += 1 }
                    }
                } else {
                    let (pfn, kind, order) = mine.remove(at: rng.below(mine.count))
                    do {
                        switch kind {
                        case 0: if try m.folioPut(pfn) != 0 { r.misplaced += 1 }
                        case 1: try m.slabFree(pfn)
                        case 2: try m.ptdescFree(pfn)
                        default: try m.freePages(pfn, order: order)
                        }
                    } catch {
                        r.otherErrors += 1
                    }
                }
            }
            for (pfn, kind, order) in mine {
                switch kind {
                case 0: _ = try? m.folioPut(pfn)
                case 1: _ = try? m.slabFree(pfn)
                case 2: _ = try? m.ptdescFree(pfn)
                default: _ = try? m.freePages(pfn, order: order)
                }
            }
            slots.value[worker] = r
        }

        for (k, r) in results.enumerated() {
            #expect(r.allocations > 500, "worker \(k)")
            #expect(r.otherErrors == 0, "worker \(k)")
            #expect(r.misplaced == 0, "worker \(k)")
        }
        #expect(m.metadata().descriptors.reduce(0, +) == 0)
        #expect(m.zoneInfos().map(\.buddyinfo) == initialZones.map(\.buddyinfo))
        #expect(snapshot(m) == initialWords)
        expectClean(m)
    }

    /// page_to_nid() reads words and descriptors' flags without the lock:
    /// while two threads allocate and free folios and slabs on both nodes,
    /// two others ask every page's node, and get the node its zone is on
    /// (or, for a page between owners, an error), never another.
    @Test("4 threads: page_to_nid() without the lock while pages come and go")
    func pageToNidWhilePagesComeAndGo() throws {
        let m = try Machine(Fixtures.tiny())
        let bad = Counter(), answered = Counter()
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            var rng = SplitMix64(seed: UInt64(t) &+ 77)
            if t < 2 {
                var mine: [(UInt64, Bool)] = []
                for _ in 0..<3000 {
                    if mine.count < 64, rng.chance(60) {
                        let slab = rng.chance(30), nid = rng.below(2)
                        let pfn = slab ? try? m.slabAlloc(cache: 1, objectSize: 128, order: 0, nid: nid)
                            : try? m.folioAlloc(.anon, order: rng.below(3), nid: nid)
                        if let pfn { mine.append((pfn, slab)) }
                    } else if !mine.isEmpty {
                        let (pfn, slab) = mine.remove(at: rng.below(mine.count))
                        if slab { _ = try? m.slabFree(pfn) } else { _ = try? m.folioPut(pfn) }
                    }
                }
                for (pfn, slab) in mine { if slab { _ = try? m.slabFree(pfn) } else { _ = try? m.folioPut(pfn) } }
            } else {
                for _ in 0..<20 {
                    for pfn in UInt64(0)..<0xc00 {
                        guard let nid = try? m.pageToNid(pfn) else { continue }
                        answered.add()
                        if nid != (pfn < 0x800 ? 0 : 1) { bad.add() }
                    }
                }
            }
        }
        #expect(bad.value == 0 && answered.value > 0)
        expectClean(m)
    }

    /// alloc_pages(), alloc_pages_bulk() and __free_pages() take the machine
    /// lock shared and the zone's lock: two threads on node 0 share its
    /// zones' locks, a third works on node 1's, and a fourth takes the
    /// machine lock exclusive in between (vmalloc, the checker, the zone
    /// counters). No page is handed out twice or lost, and every checker
    /// run in the middle finds the machine consistent.
    @Test("4 threads: page allocation under zone locks, beside calls that take the machine lock exclusive")
    func pagesUnderZoneLocks() throws {
        let m = try Machine(Fixtures.tiny())
        let initialZones = m.zoneInfos()
        let bad = Counter(), taken = Counter()
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            var rng = SplitMix64(seed: UInt64(t) &+ 500)
            guard t < 3 else {
                for _ in 0..<40 {
                    if let a = try? m.vmalloc(size: 16 * 4096) { try? m.vfree(a) }
                    if !m.check().isEmpty { bad.add() }
                    if m.zoneInfos().contains(where: { $0.freePages > $0.managedPages }) { bad.add() }
                }
                return
            }
            let nid = t == 2 ? 1 : 0
            var mine: [(pfn: UInt64, order: Int)] = []
            for _ in 0..<1500 {
                if mine.count < 48, rng.chance(55) {
                    var got: [(UInt64, Int)] = []
                    if rng.chance(30) {
                        var pages = [UInt64](repeating: pfnNone, count: 8)
                        let n = (try? m.allocPagesBulk(gfp: [.kernel, .thisNode], nid: nid, &pages)) ?? 0
                        got = pages.prefix(n).map { ($0, 0) }
                    } else {
                        let order = rng.below(4)
                        if let p = try? m.allocPages(order: order, gfp: [.kernel, .thisNode], nid: nid) { got = [(p, order)] }
                    }
                    for (p, o) in got {
                        // Its own, whole, on its node.
                        let w = word(m, p)
                        if w.type != .misc || Int(w.order) != o || (try? m.pageToNid(p)) != nid { bad.add() }
                        taken.add()
                    }
                    mine += got
                } else if !mine.isEmpty {
                    let (p, o) = mine.remove(at: rng.below(mine.count))
                    do { try m.freePages(p, order: o) } catch { bad.add() }
                }
            }
            for (p, o) in mine {
                do { try m.freePages(p, order: o) } catch { bad.add() }
            }
        }
        #expect(bad.value == 0 && taken.value > 1000)
        #expect(m.zoneInfos().map(\.buddyinfo) == initialZones.map(\.buddyinfo))
        expectClean(m)
    }

    /// A caller's misuse across threads: two free every block of one list.
    /// The zone lock makes check-and-free one step, so each block goes back
    /// once and the other free finds it free.
    @Test("2 threads freeing the same blocks: each is freed once")
    func racingDoubleFrees() throws {
        let m = try Machine(Fixtures.tiny())
        let initialZones = m.zoneInfos()
        var blocks: [(pfn: UInt64, order: Int)] = []
        for i in 0..<300 {
            let order = i % 3
            blocks.append((try m.allocPages(order: order, nid: i % 2), order))
        }
        let list = blocks, freed = Counter(), already = Counter(), other = Counter()
        DispatchQueue.concurrentPerform(iterations: 2) { t in
            for (p, o) in t == 0 ? list : list.reversed() {
                do throws(ScamemError) {
                    try m.freePages(p, order: o)
                    freed.add()
                } catch .alreadyFree {
                    already.add()
                } catch {
                    other.add()
                }
            }
        }
        #expect(freed.value == list.count && already.value == list.count && other.value == 0)
        #expect(m.zoneInfos().map(\.buddyinfo) == initialZones.map(\.buddyinfo))
        expectClean(m)
    }

    @Test("4 threads through the C API, with the checker running alongside")
    func fourThreadsC() throws {
        var handle: OpaquePointer?
        let rc = CExportTests.withCDesc(Fixtures.tiny()) { scamem_machine_new(&$0, &handle) }
        try #require(rc == 0)
        let m = try #require(handle)
        defer { scamem_machine_free(m) }
        let failures = UnsafeMutableBufferPointer<Int>.allocate(capacity: 4)
        failures.initialize(repeating: 0)
        defer { failures.deallocate() }
        let shared = Unchecked(value: (m, failures))

        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            let (m, failures) = shared.value
            var live: [UInt64] = []
            for i in 0..<800 {
                if worker == 3 {
                    // The checker takes the lock for a whole walk: it must see a consistent machine.
                    if i % 100 == 0, scamem_machine_check(m, nil, nil) != 0 { failures[worker] += 1 }
                    continue
                }
                var pfn: UInt64 = 0
                if live.count < 64, scamem_folio_alloc(m, UInt32(SCAMEM_TYPE_ANON), 0, 0, -1, &pfn) == 0 {
                    live.append(pfn)
                } else if let p = live.popLast(), scamem_folio_put(m, p) != 0 {
                    failures[worker] += 1
                }
            }
            for p in live where scamem_folio_put(m, p) != 0 { failures[worker] += 1 }
        }
        #expect(Array(failures) == [0, 0, 0, 0])
        var info = scamem_machine_info()
        #expect(scamem_machine_info(m, &info) == 0)
        #expect(info.free_pages == info.managed_pages)
        #expect(scamem_machine_check(m, nil, nil) == 0)
    }
}
