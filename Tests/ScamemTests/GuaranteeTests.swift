import Testing
import Scamem

/// The guarantee the design exists for: no page returns to the allocator
/// while a VMA maps it or GUP holds it, whatever order vfree, munmap,
/// unpin, put and process exit come in.
@Suite struct GuaranteeTests {
    enum Event: CaseIterable, CustomStringConvertible {
        case vfree, munmapMiddle, munmapAll, unpin, put, exit
        var description: String { "\(self)" }
    }

    /// A 3-page vmalloc_user() area mapped into a driver VMA, page 0 pinned,
    /// page 2 held by get_user_pages(): every holder kind at once.
    struct Scene {
        let machine: Machine
        let mm: MMID
        let kaddr: UInt64
        let uaddr: UInt64
        let pages: [UInt64]
        let scamem: ScamemID
        var done: Set<Event> = []

        init() throws {
            machine = try Machine(Fixtures.tiny())
            mm = machine.mmNew()
            kaddr = try machine.vmallocUser(size: 3 * 4096)
            uaddr = try machine.mmap(mm, length: 3 * 4096, flags: .shared)
            try machine.remapVmallocRange(mm, uaddr: uaddr, kaddr: kaddr, pgoff: 0)
            #expect(try machine.pinUserPages(mm, start: uaddr, nrPages: 1, flags: [.longterm, .write]).count == 1)
            #expect(try machine.getUserPages(mm, start: uaddr + 2 * 4096, nrPages: 1).count == 1)
            let m = machine, k = kaddr
            pages = try (0..<3).map { (i: UInt64) throws(ScamemError) -> UInt64 in try m.vmallocToPfn(k + i * 4096) }
            scamem = machine.findVmArea(kaddr)!.scamem
        }

        mutating func apply(_ e: Event) throws {
            switch e {
            case .vfree: try machine.vfree(kaddr)
            case .unpin: try machine.unpinUserPage(pages[0])
            case .put: try machine.putPage(pages[2])
            case .exit: try machine.mmExit(mm)
            case .munmapMiddle, .munmapAll:
                let (addr, len) = e == .munmapMiddle ? (uaddr + 4096, UInt64(4096)) : (uaddr, UInt64(3 * 4096))
                if done.contains(.exit) {
                    #expect(throws: ScamemError.badHandle) { try machine.munmap(mm, addr: addr, length: len) }
                } else {
                    try machine.munmap(mm, addr: addr, length: len)
                }
            }
            done.insert(e)
        }

        /// The VMA is gone once the whole range is unmapped or the process exits.
        var mapped: Bool { !done.contains(.munmapAll) && !done.contains(.exit) }
        var held: Bool { !done.contains(.vfree) || mapped || !done.contains(.unpin) || !done.contains(.put) }

        func expectPages(sourceLocation: SourceLocation = #_sourceLocation) {
            for pfn in pages {
                let type = word(machine, pfn).type
                #expect(held ? type == .scamem : type == .buddy, "after \(done.sorted { "\($0)" < "\($1)" }): pfn \(pfn) is \(type)",
                        sourceLocation: sourceLocation)
            }
            if held {
                #expect((try? machine.scamemStat(scamem)) != nil, sourceLocation: sourceLocation)
            } else {
                #expect(throws: ScamemError.badHandle, sourceLocation: sourceLocation) { try machine.scamemStat(scamem) }
            }
        }
    }

    static func permutations<T>(_ items: [T]) -> [[T]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { i -> [[T]] in
            var rest = items
            let first = rest.remove(at: i)
            return permutations(rest).map { [first] + $0 }
        }
    }

    @Test func everyOrderOfReleases() throws {
        let orders = Self.permutations(Event.allCases)
        #expect(orders.count == 720)
        for order in orders {
            var scene = try Scene()
            let free0 = totalFree(scene.machine)
            for e in order {
                try scene.apply(e)
                scene.expectPages()
                expectClean(scene.machine)
            }
            // Everything released: every page back, nothing leaked.
            #expect(totalFree(scene.machine) == free0 + 3, "order \(order)")
        }
    }

    /// The mailing-list scenario: vmalloc, map, pin for DMA, vfree, unmap,
    /// exit, and the unpin comes last.
    @Test func threadScenarioUnpinComesLast() throws {
        var scene = try Scene()
        for e: Event in [.put, .vfree, .munmapAll, .exit] {
            try scene.apply(e)
            #expect(word(scene.machine, scene.pages[0]).type == .scamem)
        }
        #expect(try scene.machine.scamemStat(scene.scamem).refcount == 1)
        #expect(try scene.machine.scamemStat(scene.scamem).gupRefs == 1)
        #expect(try scene.machine.folioMaybeDmaPinned(scene.pages[1]))
        try scene.apply(.unpin)
        scene.expectPages()
        #expect(throws: ScamemError.alreadyFree) { try scene.machine.unpinUserPage(scene.pages[0]) }
        expectClean(scene.machine)
    }

    /// Thousands of seeded random operations on vmalloc areas, mappings,
    /// anonymous memory and GUP, the checker after every step, and nothing
    /// leaked at the end.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func randomSequence(seed: UInt64) throws {
        let m = try Machine(Fixtures.tiny())
        let free0 = totalFree(m)
        var rng = SplitMix64(seed: seed)
        var areas: [(addr: UInt64, pages: Int, user: Bool)] = []
        var mms: [MMID] = [m.mmNew()]
        var gets: [UInt64] = [], pins: [UInt64] = []
        var failures = 0
        var maxPins = 0, maxGets = 0, remaps = 0, splits = 0, exits = 0

        for step in 0..<3000 {
            let mm = mms[rng.below(mms.count)]
            do {
                switch rng.below(12) {
                case 0, 1:
                    let n = 1 + rng.below(8)
                    let user = rng.chance(70)
                    let addr = user ? try m.vmallocUser(size: UInt64(n) * 4096)
                                    : try m.vmalloc(size: UInt64(n) * 4096, policy: rng.chance(50) ? .interleave : .node(rng.below(2)))
                    areas.append((addr, n, user))
                case 2:
                    if !areas.isEmpty { try m.vfree(areas.remove(at: rng.below(areas.count)).addr) }
                case 3, 4:
                    // A driver mapping of (part of) an area.
                    guard let a = areas.randomElement(using: &rng) else { break }
                    let pgoff = rng.below(a.pages), len = 1 + rng.below(a.pages - pgoff)
                    let uaddr = try m.mmap(mm, length: UInt64(len) * 4096, flags: .shared)
                    do {
                        try m.remapVmallocRange(mm, uaddr: uaddr, kaddr: a.addr, pgoff: UInt64(pgoff))
                        #expect(a.user)
                        remaps += 1
                    } catch {
                        #expect(error == .invalid && !a.user)
                    }
                case 5:
                    let uaddr = try m.mmap(mm, length: UInt64(1 + rng.below(4)) * 4096, flags: [.private, .anonymous])
                    if rng.chance(50) { _ = try m.handleMMFault(mm, uaddr) }
                case 6, 7:
                    let vmas = try m.vmas(mm)
                    guard let v = vmas.randomElement(using: &rng) else { break }
                    let off = UInt64(rng.below(Int((v.end - v.start) / 4096))) * 4096
                    let n = 1 + rng.below(3)
                    if rng.chance(50) { pins += try m.pinUserPages(mm, start: v.start + off, nrPages: n, flags: .longterm) }
                    else { gets += try m.getUserPages(mm, start: v.start + off, nrPages: n) }
                case 8:
                    if !pins.isEmpty { try m.unpinUserPage(pins.remove(at: rng.below(pins.count))) }
                    if !gets.isEmpty { try m.putPage(gets.remove(at: rng.below(gets.count))) }
                case 9:
                    let vmas = try m.vmas(mm)
                    guard let v = vmas.randomElement(using: &rng) else { break }
                    let pages = Int((v.end - v.start) / 4096)
                    let off = rng.below(pages), len = 1 + rng.below(pages - off)
                    try m.munmap(mm, addr: v.start + UInt64(off) * 4096, length: UInt64(len) * 4096)
                    if off > 0 || len < pages { splits += 1 }
                case 10:
                    if mms.count > 1 || rng.chance(30) {
                        try m.mmExit(mms.remove(at: mms.firstIndex(of: mm)!))
                        exits += 1
                        if mms.isEmpty { mms.append(m.mmNew()) }
                    }
                default:
                    if mms.count < 4 { mms.append(m.mmNew()) }
                }
            } catch let error as ScamemError {
                // Running out of memory or mapping unfaulted driver pages is
                // part of the game; anything else is a bug.
                #expect([.noMemory, .fault].contains(error), "step \(step): \(error)")
                failures += 1
            }
            maxPins = max(maxPins, pins.count)
            maxGets = max(maxGets, gets.count)
            let issues = m.check()
            #expect(issues.isEmpty, "step \(step): \(issues.prefix(5))")
            if !issues.isEmpty { return }
        }

        for mm in mms { try m.mmExit(mm) }
        for a in areas { try m.vfree(a.addr) }
        for pfn in pins { try m.unpinUserPage(pfn) }
        for pfn in gets { try m.putPage(pfn) }
        #expect(totalFree(m) == free0, "leaked \(free0 - totalFree(m)) pages")
        #expect(m.vmAreas().isEmpty)
        #expect(m.metadata().descriptorBytes == 0)
        // The sequence must have exercised every kind of holder.
        #expect(failures < 1500 && remaps > 50 && splits > 20 && exits > 10 && maxPins > 5 && maxGets > 5,
                "failures \(failures) remaps \(remaps) splits \(splits) exits \(exits) pins \(maxPins) gets \(maxGets)")
        expectClean(m)
    }
}

extension Array {
    func randomElement(using rng: inout SplitMix64) -> Element? {
        isEmpty ? nil : self[rng.below(count)]
    }
}
