import Foundation
import Testing
import Scamem

/// Imports of real machines, checked against counts computed here, from the
/// raw files, by code that shares nothing with the importer (xz through the
/// xz command, the KPF bits read directly).
/// Where the captures are: the bundled one, and shared/ beside the project.
enum Captures {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let bundled = here.appendingPathComponent("../Fixtures/vm-24g-idle").standardized.path
    static let hostile = here.appendingPathComponent("../Fixtures/hostile").standardized.path
    static let sharedDir = here.appendingPathComponent("../../../shared/captures").standardized.path
    static let shared: [String] =
        ((try? FileManager.default.contentsOfDirectory(atPath: sharedDir)) ?? [])
            .filter { FileManager.default.fileExists(atPath: sharedDir + "/" + $0 + "/zoneinfo") }
            .sorted().map { sharedDir + "/" + $0 }
}

@Suite struct ImportTests {
    static let bundled = Captures.bundled

    /// The raw kpageflags, decompressed by the xz command.
    static func kpageflags(_ dir: String) throws -> [UInt64] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/xz")
        p.arguments = ["-dc", dir + "/kpageflags.xz"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return data.withUnsafeBytes { Array($0.bindMemory(to: UInt64.self)) }
    }

    /// Counts from the raw flags, the slow, obvious way.
    struct Expected {
        var slabPages = 0, slabs = 0, free = 0, pageTables = 0, zero = 0, anon = 0, fileAndShmem = 0
        var zeroSectionPages = 0

        init(_ flags: [UInt64], normalSpans: [Range<Int>]) {
            func bit(_ f: UInt64, _ b: Int) -> Bool { f & (1 << UInt64(b)) != 0 }
            for f in flags {
                if bit(f, 7) {
                    slabPages += 1
                    if !bit(f, 16) { slabs += 1 }
                } else if bit(f, 10) { free += 1 }
                else if bit(f, 26) { pageTables += 1 }
                else if bit(f, 24) { zero += 1 }
                else if bit(f, 12) { anon += 1 }
                else if bit(f, 5) { fileAndShmem += 1 }
            }
            // Deferred memmap init leaves whole 128 MiB sections of zero flags.
            for span in normalSpans {
                var s = span.lowerBound & ~32767
                while s < span.upperBound {
                    let r = max(s, span.lowerBound)..<min(s + 32768, span.upperBound, flags.count)
                    if !r.isEmpty, flags[r].allSatisfy({ $0 == 0 }) { zeroSectionPages += r.count }
                    s += 32768
                }
            }
        }
    }

    static func normalSpans(_ dir: String) throws -> [Range<Int>] {
        let text = try String(contentsOfFile: dir + "/zoneinfo", encoding: .utf8)
        var spans: [Range<Int>] = [], inNormal = false, spanned = 0
        for line in text.split(separator: "\n") {
            let w = line.split(separator: " ")
            if w.first == "Node" { inNormal = w.last == "Normal" || w.last == "Movable" }
            if inNormal, w.first == "spanned" { spanned = Int(w[1])! }
            if inNormal, w.first == "start_pfn:", spanned > 0 { spans.append(Int(w[1])!..<Int(w[1])! + spanned) }
        }
        return spans
    }

    func checkImport(_ dir: String) throws {
        let (m, r) = try Machine.importMachine(from: .directory(dir))
        let flags = try Self.kpageflags(dir)
        let e = Expected(flags, normalSpans: try Self.normalSpans(dir))
        let c = { (x: PageCategory) in Int(r.categories[x.rawValue]) }
        #expect(r.pfns == UInt64(flags.count))
        #expect(r.checkerIssues == 0)
        #expect(c(.slab) == e.slabPages && Int(r.slabs) == e.slabs)
        #expect(c(.free) == e.free)
        #expect(c(.pageTable) == e.pageTables)
        #expect(c(.zero) == e.zero)
        #expect(c(.anon) == e.anon)
        #expect(c(.file) + c(.shmem) == e.fileAndShmem)
        #expect(c(.uninitialised) == e.zeroSectionPages)
        // The words say the same: free pages are BUDDY, slabs SLAB, and so on.
        let words = m.countPages()
        #expect(Int(words[Int(PageType.buddy.rawValue)]) == e.free)
        #expect(Int(words[Int(PageType.slab.rawValue)]) == e.slabPages)
        #expect(Int(words[Int(PageType.anon.rawValue)]) == e.anon)
        // Every vmalloc page found a home in the unknown pool.
        #expect(r.vmallocPlaced == r.vmallocPages)
        #expect(m.vmAreas().count == r.vmallocAreas)
        // The capture's own files agree within the skew of reading them apart.
        for x in r.crossChecks {
            let diff = Double(max(x.expected, x.imported) - min(x.expected, x.imported))
            #expect(diff <= Double(x.expected) * 0.02, "\(x.name): file \(x.expected), import \(x.imported)")
        }
        expectClean(m)
    }

    @Test func bundledMachine() throws {
        try checkImport(Self.bundled)
        let (m, r) = try Machine.importMachine(from: .directory(Self.bundled))
        // What this capture is known to hold (capture README): one node, three
        // zones, most of Normal's memmap not yet initialised.
        #expect(m.info().nrNodes == 1 && m.zoneInfos().map(\.zone) == [.dma, .dma32, .normal])
        #expect(r.categories[PageCategory.uninitialised.rawValue] == 4_718_592)
        #expect(r.kernel.contains("6.18.44"))
        // What tools/mm/page-types -r says of this kpageflags (the fixture's README).
        #expect(r.compoundHeads == 5259 && r.compoundTails == 15761)
        #expect(r.categories[PageCategory.slab.rawValue] == 24426)
        #expect(Array(r.slabOrders[0...3]) == [6580, 1675, 3276, 174] && r.slabOrders[4...].allSatisfy { $0 == 0 })
        #expect(r.crossChecks.map(\.key) == ["present_pages_zoneinfo", "managed_pages_zoneinfo", "free_pages_buddyinfo",
                                             "slab_pages_slabinfo", "slabs_slabinfo", "file_shmem_pages_vmstat"])
        // Every file is there: no note says one is missing.
        #expect(!r.notes.contains { $0.contains("missing") }, "\(r.notes)")
        // Today's 64-byte struct pages against memdescs.
        let report = m.report(r)
        #expect(report.todayBytes == report.memmapPages * 64 + UInt64(r.vmallocPages) * 8)
        #expect(report.memdescBytes < report.todayBytes)
        let legacy = report.strategies.first { $0.strategy == .legacy }!
        #expect(legacy.savingBytes == 0)
        for s in report.strategies where s.strategy != .legacy {
            #expect(s.savingBytes > 0 && s.savingPercentOfRAM > 1 && s.savingPercentOfRAM < 1.5625)
        }
        // Order-0 folios cost more under memdescs (8 + 80 bytes against 64).
        let anon = report.categories.first { $0.category == .anon }!
        #expect(anon.memdescBytes > anon.todayBytes)
    }

    @Test func descriptorSizesAreParameters() throws {
        var o = ImportOptions()
        o.folioBytes = 48
        let (m, r) = try Machine.importMachine(from: .directory(Self.bundled), options: o)
        let anon = m.report(r).categories.first { $0.category == .anon }!
        #expect(anon.memdescBytes == anon.pages * (8 + 48))
        // 0 keeps the default, as in struct scamem_import_opts.
        #expect(ImportOptions(folioBytes: 0, slabBytes: 0, ptdescBytes: 0) == ImportOptions())
        let sizes = ImportOptions(folioBytes: 48, slabBytes: 0, ptdescBytes: 32)
        #expect(sizes.folioBytes == 48 && sizes.slabBytes == DescriptorSize.slab && sizes.ptdescBytes == 32)
    }

    /// Each optional file the import reads, when missing, is named in a note;
    /// a present one is not.
    @Test func missingOptionalFilesAreNoted() throws {
        let read = ["kpagecount", "iomem", "memory_blocks", "memory_block_size_bytes", "vmallocinfo", "buddyinfo",
                    "slabinfo", "vmstat", "uname"]
        let bare = try SyntheticCapture.plain("notes")
        let (_, plain) = try Machine.importMachine(from: .directory(bare.dir))
        for file in read { #expect(plain.notes.contains { $0.contains(file) && $0.contains("missing") }, "\(file): \(plain.notes)") }
        #expect(plain.crossChecks.map(\.key) == ["present_pages_zoneinfo", "managed_pages_zoneinfo"])
        // rich has iomem, vmallocinfo and buddyinfo.
        let full = try SyntheticCapture.rich(managed: "0", .default)
        let (_, rich) = try Machine.importMachine(from: .directory(full.dir))
        for file in ["iomem", "vmallocinfo", "buddyinfo"] { #expect(!rich.notes.contains { $0.hasPrefix(file + " missing") }) }
        #expect(rich.notes.contains { $0.hasPrefix("slabinfo missing") })
    }

    @Test(.enabled(if: !Captures.shared.isEmpty, "../shared/captures is absent: no shared captures to import"))
    func sharedCaptures() throws {
        for dir in Captures.shared { try checkImport(dir) }
    }

    @Test func missingFilesAreErrors() throws {
        #expect(throws: ImportError(.io, file: "zoneinfo", reason: "missing: a capture needs its zones")) {
            try Machine.importMachine(from: .directory("/nonexistent-capture"))
        }
        let c = try SyntheticCapture("partial")
        try FileManager.default.copyItem(atPath: Self.bundled + "/zoneinfo", toPath: c.dir + "/zoneinfo")
        expectRefused(c, .notFound, "kpageflags")
        // A kpageflags shorter than the zones cannot describe them: DMA32's
        // header is line 99.
        try c.flags([UInt64](repeating: 0, count: 4096))
        expectRefused(c, .io, "zoneinfo", line: 99)
    }

    /// Gives back everything an import created: every vm area, folio, slab,
    /// ptdesc and MISC unknown block.
    static func releaseEverything(_ m: Machine) throws {
        var addr: UInt64 = 0
        while let a = m.vmArea(after: addr) {
            try m.vfree(a.addr)
            addr = a.addr
        }
        // A descriptor's pages share one pointer word: its head is where the word changes.
        let words = m.withWords { Array($0) }
        for (i, raw) in words.enumerated() where i == 0 || words[i - 1] != raw || PageWord(rawValue: raw).type == .misc {
            let w = PageWord(rawValue: raw), pfn = UInt64(i)
            if w.isNopage { continue }
            if w.type == .file || w.type == .anon { try m.folioPut(pfn) }
            else if w.type == .slab { try m.slabFree(pfn) }
            else if w.type == .ptdesc { try m.ptdescFree(pfn) }
            else if w.type == .misc, w.subtype == MiscSubtype.unknown.rawValue, w.order <= 10,
                    pfn % (1 << UInt64(w.order)) == 0 { try m.freePages(pfn, order: Int(w.order)) }
        }
    }

    /// managed follows the pages laid down, not zoneinfo (which says 0
    /// here): giving everything back leaves every managed page free.
    @Test(arguments: Strategy.allCases)
    func everythingImportedCanBeReleased(_ strategy: Strategy) throws {
        let c = try SyntheticCapture.rich(managed: "0", strategy)
        var o = ImportOptions()
        o.strategy = strategy
        let (m, r) = try Machine.importMachine(from: .directory(c.dir), options: o)
        #expect(r.checkerIssues == 0)
        #expect(r.crossChecks.contains { $0.name == "managed pages (zoneinfo)" && $0.expected == 0 && $0.imported > 0 })
        #expect(r.vmallocPlaced == 6 && r.folios == 3 && r.slabs == 1 && r.ptdescs == 1)
        // The captured hwpoisoned page: poisoned, counted, not the model's to give back.
        #expect(try m.pageHWPoison(70) && m.numPoisonedPages == 1)
        #expect(throws: ScamemError.hwpoison) { try m.memoryFailure(pfn: 70, flags: .swSimulated) }
        #expect(throws: ScamemError.busy) { try m.unpoisonMemory(pfn: 70) }
        // Four heads and 15 tails; the one slab is of order 2.
        #expect(r.compoundHeads == 4 && r.compoundTails == 15)
        #expect(r.slabOrders[2] == 1 && r.slabOrders.reduce(0, +) == 1)
        #expect(r.categories[PageCategory.uninitialised.rawValue] == 32768)
        try Self.releaseEverything(m)
        for z in m.zoneInfos() {
            #expect(z.freePages == z.managedPages, "node \(z.nid) \(z.zone)")
            #expect(z.managedPages < z.presentPages)
        }
        // present less the reserved pages, the zero page, the hwpoisoned one
        // and the uninitialised section.
        let managed: [UInt64] = [3998 - 15 - 2, 61440 - 32768]
        #expect(m.zoneInfos().map(\.managedPages) == managed)
        expectClean(m)
    }

    /// Every number of every file is range-checked: a bad one is `.io`
    /// naming the file and line, before anything is sized by it.
    @Test(arguments: HostileCase.all)
    func hostileCaptureIsRefused(_ h: HostileCase) throws {
        let c = try SyntheticCapture.plain(h.name)
        for (file, text) in h.files { try c.write(file, text) }
        expectRefused(c, .io, h.file, line: h.line, offset: h.offset)
    }

    @Test func kpageflagsSizeBoundsTheMachine() throws {
        let c = try SyntheticCapture.plain("sizes")
        // Empty: no machine; a partial entry: refused where it starts.
        try c.flags([])
        expectRefused(c, .io, "kpageflags")
        try c.write("kpageflags", String(repeating: "\0", count: 65536 * 8 + 3))
        expectRefused(c, .io, "kpageflags", offset: 65536 * 8)
        // Garbage or cut .xz: refused before decoding, naming the .xz file.
        try c.write("kpageflags.xz", String(repeating: "x", count: 4096))
        expectRefused(c, .io, "kpageflags.xz", offset: 12)
        let xz = try Data(contentsOf: URL(fileURLWithPath: Self.bundled + "/kpageflags.xz"))
        try xz.prefix(20000).write(to: URL(fileURLWithPath: c.dir + "/kpageflags.xz"))
        expectRefused(c, .io, "kpageflags.xz", offset: 20000)
        // An index claiming 128 GiB from 212 bytes (Fixtures/hostile/mkxz.py).
        try? FileManager.default.removeItem(atPath: c.dir + "/kpageflags.xz")
        try FileManager.default.copyItem(atPath: Captures.hostile + "/index-claims-2-37.xz", toPath: c.dir + "/kpageflags.xz")
        expectRefused(c, .io, "kpageflags.xz")
    }

    /// Compound pages laid down one by one share the unknown word, but a
    /// vmalloc area never takes them (fuzz_import found the unknown count
    /// going below zero when it did).
    @Test func vmallocAreasSkipCompoundPages() throws {
        let c = try SyntheticCapture.plain("vmalloc-compound")
        let buddy: UInt64 = 1 << 10, head: UInt64 = 1 << 15, tail: UInt64 = 1 << 16
        var f = [UInt64](repeating: buddy, count: 65536)
        f[1] = head                                          // a head without tails
        f[5] = head; f[6] = tail; f[7] = tail                // a run of 3: page by page
        f[10] = 0; f[11] = 0                                 // the only unknown pages
        try c.flags(f)
        try c.write("vmallocinfo", "0x1-0x2 12288 a+0x1/0x2 pages=2 vmalloc\n")
        let (m, r) = try Machine.importMachine(from: .directory(c.dir))
        #expect(r.vmallocPlaced == 2)
        #expect(r.categories[PageCategory.compound.rawValue] == 4)
        #expect(r.categories[PageCategory.unknown.rawValue] == 0 && r.categories[PageCategory.vmalloc.rawValue] == 2)
        #expect(r.categories.reduce(0, +) == r.pfns)
        m.withWords { words in
            for p in [1, 5, 6, 7] {
                let w = PageWord(rawValue: words[p])
                #expect(w.type == .misc && w.subtype == MiscSubtype.unknown.rawValue, "pfn \(p)")
            }
        }
        #expect(r.checkerIssues == 0)
    }
}

/// Expects the import of `c` to fail with `code` at `file`:`line`
/// (or byte `offset`).
func expectRefused(_ c: SyntheticCapture, _ code: ScamemError, _ file: String, line: Int = 0, offset: UInt64 = 0,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try Machine.importMachine(from: .directory(c.dir))
        Issue.record("\(c.dir) imported", sourceLocation: sourceLocation)
    } catch {
        #expect(error.error == code && error.file == file && error.line == line && error.offset == offset,
                "\(error)", sourceLocation: sourceLocation)
    }
}

/// A capture written into a temporary directory, removed when it goes.
final class SyntheticCapture {
    let dir: String

    init(_ name: String) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("scamem-\(name)-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    func write(_ file: String, _ text: String) throws {
        try text.write(toFile: dir + "/" + file, atomically: false, encoding: .utf8)
    }

    func flags(_ flags: [UInt64]) throws {
        try flags.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: dir + "/kpageflags"))
    }

    /// One zone as /proc/zoneinfo prints it: six lines, the header first,
    /// then pages free, spanned, present, managed, start_pfn.
    static func zone(_ nid: String, _ name: String, spanned: String, present: String, managed: String, start: String) -> String {
        "Node \(nid), zone \(name)\n  pages free     0\n        spanned  \(spanned)\n        present  \(present)\n"
            + "        managed  \(managed)\n  start_pfn:           \(start)\n"
    }

    /// DMA [1, 4096) and DMA32 [4096, 65536): zone lines 1-6 and 7-12.
    static func zoneinfo(managed: String = "3840") -> String {
        zone("0", "DMA", spanned: "4095", present: "3998", managed: managed, start: "1")
            + zone("0", "DMA32", spanned: "61440", present: "61440", managed: managed, start: "4096")
    }

    /// The two zones over flagless pages.
    static func plain(_ name: String) throws -> SyntheticCapture {
        let c = try SyntheticCapture(name)
        try c.write("zoneinfo", zoneinfo())
        try c.flags([UInt64](repeating: 0, count: 65536))
        return c
    }

    /// The two zones with a page of every kind: free runs, a slab, a page
    /// table, folios, compound kernel pages, the zero page, reserved and
    /// hwpoisoned pages, an iomem hole, two vmalloc areas, and one never
    /// initialised section (all zero flags) at [32768, 65536).
    static func rich(managed: String, _ strategy: Strategy) throws -> SyntheticCapture {
        let c = try SyntheticCapture("rich-\(strategy)")
        try c.write("zoneinfo", zoneinfo(managed: managed))
        var f = [UInt64](repeating: 0, count: 65536)
        let buddy: UInt64 = 1 << 10, slab: UInt64 = 1 << 7, head: UInt64 = 1 << 15, tail: UInt64 = 1 << 16
        for p in 1..<16 { f[p] = 1 << 32 }                 // KPF_RESERVED
        for p in 32..<64 { f[p] = buddy }
        f[64] = slab | head                                  // a slab of order 2
        for p in 65..<68 { f[p] = slab | tail }
        f[68] = 1 << 26                                      // a page table
        f[69] = 1 << 24                                      // the zero page
        f[70] = 1 << 19                                      // hwpoison
        f[72] = 1 << 5 | 1 << 12 | head                      // an anon folio of order 3
        for p in 73..<80 { f[p] = tail }
        f[80] = 1 << 5                                       // a file page
        f[81] = 1 << 5 | 1 << 14                             // shmem
        f[84] = head                                         // a kernel compound page of order 2
        for p in 85..<88 { f[p] = tail }
        f[97] = head                                         // a compound run of 3: page by page
        f[98] = tail; f[99] = tail
        for p in 256..<4096 { f[p] = buddy }
        for p in 8192..<32768 { f[p] = buddy }
        try c.flags(f)
        // RAM [1, 0x9f) and [0x100, 64Ki): 0x9f..0x100 is a hole, as on a PC.
        try c.write("iomem", "00000000-00000fff : Reserved\n00001000-0009efff : System RAM\n"
                        + "0009f000-000fffff : Reserved\n  000f0000-000fffff : System ROM\n00100000-0fffffff : System RAM\n")
        try c.write("vmallocinfo", "0x1-0x2   20480 a+0x1/0x2 pages=4 vmalloc N0=4\n0x3-0x4   12288 b+0x1/0x2 pages=2 vmalloc user\n"
                        + "0x5-0x6    8192 acpi_os_map_iomem+0x1bc/0x1e0 phys=0x00000000000a0000 ioremap\n")
        try c.write("buddyinfo", "Node 0, zone DMA 0 0 0 0 0 1 0 0 0 0 3\nNode 0, zone DMA32 0 0 0 0 0 0 0 0 0 0 24\n")
        return c
    }
}

/// A capture whose one bad number is at `file`:`line`.
struct HostileCase: Sendable, CustomTestStringConvertible {
    var name: String
    var files: [String: String]
    var file: String
    var line: Int
    var offset: UInt64 = 0
    var testDescription: String { name }

    static let z = SyntheticCapture.zone
    static let dma = z("0", "DMA", "4095", "3998", "3840", "1")
    static func zoneinfo(_ text: String, line: Int, _ name: String) -> HostileCase {
        HostileCase(name: name, files: ["zoneinfo": text], file: "zoneinfo", line: line)
    }

    static let all: [HostileCase] = [
        zoneinfo(z("0", "DMA", "4095", "18446744073709551615", "0", "1"), line: 4, "present near 2^64"),
        zoneinfo(z("0", "DMA", "4095", "4096", "0", "1"), line: 4, "present beyond spanned"),
        zoneinfo(dma + z("0", "DMA32", "61440", "61440", "61441", "4096"), line: 11, "managed beyond present"),
        zoneinfo(z("9223372036854775807", "DMA", "4095", "3998", "3840", "1"), line: 1, "nid Int.max"),
        zoneinfo(dma + z("1024", "DMA32", "61440", "61440", "0", "4096"), line: 7, "nid MAX_NUMNODES"),
        zoneinfo(dma + z("0", "DMA32", "18446744073709551615", "0", "0", "4096"), line: 9, "spanned near 2^64"),
        zoneinfo(dma + z("0", "Normal", "17179869183", "1", "1", "17179869183"), line: 12, "span beyond 46 bits"),
        zoneinfo(dma + z("0", "DMA32", "61440", "61440", "0", "2048"), line: 7, "overlapping zones"),
        zoneinfo(dma + z("0", "DMA", "61440", "61440", "0", "4096"), line: 7, "a zone twice"),
        zoneinfo(dma + z("0", "HighMem", "61440", "61440", "0", "4096"), line: 7, "a zone x86_64 has not"),
        zoneinfo(dma + z("0", "DMA32", "61440", "lots", "0", "4096"), line: 10, "not a number"),
        zoneinfo(z("0", "DMA", "0", "0", "0", "1"), line: 0, "no zone with pages"),
        zoneinfo(dma + z("0", "DMA32", "1048576", "1", "1", "4096"), line: 7, "zones beyond kpageflags"),
        HostileCase(name: "iomem near 2^64", files: ["iomem": "00001000-0009efff : System RAM\n00100000-ffffffffffffffff : System RAM\n"],
                    file: "iomem", line: 2),
        HostileCase(name: "iomem backwards", files: ["iomem": "00001000-0009efff : System RAM\n  00200000-00100000 : Kernel code\n"],
                    file: "iomem", line: 2),
        HostileCase(name: "memory block near 2^64", files: [
            "memory_block_size_bytes": "8000000\n", "memory_blocks": "memory0 0 online 0\nmemory1 ffffffffffffffff online 0\n"],
                    file: "memory_blocks", line: 2),
        HostileCase(name: "memory block size not a power of two", files: [
            "memory_block_size_bytes": "9000000\n", "memory_blocks": "memory0 0 online 0\n"],
                    file: "memory_block_size_bytes", line: 1),
        HostileCase(name: "buddyinfo count near 2^64", files: ["buddyinfo": "Node 0, zone DMA 18446744073709551615\n"],
                    file: "buddyinfo", line: 1),
        HostileCase(name: "buddyinfo sum beyond the machine",
                    files: ["buddyinfo": "Node 0, zone DMA 0 0 0 0 0 0 0 0 0 0 64\nNode 0, zone DMA32 0 0 0 0 0 0 0 0 0 0 1\n"],
                    file: "buddyinfo", line: 2),
        HostileCase(name: "buddyinfo beyond MAX_PAGE_ORDER", files: ["buddyinfo": "Node 0, zone DMA 0 0 0 0 0 0 0 0 0 0 0 0\n"],
                    file: "buddyinfo", line: 1),
        HostileCase(name: "buddyinfo nid MAX_NUMNODES", files: ["buddyinfo": "Node 1024, zone DMA 0\n"], file: "buddyinfo", line: 1),
        HostileCase(name: "slabinfo count near 2^63", files: [
            "slabinfo": "slabinfo - version: 2.1\nbig 1 1 4096 1 8 : tunables 0 0 0 : slabdata 1 9223372036854775808 0\n"],
                    file: "slabinfo", line: 2),
        HostileCase(name: "slabinfo pages per slab", files: [
            "slabinfo": "big 1 1 4096 1 4294967296 : tunables 0 0 0 : slabdata 1 1 0\n"], file: "slabinfo", line: 1),
        HostileCase(name: "vmallocinfo pages near 2^64", files: [
            "vmallocinfo": "0x1-0x2 20480 a pages=4 vmalloc\n0x3-0x4 20480 b pages=18446744073709551615 vmalloc\n"],
                    file: "vmallocinfo", line: 2),
        HostileCase(name: "vmallocinfo pages beyond the size", files: ["vmallocinfo": "0x1-0x2 8192 a pages=4 vmalloc\n"],
                    file: "vmallocinfo", line: 1),
        HostileCase(name: "vmallocinfo pages beyond the machine", files: [
            "vmallocinfo": String(repeating: "0x1-0x2 4198400 a pages=1024 vmalloc\n", count: 65)],
                    file: "vmallocinfo", line: 65),
        HostileCase(name: "vmstat counter near 2^64", files: ["vmstat": "nr_free_pages 1\nnr_file_pages 18446744073709551615\n"],
                    file: "vmstat", line: 2),
    ]
}
