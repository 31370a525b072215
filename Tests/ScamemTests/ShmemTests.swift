import Testing
import Scamem

/// MAP_SHARED | MAP_ANONYMOUS: shmem's page cache, shared across fork.
@Suite struct ShmemTests {
    @Test(arguments: Strategy.allCases)
    func sharedAnonymousMemoryIsShmem(strategy: Strategy) throws {
        let m = try tinyMachine(strategy)
        let free0 = totalFree(m)
        let mm = try m.mmNew()
        let a = try m.mmap(mm, length: 2 * 4096, flags: [.shared, .anonymous])
        let p = try m.handleMMFault(mm, a)
        #expect(word(m, p).type == .file)
        // The page cache's reference and the pte's.
        #expect(try m.pageInfo(p).refcount == 2 && m.pageInfo(p).mapcount == 1)
        // fork does not copy shmem ptes: the child faults the same page in.
        let child = try m.fork(mm)
        #expect(throws: ScamemError.fault) { try m.followPage(child, a) }
        #expect(try m.handleMMFault(child, a) == p)
        #expect(try m.pageInfo(p).mapcount == 2)
        // MADV_DONTNEED zaps the pte; the page stays in the cache.
        try m.madvise(mm, addr: a, length: 4096, advice: .dontNeed)
        #expect(try m.pageInfo(p).mapcount == 1 && m.handleMMFault(mm, a) == p)
        let pinned = try m.pinUserPages(mm, start: a, nrPages: 1, flags: [.write, .longterm])
        #expect(pinned == [p])
        expectClean(m)
        try m.mmExit(mm)
        #expect(word(m, p).type == .file)
        try m.mmExit(child)
        // The last VMA gone, the file is truncated; the pin holds the page.
        #expect(try word(m, p).type == .file && m.pageInfo(p).refcount == 1024)
        expectClean(m)
        try m.unpinUserPage(p)
        #expect(totalFree(m) == free0)
        expectClean(m)
    }
}
