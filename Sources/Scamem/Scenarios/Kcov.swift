/// kernel/kcov.c: the coverage buffer, vmalloc_user() at KCOV_INIT_TRACE
/// and mapped by kcov_mmap() with vm_insert_page() of each
/// vmalloc_to_page() (not remap_vmalloc_range()).
extension Machine {
    /// kcov_ioctl(KCOV_INIT_TRACE): `entries` unsigned longs, 2 to
    /// INT_MAX / 8 (else `.invalid`), vmalloc_user(entries * 8) (`.noMemory`).
    /// Returns the kcov and its area. The C counterpart is
    /// `scamem_kcov_init_trace()`.
    public func kcovInitTrace(entries: UInt64) throws(ScamemError) -> (KcovID, kaddr: UInt64) {
        guard entries >= 2, entries <= UInt64(Int32.max) / 8 else { throw .invalid }
        return try newVmallocSubject(.kcov, size: entries * 8)
    }

    /// kcov_mmap(): the driver VMA holding `uaddr` must be exactly the
    /// buffer (vm_pgoff 0, length entries * 8, so an area that is not a
    /// whole number of pages can never be mapped, as in the kernel), else
    /// `.invalid`; then VM_DONTEXPAND and vm_insert_page() of every page,
    /// each holding the area's scamem through the VMA as
    /// remap_vmalloc_range() would (see `vmInsertPages`). `.busy` if the VMA
    /// maps something already. The C counterpart is `scamem_kcov_mmap()`.
    public func kcovMmap(_ kcov: KcovID, _ mm: MMID, uaddr: UInt64) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in _ = try insertWholeSubject(kcov, .kcov, mm, uaddr: uaddr) }
    }

    /// kcov_close() -> kcov_put(): vfree() of the area. The kernel gets
    /// here at the last fput(), after munmap (the VMA holds the file); an
    /// earlier call is allowed in the model: the mappings' scamem
    /// references keep the pages. `.badHandle` for a freed kcov. The C
    /// counterpart is `scamem_kcov_free()`.
    public func kcovFree(_ kcov: KcovID) throws(ScamemError) {
        try freeVmallocSubject(kcov, .kcov)
    }

    /// vfree() of a vmalloc_user() subject's area and the subject itself.
    func freeVmallocSubject<S>(_ h: ScenarioHandle<S>, _ kind: ScenarioRecord.Kind) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            let slot = try scenarioSlot(h, kind)
            if let ai = subjectArea(scenarios[slot]) { removeArea(at: ai) }
            removeScenario(slot)
        }
    }
}
