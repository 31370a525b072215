/// The file behind a MAP_SHARED | MAP_ANONYMOUS mapping (shmem_zero_setup()):
/// its page cache, a FILE folio per page index, and the VMAs holding it.
struct ShmemFile {
    /// pfn + 1 per page index, 0 where nothing was faulted in yet.
    var pages: [UInt64]
    /// vm_file references: one per VMA (split, fork and mremap take theirs).
    var refs: Int32 = 1
}

/// mm/shmem.c as shared anonymous memory sees it.
extension Machine {
    /// shmem_zero_setup(): a file of `nrPages` pages for a new VMA.
    func shmemZeroSetup(nrPages: Int) -> Int {
        shmemFiles.insert(ShmemFile(pages: [UInt64](repeating: 0, count: nrPages)))
    }

    /// get_file() for a VMA that now shares the file.
    func shmemGetFile(_ f: Int) throws(ScamemError) {
        guard shmemFiles[f].refs < Int32.max else { throw .overflow }
        shmemFiles[f].refs += 1
    }

    /// fput(): the last VMA gone, shmem_evict_inode() truncates the page
    /// cache; a folio GUP still holds stays until it is released.
    func shmemPutFile(_ f: Int) {
        shmemFiles[f].refs -= 1
        guard shmemFiles[f].refs == 0, let file = shmemFiles.remove(f) else { return }
        for pte in file.pages where pte != 0 { dropFolioReference(PTE.pfn(pte), mapped: false) }
    }

    /// shmem_fault() -> shmem_get_folio(): the page cache's folio at `index`,
    /// a new FILE folio the first time (its one reference is the cache's).
    func shmemGetFolio(_ f: Int, index: Int) throws(ScamemError) -> UInt64 {
        // Beyond i_size (a mapping grown by mremap()): VM_FAULT_SIGBUS.
        guard index < shmemFiles[f].pages.count else { throw .fault }
        if shmemFiles[f].pages[index] != 0 { return PTE.pfn(shmemFiles[f].pages[index]) }
        let (pfn, d) = try createDescriptor(.file, order: 0, gfp: .highuserMovable, nid: nil)
        d.pointee.callerRefs = 0
        d.pointee.lru = true
        shmemFiles[f].pages[index] = pfn + 1
        return pfn
    }
}
