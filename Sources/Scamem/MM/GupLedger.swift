#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// References GUP holds on one page (the model's ledger).
struct GupHolds: Hashable {
    var gets: UInt32 = 0
    var pins: UInt32 = 0
}

/// The GUP ledger: which pages get_user_pages() and pin_user_pages() hold,
/// and how often, so that a put_page() or unpin_user_page() that was never
/// taken is refused rather than freeing a page someone else holds. A debug
/// ledger like CONFIG_PAGE_PINNER, kept as page_ext keeps per-page debug data
/// (mm/page_ext.c: an array per present section, allocated by
/// init_section_page_ext()): one 8-byte cell per pfn, allocated a section at a
/// time on the first hold in that section. Taking and dropping a hold is O(1)
/// with no hashing or allocation; a section's cells stay until the machine
/// goes, as page_ext's do until memory is offlined.
///
/// A cell is an atomic: pins in its low 32 bits, gets in its high 32; a
/// section's array is installed with a compare-exchange, so holders on
/// different pages need no common lock.
struct GupLedger {
    private let sections: UnsafeMutablePointer<Atomic<UInt>>
    private let nrSections: Int
    private let sectionShift: UInt64
    /// Pages per section less one: a pfn's index in its section's cells.
    private let indexMask: UInt64
    private var pagesPerSection: Int { Int(indexMask) + 1 }

    /// A ledger for `nrSections` sections of 2^`sectionShift` pages, or nil
    /// without memory for its section table.
    init?(nrSections: Int, sectionShift: UInt64) {
        guard let t = hostAllocate(UInt.self, count: nrSections, zeroed: true) else { return nil }
        sections = UnsafeMutableRawPointer(t).bindMemory(to: Atomic<UInt>.self, capacity: max(nrSections, 1))
        self.nrSections = nrSections
        self.sectionShift = sectionShift
        indexMask = (1 << sectionShift) - 1
    }

    func deallocate() {
        for s in 0..<nrSections { free(UnsafeMutableRawPointer(bitPattern: sections[s].load(ordering: .relaxed))) }
        free(sections)
    }

    private static func holds(_ c: UInt64) -> GupHolds { GupHolds(gets: UInt32(truncatingIfNeeded: c >> 32), pins: UInt32(truncatingIfNeeded: c)) }
    private static func unit(pin: Bool) -> UInt64 { pin ? 1 : 1 << 32 }

    /// The cells of the section holding `pfn`, if it has any.
    @inline(__always)
    private func cells(_ pfn: UInt64) -> UnsafeMutablePointer<Atomic<UInt64>>? {
        let s = Int(truncatingIfNeeded: pfn &>> sectionShift)
        guard s < nrSections, let p = UnsafeMutableRawPointer(bitPattern: sections[s].load(ordering: .acquiring)) else { return nil }
        return p.assumingMemoryBound(to: Atomic<UInt64>.self)
    }

    /// The cells of the section holding `pfn`, allocated (zeroed) if it has
    /// none yet; nil without host memory. `pfn` is below the machine's end.
    @inline(__always)
    private func cellsAllocating(_ pfn: UInt64) -> UnsafeMutablePointer<Atomic<UInt64>>? {
        if let c = cells(pfn) { return c }
        guard let fresh = calloc(pagesPerSection, 8) else { return nil }
        let s = Int(truncatingIfNeeded: pfn &>> sectionShift)
        let (won, current) = sections[s].compareExchange(expected: 0, desired: UInt(bitPattern: fresh),
                                                          ordering: .acquiringAndReleasing)
        if !won { free(fresh) }
        return UnsafeMutableRawPointer(bitPattern: won ? UInt(bitPattern: fresh) : current)!
            .assumingMemoryBound(to: Atomic<UInt64>.self)
    }

    @inline(__always)
    private func index(_ pfn: UInt64) -> Int { Int(truncatingIfNeeded: pfn & indexMask) }

    /// What GUP holds on `pfn`.
    func holds(_ pfn: UInt64) -> GupHolds {
        cells(pfn).map { Self.holds($0[index(pfn)].load(ordering: .relaxed)) } ?? GupHolds()
    }

    /// Can the section of `pfn` record a hold? False only without host memory.
    @inline(__always)
    func prepare(_ pfn: UInt64) -> Bool { cellsAllocating(pfn) != nil }

    /// Records one more hold on `pfn`, whose section was prepared. The page's
    /// own count (the folio's or scamem's refcount) was checked for overflow
    /// first and bounds this one: a count below 2^31 never carries a half
    /// into the other.
    @inline(__always)
    func take(_ pfn: UInt64, pin: Bool) {
        cells(pfn).unsafelyUnwrapped[index(pfn)].wrappingAdd(Self.unit(pin: pin), ordering: .relaxed)
    }

    /// `take(_:pin:)` of each of `pfns` (sections prepared), finding each
    /// section's cells once for a run of pages in it.
    @inline(__always)
    func take(_ pfns: UnsafeBufferPointer<UInt64>, pin: Bool) {
        let unit = Self.unit(pin: pin)
        var section = UInt64.max
        var c: UnsafeMutablePointer<Atomic<UInt64>>? = nil
        for pfn in pfns {
            if pfn &>> sectionShift != section {
                section = pfn &>> sectionShift
                c = cells(pfn)
            }
            c.unsafelyUnwrapped[index(pfn)].wrappingAdd(unit, ordering: .relaxed)
        }
    }

    /// Drops one hold on `pfn`; false (nothing changed) if GUP holds none of that kind.
    @inline(__always)
    func drop(_ pfn: UInt64, pin: Bool) -> Bool {
        guard let c = cells(pfn) else { return false }
        let cell = c + index(pfn)
        var old = cell.pointee.load(ordering: .relaxed)
        while true {
            let has = pin ? old & 0xffff_ffff != 0 : old >> 32 != 0
            guard has else { return false }
            let (done, now) = cell.pointee.compareExchange(expected: old, desired: old &- Self.unit(pin: pin),
                                                           ordering: .relaxed)
            if done { return true }
            old = now
        }
    }

    /// Every page GUP holds, lowest pfn first.
    func forEach(_ body: (UInt64, GupHolds) -> Void) {
        for s in 0..<nrSections {
            guard let p = UnsafeMutableRawPointer(bitPattern: sections[s].load(ordering: .acquiring)) else { continue }
            let c = p.assumingMemoryBound(to: Atomic<UInt64>.self)
            for i in 0..<pagesPerSection {
                let v = c[i].load(ordering: .relaxed)
                if v != 0 { body(UInt64(s) << sectionShift | UInt64(i), Self.holds(v)) }
            }
        }
    }
}
