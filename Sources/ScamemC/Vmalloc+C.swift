import CScamem
import Glibc
import Scamem

/// A vmalloc-style call that stores an address.
@inline(__always)
func mapping(_ m: OpaquePointer?, _ addr: UnsafeMutablePointer<UInt64>?,
             _ body: (Machine) throws(ScamemError) -> UInt64) -> Int32 {
    onMachine(m) { m throws(ScamemError) in
        guard let addr else { throw .invalid }
        addr.pointee = try body(m)
        return 0
    }
}

func cVmStruct(_ v: VmStruct) -> scamem_vm_struct {
    scamem_vm_struct(addr: v.addr, size: v.size, nr_pages: UInt64(v.nrPages), caller: v.caller,
                     scamem: scamemHandle(v.scamem), flags: v.flags.rawValue, reserved: 0)
}

@c @implementation
public func scamem_vmalloc(_ m: OpaquePointer!, _ size: UInt64, _ addr: UnsafeMutablePointer<UInt64>!) -> Int32 {
    mapping(m, addr) { m throws(ScamemError) in try m.vmalloc(size: size) }
}

@c @implementation
public func scamem_vmalloc_user(_ m: OpaquePointer!, _ size: UInt64, _ addr: UnsafeMutablePointer<UInt64>!) -> Int32 {
    mapping(m, addr) { m throws(ScamemError) in try m.vmallocUser(size: size) }
}

@c @implementation
public func scamem_vmalloc_node(_ m: OpaquePointer!, _ size: UInt64, _ nid: Int32,
                                _ addr: UnsafeMutablePointer<UInt64>!) -> Int32 {
    mapping(m, addr) { m throws(ScamemError) in
        guard nid >= 0 else { throw .invalid }
        return try m.vmallocNode(size: size, nid: Int(nid))
    }
}

@c @implementation
public func scamem_vmalloc_opts(_ m: OpaquePointer!, _ size: UInt64, _ opts: UnsafePointer<scamem_vmalloc_opts>!,
                                _ addr: UnsafeMutablePointer<UInt64>!) -> Int32 {
    mapping(m, addr) { m throws(ScamemError) in
        let o = try copyStruct(opts, scamem_vmalloc_opts.self)
        guard o.reserved == 0 else { throw .invalid }
        return try m.vmalloc(size: size, flags: VmFlags(rawValue: o.vm_flags), gfp: GFP(rawValue: o.gfp),
                             policy: policyArgument(o.policy, o.nid), caller: o.caller)
    }
}

@c @implementation
public func scamem_vmap(_ m: OpaquePointer!, _ pfns: UnsafePointer<UInt64>!, _ count: UInt32, _ flags: UInt32,
                        _ addr: UnsafeMutablePointer<UInt64>!) -> Int32 {
    mapping(m, addr) { m throws(ScamemError) in
        guard let pfns, count > 0 else { throw .invalid }
        return try m.vmap(Array(UnsafeBufferPointer(start: pfns, count: Int(count))), flags: VmFlags(rawValue: flags))
    }
}

@c @implementation
public func scamem_vfree(_ m: OpaquePointer!, _ addr: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.vfree(addr) }
}

@c @implementation
public func scamem_vunmap(_ m: OpaquePointer!, _ addr: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.vunmap(addr) }
}

@c @implementation
public func scamem_find_vm_area(_ m: OpaquePointer!, _ addr: UInt64, _ out: UnsafeMutablePointer<scamem_vm_struct>!) -> Int32 {
    onMachine(m) { m throws(ScamemError) in
        guard let out else { throw .invalid }
        guard let v = m.findVmArea(addr) else { throw .notFound }
        out.pointee = cVmStruct(v)
        return 0
    }
}

@c @implementation
public func scamem_vm_area_next(_ m: OpaquePointer!, _ addr: UInt64, _ out: UnsafeMutablePointer<scamem_vm_struct>!) -> Int32 {
    onMachine(m) { m throws(ScamemError) in
        guard let out else { throw .invalid }
        guard let v = m.vmArea(after: addr) else { throw .notFound }
        out.pointee = cVmStruct(v)
        return 0
    }
}

@c @implementation
public func scamem_vmalloc_to_pfn(_ m: OpaquePointer!, _ addr: UInt64) -> Int64 {
    withMachine(m, orElse: Int64(-EINVAL)) { m in
        errnoResult64 { () throws(ScamemError) -> Int64 in Int64(try m.vmallocToPfn(addr)) }
    }
}
