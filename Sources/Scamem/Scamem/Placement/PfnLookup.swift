/// SCAMEM_PFN_LOOKUP: the word is a SCAMEM pointer to the object; node, zone
/// and section are rebuilt from the machine's pfn table (zone spans and the
/// section number), as the kernel's section_to_node_table does for node
/// under NODE_NOT_IN_PAGE_FLAGS.
struct PfnLookupPlacement: ScamemPlacement {
    func word(slot: Int, pfn: UInt64, in m: Machine) -> PageWord {
        .pointer(.scamem, descriptor: UInt64(slot + 1))
    }

    func flags(pfn: UInt64, word: PageWord, in m: Machine) -> UInt64? {
        guard let z = m.zoneIndex(spanning: pfn) else { return nil }
        return m.pageFlags(z, pfn)
    }

    func scamemSlot(pfn: UInt64, word: PageWord, in m: Machine) -> Int? {
        word.type == .scamem ? m.scamems.slot(descriptorID: word.descriptorID) : nil
    }
}
