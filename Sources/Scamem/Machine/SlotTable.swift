/// Objects named by handles: a slot and a generation packed in 64 bits
/// (`generation << 32 | slot + 1`), so a stale or made-up handle is told from
/// a live one without ever being dereferenced. C handles are these bits.
struct SlotTable<Record> {
    private var records: [Record?] = []
    private var generations: [UInt32] = []
    private var freeSlots: [Int] = []
    private(set) var live = 0

    /// Slots ever used: valid slots are `0..<capacity`.
    var capacity: Int { records.count }

    /// Stores `record` and returns its slot.
    mutating func insert(_ record: Record) -> Int {
        let slot: Int
        if let s = freeSlots.popLast() { slot = s } else {
            records.append(nil)
            generations.append(0)
            slot = records.count - 1
        }
        records[slot] = record
        generations[slot] &+= 1
        live += 1
        return slot
    }

    @discardableResult
    mutating func remove(_ slot: Int) -> Record? {
        guard let r = records[slot] else { return nil }
        records[slot] = nil
        freeSlots.append(slot)
        live -= 1
        return r
    }

    /// The handle bits of a live slot.
    func handle(_ slot: Int) -> UInt64 { UInt64(generations[slot]) << 32 | UInt64(slot + 1) }

    /// The live slot a handle names, or nil for a stale or foreign one.
    func slot(handle: UInt64) -> Int? {
        let s = Int(handle & 0xffff_ffff) - 1
        guard s >= 0, s < records.count, records[s] != nil,
              generations[s] == UInt32(truncatingIfNeeded: handle >> 32) else { return nil }
        return s
    }

    /// The live slot with index `id - 1` (a page word's descriptor id).
    func slot(descriptorID id: UInt64) -> Int? {
        guard id >= 1, id <= UInt64(records.count), records[Int(id - 1)] != nil else { return nil }
        return Int(id - 1)
    }

    /// A live record; the slot must have been validated.
    subscript(slot: Int) -> Record {
        get { records[slot]! }
        _modify { yield &records[slot]! }
    }

    /// Every live slot, lowest first.
    var liveSlots: [Int] { records.indices.filter { records[$0] != nil } }
}
