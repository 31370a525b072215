import CScamem
import Glibc
import Scamem

@inline(__always)
func mmID(_ mm: OpaquePointer?) -> MMID { MMID(rawValue: UInt64(UInt(bitPattern: mm))) }

@c @implementation
public func scamem_mm_new(_ m: OpaquePointer!, _ out: UnsafeMutablePointer<OpaquePointer?>!) -> Int32 {
    onMachine(m) { m throws(ScamemError) in
        guard let out else { throw .invalid }
        out.pointee = OpaquePointer(bitPattern: UInt(try m.mmNew().rawValue))
        return 0
    }
}

@c @implementation
public func scamem_mm_exit(_ m: OpaquePointer!, _ mm: OpaquePointer!) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.mmExit(mmID(mm)) }
}

@c @implementation
public func scamem_mmap(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ addr: UInt64, _ len: UInt64, _ flags: UInt32,
                        _ out: UnsafeMutablePointer<UInt64>!) -> Int32 {
    mapping(m, out) { m throws(ScamemError) in
        try m.mmap(mmID(mm), addr: addr, length: len, flags: MapFlags(rawValue: flags))
    }
}

@c @implementation
public func scamem_do_mmap(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ addr: UInt64, _ len: UInt64, _ prot: UInt32,
                           _ flags: UInt32, _ out: UnsafeMutablePointer<UInt64>!) -> Int32 {
    mapping(m, out) { m throws(ScamemError) in
        try m.mmap(mmID(mm), addr: addr, length: len, prot: ProtFlags(rawValue: prot), flags: MapFlags(rawValue: flags))
    }
}

@c @implementation
public func scamem_mprotect(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ addr: UInt64, _ len: UInt64,
                            _ prot: UInt32) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.mprotect(mmID(mm), addr: addr, length: len, prot: ProtFlags(rawValue: prot)) }
}

@c @implementation
public func scamem_mremap(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ oldAddr: UInt64, _ oldLen: UInt64,
                          _ newLen: UInt64, _ flags: UInt32, _ newAddr: UInt64,
                          _ out: UnsafeMutablePointer<UInt64>!) -> Int32 {
    mapping(m, out) { m throws(ScamemError) in
        try m.mremap(mmID(mm), oldAddr: oldAddr, oldLength: oldLen, newLength: newLen,
                     flags: MremapFlags(rawValue: flags), newAddr: newAddr)
    }
}

@c @implementation
public func scamem_madvise(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ addr: UInt64, _ len: UInt64,
                           _ advice: Int32) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.madvise(mmID(mm), addr: addr, length: len, advice: Madvice(rawValue: advice)) }
}

@c @implementation
public func scamem_fork(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ child: UnsafeMutablePointer<OpaquePointer?>!) -> Int32 {
    onMachine(m) { m throws(ScamemError) in
        guard let child else { throw .invalid }
        child.pointee = OpaquePointer(bitPattern: UInt(try m.fork(mmID(mm)).rawValue))
        return 0
    }
}

@c @implementation
public func scamem_fixup_user_fault(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ addr: UInt64, _ faultFlags: UInt32,
                                    _ pfn: UnsafeMutablePointer<UInt64>!) -> Int32 {
    mapping(m, pfn) { m throws(ScamemError) in try m.fixupUserFault(mmID(mm), addr, flags: FaultFlags(rawValue: faultFlags)) }
}

@c @implementation
public func scamem_zero_pfn(_ m: OpaquePointer!) -> Int64 {
    withMachine(m, orElse: Int64(-EINVAL)) { m in
        errnoResult64 { () throws(ScamemError) -> Int64 in
            guard let z = m.zeroPagePfn else { throw .notFound }
            return Int64(z)
        }
    }
}

@c @implementation
public func scamem_munmap(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ addr: UInt64, _ len: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.munmap(mmID(mm), addr: addr, length: len) }
}

@c @implementation
public func scamem_remap_vmalloc_range_partial(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ uaddr: UInt64,
                                               _ kaddr: UInt64, _ pgoff: UInt64, _ size: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in
        try m.remapVmallocRangePartial(mmID(mm), uaddr: uaddr, kaddr: kaddr, pgoff: pgoff, size: size)
    }
}

@c @implementation
public func scamem_remap_vmalloc_range(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ uaddr: UInt64, _ kaddr: UInt64,
                                       _ pgoff: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.remapVmallocRange(mmID(mm), uaddr: uaddr, kaddr: kaddr, pgoff: pgoff) }
}

@c @implementation
public func scamem_handle_mm_fault(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ addr: UInt64,
                                   _ pfn: UnsafeMutablePointer<UInt64>!) -> Int32 {
    mapping(m, pfn) { m throws(ScamemError) in try m.handleMMFault(mmID(mm), addr) }
}

@c @implementation
public func scamem_follow_page(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ addr: UInt64) -> Int64 {
    withMachine(m, orElse: Int64(-EINVAL)) { m in
        errnoResult64 { () throws(ScamemError) -> Int64 in Int64(try m.followPage(mmID(mm), addr)) }
    }
}

@c @implementation
public func scamem_find_vma(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ addr: UInt64,
                            _ out: UnsafeMutablePointer<scamem_vma>!) -> Int32 {
    onMachine(m) { m throws(ScamemError) in
        guard let out else { throw .invalid }
        let v = try m.findVMA(mmID(mm), addr)
        out.pointee = scamem_vma(start: v.start, end: v.end, mapped_pages: UInt64(v.mappedPages),
                                 scamem: v.scamem.flatMap(scamemHandle), vm_flags: v.flags.rawValue,
                                 anonymous: v.anonymous ? 1 : 0)
        return 0
    }
}

func userPages(_ m: OpaquePointer?, _ mm: OpaquePointer?, _ start: UInt64, _ nr: UInt64, _ flags: UInt32,
               _ pfns: UnsafeMutablePointer<UInt64>?, pin: Bool, fast: Bool = false) -> Int64 {
    withMachine(m, orElse: Int64(-EINVAL)) { m in
        errnoResult64 { () throws(ScamemError) -> Int64 in
            guard let pfns, nr <= 1 << 30 else { throw .invalid }
            let f = FollFlags(rawValue: flags), n = Int(nr), mm = mmID(mm)
            switch (pin, fast) {
            case (true, true): return Int64(try m.pinUserPagesFast(mm, start: start, nrPages: n, flags: f, into: pfns))
            case (false, true): return Int64(try m.getUserPagesFast(mm, start: start, nrPages: n, flags: f, into: pfns))
            case (true, false): return Int64(try m.pinUserPages(mm, start: start, nrPages: n, flags: f, into: pfns))
            case (false, false): return Int64(try m.getUserPages(mm, start: start, nrPages: n, flags: f, into: pfns))
            }
        }
    }
}

@c @implementation
public func scamem_get_user_pages(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ start: UInt64, _ nr: UInt64,
                                  _ flags: UInt32, _ pfns: UnsafeMutablePointer<UInt64>!) -> Int64 {
    userPages(m, mm, start, nr, flags, pfns, pin: false)
}

@c @implementation
public func scamem_pin_user_pages(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ start: UInt64, _ nr: UInt64,
                                  _ flags: UInt32, _ pfns: UnsafeMutablePointer<UInt64>!) -> Int64 {
    userPages(m, mm, start, nr, flags, pfns, pin: true)
}

@c @implementation
public func scamem_get_user_pages_fast(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ start: UInt64, _ nr: UInt64,
                                       _ flags: UInt32, _ pfns: UnsafeMutablePointer<UInt64>!) -> Int64 {
    userPages(m, mm, start, nr, flags, pfns, pin: false, fast: true)
}

@c @implementation
public func scamem_pin_user_pages_fast(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ start: UInt64, _ nr: UInt64,
                                       _ flags: UInt32, _ pfns: UnsafeMutablePointer<UInt64>!) -> Int64 {
    userPages(m, mm, start, nr, flags, pfns, pin: true, fast: true)
}

@c @implementation
public func scamem_put_page(_ m: OpaquePointer!, _ pfn: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.putPage(pfn) }
}

@c @implementation
public func scamem_unpin_user_page(_ m: OpaquePointer!, _ pfn: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.unpinUserPage(pfn) }
}

@c @implementation
public func scamem_unpin_user_pages(_ m: OpaquePointer!, _ pfns: UnsafePointer<UInt64>!, _ nr: UInt64) -> Int64 {
    withMachine(m, orElse: Int64(-EINVAL)) { m in
        errnoResult64 { () throws(ScamemError) -> Int64 in
            if nr == 0 { return 0 }
            guard let pfns, nr <= 1 << 30 else { throw .invalid }
            return Int64(try m.unpinUserPages(UnsafeBufferPointer(start: pfns, count: Int(nr))))
        }
    }
}

@c @implementation
public func scamem_folio_maybe_dma_pinned(_ m: OpaquePointer!, _ pfn: UInt64) -> Int32 {
    onMachine(m) { m throws(ScamemError) in try m.folioMaybeDmaPinned(pfn) ? 1 : 0 }
}

@c @implementation
public func scamem_remap_pfn_range(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ uaddr: UInt64, _ pfn: UInt64,
                                   _ size: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.remapPfnRange(mmID(mm), uaddr: uaddr, pfn: pfn, size: size) }
}

@c @implementation
public func scamem_vm_insert_pages(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ uaddr: UInt64,
                                   _ pfns: UnsafePointer<UInt64>!, _ num: UnsafeMutablePointer<UInt64>!) -> Int32 {
    perform(m) { m throws(ScamemError) in
        guard let num, let n = Int(exactly: num.pointee), n <= 1 << 30, pfns != nil || n == 0 else { throw .invalid }
        var left = n
        // *num counts what was not inserted, also when the walk stops early.
        defer { num.pointee = UInt64(left) }
        try m.vmInsertPages(mmID(mm), uaddr: uaddr, pfns: UnsafeBufferPointer(start: pfns, count: n), num: &left)
    }
}

@c @implementation
public func scamem_vm_map_pages(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ vmaStart: UInt64,
                                _ pfns: UnsafePointer<UInt64>!, _ num: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in
        guard let n = Int(exactly: num), pfns != nil || n == 0 else { throw .invalid }
        try m.vmMapPages(mmID(mm), vmaStart: vmaStart, pfns: UnsafeBufferPointer(start: pfns, count: n))
    }
}

@c @implementation
public func scamem_move_pages(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ nr: UInt64, _ pages: UnsafePointer<UInt64>!,
                              _ nodes: UnsafePointer<Int32>!, _ status: UnsafeMutablePointer<Int32>!,
                              _ flags: UInt32) -> Int64 {
    withMachine(m, orElse: Int64(-EINVAL)) { m in
        errnoResult64 { () throws(ScamemError) -> Int64 in
            guard nr <= 1 << 30 else { throw .invalid }
            let n = Int(nr)
            guard n == 0 || pages != nil && status != nil else { throw .invalid }
            return Int64(try m.movePages(mmID(mm), pages: UnsafeBufferPointer(start: n == 0 ? nil : pages, count: n),
                                         nodes: nodes.map { UnsafeBufferPointer(start: $0, count: n) },
                                         status: UnsafeMutableBufferPointer(start: n == 0 ? nil : status, count: n),
                                         flags: MovePagesFlags(rawValue: flags)))
        }
    }
}
