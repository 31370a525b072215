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
    /// then counts as failed: `.busy` here.
    func checkMigratable(_ d: Memdesc, cached: Bool) throws(ScamemError) {
        guard d.type == .anon || d.type == .file && cached else { throw .invalid }
        guard d.refcount == d.mapcount + (cached ? 1 : 0) else { throw .busy }
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
        for pfn in heads {
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
        for (id, pfn) in sources {
            let d = descriptors.lookup(id)!
            do throws(ScamemError) {
                try checkMigratable(d.pointee, cached: cache[id] != nil)
                let nid = target.nid ?? layout.nid(d.pointee.flags)
                let (new, nd) = try createDescriptor(d.pointee.type, order: Int(d.pointee.order), gfp: target.gfp, nid: nid)
                nd.pointee.refcount = d.pointee.refcount
                nd.pointee.mapcount = d.pointee.mapcount
                nd.pointee.callerRefs = 0
                dest[id] = new
            } catch {
                failed[pfn] = error
            }
        }
        guard !dest.isEmpty else { return ([:], failed) }
        // The rmap walk: every pte of a moving folio, anon or shmem.
        for s in mms.liveSlots {
            for vi in mms[s].vmas.indices {
                for i in mms[s].vmas[vi].ptes.indices {
                    let pte = mms[s].vmas[vi].ptes[i]
                    guard pte != 0 else { continue }
                    let pfn = PTE.pfn(pte)
                    guard pfn < endPfn else { continue }
                    let w = PageWord(rawValue: words[Int(pfn)])
                    guard PageType.folioTypes & w.type.bit != 0, let to = dest[w.descriptorID] else { continue }
                    mms[s].vmas[vi].ptes[i] = pte & ~PTE.pfnMask | (to + (pfn - sources[w.descriptorID]!) + 1)
                }
            }
        }
        var moved: [UInt64: UInt64] = [:]
        for (id, to) in dest {
            if let (f, i) = cache[id] { shmemFiles[f].pages[i] = to + 1 }
            moved[sources[id]!] = to
            destroyDescriptor(id, descriptors.lookup(id)!)
        }
        return (moved, failed)
    }
}
