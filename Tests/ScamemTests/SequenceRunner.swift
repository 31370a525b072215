import Testing
import Scamem

/// A seeded random sequence of vmalloc, vfree, driver, anonymous and shmem
/// mappings, munmap, mprotect, mremap, madvise, faults (COW included), fork,
/// GUP, put/unpin and process exit on one machine. Each
/// step returns its transcript: the operation with its count or error
/// (`shape`), and the pfns it touched with their nodes and zones (`pages`),
/// so runs under different strategies can be compared.
struct SequenceRunner {
    let machine: Machine
    private var rng: SplitMix64
    private let free0: UInt64
    private var areas: [(addr: UInt64, pages: Int, user: Bool)] = []
    private var mms: [MMID]
    private var gets: [UInt64] = [], pins: [UInt64] = []
    private(set) var failures = 0
    private var maxPins = 0, maxGets = 0, remaps = 0, splits = 0, exits = 0, forks = 0, cows = 0, moves = 0
    /// The scenario subjects (Scenarios/), mapped into their own mm so the
    /// generic GUP steps never touch a ringbuf page (which only LEGACY and
    /// VMA_PRIVATE can pin, and the strategies must agree on every step).
    private var scenarioMM: MMID
    private var ringbufs: [BpfRingbufID] = [], regions: [IoUringRegionID] = [], kcovs: [KcovID] = []
    private var buffers: [IoUringBufferID] = []
    private var scenarioSteps = 0

    init(_ machine: Machine, seed: UInt64) throws {
        self.machine = machine
        rng = SplitMix64(seed: seed)
        free0 = totalFree(machine)
        mms = [try machine.mmNew()]
        scenarioMM = try machine.mmNew()
    }

    /// A driver VMA of `pages` in the scenario mm.
    private func driverVMA(_ pages: Int) throws(ScamemError) -> UInt64 {
        try machine.mmap(scenarioMM, length: UInt64(pages) * 4096, flags: .shared)
    }

    /// One step of a subject: create and map one, free one (`.busy` while
    /// mapped, on every strategy alike), register a buffer, or unmap.
    private mutating func scenarioStep() throws(ScamemError) -> String {
        let m = machine
        scenarioSteps += 1
        func busyOK(_ body: () throws(ScamemError) -> Void) throws(ScamemError) -> String {
            do throws(ScamemError) { try body() } catch {
                if error == .busy { return " busy" }
                throw error
            }
            return ""
        }
        // At most 3 live subjects of each kind: the tiny machine must not run
        // short, since the strategies retain different amounts of memory and
        // the differential test needs every step to agree.
        var pick = rng.below(8)
        if pick == 0 && ringbufs.count >= 3 { pick = 3 }
        if pick == 1 && regions.count >= 3 { pick = 4 }
        if pick == 2 && kcovs.count >= 3 { pick = 5 }
        switch pick {
        case 0:
            let dataPages = UInt64(1) << UInt64(rng.below(2))
            let (rb, _) = try m.bpfRingbufAlloc(dataSize: dataPages * 4096, nid: rng.below(2))
            ringbufs.append(rb)
            try m.bpfRingbufMmap(rb, scenarioMM, uaddr: try driverVMA(1), pgoff: 0)
            if rng.chance(70) {
                let data = try m.mmap(scenarioMM, length: (1 + 2 * dataPages) * 4096, prot: .read, flags: .shared)
                try m.bpfRingbufMmap(rb, scenarioMM, uaddr: data, pgoff: 1)
            }
            return "bpf ringbuf"
        case 1:
            let (r, _) = try m.ioUringRegionAlloc(size: UInt64(1 + rng.below(4)) * 4096, single: rng.chance(50))
            regions.append(r)
            try m.ioUringRegionMmap(r, scenarioMM, uaddr: try driverVMA(1 + rng.below(4)))
            return "io_uring region"
        case 2:
            let pages = 1 + rng.below(3)
            let (k, _) = try m.kcovInitTrace(entries: UInt64(512 * pages))
            kcovs.append(k)
            try m.kcovMmap(k, scenarioMM, uaddr: try driverVMA(pages))
            // kcov pages hold their scamem through the VMA on every strategy: pin one.
            if rng.chance(50) {
                let v = try m.vmas(scenarioMM).last { $0.mappedPages == pages && $0.scamem != nil }!
                pins += try m.pinUserPages(scenarioMM, start: v.start, nrPages: 1, flags: .longterm)
            }
            return "kcov"
        case 3:
            guard !ringbufs.isEmpty else { return "bpf free none" }
            let i = rng.below(ringbufs.count)
            let rb = ringbufs[i]
            let r = try busyOK { () throws(ScamemError) in try m.bpfRingbufFree(rb) }
            if r.isEmpty { ringbufs.remove(at: i) }
            return "bpf free" + r
        case 4:
            guard !regions.isEmpty else { return "io_uring free none" }
            let i = rng.below(regions.count)
            let region = regions[i]
            let r = try busyOK { () throws(ScamemError) in try m.ioUringRegionFree(region) }
            if r.isEmpty { regions.remove(at: i) }
            return "io_uring free" + r
        case 5:
            if !kcovs.isEmpty, rng.chance(50) {
                try m.kcovFree(kcovs.remove(at: rng.below(kcovs.count)))
                return "kcov free"
            }
            let u = try m.mmap(scenarioMM, length: UInt64(1 + rng.below(3)) * 4096, flags: [.private, .anonymous])
            if !buffers.isEmpty, rng.chance(50) || buffers.count >= 3 {
                try m.ioUringUnregisterBuffer(buffers.remove(at: rng.below(buffers.count)))
            }
            buffers.append(try m.ioUringRegisterBuffer(scenarioMM, uaddr: u + 100, len: 4096))
            return "io_uring buffer"
        case 6:
            let vmas = try m.vmas(scenarioMM)
            guard !vmas.isEmpty else { return "scenario munmap none" }
            let v = vmas[rng.below(vmas.count)]
            try m.munmap(scenarioMM, addr: v.start, length: v.end - v.start)
            return "scenario munmap"
        default:
            try m.mmExit(scenarioMM)
            scenarioMM = try m.mmNew()
            return "scenario exit"
        }
    }

    /// "pfn nid/zone" for each page, for the transcript.
    private func describe(_ pfns: [UInt64]) -> String {
        pfns.map { "\($0) \((try? machine.pageToNid($0)) ?? -1)/\((try? machine.pageZonenum($0))?.description ?? "-")" }
            .joined(separator: ",")
    }

    mutating func step() -> (shape: String, pages: String) {
        let m = machine
        let mm = mms[rng.below(mms.count)]
        var line = "", pages = ""
        do {
            switch rng.below(22) {
            case 20, 21:
                line = try scenarioStep()
            case 0, 1:
                let n = 1 + rng.below(8)
                let user = rng.chance(70)
                let addr = user ? try m.vmallocUser(size: UInt64(n) * 4096)
                                : try m.vmalloc(size: UInt64(n) * 4096, policy: rng.chance(50) ? .interleave : .node(rng.below(2)))
                areas.append((addr, n, user))
                let k = addr
                line = "vmalloc \(n)"
                pages = describe(try (0..<UInt64(n)).map { (i: UInt64) throws(ScamemError) -> UInt64 in try m.vmallocToPfn(k + i * 4096) })
            case 2:
                line = "vfree"
                if !areas.isEmpty { try m.vfree(areas.remove(at: rng.below(areas.count)).addr) }
            case 3, 4:
                // A driver mapping of (part of) an area.
                line = "remap"
                guard !areas.isEmpty else { break }
                let a = areas[rng.below(areas.count)]
                let pgoff = rng.below(a.pages), len = 1 + rng.below(a.pages - pgoff)
                let uaddr = try m.mmap(mm, length: UInt64(len) * 4096, flags: rng.chance(70) ? .shared : .private)
                do {
                    try m.remapVmallocRange(mm, uaddr: uaddr, kaddr: a.addr, pgoff: UInt64(pgoff))
                    #expect(a.user)
                    remaps += 1
                } catch {
                    #expect(error == .invalid && !a.user)
                    line += " refused"
                }
            case 5:
                let shared = rng.chance(25)
                let uaddr = try m.mmap(mm, length: UInt64(1 + rng.below(4)) * 4096,
                                       flags: shared ? [.shared, .anonymous] : [.private, .anonymous])
                line = shared ? "shmem" : "anon"
                if rng.chance(50) {
                    line += " fault"
                    pages = describe([try m.handleMMFault(mm, uaddr)])
                }
            case 6, 7, 18:
                line = "gup"
                let vmas = try m.vmas(mm)
                guard !vmas.isEmpty else { break }
                let v = vmas[rng.below(vmas.count)]
                let off = UInt64(rng.below(Int((v.end - v.start) / 4096))) * 4096
                let n = 1 + rng.below(3)
                let pin = rng.chance(50)
                var flags: FollFlags = rng.chance(40) ? .write : []
                if rng.chance(20) { flags.insert(.force) }
                if pin && rng.chance(50) { flags.insert(.longterm) }
                let got = pin ? try m.pinUserPages(mm, start: v.start + off, nrPages: n, flags: flags)
                              : try m.getUserPages(mm, start: v.start + off, nrPages: n, flags: flags)
                if pin { pins += got } else { gets += got }
                line = "\(pin ? "pin" : "get") \(n): \(got.count)"
                pages = describe(got)
            case 8:
                line = "release"
                if !pins.isEmpty { try m.unpinUserPage(pins.remove(at: rng.below(pins.count))) }
                if !gets.isEmpty { try m.putPage(gets.remove(at: rng.below(gets.count))) }
            case 9:
                line = "munmap"
                let vmas = try m.vmas(mm)
                guard !vmas.isEmpty else { break }
                let v = vmas[rng.below(vmas.count)]
                let pages = Int((v.end - v.start) / 4096)
                let off = rng.below(pages), len = 1 + rng.below(pages - off)
                try m.munmap(mm, addr: v.start + UInt64(off) * 4096, length: UInt64(len) * 4096)
                if off > 0 || len < pages { splits += 1 }
            case 10:
                line = "exit"
                if mms.count > 1 || rng.chance(30) {
                    try m.mmExit(mms.remove(at: mms.firstIndex(of: mm)!))
                    exits += 1
                    if mms.isEmpty { mms.append(try m.mmNew()) }
                }
            case 12:
                line = "fork"
                if mms.count < 4 {
                    mms.append(try m.fork(mm))
                    forks += 1
                }
            case 13:
                line = "write"
                guard let (v, off, _) = try pickRange(mm) else { break }
                pages = describe([try m.fixupUserFault(mm, v.start + off, flags: .write)])
                cows += 1
            case 14:
                guard let (v, off, len) = try pickRange(mm) else { line = "mprotect"; break }
                let prot: ProtFlags = [[.read], [.read, .write], []][rng.below(3)]
                line = "mprotect \(prot.rawValue)"
                try m.mprotect(mm, addr: v.start + off, length: len, prot: prot)
                if off > 0 || off + len < v.end - v.start { splits += 1 }
            case 15:
                guard let (v, off, len) = try pickRange(mm) else { line = "madvise"; break }
                let advice: Madvice = [.dontNeed, .dontFork, .doFork][rng.below(3)]
                line = "madvise \(advice.rawValue)"
                // madvise_dontneed_free_valid_vma() refuses VM_PFNMAP: MadviseTests.
                // MADV_DOFORK refuses VM_IO.
                if advice == .dontNeed ? v.flags.contains(.pfnMap) : advice == .doFork && v.flags.contains(.io) { break }
                try m.madvise(mm, addr: v.start + off, length: len, advice: advice)
                if advice != .dontNeed, off > 0 || off + len < v.end - v.start { splits += 1 }
            case 16:
                guard let (v, off, len) = try pickRange(mm) else { line = "mremap"; break }
                let newLen = UInt64(1 + rng.below(4)) * 4096
                line = "mremap \(len / 4096) \(newLen / 4096)"
                _ = try m.mremap(mm, oldAddr: v.start + off, oldLength: len, newLength: newLen,
                                 flags: rng.chance(70) ? .mayMove : [])
                moves += 1
            case 17:
                // A driver VMA of inserted FILE folios (the pte's reference is
                // the one left), or of the zero page's pfn as remap_pfn_range().
                let n = 1 + rng.below(3)
                let uaddr = try m.mmap(mm, length: UInt64(n) * 4096, flags: rng.chance(70) ? .shared : .private)
                if rng.chance(30), let z = m.zeroPagePfn {
                    line = "pfnmap"
                    if n == 1 { try m.remapPfnRange(mm, uaddr: uaddr, pfn: z, size: 4096) }
                    break
                }
                line = "insert \(n)"
                var folios: [UInt64] = []
                defer { for f in folios { _ = try? m.folioPut(f) } }
                for _ in 0..<n { folios.append(try m.folioAlloc(.file)) }
                var num = n
                try folios.withUnsafeBufferPointer { (b) throws(ScamemError) in
                    try m.vmInsertPages(mm, uaddr: uaddr, pfns: b, num: &num)
                }
                pages = describe(folios)
            default:
                line = "mm"
                if mms.count < 4 { mms.append(try m.mmNew()) }
            }
        } catch {
            // Running out of memory or GUP on unfaulted driver pages is part
            // of the game; anything else is a bug.
            #expect([.noMemory, .fault].contains(error), "\(line): \(error)")
            failures += 1
            line += " error \(error.rawValue)"
        }
        maxPins = max(maxPins, pins.count)
        maxGets = max(maxGets, gets.count)
        return (line, pages)
    }

    /// A random VMA of `mm` and a range of pages inside it (offset, length).
    private mutating func pickRange(_ mm: MMID) throws(ScamemError) -> (VMAInfo, UInt64, UInt64)? {
        let vmas = try machine.vmas(mm)
        guard !vmas.isEmpty else { return nil }
        let v = vmas[rng.below(vmas.count)]
        let pages = Int((v.end - v.start) / 4096)
        let off = rng.below(pages), len = 1 + rng.below(pages - off)
        return (v, UInt64(off) * 4096, UInt64(len) * 4096)
    }

    /// Releases everything; nothing may be left.
    mutating func finish() throws {
        let m = machine
        for mm in mms { try m.mmExit(mm) }
        try m.mmExit(scenarioMM)
        for b in buffers { try m.ioUringUnregisterBuffer(b) }
        for rb in ringbufs { try m.bpfRingbufFree(rb) }
        for r in regions { try m.ioUringRegionFree(r) }
        for k in kcovs { try m.kcovFree(k) }
        for a in areas { try m.vfree(a.addr) }
        for pfn in pins { try m.unpinUserPage(pfn) }
        for pfn in gets { try m.putPage(pfn) }
        // The zero page, once a read fault took it, is never freed.
        let kept: UInt64 = m.zeroPagePfn == nil ? 0 : 1
        #expect(totalFree(m) + kept == free0, "leaked \(free0 - totalFree(m) - kept) pages")
        #expect(m.vmAreas().isEmpty)
        // Nothing left but PFN_LOOKUP's pfn-to-zone table.
        #expect(m.metadata().descriptorBytes == (m.machineDescription.strategy == .pfnLookup ? m.pfnZoneTableBytes : 0))
        // The sequence must have exercised every kind of holder.
        #expect(failures < 1500 && remaps > 50 && splits > 20 && exits > 10 && maxPins > 5 && maxGets > 5
                && forks > 10 && scenarioSteps > 100 && cows > 20 && moves > 20,
                "failures \(failures) remaps \(remaps) splits \(splits) exits \(exits) pins \(maxPins) gets \(maxGets) forks \(forks) cows \(cows) moves \(moves)")
        expectClean(m)
    }
}
