/// Where a scamem page's node/zone/section live and how a bare page finds
/// its scamem: the question the seed mail leaves open. One strategy per file
/// conforms; the rest of the model asks only through this interface.
protocol ScamemPlacement: Sendable {
    /// The word a page gets when it joins scamem `slot` (owned pages only).
    func word(slot: Int, pfn: UInt64, in m: Machine) -> PageWord
    /// memdesc flags (node/zone/section) of a page whose word is `word`:
    /// what page_to_nid() reads, and what the page gets back when freed.
    func flags(pfn: UInt64, word: PageWord, in m: Machine) -> UInt64?
    /// The scamem slot owning the page, from the page alone (put/unpin).
    func scamemSlot(pfn: UInt64, word: PageWord, in m: Machine) -> Int?
}
