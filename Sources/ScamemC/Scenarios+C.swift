import CScamem
import Glibc
import Scamem

// The scenario subjects (Scamem/Scenarios/): handles are the model's
// handle bits, as mm and scamem handles are.

@inline(__always)
func scenarioID<S>(_ p: OpaquePointer?) -> ScenarioHandle<S> { ScenarioHandle(rawValue: UInt64(UInt(bitPattern: p))) }

@inline(__always)
func scenarioPointer<S>(_ h: ScenarioHandle<S>) -> OpaquePointer? { OpaquePointer(bitPattern: UInt(h.rawValue)) }

/// An allocation that hands out a handle and, if asked, a kernel address.
@inline(__always)
func allocating<S>(_ m: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?, _ kaddr: UnsafeMutablePointer<UInt64>?,
                   _ body: (Machine) throws(ScamemError) -> (ScenarioHandle<S>, kaddr: UInt64)) -> Int32 {
    perform(m) { m throws(ScamemError) in
        guard let out else { throw .invalid }
        let (h, k) = try body(m)
        out.pointee = scenarioPointer(h)
        kaddr?.pointee = k
    }
}

/// A registration that hands out a handle.
@inline(__always)
func registering<S>(_ m: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?,
                    _ body: (Machine) throws(ScamemError) -> ScenarioHandle<S>) -> Int32 {
    perform(m) { m throws(ScamemError) in
        guard let out else { throw .invalid }
        out.pointee = scenarioPointer(try body(m))
    }
}

@c @implementation
public func scamem_bpf_ringbuf_alloc(_ m: OpaquePointer!, _ dataSize: UInt64, _ nid: Int32, _ flags: UInt32,
                                     _ out: UnsafeMutablePointer<OpaquePointer?>!, _ kaddr: UnsafeMutablePointer<UInt64>!) -> Int32 {
    allocating(m, out, kaddr) { m throws(ScamemError) in
        guard flags & ~UInt32(SCAMEM_BPF_RINGBUF_USER) == 0 else { throw .invalid }
        return try m.bpfRingbufAlloc(dataSize: dataSize, nid: try nodeArgument(nid), user: flags != 0)
    }
}

@c @implementation
public func scamem_bpf_ringbuf_mmap(_ m: OpaquePointer!, _ rb: OpaquePointer!, _ mm: OpaquePointer!, _ uaddr: UInt64,
                                    _ pgoff: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.bpfRingbufMmap(scenarioID(rb), mmID(mm), uaddr: uaddr, pgoff: pgoff) }
}

@c @implementation
public func scamem_bpf_ringbuf_free(_ m: OpaquePointer!, _ rb: OpaquePointer!) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.bpfRingbufFree(scenarioID(rb)) }
}

@c @implementation
public func scamem_io_uring_region_alloc(_ m: OpaquePointer!, _ size: UInt64, _ flags: UInt32,
                                         _ out: UnsafeMutablePointer<OpaquePointer?>!,
                                         _ kaddr: UnsafeMutablePointer<UInt64>!) -> Int32 {
    allocating(m, out, kaddr) { m throws(ScamemError) in
        guard flags & ~UInt32(SCAMEM_IO_URING_REGION_SINGLE) == 0 else { throw .invalid }
        return try m.ioUringRegionAlloc(size: size, single: flags != 0)
    }
}

@c @implementation
public func scamem_io_uring_region_mmap(_ m: OpaquePointer!, _ region: OpaquePointer!, _ mm: OpaquePointer!,
                                        _ uaddr: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.ioUringRegionMmap(scenarioID(region), mmID(mm), uaddr: uaddr) }
}

@c @implementation
public func scamem_io_uring_region_free(_ m: OpaquePointer!, _ region: OpaquePointer!) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.ioUringRegionFree(scenarioID(region)) }
}

@c @implementation
public func scamem_io_uring_register_buffer(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ uaddr: UInt64, _ len: UInt64,
                                            _ out: UnsafeMutablePointer<OpaquePointer?>!) -> Int32 {
    registering(m, out) { m throws(ScamemError) in try m.ioUringRegisterBuffer(mmID(mm), uaddr: uaddr, len: len) }
}

@c @implementation
public func scamem_io_uring_unregister_buffer(_ m: OpaquePointer!, _ buf: OpaquePointer!) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.ioUringUnregisterBuffer(scenarioID(buf)) }
}

@c @implementation
public func scamem_kcov_init_trace(_ m: OpaquePointer!, _ entries: UInt64, _ out: UnsafeMutablePointer<OpaquePointer?>!,
                                   _ kaddr: UnsafeMutablePointer<UInt64>!) -> Int32 {
    allocating(m, out, kaddr) { m throws(ScamemError) in try m.kcovInitTrace(entries: entries) }
}

@c @implementation
public func scamem_kcov_mmap(_ m: OpaquePointer!, _ kcov: OpaquePointer!, _ mm: OpaquePointer!, _ uaddr: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.kcovMmap(scenarioID(kcov), mmID(mm), uaddr: uaddr) }
}

@c @implementation
public func scamem_kcov_free(_ m: OpaquePointer!, _ kcov: OpaquePointer!) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.kcovFree(scenarioID(kcov)) }
}

@c @implementation
public func scamem_perf_rb_alloc(_ m: OpaquePointer!, _ nrPages: UInt64, _ out: UnsafeMutablePointer<OpaquePointer?>!,
                                 _ kaddr: UnsafeMutablePointer<UInt64>!) -> Int32 {
    allocating(m, out, kaddr) { m throws(ScamemError) in try m.perfRbAlloc(nrPages: nrPages) }
}

@c @implementation
public func scamem_perf_rb_mmap(_ m: OpaquePointer!, _ rb: OpaquePointer!, _ mm: OpaquePointer!, _ uaddr: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.perfRbMmap(scenarioID(rb), mmID(mm), uaddr: uaddr) }
}

@c @implementation
public func scamem_perf_rb_free(_ m: OpaquePointer!, _ rb: OpaquePointer!) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.perfRbFree(scenarioID(rb)) }
}

@c @implementation
public func scamem_vb2_vmalloc_alloc(_ m: OpaquePointer!, _ size: UInt64, _ out: UnsafeMutablePointer<OpaquePointer?>!,
                                     _ kaddr: UnsafeMutablePointer<UInt64>!) -> Int32 {
    allocating(m, out, kaddr) { m throws(ScamemError) in try m.vb2VmallocAlloc(size: size) }
}

@c @implementation
public func scamem_vb2_vmalloc_mmap(_ m: OpaquePointer!, _ buf: OpaquePointer!, _ mm: OpaquePointer!,
                                    _ uaddr: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.vb2VmallocMmap(scenarioID(buf), mmID(mm), uaddr: uaddr) }
}

@c @implementation
public func scamem_vb2_vmalloc_put(_ m: OpaquePointer!, _ buf: OpaquePointer!) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.vb2VmallocPut(scenarioID(buf)) }
}

@c @implementation
public func scamem_vb2_vmalloc_get_userptr(_ m: OpaquePointer!, _ mm: OpaquePointer!, _ uaddr: UInt64, _ size: UInt64,
                                           _ write: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>!) -> Int32 {
    registering(m, out) { m throws(ScamemError) in
        try m.vb2VmallocGetUserptr(mmID(mm), uaddr: uaddr, size: size, write: write != 0)
    }
}

@c @implementation
public func scamem_vb2_vmalloc_put_userptr(_ m: OpaquePointer!, _ buf: OpaquePointer!) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.vb2VmallocPutUserptr(scenarioID(buf)) }
}
