/// SCAMEM_FLAGS_ARRAY: the word is a SCAMEM pointer; the scamem keeps each
/// page's flags (node/zone/section) in an array beside pages[]. To answer for
/// a page, the page's index must first be found by searching pages[]: the
/// cost Wilcox names in the seed mail, measured here.
final class FlagsArrayStrategy: PlacementStrategy {
    let kind = Strategy.flagsArray
    var wordNamesObject: Bool { true }
    var wordIsPointer: Bool { true }
    var extraBytesPerPage: Int { 8 }

    func attach(slot: Int, usermap: Bool, in m: Machine) throws(ScamemError) {
        // Copied once from the pages' words as they come (BUDDY or MISC).
        let b = m.scamems[slot].block
        for i in 0..<b.nr { b.extra[i] = PageWord(rawValue: m.words[Int(b.pages[i])]).flags }
        writePointerWords(slot: slot, in: m)
    }

    func flags(pfn: UInt64, word: PageWord, in m: Machine) -> UInt64? {
        guard let slot = pointerSlot(word, in: m) else { return nil }
        let b = m.scamems[slot].block
        for i in 0..<b.nr where b.pages[i] == pfn { return b.extra[i] }
        return nil
    }

    func flags(ofPage index: Int, slot: Int, in m: Machine) -> UInt64? { m.scamems[slot].block.extra[index] }

    func page(_ pfn: UInt64, word: PageWord, through vmaObject: Int?, in m: Machine) -> ScamemPage? {
        pointerSlot(word, in: m).map { ScamemPage(pfn: pfn, slot: $0) }
    }

    func check(in m: Machine, _ bad: Machine.Report) {
        checkObjectReferences(in: m, bad)
        for slot in m.scamems.liveSlots where m.scamems[slot].ownsPages {
            let b = m.scamems[slot].block
            for i in 0..<b.nr {
                let pfn = b.pages[i]
                guard let z = m.zoneIndex(ofPfn: pfn) else { continue }
                if b.extra[i] != m.pageFlags(z, pfn) {
                    bad(pfn, .placement, "flags[\(i)] of scamem \(slot + 1) is \(hex(b.extra[i])), the machine places it at \(hex(m.pageFlags(z, pfn)))")
                }
            }
        }
    }
}
