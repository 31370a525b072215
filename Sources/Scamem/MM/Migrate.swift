extension Machine {
    /// The model's rmap_walk() (mm/rmap.c): every present pte of every VMA
    /// that maps pages (not VM_PFNMAP), each given to `body` to read or
    /// rewrite. The model keeps no reverse map (anon_vma, i_mmap), so one
    /// walk costs every pte of every mm: callers batch what they look for.
    func rmapWalk(_ body: (inout UInt64) -> Void) {
        for s in mms.liveSlots {
            for vi in mms[s].vmas.indices where !mms[s].vmas[vi].flags.contains(.pfnMap) {
                for k in mms[s].vmas[vi].ptes.indices where PTE.isPresent(mms[s].vmas[vi].ptes[k]) {
                    body(&mms[s].vmas[vi].ptes[k])
                }
            }
        }
    }
}

/// migration_target_control (mm/internal.h): where alloc_migration_target()
/// takes a new folio from. `nid` nil is NUMA_NO_NODE: the source folio's node
/// first, then the others as the zonelist has them.
struct MigrationTarget {
    var gfp: GFP
    var nid: Int?
}

/// Page migration (mm/migrate.c): a folio's contents and holders move to a
/// new folio and the old one goes back to the allocator.
///
/// The kernel finds the ptes through the folio's rmap (anon_vma or the
/// file's i_mmap tree), so its cost is the folio's mappings. The model keeps
/// no reverse map: one batch walks every pte of every mm and every shmem page
/// cache once, O(all ptes + all cached pages) whatever the batch's size, so
/// callers migrate a whole batch in one call.
extension Machine {
    /// folio_isolate_lru() (mm/vmscan.c) and __migrate_folio()'s refcount
    /// check against folio_expected_ref_count() (include/linux/mm.h): whether
    /// the folio can move, given whether a page cache holds it. Only LRU
    /// folios move: anon folios and shmem's page cache (a driver's
    /// vm_insert_page() folio, slab, page tables, MISC and scamem pages are
    /// not on the LRU): `.invalid` otherwise. Its references must be exactly
    /// its ptes' and the cache's; any other (a GUP get or pin, a caller's, a
    /// vmap()) is the kernel's -EAGAIN, which migrate_pages() retries and
    /// then counts as failed: `.busy` here. The check is
    /// __folio_migrate_mapping()'s folio_ref_freeze(): the count goes from
    /// the expected one to zero, so a GUP-fast try-get racing with the move
    /// fails instead of pinning a folio about to be freed. Returns the
    /// expected count, for the new folio (or folio_ref_unfreeze()).
    func freezeMigratable(_ d: UnsafeMutablePointer<Memdesc>, cached: Bool) throws(ScamemError) -> Int32 {
        guard d.pointee.type == .anon || d.pointee.type == .file && cached else { throw .invalid }
        let expected = d.pointee.mapcount + (cached ? 1 : 0)
        guard d.refFreeze(expected) else { throw .busy }
        return expected
    }

    /// migrate_pages() with alloc_migration_target(): moves each folio whose
    /// first pfn is in `heads` to a new folio of the same order allocated
    /// with `target` (from the source's node when `target.nid` is nil).
    /// The new folio takes the old one's refcount and mapcount
    /// (folio_migrate_mapping(), folio_migrate_flags()); every pte that
    /// mapped it maps the new one at the same offset (try_to_migrate() then
    /// remove_migration_ptes()); a shmem page cache slot points at it
    /// (folio_migrate_mapping()'s xas_store()); the old folio is freed.
    /// Returns the new first pfn of each folio moved and why each other one
    /// did not move (`checkMigratable`'s errors, or `.noMemory` when no
    /// target could be allocated). A folio that fails is left as it was.
    func migrateFolios(_ heads: Set<UInt64>, to target: MigrationTarget)
        -> (moved: [UInt64: UInt64], failed: [UInt64: ScamemError]) {
        var failed: [UInt64: ScamemError] = [:]
        var sources: [UInt64: UInt64] = [:] // descriptor id -> first pfn
        // Lowest pfn first, so a call sequence always gives the same pfns.
        for pfn in heads.sorted() {
            guard let (id, d) = try? descriptor(of: pfn, PageType.folioTypes), d.pointee.pfn == pfn else {
                failed[pfn] = .invalid
                continue
            }
            sources[id] = pfn
        }
        // The page cache slot of each shmem folio in the batch.
        var cache: [UInt64: (file: Int, index: Int)] = [:]
        for f in shmemFiles.liveSlots {
            for (i, e) in shmemFiles[f].pages.enumerated() where e != 0 {
                let w = PageWord(rawValue: words[Int(PTE.pfn(e))])
                if sources[w.descriptorID] != nil { cache[w.descriptorID] = (f, i) }
            }
        }
        var dest: [UInt64: UInt64] = [:] // old descriptor id -> new first pfn
        var order: [UInt64] = [] // the ids moving, lowest pfn first
        for (id, pfn) in sources.sorted(by: { $0.value < $1.value }) {
            let sd = descriptors.lookup(id)!, src = sd.pointee
            do throws(ScamemError) {
                let refs = try freezeMigratable(sd, cached: cache[id] != nil)
                let nid = target.nid ?? layout.nid(sd.flags)
                let new: UInt64, nd: UnsafeMutablePointer<Memdesc>
                do throws(ScamemError) {
                    (new, nd) = try createDescriptor(src.type, order: Int(src.order), gfp: target.gfp, nid: nid, refcount: refs)
                } catch {
                    sd.refUnfreeze(refs)
                    throw error
                }
                nd.pointee.mapcount = src.mapcount
                nd.pointee.callerRefs = 0
                dest[id] = new
                order.append(id)
            } catch {
                failed[pfn] = error
            }
        }
        guard !dest.isEmpty else { return ([:], failed) }
        // Every pte of a moving folio, anon or shmem.
        rmapWalk { pte in
            let pfn = PTE.pfn(pte)
            guard pfn < endPfn else { return }
            let w = PageWord(rawValue: words[Int(pfn)])
            guard PageType.folioTypes & w.type.bit != 0, let to = dest[w.descriptorID] else { return }
            pte = pte & ~PTE.pfnMask | (to + (pfn - sources[w.descriptorID]!) + 1)
        }
        // The TLB flush after try_to_migrate(): no GUP-fast reader still
        // holds an old pte when the old folios go (`zap`).
        rcu.synchronize()
        var moved: [UInt64: UInt64] = [:]
        for id in order {
            let to = dest[id]!
            if let (f, i) = cache[id] { shmemFiles[f].pages[i] = to + 1 }
            moved[sources[id]!] = to
            destroyDescriptor(id, descriptors.lookup(id)!)
        }
        return (moved, failed)
    }
}

/// move_pages() flags (include/uapi/linux/mempolicy.h). The C counterparts
/// are `SCAMEM_MPOL_MF_*`.
@frozen
public struct MovePagesFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// MPOL_MF_MOVE: folios only this process maps.
    public static let move = MovePagesFlags(rawValue: 1 << 1)
    /// MPOL_MF_MOVE_ALL: shared folios too (CAP_SYS_NICE, which the model's
    /// caller has).
    public static let moveAll = MovePagesFlags(rawValue: 1 << 2)
    static let known: MovePagesFlags = [.move, .moveAll]
}

extension Machine {
    /// move_pages(2) (kernel_move_pages(), mm/migrate.c): with `nodes`, moves
    /// the folio mapped at each address to that node (do_pages_move());
    /// without, reports each page's node (do_pages_stat()). `status[i]` gets
    /// the node the page is on afterwards or a negative errno: -EFAULT (no
    /// VMA, a VM_IO / VM_PFNMAP one, or the zero page), -ENOENT (no page
    /// mapped, or a special pte), -EACCES (mapped by more than this one pte
    /// without `.moveAll`), -EBUSY (not movable: a scamem, MISC or driver's
    /// page, or the same folio already queued). Consecutive entries for one
    /// node form a batch, migrated (GFP_HIGHUSER_MOVABLE | __GFP_THISNODE)
    /// when the node changes or an entry is not queued. Returns 0, or how
    /// many pages were not migrated (a failed batch, then every entry not
    /// yet tried: the call stops there). Throws `.invalid` (unknown flags,
    /// `status` or `nodes` shorter than `pages`), `.badHandle`, and
    /// `.noDevice` for a node that does not exist (entries before it done).
    /// The C counterpart is `scamem_move_pages()`.
    public func movePages(_ mm: MMID, pages: UnsafeBufferPointer<UInt64>, nodes: UnsafeBufferPointer<Int32>?,
                          status: UnsafeMutableBufferPointer<Int32>, flags: MovePagesFlags) throws(ScamemError) -> Int {
        guard MovePagesFlags.known.isSuperset(of: flags), status.count >= pages.count,
              nodes.map({ $0.count >= pages.count }) ?? true else { throw .invalid }
        return try lock.withLock { () throws(ScamemError) -> Int in
            let s = try mmSlot(mm)
            guard let nodes else {
                for (i, addr) in pages.enumerated() { status[i] = pageStat(s, addr) }
                return 0
            }
            // The entries [start, i) queued for one node.
            var batch: (node: Int, start: Int, heads: Set<UInt64>)? = nil
            // move_pages_and_store_status(): the batch's entries get its node;
            // if any folio fails, the call ends with the failures plus every
            // entry from `end` on.
            func flush(_ end: Int) -> Int? {
                guard let b = batch, !b.heads.isEmpty else { batch = nil; return nil }
                batch = nil
                // do_move_pages_to_node(): GFP_HIGHUSER_MOVABLE | __GFP_THISNODE.
                let failed = migrateFolios(b.heads, to: MigrationTarget(gfp: [.highuserMovable, .thisNode], nid: b.node)).failed
                if !failed.isEmpty { return failed.count + pages.count - end }
                for k in b.start..<end { status[k] = Int32(b.node) }
                return nil
            }
            for (i, addr) in pages.enumerated() {
                let node = Int(nodes[i])
                guard node >= 0, node < machineDescription.nrNodes else {
                    _ = flush(i)
                    throw .noDevice
                }
                if let b = batch, b.node != node, let n = flush(i) { return n }
                if batch == nil { batch = (node, i, []) }
                let r = addFolioForMigration(s, addr, node, &batch!.heads, all: flags.contains(.moveAll))
                if r == 1 { continue }
                status[i] = r == 0 ? Int32(node) : r
                // Entry i is answered: it is not among those left untried.
                if let n = flush(i) { return n - 1 }
            }
            return flush(pages.count) ?? 0
        }
    }

    /// do_pages_stat_array(): the node of the page mapped at `addr`, or
    /// -EFAULT (no VMA, the zero page) or -ENOENT (nothing or a special pte).
    func pageStat(_ s: Int, _ addr: UInt64) -> Int32 {
        guard let vi = mms[s].index(containing: addr) else { return -ScamemError.fault.rawValue }
        let v = mms[s].vmas[vi], pte = v.ptes[v.pteIndex(addr)]
        guard pte != 0, !v.flags.contains(.pfnMap) || pte & PTE.anon != 0 else { return -ScamemError.notFound.rawValue }
        if PTE.pfn(pte) == zeroPfn { return -ScamemError.fault.rawValue }
        guard let f = try? flags(of: PTE.pfn(pte)) else { return -ScamemError.notFound.rawValue }
        return Int32(layout.nid(f))
    }

    /// add_folio_for_migration() -> __add_folio_for_migration(): 1 when the
    /// folio at `addr` joins `heads`, 0 when it is on `node` already, else
    /// the entry's errno. folio_likely_mapped_shared() is the folio's
    /// mapcount above one per page (the kernel also guesses from the first
    /// page's own count, which the model does not keep).
    func addFolioForMigration(_ s: Int, _ addr: UInt64, _ node: Int, _ heads: inout Set<UInt64>, all: Bool) -> Int32 {
        // vma_migratable(): not VM_IO or VM_PFNMAP.
        guard let vi = mms[s].index(containing: addr), mms[s].vmas[vi].flags.isDisjoint(with: [.io, .pfnMap]) else {
            return -ScamemError.fault.rawValue
        }
        let v = mms[s].vmas[vi], pte = v.ptes[v.pteIndex(addr)]
        guard pte != 0 else { return -ScamemError.notFound.rawValue }
        let pfn = PTE.pfn(pte)
        if pfn == zeroPfn { return -ScamemError.fault.rawValue }
        if let f = try? flags(of: pfn), layout.nid(f) == node { return 0 }
        // folio_isolate_lru(): anon folios and shmem's page cache are on the
        // LRU; a folio queued once is isolated already.
        guard pte & PTE.anon != 0 || v.shmem != nil, let (_, d) = try? descriptor(of: pfn, PageType.folioTypes),
              !heads.contains(d.pointee.pfn) else { return -ScamemError.busy.rawValue }
        let shared = d.pointee.order == 0 ? d.pointee.mapcount > 1 : d.pointee.mapcount > 1 << d.pointee.order
        if shared && !all { return -ScamemError.permission.rawValue }
        heads.insert(d.pointee.pfn)
        return 1
    }
}
