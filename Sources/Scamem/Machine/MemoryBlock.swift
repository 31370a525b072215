/// The state of a memory block (`memory_block->state`, drivers/base/memory.c).
/// The C counterpart is `SCAMEM_MEM_*`.
public enum MemoryBlockState: UInt8, Sendable {
    /// No memmap: never added (add_memory()) or removed again. The kernel
    /// has no memory block device then.
    case absent = 0
    /// MEM_ONLINE: its pages are in a zone.
    case online = 1
    /// MEM_OFFLINE: memmap, but no zone; pfn_to_online_page() is NULL.
    case offline = 4
}

/// One memory block: memory_block_size_bytes() of physical memory, the unit
/// of online_pages()/offline_pages().
struct MemoryBlock {
    var state: MemoryBlockState
    /// `mem->nid`: the node its memory was added to (the last one, for an
    /// early block across nodes); -1 while absent.
    var nid: Int32
    /// `mem->zone` as a zone index: every pfn with memmap belongs to it;
    /// `mixedZones` for an early block holding several zones (the kernel's
    /// NULL, which also refuses offlining); -1 where none.
    var zone: Int32

    static let mixedZones: Int32 = -2
}

/// What `scamem_memory_block_info()` reports of one memory block.
public struct MemoryBlockInfo: Hashable, Sendable {
    /// The block id (`/sys/devices/system/memory/memoryN`).
    public var id: Int
    public var startPfn: UInt64
    public var nrPages: UInt64
    public var state: MemoryBlockState
    /// -1 while absent.
    public var nid: Int
    /// The zone it is online in; nil while offline or absent, or for an early
    /// block that holds several zones (valid_zones "none").
    public var zone: ZoneType?
}

/// x86_64's probe_memory_block_size() (arch/x86/mm/init_64.c) on bare metal
/// (no X86_FEATURE_HYPERVISOR): a section below 64 GiB of boot memory,
/// MAX_BLOCK_SIZE (2 GiB) from there. As log2 of bytes.
func probeMemoryBlockSizeOrder(endPfn: UInt64, sectionSizeBits: UInt64) -> UInt64 {
    let memSizeForLargeBlock: UInt64 = 64 << 30
    return endPfn << 12 < memSizeForLargeBlock ? sectionSizeBits : max(sectionSizeBits, 31)
}

/// A run of pfns that belongs to one zone.
struct ZoneRange: Hashable {
    var startPfn: UInt64
    var endPfn: UInt64
    var zone: Int32
}

extension Machine {
    var memoryBlockPages: UInt64 { 1 << memoryBlockShift }

    /// memory_dev_init() and add_boot_memory_block(): a block with memmap is
    /// online, in the one zone that holds all of it
    /// (early_node_zone_for_memory_block()) or in several.
    func initMemoryBlocks() {
        memoryBlocks.update(repeating: MemoryBlock(state: .absent, nid: -1, zone: -1), count: nrMemoryBlocks)
        let pagesPerSection = UInt64(1) << UInt64(layout.pfnSectionShift)
        // Pages with memmap per block, and of them the pages in zone ranges.
        var memmap = [UInt64](repeating: 0, count: nrMemoryBlocks)
        var covered = [UInt64](repeating: 0, count: nrMemoryBlocks)
        for s in 0..<Int(nrSections) where sectionHasMemmap[s] {
            let start = UInt64(s) * pagesPerSection
            memmap[Int(start >> memoryBlockShift)] += min(pagesPerSection, endPfn - start)
        }
        for r in zoneRanges {
            var p = r.startPfn
            while p < r.endPfn {
                let end = min(r.endPfn, (p | (pagesPerSection - 1)) + 1)
                if sectionHasMemmap[Int(layout.sectionNumber(ofPfn: p))] {
                    let b = Int(p >> memoryBlockShift)
                    let z = zones[Int(r.zone)]
                    covered[b] += end - p
                    let mb = memoryBlocks[b]
                    memoryBlocks[b] = MemoryBlock(
                        state: .online, nid: Int32(z.nid),
                        zone: mb.zone == -1 || mb.zone == r.zone ? r.zone : MemoryBlock.mixedZones)
                }
                p = end
            }
        }
        // pfns with memmap in no zone (a gap between zones in one section):
        // the block's zone does not answer for all of it.
        for b in 0..<nrMemoryBlocks where memoryBlocks[b].zone >= 0 && covered[b] != memmap[b] {
            memoryBlocks[b].zone = MemoryBlock.mixedZones
        }
    }

    /// The checker's view of the memory blocks: a block is absent without
    /// memmap and offline or online with it; an online block's zone answers
    /// for every pfn with memmap in it (each in a range of that zone), a
    /// mixed one is online, an offline or absent one has none. O(blocks +
    /// sections + ranges).
    func checkMemoryBlocks(_ bad: Report) {
        let pagesPerSection = UInt64(1) << UInt64(layout.pfnSectionShift)
        var cursor = 0
        for b in 0..<nrMemoryBlocks {
            let mb = memoryBlocks[b], start = UInt64(b) << memoryBlockShift
            let end = min(endPfn, start + memoryBlockPages)
            var withMemmap = false
            var s = start
            while s < end {
                let sEnd = min(end, s + pagesPerSection)
                defer { s = sEnd }
                guard sectionHasMemmap[Int(layout.sectionNumber(ofPfn: s))] else { continue }
                withMemmap = true
                guard mb.zone >= 0 else { continue }
                // The ranges must cover [s, sEnd) with this zone alone.
                while cursor < zoneRanges.count, zoneRanges[cursor].endPfn <= s { cursor += 1 }
                var p = s, k = cursor
                while p < sEnd, k < zoneRanges.count, zoneRanges[k].startPfn <= p, zoneRanges[k].zone == mb.zone {
                    p = zoneRanges[k].endPfn
                    k += 1
                }
                if p < sEnd { bad(p, .memmap, "memory block \(b) says zone \(mb.zone), pfn \(p) is in another or none") }
            }
            let ok = switch mb.state {
            case .absent: !withMemmap && mb.zone == -1
            case .offline: withMemmap && mb.zone == -1
            case .online: withMemmap && mb.zone != -1
            }
            if !ok { bad(start, .memmap, "memory block \(b) is \(mb.state) with zone \(mb.zone) and \(withMemmap ? "" : "no ")memmap") }
        }
    }

    /// The memory block holding `pfn`. The C counterpart is `scamem_memory_block_info()`.
    public func memoryBlock(containing pfn: UInt64) throws(ScamemError) -> MemoryBlockInfo {
        guard pfn < endPfn else { throw .outOfRange }
        return lock.withLock { memoryBlockInfo(Int(pfn >> memoryBlockShift)) }
    }

    /// memory_block_size_bytes(). The C counterpart is `scamem_memory_block_size_bytes()`.
    public var memoryBlockSizeBytes: UInt64 { memoryBlockPages << 12 }

    /// The number of memory block ids, `[0, endPfn)` rounded up to blocks.
    public var memoryBlockCount: Int { nrMemoryBlocks }

    /// What SCAMEM_PFN_LOOKUP needs to answer page_zone() with no zone bits
    /// in the word: the memory blocks' zones, 2 bytes a block (a zone index
    /// of node * MAX_NR_ZONES + zone: 13 bits for 1024 nodes), and for each
    /// early block that holds several zones the zone ranges inside it, 16
    /// bytes each (a pfn and a zone index). Inline strategies read the zone
    /// from the word and need none of it.
    public var pfnZoneTableBytes: UInt64 { lock.withLock { pfnZoneTableBytesLocked } }

    var pfnZoneTableBytesLocked: UInt64 {
        var bytes = UInt64(nrMemoryBlocks) * 2
        for r in zoneRanges {
            var b = Int(r.startPfn >> memoryBlockShift)
            while b < nrMemoryBlocks, UInt64(b) << memoryBlockShift < r.endPfn {
                if memoryBlocks[b].zone == MemoryBlock.mixedZones { bytes += 16 }
                b += 1
            }
        }
        return bytes
    }

    func memoryBlockInfo(_ b: Int) -> MemoryBlockInfo {
        let mb = memoryBlocks[b]
        return MemoryBlockInfo(id: b, startPfn: UInt64(b) << memoryBlockShift, nrPages: memoryBlockPages,
                               state: mb.state, nid: Int(mb.nid),
                               zone: mb.zone >= 0 ? zones[Int(mb.zone)].zone : nil)
    }
}
