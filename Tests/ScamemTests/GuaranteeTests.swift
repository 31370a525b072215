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

        let strategy: Strategy

        init(_ strategy: Strategy) throws {
            self.strategy = strategy
            machine = try tinyMachine(strategy)
            mm = try machine.mmNew()
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

        /// Who still holds page i: the area, a mapping of it (the VMA goes
        /// with munmapAll or exit; page 1 also with munmapMiddle), the pin
        /// on page 0, the get on page 2.
        func holders(_ i: Int) -> Bool {
            let mapped = !done.contains(.munmapAll) && !done.contains(.exit) && !(i == 1 && done.contains(.munmapMiddle))
            return !done.contains(.vfree) || mapped || (i == 0 && !done.contains(.unpin)) || (i == 2 && !done.contains(.put))
        }

        /// Whole-object refcounting keeps every page while any is held; LEGACY
        /// keeps exactly the held ones.
        func alive(_ i: Int) -> Bool { strategy.wholeObject ? (0..<3).contains(where: holders) : holders(i) }

        func expectPages(sourceLocation: SourceLocation = #_sourceLocation) {
            for (i, pfn) in pages.enumerated() {
                let type = word(machine, pfn).type
                #expect(alive(i) ? isScamemPage(machine, pfn) : type == .buddy,
                        "\(strategy) after \(done.sorted { "\($0)" < "\($1)" }): page \(i) is \(type)",
                        sourceLocation: sourceLocation)
            }
            // The object itself: with its pages, or (LEGACY) with the area.
            let objectAlive = strategy.wholeObject ? alive(0) : !done.contains(.vfree)
            if objectAlive {
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

    @Test(arguments: Strategy.allCases)
    func everyOrderOfReleases(strategy: Strategy) throws {
        let orders = Self.permutations(Event.allCases)
        #expect(orders.count == 720)
        for order in orders {
            var scene = try Scene(strategy)
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
    @Test(arguments: Strategy.allCases)
    func threadScenarioUnpinComesLast(strategy: Strategy) throws {
        var scene = try Scene(strategy)
        for e: Event in [.put, .vfree, .munmapAll, .exit] {
            try scene.apply(e)
            #expect(isScamemPage(scene.machine, scene.pages[0]))
            scene.expectPages()
        }
        #expect(try scene.machine.folioMaybeDmaPinned(scene.pages[0]))
        if strategy.wholeObject {
            // The pin on page 0 keeps all three pages: one count for the object.
            #expect(try scene.machine.scamemStat(scene.scamem).refcount == 1)
            #expect(try scene.machine.scamemStat(scene.scamem).gupRefs == 1)
            // From page 1 alone, VMA_PRIVATE cannot reach the object: GUP
            // holds nothing of page 1, so its reverse map has no entry.
            #expect(try scene.machine.folioMaybeDmaPinned(scene.pages[1]) == strategy.wordNamesObject)
        } else {
            // Today's kernel keeps the pinned page alone.
            #expect(try scene.machine.pageInfo(scene.pages[0]).refcount == Int(gupPinCountingBias))
            #expect(word(scene.machine, scene.pages[1]).type == .buddy)
        }
        try scene.apply(.unpin)
        scene.expectPages()
        #expect(throws: ScamemError.alreadyFree) { try scene.machine.unpinUserPage(scene.pages[0]) }
        expectClean(scene.machine)
    }

    /// The bpf ringbuf: caller pages, the data pages twice in a plain vmap()
    /// that is user-mapped, a pin through the second copy where the strategy
    /// can take one. In every order of unmapping, exit, unpin and the map's
    /// free, no page is freed while anything holds it, and the free succeeds
    /// once nothing does.
    @Test(arguments: Strategy.allCases)
    func everyOrderOfRingbufReleases(strategy: Strategy) throws {
        enum RingbufEvent: CaseIterable { case munmapConsumer, munmapData, exit, unpin, free }
        let canPin = strategy == .legacy || strategy == .vmaPrivate
        for order in Self.permutations(RingbufEvent.allCases) {
            let m = try tinyMachine(strategy)
            let free0 = totalFree(m)
            let (rb, k) = try m.bpfRingbufAlloc(dataSize: 2 * 4096)
            let pages = try (0..<5).map { (i: UInt64) throws(ScamemError) -> UInt64 in try m.vmallocToPfn(k + i * 4096) }
            let mm = try m.mmNew()
            let cons = try m.mmap(mm, length: 4096, flags: .shared)
            let data = try m.mmap(mm, length: 5 * 4096, prot: .read, flags: .shared)
            try m.bpfRingbufMmap(rb, mm, uaddr: cons, pgoff: 0)
            try m.bpfRingbufMmap(rb, mm, uaddr: data, pgoff: 1)
            let pinned = canPin ? try m.pinUserPages(mm, start: data + 3 * 4096, nrPages: 1, flags: .longterm) : []
            var done: Set<RingbufEvent> = [], freed = false
            for e in order {
                let gone = done.contains(.exit)
                switch e {
                case .munmapConsumer: if !gone { try m.munmap(mm, addr: cons, length: 4096) }
                case .munmapData: if !gone { try m.munmap(mm, addr: data, length: 5 * 4096) }
                case .exit: try m.mmExit(mm)
                case .unpin: for p in pinned { try m.unpinUserPage(p) }
                case .free: break
                }
                done.insert(e)
                if done.contains(.free) && !freed {
                    let unmapped = done.contains(.exit) || done.isSuperset(of: [.munmapConsumer, .munmapData])
                    let held = !unmapped || (canPin && !done.contains(.unpin))
                    if held {
                        #expect(throws: ScamemError.busy, "\(strategy) \(order)") { try m.bpfRingbufFree(rb) }
                    } else {
                        try m.bpfRingbufFree(rb)
                        freed = true
                    }
                }
                for p in pages { #expect((word(m, p).type == .buddy) == freed, "\(strategy) \(order) after \(e)") }
                expectClean(m)
            }
            if !done.contains(.exit) { try m.mmExit(mm) }
            #expect(freed && totalFree(m) == free0, "\(strategy) \(order)")
        }
    }

    /// After fork(): a 2-page vmalloc_user() area mapped by parent and child
    /// (each VMA its own reference), page 0 pinned through the child, and an
    /// anon page COW-shared by both.
    struct ForkScene {
        enum Event: CaseIterable { case vfree, parentExit, parentWrite, childMunmap, childUnpin, childExit }
        let machine: Machine, strategy: Strategy
        let parent: MMID, child: MMID
        let kaddr: UInt64, uaddr: UInt64, anon: UInt64
        let pages: [UInt64], anonPage: UInt64
        var done: Set<Event> = [], parentCopied = false

        init(_ strategy: Strategy) throws {
            self.strategy = strategy
            machine = try tinyMachine(strategy)
            (parent, kaddr, uaddr) = try mappedVmallocUser(machine, pages: 2)
            anon = try machine.mmap(parent, length: 4096, flags: [.private, .anonymous])
            anonPage = try machine.handleMMFault(parent, anon)
            child = try machine.fork(parent)
            let m = machine, k = kaddr
            pages = try (0..<2).map { (i: UInt64) throws(ScamemError) -> UInt64 in try m.vmallocToPfn(k + i * 4096) }
            #expect(try machine.pinUserPages(child, start: uaddr, nrPages: 1, flags: [.write, .longterm]) == [pages[0]])
        }

        mutating func apply(_ e: Event) throws {
            switch e {
            case .vfree: try machine.vfree(kaddr)
            case .childUnpin: try machine.unpinUserPage(pages[0])
            case .parentExit: try machine.mmExit(parent)
            case .childExit: try machine.mmExit(child)
            case .parentWrite:
                if done.contains(.parentExit) {
                    #expect(throws: ScamemError.badHandle) { try machine.handleMMFault(parent, anon) }
                } else {
                    // COW while the child still maps the page; reuse after it exited.
                    let got = try machine.handleMMFault(parent, anon)
                    parentCopied = !done.contains(.childExit)
                    #expect((got != anonPage) == parentCopied)
                }
            case .childMunmap:
                if done.contains(.childExit) {
                    #expect(throws: ScamemError.badHandle) { try machine.munmap(child, addr: uaddr, length: 2 * 4096) }
                } else {
                    try machine.munmap(child, addr: uaddr, length: 2 * 4096)
                }
            }
            done.insert(e)
        }

        /// The area, the parent's mapping, the child's, the child's pin on page 0.
        func holders(_ i: Int) -> Bool {
            !done.contains(.vfree) || !done.contains(.parentExit) || done.isDisjoint(with: [.childMunmap, .childExit])
                || (i == 0 && !done.contains(.childUnpin))
        }

        func expectPages(sourceLocation: SourceLocation = #_sourceLocation) {
            for (i, pfn) in pages.enumerated() {
                let alive = strategy.wholeObject ? (0..<2).contains(where: holders) : holders(i)
                #expect(alive ? isScamemPage(machine, pfn) : word(machine, pfn).type == .buddy,
                        "\(strategy) after \(done): page \(i)", sourceLocation: sourceLocation)
            }
            let anonMapped = !done.contains(.childExit) || (!done.contains(.parentExit) && !parentCopied)
            #expect(word(machine, anonPage).type == (anonMapped ? .anon : .buddy),
                    "\(strategy) after \(done): the anon page", sourceLocation: sourceLocation)
        }
    }

    /// "Parent and child may exit, munmap, pin and unpin in any order."
    @Test(arguments: Strategy.allCases)
    func everyOrderAfterFork(strategy: Strategy) throws {
        for order in Self.permutations(ForkScene.Event.allCases) {
            var scene = try ForkScene(strategy)
            let free0 = totalFree(scene.machine)
            for e in order {
                try scene.apply(e)
                scene.expectPages()
                expectClean(scene.machine)
            }
            #expect(totalFree(scene.machine) == free0 + 3, "order \(order)")
        }
    }

    /// Thousands of seeded random operations on vmalloc areas, mappings,
    /// anonymous memory and GUP, the checker after every step, and nothing
    /// leaked at the end.
    @Test(arguments: Strategy.allCases, [1, 2] as [UInt64])
    func randomSequence(strategy: Strategy, seed: UInt64) throws {
        var run = try SequenceRunner(tinyMachine(strategy), seed: seed)
        for step in 0..<3000 {
            _ = run.step()
            let issues = run.machine.check()
            #expect(issues.isEmpty, "\(strategy) step \(step): \(issues.prefix(5))")
            if !issues.isEmpty { return }
        }
        try run.finish()
    }
}

extension Array {
    func randomElement(using rng: inout SplitMix64) -> Element? {
        isEmpty ? nil : self[rng.below(count)]
    }
}
