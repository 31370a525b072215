/// `gfp_t`: the kernel's `__GFP_*` bits at their values in
/// include/linux/gfp_types.h (6.12, x86_64 without KASAN_HW_TAGS or LOCKDEP,
/// so `__GFP_SKIP_ZERO`, `__GFP_SKIP_KASAN` and `__GFP_NOLOCKDEP` are 0), and
/// the `GFP_*` combinations of gfp_types.h. The C counterparts are
/// `SCAMEM_GFP_*`.
///
/// What the model does with them: the four zone modifiers pick the highest
/// zone (gfp_zone()); MOVABLE and RECLAIMABLE the migratetype
/// (gfp_migratetype()); THISNODE stops the zonelist at the first node; HIGH,
/// MEMALLOC/NOMEMALLOC, NOFAIL and the absence of DIRECT_RECLAIM choose the
/// watermark and reserves as gfp_to_alloc_flags() and
/// __gfp_pfmemalloc_flags() do; ACCOUNT sends alloc_pages_bulk() to the
/// single-page path as memcg does. The others are accepted and change
/// nothing: the model has no page contents, reclaim, cpusets or memcg.
@frozen
public struct GFP: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    // The zone modifiers (GFP_ZONEMASK).
    public static let dma = GFP(rawValue: 1 << 0)
    public static let highmem = GFP(rawValue: 1 << 1)
    public static let dma32 = GFP(rawValue: 1 << 2)
    public static let movable = GFP(rawValue: 1 << 3)
    // The rest, in ___GFP_*_BIT order (bit 9 is unused).
    public static let reclaimable = GFP(rawValue: 1 << 4)
    public static let high = GFP(rawValue: 1 << 5)
    public static let io = GFP(rawValue: 1 << 6)
    public static let fs = GFP(rawValue: 1 << 7)
    public static let zero = GFP(rawValue: 1 << 8)
    public static let directReclaim = GFP(rawValue: 1 << 10)
    public static let kswapdReclaim = GFP(rawValue: 1 << 11)
    public static let write = GFP(rawValue: 1 << 12)
    public static let nowarn = GFP(rawValue: 1 << 13)
    public static let retryMayfail = GFP(rawValue: 1 << 14)
    public static let nofail = GFP(rawValue: 1 << 15)
    public static let noretry = GFP(rawValue: 1 << 16)
    public static let memalloc = GFP(rawValue: 1 << 17)
    public static let comp = GFP(rawValue: 1 << 18)
    public static let nomemalloc = GFP(rawValue: 1 << 19)
    public static let hardwall = GFP(rawValue: 1 << 20)
    public static let thisNode = GFP(rawValue: 1 << 21)
    public static let account = GFP(rawValue: 1 << 22)
    public static let zerotags = GFP(rawValue: 1 << 23)
    /// __GFP_NO_OBJ_EXT (CONFIG_SLAB_OBJ_EXT, which memcg selects).
    public static let noObjExt = GFP(rawValue: 1 << 24)

    /// __GFP_RECLAIM
    public static let reclaim: GFP = [.directReclaim, .kswapdReclaim]
    /// GFP_ATOMIC
    public static let atomic: GFP = [.high, .kswapdReclaim]
    /// GFP_KERNEL: ZONE_NORMAL, then DMA32, then DMA.
    public static let kernel: GFP = [.reclaim, .io, .fs]
    /// GFP_KERNEL_ACCOUNT
    public static let kernelAccount: GFP = [.kernel, .account]
    /// GFP_NOWAIT
    public static let nowait: GFP = [.kswapdReclaim, .nowarn]
    /// GFP_USER
    public static let user: GFP = [.reclaim, .io, .fs, .hardwall]
    /// GFP_HIGHUSER (ZONE_NORMAL on x86_64, which has no ZONE_HIGHMEM)
    public static let highuser: GFP = [.user, .highmem]
    /// GFP_HIGHUSER_MOVABLE: ZONE_MOVABLE first; user anon and page cache.
    public static let highuserMovable: GFP = [.highuser, .movable]

    /// Every bit the kernel defines: __GFP_BITS_MASK less the unused bit.
    static let known = GFP(rawValue: ((1 << 25) - 1) & ~(1 << 9))

    /// gfp_zone(): GFP_ZONE_TABLE over the four zone modifiers, without
    /// CONFIG_HIGHMEM (HIGHMEM alone is NORMAL); nil for GFP_ZONE_BAD's mixes.
    var zone: ZoneType? {
        switch rawValue & 0xf {
        case 0x0, 0x2, 0x8: .normal
        case 0x1, 0x9: .dma
        case 0x4, 0xc: .dma32
        case 0xa: .movable
        default: nil
        }
    }

    /// gfp_migratetype(); nil for MOVABLE with RECLAIMABLE, which the
    /// kernel warns of (VM_WARN_ON in gfp_migratetype()).
    var migratetype: MigrateType? {
        switch (contains(.movable), contains(.reclaimable)) {
        case (false, false): .unmovable
        case (true, false): .movable
        case (false, true): .reclaimable
        case (true, true): nil
        }
    }
}
