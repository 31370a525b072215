/// vmalloc, vmap, vfree, vunmap and the lookups, with a scamem behind every
/// area: the vm_struct holds exactly one reference, and the pages go when the
/// last reference does, not at vfree().
extension Machine {
    /// The largest area the model hands out (scamem's nr is an unsigned int).
    static let maxVmallocPages = UInt64(UInt32.max)

    func vmStruct(_ a: VmArea) -> VmStruct {
        VmStruct(addr: a.addr, size: a.size, flags: a.flags, scamem: ScamemID(rawValue: scamems.handle(a.slot)),
                 caller: a.caller, nrPages: a.nrPages)
    }

    /// Gives scamem `slot` an address range and the area's reference.
    func mapArea(_ slot: Int, nrPages: Int, flags: VmFlags, caller: UInt64) throws(ScamemError) -> UInt64 {
        let size = UInt64(nrPages) * 4096 + (flags.contains(.noGuard) ? 0 : 4096)
        guard let addr = vmalloc.reserve(size) else {
            scamemPutLocked(slot)
            throw .noMemory
        }
        vmalloc.insert(VmArea(addr: addr, size: size, flags: flags, slot: slot, caller: caller, nrPages: nrPages))
        scamems[slot].vmRefs = 1
        return addr
    }

    /// __vmalloc_node_range(): `size` bytes (rounded up to pages) of order-0
    /// pages placed by `policy`, mapped at a new address. Returns the address.
    /// The C counterpart is `scamem_vmalloc_opts()`.
    public func vmalloc(size: UInt64, flags: VmFlags = [], gfp: GFP = .kernel, policy: NodePolicy = .local,
                        caller: UInt64 = 0) throws(ScamemError) -> UInt64 {
        guard size > 0, size <= Self.maxVmallocPages * 4096,
              VmFlags([.usermap, .noGuard, .dmaCoherent]).isSuperset(of: flags) else { throw .invalid }
        return try lock.withLock { () throws(ScamemError) -> UInt64 in
            let nr = Int((size + 4095) / 4096)
            // __vmalloc_area_node(): __GFP_HIGHMEM unless DMA or DMA32 was asked
            // for, so a __GFP_MOVABLE vmalloc lands in ZONE_MOVABLE.
            let areaGfp = gfp.isDisjoint(with: [.dma, .dma32]) ? gfp.union(.highmem) : gfp
            let slot = try createScamem(nr: nr, gfp: areaGfp, policy: policy, usermap: flags.contains(.usermap))
            return try mapArea(slot, nrPages: nr, flags: flags.union(.alloc), caller: caller)
        }
    }

    /// vmalloc_user(): zeroed memory with VM_USERMAP, for remap_vmalloc_range().
    /// The C counterpart is `scamem_vmalloc_user()`.
    public func vmallocUser(size: UInt64) throws(ScamemError) -> UInt64 {
        try vmalloc(size: size, flags: .usermap)
    }

    /// vmalloc_node(). The C counterpart is `scamem_vmalloc_node()`.
    public func vmallocNode(size: UInt64, nid: Int) throws(ScamemError) -> UInt64 {
        try vmalloc(size: size, policy: .node(nid))
    }

    /// vmap(): maps pages the caller has. `.noGuard` is ignored, as the
    /// kernel's vmap() does (`WARN_ON_ONCE(flags & VM_NO_GUARD)`, then
    /// clears it): the area still gets its guard page. With `.mapPutPages`
    /// the pages (order-0 pages from `allocPages`, each once) pass to the area's scamem
    /// and are freed with it; without, they stay the caller's and may be
    /// listed more than once (bpf_ringbuf_area_alloc() lists each data page
    /// twice). As the kernel's vmap() users must, the caller keeps them while
    /// the area's scamem lives: a free before that is refused with `.busy`
    /// (see `checkVmapPage`). With `.usermap` and without `.mapPutPages` the
    /// area may be mapped to userspace (bpf ringbuf); its pages must then be
    /// `allocPages` pages (`.invalid` otherwise), and a mapping or GUP
    /// reference keeps the scamem, and so the refusal, alive past vunmap().
    /// Pages another area owns are `.busy`.
    /// The C counterpart is `scamem_vmap()`.
    public func vmap(_ pfns: [UInt64], flags: VmFlags = [], caller: UInt64 = 0) throws(ScamemError) -> UInt64 {
        guard VmFlags([.mapPutPages, .usermap, .noGuard]).isSuperset(of: flags),
              !pfns.isEmpty, UInt64(pfns.count) <= Self.maxVmallocPages else { throw .invalid }
        let flags = flags.subtracting(.noGuard).union(.map)
        return try lock.withLock { () throws(ScamemError) -> UInt64 in
            let slot = try adoptScamem(pfns, owning: flags.contains(.mapPutPages), usermap: flags.contains(.usermap))
            return try mapArea(slot, nrPages: pfns.count, flags: flags, caller: caller)
        }
    }

    /// Removes area `i`, gives a plain vmap's pages back to their owner and
    /// drops the area's scamem reference.
    func removeArea(at i: Int) {
        let a = vmalloc.remove(at: i)
        scamems[a.slot].vmRefs = 0
        scamemPutLocked(a.slot)
    }

    /// remove_vm_area(): the area to remove for `addr`, found as
    /// find_unlink_vmap_area() finds it: the area whose range (guard page
    /// included, as the vmap_area's) holds `addr`. `.invalid` for a
    /// misaligned address (remove_vm_area() WARNs "Trying to vfree() bad
    /// address" and returns NULL), `.notFound` where no area is.
    func areaIndexToRemove(_ addr: UInt64) throws(ScamemError) -> Int {
        guard addr & 4095 == 0 else { throw .invalid }
        guard let i = vmalloc.index(containing: addr) else { throw .notFound }
        return i
    }

    /// vfree(): removes the area holding `addr` and drops its scamem
    /// reference; 0 does nothing (`if (!addr) return;`). The pages stay while
    /// user mappings or GUP hold the scamem. Errors as `areaIndexToRemove`.
    /// The C counterpart is `scamem_vfree()`.
    public func vfree(_ addr: UInt64) throws(ScamemError) {
        guard addr != 0 else { return }
        try lock.withLock { () throws(ScamemError) in removeArea(at: try areaIndexToRemove(addr)) }
    }

    /// vunmap(): removes the vmap() area holding `addr`; the pages stay the
    /// caller's. 0 does nothing. An area that owns its pages (vmalloc, or
    /// vmap with `.mapPutPages`) is `.invalid` and stays: the kernel's
    /// vunmap() would remove it and `kfree(vm)` only, leaking the pages,
    /// which only vfree() frees. Otherwise errors as `areaIndexToRemove`.
    /// The C counterpart is `scamem_vunmap()`.
    public func vunmap(_ addr: UInt64) throws(ScamemError) {
        guard addr != 0 else { return }
        try lock.withLock { () throws(ScamemError) in
            let i = try areaIndexToRemove(addr)
            guard !scamems[vmalloc.areas[i].slot].ownsPages else { throw .invalid }
            removeArea(at: i)
        }
    }

    /// find_vm_area() (find_vmap_area()): the area holding `addr`, guard
    /// page included, at any offset.
    /// The C counterpart is `scamem_find_vm_area()`.
    public func findVmArea(_ addr: UInt64) -> VmStruct? {
        lock.withLock { vmalloc.index(containing: addr).map { vmStruct(vmalloc.areas[$0]) } }
    }

    /// vmalloc_to_page() as a pfn. `.notFound` outside every area, `.fault`
    /// on a guard page. The C counterpart is `scamem_vmalloc_to_pfn()`.
    public func vmallocToPfn(_ addr: UInt64) throws(ScamemError) -> UInt64 {
        try lock.withLock { () throws(ScamemError) -> UInt64 in try vmallocToPfnLocked(addr) }
    }

    func vmallocToPfnLocked(_ addr: UInt64) throws(ScamemError) -> UInt64 {
        guard let i = vmalloc.index(containing: addr) else { throw .notFound }
        let a = vmalloc.areas[i]
        let index = Int((addr - a.addr) / 4096)
        guard index < a.nrPages else { throw .fault }
        return scamems[a.slot].block.pages[index]
    }

    /// Every area, lowest address first.
    public func vmAreas() -> [VmStruct] {
        lock.withLock { vmalloc.areas.map(vmStruct) }
    }

    /// The first area starting above `addr`, for iteration from 0.
    /// The C counterpart is `scamem_vm_area_next()`.
    public func vmArea(after addr: UInt64) -> VmStruct? {
        lock.withLock {
            let i = vmalloc.lowerBound(addr &+ 1)
            return i < vmalloc.areas.count && addr != .max ? vmStruct(vmalloc.areas[i]) : nil
        }
    }
}
