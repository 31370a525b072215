/// SCAMEM_PACKED: the word is type SCAMEM with a scamem index packed between
/// the type bits and the layout's node/zone/section fields, which stay in
/// the word as in an inline one. Nothing else is needed per page, but only
/// 2^indexBits scamems can exist: creating one more fails with `.noSpace`.
/// The index leads to the object through a table, counted at 8 bytes per
/// index in use (an XArray's slots, as a lower bound).
final class PackedStrategy: PlacementStrategy {
    let kind = Strategy.packed
    var wordNamesObject: Bool { true }
    /// Bits for the index: from bit 4 up to the lowest layout field, or fewer
    /// if the machine asks for fewer.
    let indexBits: Int
    private var table: [Int?] = []
    private var freeIndices: [Int] = []
    private var indexOf: [Int: Int] = [:]

    /// `indexBits` 0 takes every free bit (at most 32).
    init(layout l: FlagsLayout, indexBits asked: Int) throws(ScamemError) {
        var lowest = l.zonesShift
        if l.nodesWidth != 0 { lowest = min(lowest, l.nodesShift) }
        if l.sectionsWidth != 0 { lowest = min(lowest, l.sectionsShift) }
        let available = Int(lowest) - 4
        guard asked >= 0, asked <= available, available >= 1 else { throw .invalid }
        indexBits = asked == 0 ? min(available, 32) : asked
    }

    /// How many scamems can exist at once.
    var bound: Int { 1 << indexBits }

    func attach(slot: Int, usermap: Bool, in m: Machine) throws(ScamemError) {
        let index: Int
        if let i = freeIndices.popLast() { index = i } else {
            guard table.count < bound else { throw .noSpace }
            table.append(nil)
            index = table.count - 1
        }
        table[index] = slot
        indexOf[slot] = index
        let b = m.scamems[slot].block
        for i in 0..<b.nr {
            let pfn = b.pages[i]
            let flags = PageWord(rawValue: m.words[Int(pfn)]).flags & m.layout.mask
            m.words[Int(pfn)] = UInt64(PageType.scamem.rawValue) | UInt64(index) << 4 | flags
        }
    }

    func detach(slot: Int, in m: Machine) {
        guard let index = indexOf.removeValue(forKey: slot) else { return }
        table[index] = nil
        freeIndices.append(index)
    }

    func flags(pfn: UInt64, word: PageWord, in m: Machine) -> UInt64? { word.rawValue & m.layout.mask }

    func page(_ pfn: UInt64, word: PageWord, through vmaObject: Int?, in m: Machine) -> ScamemPage? {
        guard word.type == .scamem else { return nil }
        let index = Int((word.rawValue >> 4) & ((1 << UInt64(indexBits)) - 1))
        guard index < table.count, let slot = table[index] else { return nil }
        return ScamemPage(pfn: pfn, slot: slot)
    }

    func check(in m: Machine, _ bad: Machine.Report) {
        checkObjectReferences(in: m, bad)
        for (slot, index) in indexOf where m.scamems.slot(descriptorID: UInt64(slot + 1)) == nil || table[index] != slot {
            bad(nil, .descriptor, "packed index \(index) and scamem \(slot + 1) disagree")
        }
    }

    func cost(in m: Machine) -> StrategyCost {
        StrategyCost(bytesPerPage: UInt64(DescriptorSize.word), objectBytes: liveObjectBytes(in: m),
                     extraBytes: UInt64(indexOf.count) * 8 + hwpoisonSideBytes(in: m))
    }
}
