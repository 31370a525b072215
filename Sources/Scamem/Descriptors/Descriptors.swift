/// Allocation and freeing shared by every descriptor type: pages from the
/// buddy allocator, pointer words in, BUDDY words back out with the
/// descriptor's node/zone/section.
extension Machine {
    func allocDescriptor(_ type: PageType, order: Int, gfp: GFP, nid: Int?,
                         cacheID: UInt32 = 0, objects: UInt32 = 0) throws(ScamemError) -> UInt64 {
        try lock.withLock { () throws(ScamemError) -> UInt64 in
            try createDescriptor(type, order: order, gfp: gfp, nid: nid, cacheID: cacheID, objects: objects).pfn
        }
    }

    /// Pages and a descriptor with refcount 1, pointer words written. Under the lock.
    func createDescriptor(_ type: PageType, order: Int, gfp: GFP, nid: Int?, cacheID: UInt32 = 0,
                          objects: UInt32 = 0, refcount: Int32 = 1) throws(ScamemError) -> (pfn: UInt64, desc: UnsafeMutablePointer<Memdesc>) {
        let (pfn, z) = try allocBlock(order: order, gfp: gfp, nid: nid)
        let desc = Memdesc(pfn: pfn, mapcount: 0, type: type, order: UInt8(order), cacheID: cacheID, objects: objects)
        let flags = pageFlags(z, pfn)
        guard let id = try? descriptors.allocate(desc, flags: flags, refcount: refcount), let d = descriptors.lookup(id) else {
            freeBlock(pfn, order, flags: flags)
            throw .noMemory
        }
        setWords(pfn, order, .pointer(type, descriptor: id))
        return (pfn, d)
    }

    /// The descriptor owning `pfn` if its word's type is in the mask `types`
    /// (a bit per `PageType.bit`); the errors
    /// every descriptor call shares otherwise.
    func descriptor(of pfn: UInt64, _ types: UInt16) throws(ScamemError) -> (id: UInt64, desc: UnsafeMutablePointer<Memdesc>) {
        let w = try checkedWord(pfn)
        if w.type == .buddy { throw .alreadyFree }
        guard types & w.type.bit != 0, let d = descriptors.lookup(w.descriptorID) else {
            throw isHole(pfn) ? .noPage : .invalid
        }
        return (w.descriptorID, d)
    }

    /// Frees the descriptor and hands its pages back.
    func destroyDescriptor(_ id: UInt64, _ d: UnsafeMutablePointer<Memdesc>) {
        let (pfn, order, flags) = (d.pointee.pfn, Int(d.pointee.order), d.flags)
        descriptors.deallocate(id)
        freeBlock(pfn, order, flags: flags)
    }

    func freeDescriptor(_ pfn: UInt64, _ type: PageType) throws(ScamemError) {
        try lock.withLock { () throws(ScamemError) in
            let (id, d) = try descriptor(of: pfn, type.bit)
            destroyDescriptor(id, d)
        }
    }
}
