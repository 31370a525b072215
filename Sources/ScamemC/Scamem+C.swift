import CScamem
import Glibc
import Scamem

/// Handles are the model's id bits in a pointer: never dereferenced.
@inline(__always)
func scamemID(_ s: OpaquePointer?) -> ScamemID { ScamemID(rawValue: UInt64(UInt(bitPattern: s))) }

@inline(__always)
func scamemHandle(_ id: ScamemID) -> OpaquePointer? { OpaquePointer(bitPattern: UInt(id.rawValue)) }

/// SCAMEM_POLICY_* and a node to a `NodePolicy`.
func policyArgument(_ policy: UInt32, _ nid: Int32) throws(ScamemError) -> NodePolicy {
    switch policy {
    case UInt32(SCAMEM_POLICY_LOCAL): return .local
    case UInt32(SCAMEM_POLICY_INTERLEAVE): return .interleave
    case UInt32(SCAMEM_POLICY_NODE):
        guard nid >= 0 else { throw .invalid }
        return .node(Int(nid))
    default: throw .invalid
    }
}

@c @implementation
public func scamem_alloc(_ m: OpaquePointer!, _ nrPages: UInt32, _ gfp: UInt32, _ policy: UInt32, _ nid: Int32,
                         _ out: UnsafeMutablePointer<OpaquePointer?>!) -> Int32 {
    onMachine(m) { m throws(ScamemError) in
        guard let out else { throw .invalid }
        out.pointee = scamemHandle(try m.scamemAlloc(nrPages: Int(nrPages), gfp: GFP(rawValue: gfp),
                                                     policy: policyArgument(policy, nid)))
        return 0
    }
}

@c @implementation
public func scamem_get(_ m: OpaquePointer!, _ s: OpaquePointer!) -> Int32 {
    onMachine(m) { m throws(ScamemError) in Int32(try m.scamemGet(scamemID(s))) }
}

@c @implementation
public func scamem_put(_ m: OpaquePointer!, _ s: OpaquePointer!) -> Int32 {
    onMachine(m) { m throws(ScamemError) in Int32(try m.scamemPut(scamemID(s))) }
}

@c @implementation
public func scamem_stat(_ m: OpaquePointer!, _ s: OpaquePointer!, _ st: UnsafeMutablePointer<CScamem.scamem_stat>!) -> Int32 {
    onMachine(m) { m throws(ScamemError) in
        guard let st else { throw .invalid }
        let x = try m.scamemStat(scamemID(s))
        st.pointee = CScamem.scamem_stat(
            nr: UInt32(x.nrPages), refcount: Int32(x.refcount), vm_refs: Int32(x.vmRefs), map_refs: Int32(x.mapRefs),
            gup_refs: Int32(x.gupRefs), caller_refs: Int32(x.callerRefs), owns_pages: x.ownsPages ? 1 : 0,
            bytes: UInt32(clamping: x.bytes))
        return 0
    }
}

@c @implementation
public func scamem_page(_ m: OpaquePointer!, _ s: OpaquePointer!, _ index: UInt32) -> Int64 {
    withMachine(m, orElse: Int64(-EINVAL)) { m in
        errnoResult64 { () throws(ScamemError) -> Int64 in Int64(try m.scamemPage(scamemID(s), at: Int(index))) }
    }
}

@c @implementation
public func scamem_pages(_ m: OpaquePointer!, _ s: OpaquePointer!, _ pfns: UnsafeMutablePointer<UInt64>!,
                         _ max: UInt32) -> Int64 {
    withMachine(m, orElse: Int64(-EINVAL)) { m in
        errnoResult64 { () throws(ScamemError) -> Int64 in
            guard pfns != nil || max == 0 else { throw .invalid }
            let all = try m.scamemPages(scamemID(s))
            for (i, pfn) in all.prefix(Int(max)).enumerated() { pfns[i] = pfn }
            return Int64(all.count)
        }
    }
}

@c @implementation
public func scamem_page_scamem(_ m: OpaquePointer!, _ pfn: UInt64, _ out: UnsafeMutablePointer<OpaquePointer?>!) -> Int32 {
    onMachine(m) { m throws(ScamemError) in
        guard let out else { throw .invalid }
        out.pointee = scamemHandle(try m.pageScamem(pfn))
        return 0
    }
}
