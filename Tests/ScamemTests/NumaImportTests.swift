import Foundation
import Testing
import Scamem

/// The bundled 2-node capture with a ZONE_MOVABLE (Tests/Fixtures/qemu-numa-movable,
/// made by scripts/capture-qemu-numa.sh): Debian's 6.1 kernel under qemu TCG,
/// `movablecore=256M`, then a DIMM onlined block by block to Movable and Normal.
/// Figures are the fixture README's: its zoneinfo and what tools/mm/page-types
/// -r -F says of the same kpageflags.
@Suite struct NumaImportTests {
    static let dir = Captures.here.appendingPathComponent("../Fixtures/qemu-numa-movable").standardized.path
    static let boot = dir + "/boot"
    static let hotplug = dir + "/hotplug"

    struct Zone: Equatable, CustomStringConvertible {
        var nid: Int, zone: String, start: Int, spanned: Int, present: Int, managed: Int
        var end: Int { start + spanned }
        var description: String { "\(nid) \(zone) [\(start), \(end)) present \(present) managed \(managed)" }
    }

    /// The zones with pages as zoneinfo prints them, read here without the importer.
    static func zoneinfo(_ dir: String) throws -> [Zone] {
        let text = try String(contentsOfFile: dir + "/zoneinfo", encoding: .utf8)
        var zones: [Zone] = [], cur: Zone?
        for line in text.split(separator: "\n") {
            let w = line.split(separator: " ")
            if w.first == "Node" {
                if let z = cur, z.spanned > 0 { zones.append(z) }
                cur = Zone(nid: Int(w[1].dropLast())!, zone: String(w[3]), start: 0, spanned: 0, present: 0, managed: 0)
            } else if cur != nil, w.count == 2, let v = Int(w[1]) {
                switch w[0] {
                case "spanned": cur!.spanned = v
                case "present": cur!.present = v
                case "managed": cur!.managed = v
                case "start_pfn:": cur!.start = v
                default: break
                }
            }
        }
        if let z = cur, z.spanned > 0 { zones.append(z) }
        return zones
    }

    static let bootZones = [
        Zone(nid: 0, zone: "DMA", start: 1, spanned: 4095, present: 3998, managed: 3840),
        Zone(nid: 0, zone: "DMA32", start: 4096, spanned: 95232, present: 95232, managed: 95232),
        Zone(nid: 0, zone: "Movable", start: 99328, spanned: 31744, present: 31744, managed: 29587),
        Zone(nid: 1, zone: "DMA32", start: 131072, spanned: 98304, present: 98304, managed: 86989),
        Zone(nid: 1, zone: "Movable", start: 229376, spanned: 32736, present: 32736, managed: 13993),
    ]

    @Test func bootCaptureImports() throws {
        // The counts from the raw flags, the cross-checks, the checker, vmalloc placement.
        try ImportTests().checkImport(Self.boot)
        let (m, r) = try Machine.importMachine(from: .directory(Self.boot))
        #expect(r.kernel.contains("6.1.0-50-amd64") && r.kernel.contains("Debian 6.1.176-1"))
        #expect(r.pfns == 1_179_648)
        // Two nodes; on each, Movable right above DMA32 (movablecore= takes it from the
        // highest zone, and no Normal exists below 4 GiB).
        let info = m.info()
        #expect(info.nrNodes == 2 && info.nrZones == 5)
        #expect(try Self.zoneinfo(Self.boot) == Self.bootZones)
        let zones = m.zoneInfos()
        let got = zones.map {
            Zone(nid: $0.nid, zone: $0.zone.description, start: Int($0.startPfn), spanned: Int($0.spannedPages),
                 present: Int($0.presentPages), managed: Int($0.managedPages))
        }
        #expect(got == Self.bootZones, "\(got)")
        for nid in 0...1 {
            let dma32 = zones.first { $0.nid == nid && $0.zone == .dma32 }!
            let movable = zones.first { $0.nid == nid && $0.zone == .movable }!
            #expect(dma32.startPfn + dma32.spannedPages == movable.startPfn)
        }
        #expect(!zones.contains { $0.zone == .normal })
        #expect(info.presentPages == 262_014 && info.managedPages == 229_641)
        // Free pages per zone add up to what the kernel's buddy bits say.
        #expect(zones.reduce(0) { $0 + $1.freePages } == 179_801)

        // What tools/mm/page-types -r -F says of this kpageflags (fixture README).
        let c = { (x: PageCategory) in r.categories[x.rawValue] }
        #expect(r.compoundHeads == 1042 && r.compoundTails == 18116)
        #expect(c(.slab) == 3701)
        #expect(Array(r.slabOrders[0...3]) == [1239, 885, 63, 55] && r.slabOrders[4...].allSatisfy { $0 == 0 })
        #expect(r.slabs == 1239 + 885 + 63 + 55)
        #expect(c(.free) == 179_801)
        #expect(c(.anon) == 25081)
        #expect(c(.pageTable) == 87 && r.ptdescs == 87)
        #expect(c(.zero) == 1)
        // The THP workload: 32 order-9 anon folios, 16384 pages of page-types' thp.
        let anon = r.folioOrders[Int(PageCategory.anon.rawValue)]
        #expect(anon[9] == 32 && anon[9] * 512 == 16384)
        // The ramfs file read back: 24 MiB of order-0 file folios.
        #expect(r.folioOrders[Int(PageCategory.file.rawValue)][0] == 6144 && c(.file) == 6144)
        #expect(!r.notes.contains { $0.contains("missing") }, "\(r.notes)")
        expectClean(m)
    }

    /// The VM_USERMAP area: a BPF ringbuf vmap()ed and mapped by the workload.
    /// The importer models areas with pages= ("vmalloc" lines) only, so a vmap
    /// area is not among its areas; the raw line is checked here.
    @Test func ringbufIsAUserMappedVmap() throws {
        for d in [Self.boot, Self.hotplug] {
            let lines = try String(contentsOfFile: d + "/vmallocinfo", encoding: .utf8).split(separator: "\n")
            let rings = lines.filter { $0.contains("ringbuf_map_alloc") }
            #expect(rings.count == (d == Self.boot ? 1 : 2))
            for l in rings {
                let w = l.split(separator: " ")
                // 2 MiB of data mapped twice plus the meta pages and the guard page.
                #expect(w[1] == "2113536" && w.contains("vmap") && w.contains("user"), "\(l)")
            }
        }
        let (_, r) = try Machine.importMachine(from: .directory(Self.boot))
        #expect(r.vmallocAreas == 96 && r.vmallocPages == 3077 && r.vmallocPlaced == 3077)
    }

    /// After the DIMM's blocks were onlined alternately movable and kernel:
    /// node 1's Normal lies inside its Movable span, block by block. The
    /// import gives each zone its span less the other's blocks, from the
    /// memory blocks' zones (valid_zones; the fixture README says where this
    /// capture's came from).
    @Test func hotplugCaptureImportsWithOverlappingZones() throws {
        let zones = try Self.zoneinfo(Self.hotplug)
        #expect(Array(zones.prefix(4)) == Array(Self.bootZones.prefix(4)))
        let normal = zones.first { $0.nid == 1 && $0.zone == "Normal" }!
        let movable = zones.first { $0.nid == 1 && $0.zone == "Movable" }!
        #expect(normal == Zone(nid: 1, zone: "Normal", start: 1_081_344, spanned: 98304, present: 65536, managed: 65536))
        #expect(movable == Zone(nid: 1, zone: "Movable", start: 229_376, spanned: 917_504, present: 98272, managed: 79529))
        // Interleaved by 128 MiB memory block: memory32 Movable, 33 Normal, 34 Movable, 35 Normal.
        let block = 32768
        #expect(movable.start < normal.start && normal.start < movable.end && movable.end < normal.end)
        #expect(normal.start == 33 * block && movable.end == 35 * block && normal.end == 36 * block)
        #expect(normal.present == 2 * block && movable.present == Self.bootZones[4].present + 2 * block)
        let bootBlocks = try String(contentsOfFile: Self.boot + "/memory_blocks", encoding: .utf8)
        for b in 32...35 { #expect(bootBlocks.contains("memory\(b) \(String(format: "%08x", b)) offline 1"), "memory\(b)") }

        try ImportTests().checkImport(Self.hotplug)
        let (m, r) = try Machine.importMachine(from: .directory(Self.hotplug))
        let got = m.zoneInfos().map {
            Zone(nid: $0.nid, zone: $0.zone.description, start: Int($0.startPfn), spanned: Int($0.spannedPages),
                 present: Int($0.presentPages), managed: Int($0.managedPages))
        }
        #expect(got == zones, "\(got)")
        #expect(m.memoryBlockSizeBytes == 128 << 20)
        for (b, z) in [(32, ZoneType.movable), (33, .normal), (34, .movable), (35, .normal)] {
            let info = try m.memoryBlock(containing: UInt64(b * block))
            #expect(info.state == .online && info.nid == 1 && info.zone == z, "memory\(b)")
        }
        #expect(try m.memoryBlock(containing: 0).zone == nil) // DMA and DMA32
        #expect(r.categories[PageCategory.free.rawValue] == 280_683)
        #expect(r.categories[PageCategory.anon.rawValue] == 49676)

        // Without the blocks' zones, memory33 and memory34 lie in both spans.
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("scamem-hotplug-\(getpid())").path
        try? FileManager.default.removeItem(atPath: tmp)
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        for f in try FileManager.default.contentsOfDirectory(atPath: Self.hotplug) where f != "memory_blocks" {
            try FileManager.default.createSymbolicLink(atPath: tmp + "/" + f, withDestinationPath: Self.hotplug + "/" + f)
        }
        let stripped = try String(contentsOfFile: Self.hotplug + "/memory_blocks", encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: " ").prefix(4).joined(separator: " ") }.joined(separator: "\n") + "\n"
        try stripped.write(toFile: tmp + "/memory_blocks", atomically: true, encoding: .utf8)
        #expect(throws: ImportError(.io, file: "memory_blocks", line: 6,
                                    reason: "the block at pfn 1081344 lies in zone Normal of node 1 and zone Movable of node 1 and no valid_zones says which")) {
            try Machine.importMachine(from: .directory(tmp))
        }

        // The raw kpageflags against page-types -r -F (fixture README).
        let flags = try ImportTests.kpageflags(Self.hotplug)
        #expect(flags.count == 1_179_648)
        func count(_ bits: [Int]) -> Int { flags.reduce(0) { n, f in n + (bits.allSatisfy { f & (1 << UInt64($0)) != 0 } ? 1 : 0) } }
        #expect(count([15]) == 1081 && count([16]) == 34487)  // compound_head, compound_tail
        #expect(count([7]) == 3735 && count([10]) == 280_683)  // slab, buddy
        #expect(count([22]) == 32768 && count([22, 15]) == 64)  // thp, THP heads
        #expect(count([12]) == 49676 && count([20]) == 786_432)  // anonymous, nopage
        #expect(count([26]) == 142 && count([24]) == 1)  // pgtable, zero_page
        // The second THP workload's 64 MiB went to node 1's movable memory or node 0:
        // pages with flags in the DIMM's blocks are all in [4 GiB, 4.5 GiB).
        let dimm = flags[(32 * block)..<(36 * block)]
        #expect(dimm.contains { $0 & (1 << 12) != 0 }, "anon pages in the hot-added blocks")
    }
}
