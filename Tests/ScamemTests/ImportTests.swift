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
    }

    @Test(.enabled(if: !Captures.shared.isEmpty, "../shared/captures is absent: no shared captures to import"))
    func sharedCaptures() throws {
        for dir in Captures.shared { try checkImport(dir) }
    }

    @Test func missingFilesAreErrors() throws {
        #expect(throws: ScamemError.io) { try Machine.importMachine(from: .directory("/nonexistent-capture")) }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("scamem-partial-\(getpid())").path
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        try FileManager.default.copyItem(atPath: Self.bundled + "/zoneinfo", toPath: tmp + "/zoneinfo")
        #expect(throws: ScamemError.notFound) { try Machine.importMachine(from: .directory(tmp)) }
        // A truncated kpageflags still imports, and says where it stopped.
        try Data(count: 8 * 4096).write(to: URL(fileURLWithPath: tmp + "/kpageflags"))
        let (m, r) = try Machine.importMachine(from: .directory(tmp))
        #expect(r.pfns == 4096 && r.notes.contains { $0.contains("kpageflags ends") })
        expectClean(m)
    }
}
