#if canImport(Glibc)
import Glibc
#endif

/// The free blocks of one order in one zone (`struct free_area`), kept as a
/// bitmap over naturally aligned block indices with a summary level, so that
/// "is my buddy free", insert and remove are O(1) and "lowest free block" is a
/// short scan. Lowest-first makes allocation deterministic.
struct FreeArea {
    private(set) var bits: UnsafeMutablePointer<UInt64>
    private var summary: UnsafeMutablePointer<UInt64>
    let nrBlocks: Int
    private let nrWords: Int
    private let nrSummary: Int
    /// No summary word below this one has a bit set.
    private var hint = 0
    /// nr_free
    private(set) var nrFree: UInt64 = 0

    init?(nrBlocks: Int) {
        self.nrBlocks = nrBlocks
        nrWords = (nrBlocks + 63) >> 6
        nrSummary = (nrWords + 63) >> 6
        guard let b = hostAllocate(UInt64.self, count: nrWords, zeroed: true) else { return nil }
        guard let s = hostAllocate(UInt64.self, count: nrSummary, zeroed: true) else { free(b); return nil }
        bits = b
        summary = s
    }

    func release() {
        free(bits)
        free(summary)
    }

    @inline(__always)
    func contains(_ index: Int) -> Bool {
        index < nrBlocks && bits[index >> 6] & (1 << UInt64(index & 63)) != 0
    }

    @inline(__always)
    mutating func insert(_ index: Int) {
        let w = index >> 6
        bits[w] |= 1 << UInt64(index & 63)
        summary[w >> 6] |= 1 << UInt64(w & 63)
        if w >> 6 < hint { hint = w >> 6 }
        nrFree += 1
    }

    @inline(__always)
    mutating func remove(_ index: Int) {
        let w = index >> 6
        bits[w] &= ~(1 << UInt64(index & 63))
        if bits[w] == 0 { summary[w >> 6] &= ~(1 << UInt64(w & 63)) }
        nrFree -= 1
    }

    /// The lowest free block index, if any.
    mutating func lowest() -> Int? {
        // free_area_empty(): O(1), as most of a zone's lists per migratetype are.
        guard nrFree > 0 else { return nil }
        var s = hint
        while s < nrSummary {
            let sw = summary[s]
            if sw != 0 {
                hint = s
                let w = s << 6 + sw.trailingZeroBitCount
                return w << 6 + bits[w].trailingZeroBitCount
            }
            s += 1
        }
        hint = nrSummary
        return nil
    }

    /// Every free block index, lowest first (for the checker).
    func forEach(_ body: (Int) -> Void) {
        for w in 0..<nrWords {
            var x = bits[w]
            while x != 0 {
                body(w << 6 + x.trailingZeroBitCount)
                x &= x - 1
            }
        }
    }
}
