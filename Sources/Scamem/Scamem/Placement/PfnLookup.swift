/// SCAMEM_PFN_LOOKUP: the word is a SCAMEM pointer to the object; node, zone
/// and section are rebuilt from the machine's pfn table when asked and at
/// free time: the memory block's zone (`memory_block->zone`, one load), a
/// search of the zone ranges for an early block that holds several zones,
/// and the section number; as the kernel's section_to_node_table does for
/// node under NODE_NOT_IN_PAGE_FLAGS.
final class PfnLookupStrategy: PlacementStrategy {
    let kind = Strategy.pfnLookup
    var wordNamesObject: Bool { true }
    var wordIsPointer: Bool { true }

    func attach(slot: Int, usermap: Bool, in m: Machine) throws(ScamemError) {
        writePointerWords(slot: slot, in: m)
    }

    func flags(pfn: UInt64, word: PageWord, in m: Machine) -> UInt64? {
        m.zoneIndex(ofPfn: pfn).map { m.pageFlags($0, pfn) }
    }

    func page(_ pfn: UInt64, word: PageWord, through vmaObject: Int?, in m: Machine) -> ScamemPage? {
        pointerSlot(word, in: m).map { ScamemPage(pfn: pfn, slot: $0) }
    }

    func check(in m: Machine, _ bad: Machine.Report) {
        checkObjectReferences(in: m, bad)
    }
}
