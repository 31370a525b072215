import Dispatch
import Testing
import Scamem

/// One machine, several threads: vmalloc, remap, pin, unpin, vfree and exit
/// racing on a shared area and on each thread's own. Run under
/// `swift test --sanitize=thread` by `make check`.
@Suite struct ScamemThreadTests {
    @Test(arguments: Strategy.allCases)
    func pinUnpinVmallocVfreeRace(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let shared = try m.vmallocUser(size: 4 * 4096)
        let sharedScamem = m.findVmArea(shared)!.scamem
        let failures = Counter()

        DispatchQueue.concurrentPerform(iterations: 4) { t in
            var rng = SplitMix64(seed: UInt64(t) + 100)
            do {
                let mm = try m.mmNew()
                let u = try m.mmap(mm, length: 4 * 4096, flags: .shared)
                try m.remapVmallocRange(mm, uaddr: u, kaddr: shared, pgoff: 0)
                for _ in 0..<300 {
                    // The shared area: pin and unpin a page.
                    let p = try m.pinUserPages(mm, start: u + UInt64(rng.below(4)) * 4096, nrPages: 1, flags: .longterm)
                    _ = try m.folioMaybeDmaPinned(p[0])
                    // An area of its own, mapped, pinned, vfreed, unmapped, unpinned.
                    let k = try m.vmallocUser(size: UInt64(1 + rng.below(3)) * 4096)
                    let v = try m.mmap(mm, length: 4096, flags: .shared)
                    try m.remapVmallocRangePartial(mm, uaddr: v, kaddr: k, pgoff: 0, size: 4096)
                    let own = try m.getUserPages(mm, start: v, nrPages: 1)
                    try m.vfree(k)
                    try m.munmap(mm, addr: v, length: 4096)
                    try m.putPage(own[0])
                    try m.unpinUserPage(p[0])
                    // Anonymous memory too.
                    let a = try m.mmap(mm, length: 4096, flags: [.private, .anonymous])
                    _ = try m.handleMMFault(mm, a)
                    try m.munmap(mm, addr: a, length: 4096)
                }
                try m.mmExit(mm)
            } catch {
                failures.add()
            }
        }
        #expect(failures.value == 0)
        #expect(try m.scamemStat(sharedScamem).refcount == 1)
        expectClean(m)
        try m.vfree(shared)
        #expect(totalFree(m) == free0)
        expectClean(m)
    }
}

/// A counter several threads may bump.
final class Counter: @unchecked Sendable {
    private let lock = DispatchQueue(label: "counter")
    private var n = 0
    func add() { lock.sync { n += 1 } }
    var value: Int { lock.sync { n } }
}
