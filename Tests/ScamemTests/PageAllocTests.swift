import Foundation
@testable import Scamem
import Testing

/// The page allocator's policy (Alloc/): watermarks against a real kernel's
/// zoneinfo, migratetypes, CMA and alloc_pages_bulk().
@Suite("Page allocator policy")
struct PageAllocTests {
    /// A zone of /proc/zoneinfo: its managed pages and what the kernel set.
    struct KernelZone {
        var name = "", managed: UInt64 = 0, min: UInt64 = 0, low: UInt64 = 0, high: UInt64 = 0
        var protection: [UInt64] = []
    }

    static func kernelZones(_ fixture: String) throws -> [KernelZone] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/\(fixture)/zoneinfo")
        var zones: [KernelZone] = []
        for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n") {
            let w = line.split(separator: " ", omittingEmptySubsequences: true)
            if w.first == "Node" { zones.append(KernelZone(name: String(w[3]))); continue }
            guard !zones.isEmpty, w.count >= 2 else { continue }
            switch w[0] {
            case "managed": zones[zones.count - 1].managed = UInt64(w[1])!
            case "min": zones[zones.count - 1].min = UInt64(w[1])!
            case "low": zones[zones.count - 1].low = UInt64(w[1])!
            case "high": zones[zones.count - 1].high = UInt64(w[1])!
            case "protection:":
                zones[zones.count - 1].protection = line.split(separator: "(")[1].dropLast()
                    .split(separator: ",").map { UInt64($0.trimmingCharacters(in: .whitespaces))! }
            default: break
            }
        }
        return zones
    }

    @Test("watermarks and lowmem_reserve are the kernel's: vm-24g-idle's zoneinfo, from its managed pages")
    func watermarksMatchZoneinfo() throws {
        let kernel = try Self.kernelZones("vm-24g-idle").filter { $0.managed > 0 }
        #expect(kernel.map(\.name) == ["DMA", "DMA32", "Normal"])
        // One zone per populated zone of the capture, sized to its managed pages.
        var start: UInt64 = 0
        var spans: [ZoneSpan] = []
        for (i, z) in kernel.enumerated() {
            spans.append(ZoneSpan(nid: 0, zone: ZoneType(rawValue: UInt32(i)), startPfn: start, spannedPages: z.managed))
            start = (start + z.managed + 0x3ff) & ~0x3ff
        }
        let m = try Machine(MachineDescription(nrNodes: 1, zones: spans))
        for (z, k) in zip(m.zoneInfos(), kernel) {
            #expect(z.managedPages == k.managed)
            #expect([z.watermark.min, z.watermark.low, z.watermark.high] == [k.min, k.low, k.high], "\(k.name)")
            // zoneinfo prints lowmem_reserve[] as "protection:".
            #expect(z.lowmemReserve.array == k.protection, "\(k.name)")
        }
        #expect(m.minFreeKbytes == 67584) // khugepaged's 512 * 3 zones * (2 + 3 * 3) pages
        expectClean(m)
    }

    /// Node 0: DMA32 [0, 0x4000), NORMAL [0x4000, 0xc000) with a CMA area [0x8000, 0xa000).
    static func cmaMachine() throws -> Machine {
        try Machine(MachineDescription(nrNodes: 1, zones: [
            ZoneSpan(nid: 0, zone: .dma32, startPfn: 0, spannedPages: 0x4000),
            ZoneSpan(nid: 0, zone: .normal, startPfn: 0x4000, spannedPages: 0x8000),
        ], cma: [PfnRange(startPfn: 0x8000, nrPages: 0x2000)]))
    }

    @Test("CMA pageblocks: only movable requests take them, and they count only for those")
    func cma() throws {
        let m = try Self.cmaMachine()
        let normal = m.zoneInfos()[1]
        #expect(normal.nrPageblocks[Int(MigrateType.cma.rawValue)] == 0x2000 >> 9)
        #expect(normal.freeCmaPages == 0x2000)
        // GFP_KERNEL (UNMOVABLE) never lands in CMA, even when it is all that is left.
        var kernel: [UInt64] = []
        while let p = try? m.allocPages(order: 0, gfp: [.kernel, .thisNode]) { kernel.append(p) }
        #expect(kernel.allSatisfy { !(0x8000..<0xa000).contains($0) })
        #expect(m.zoneInfos()[1].freeCmaPages == 0x2000)
        // A movable request can: __rmqueue()'s CMA fallback (ALLOC_CMA).
        let movable = try m.allocPages(order: 0, gfp: .highuserMovable)
        #expect((0x8000..<0xa000).contains(movable))
        #expect(try m.pageblockMigratetype(of: movable) == .cma)
        #expect(m.zoneInfos()[1].freeCmaPages == 0x2000 - 1)
        try m.freePages(movable, order: 0)
        for p in kernel { try m.freePages(p, order: 0) }
        expectClean(m)
        // Freed, blocks merge up to the area's edges and no further.
        let z = m.zoneInfos()[1]
        #expect(z.freeCmaPages == 0x2000 && z.nrFreeByType[maxPageOrder][Int(MigrateType.cma.rawValue)] == 8)
    }

    @Test("a movable request goes to CMA first once CMA holds over half the zone's free pages")
    func cmaBalance() throws {
        let m = try Self.cmaMachine()
        var taken: [UInt64] = []
        // Unmovable pages from NORMAL until CMA is more than half of what is free there.
        while m.zoneInfos()[1].freeCmaPages <= m.zoneInfos()[1].freePages / 2 {
            taken.append(try m.allocPages(order: 0, gfp: [.kernel, .thisNode]))
        }
        let p = try m.allocPages(order: 0, gfp: .highuserMovable)
        #expect(try m.pageblockMigratetype(of: p) == .cma)
        for q in taken + [p] { try m.freePages(q, order: 0) }
        expectClean(m)
    }

    @Test("bad CMA areas: unaligned, crossing a zone, over a hole, a reserved range or another area")
    func badCMA() {
        let zones = [ZoneSpan(nid: 0, zone: .dma32, startPfn: 0, spannedPages: 0x4000),
                     ZoneSpan(nid: 0, zone: .normal, startPfn: 0x4000, spannedPages: 0x4000)]
        let bad: [[PfnRange]] = [
            [PfnRange(startPfn: 0x100, nrPages: 0x200)], [PfnRange(startPfn: 0x200, nrPages: 0x100)],
            [PfnRange(startPfn: 0x3e00, nrPages: 0x400)], [PfnRange(startPfn: 0x7e00, nrPages: 0x400)],
            [PfnRange(startPfn: 0x1000, nrPages: 0)], [PfnRange(startPfn: 0x600, nrPages: 0x200)],
            [PfnRange(startPfn: 0x800, nrPages: 0x200)],
            [PfnRange(startPfn: 0x1000, nrPages: 0x400), PfnRange(startPfn: 0x1200, nrPages: 0x400)],
            [PfnRange(startPfn: UInt64.max & ~0x1ff, nrPages: 0x200)],
        ]
        for cma in bad {
            let d = MachineDescription(nrNodes: 1, zones: zones, holes: [PfnRange(startPfn: 0x700, nrPages: 1)],
                                       reserved: [PfnRange(startPfn: 0x900, nrPages: 1)], cma: cma)
            #expect(throws: ScamemError.invalid, "\(cma)") { try Machine(d) }
        }
        // Touching areas are two areas, not an overlap.
        let ok = MachineDescription(nrNodes: 1, zones: zones, cma: [PfnRange(startPfn: 0x1000, nrPages: 0x200),
                                                                   PfnRange(startPfn: 0x1200, nrPages: 0x200)])
        #expect(throws: Never.self) { try Machine(ok) }
    }

    @Test("alloc_pages_bulk: empty slots filled from one zone, the rest skipped; a short fill is a count")
    func bulk() throws {
        let m = try Machine(Fixtures.mini())
        var pages = [UInt64](repeating: pfnNone, count: 300)
        pages[7] = try m.allocPages(order: 0)
        #expect(try m.allocPagesBulk(&pages) == 300)
        #expect(Set(pages).count == 300)
        let zones = Set(try pages.map { try m.pageZonenum($0) })
        #expect(zones == [.normal])
        #expect(throws: ScamemError.invalid) { try m.allocPagesBulk(gfp: [.dma, .dma32], &pages) }
        #expect(throws: ScamemError.invalid) { try m.allocPagesBulk(nid: 7, &pages) }
        for p in pages { try m.freePages(p, order: 0) }
        // Until nothing is left: each call fills what it can, then 0.
        var all: [UInt64] = []
        while true {
            var slots = [UInt64](repeating: pfnNone, count: 100)
            let n = try m.allocPagesBulk(&slots)
            #expect(slots[..<n].allSatisfy { $0 != pfnNone } && slots[n...].allSatisfy { $0 == pfnNone })
            if n == 0 { break }
            all += slots[..<n]
        }
        expectClean(m)
        for p in all { try m.freePages(p, order: 0) }
        expectClean(m)
    }

    @Test("seeded random allocations of every migratetype and zone on a CMA machine: the checker after each batch",
          arguments: [1, 2, 3] as [UInt64])
    func randomMigratetypes(seed: UInt64) throws {
        let m = try Self.cmaMachine()
        var rng = SplitMix64(seed: seed)
        let gfps: [GFP] = [.kernel, .highuserMovable, [.kernel, .reclaimable], .dma32, .atomic, [.kernel, .memalloc],
                           [.highuserMovable, .dma32], .movable]
        var held: [(UInt64, Int)] = []
        let initial = m.zoneInfos()
        for step in 0..<4000 {
            if held.isEmpty || rng.below(3) != 0 {
                let order = rng.below(11) >> rng.below(4)
                if let p = try? m.allocPages(order: order, gfp: gfps[rng.below(gfps.count)]) {
                    held.append((p, order))
                }
            } else {
                let i = rng.below(held.count)
                try m.freePages(held[i].0, order: held[i].1)
                held.swapAt(i, held.count - 1)
                held.removeLast()
            }
            if step % 500 == 0 { expectClean(m) }
        }
        for (p, o) in held { try m.freePages(p, order: o) }
        expectClean(m)
        #expect(m.zoneInfos().map(\.buddyinfo) == initial.map(\.buddyinfo))
        // CMA pageblocks never change type; the rest may have been claimed.
        #expect(m.zoneInfos()[1].nrPageblocks[Int(MigrateType.cma.rawValue)] == 16)
    }
}
