import CScamem
import Glibc
import Scamem

// The thin C face: argument checks, handle conversion and errno mapping.
// Nothing here models anything; every call lands in the Scamem module.

/// Uses the machine behind a C handle without retain/release traffic.
@inline(__always)
func withMachine<R>(_ m: OpaquePointer?, orElse fail: R, _ body: (Machine) -> R) -> R {
    guard let m else { return fail }
    return Unmanaged<Machine>.fromOpaque(UnsafeRawPointer(m))._withUnsafeGuaranteedRef(body)
}

/// A call on the machine behind `m` returning a non-negative int, or the
/// negative errno of what it threw (-EINVAL for a NULL machine).
@inline(__always)
func onMachine(_ m: OpaquePointer?, _ body: (Machine) throws(ScamemError) -> Int32) -> Int32 {
    withMachine(m, orElse: -EINVAL) { m in errnoResult { () throws(ScamemError) -> Int32 in try body(m) } }
}

/// A call with nothing to return: 0, or a negative errno.
@inline(__always)
func perform(_ m: OpaquePointer?, _ body: (Machine) throws(ScamemError) -> Void) -> Int32 {
    onMachine(m) { m throws(ScamemError) in
        try body(m)
        return 0
    }
}

/// Runs a throwing model call and turns its error into a negative errno.
@inline(__always)
func errnoResult(_ body: () throws(ScamemError) -> Int32) -> Int32 {
    do { return try body() } catch { return -error.rawValue }
}

@inline(__always)
func errnoResult64(_ body: () throws(ScamemError) -> Int64) -> Int64 {
    do { return try body() } catch { return Int64(-error.rawValue) }
}

/// `SCAMEM_NUMA_NO_NODE` (-1) to nil; other negatives are not nodes.
@inline(__always)
func nodeArgument(_ nid: Int32) throws(ScamemError) -> Int? {
    if nid == -1 { return nil }
    guard nid >= 0 else { throw .invalid }
    return Int(nid)
}

/// Reads a size-first option struct as the kernel's copy_struct_from_user()
/// does: a larger one than this library knows is accepted if the bytes it
/// does not know are zero (else `.tooBig`); a smaller one, down to `minimum`
/// (the struct's first released size), reads the fields added since as zero.
func copyStruct<T>(_ p: UnsafePointer<T>?, _ type: T.Type, minimum: Int = MemoryLayout<T>.size) throws(ScamemError) -> T {
    guard let p else { throw .invalid }
    let raw = UnsafeRawPointer(p)
    let size = Int(raw.load(as: UInt32.self))
    let known = MemoryLayout<T>.size
    guard size >= minimum, size <= 4096 else { throw size > 4096 ? .tooBig : .invalid }
    for i in known..<max(known, size) where raw.load(fromByteOffset: i, as: UInt8.self) != 0 { throw .tooBig }
    if size >= known { return p.pointee }
    // An older caller's struct: its bytes, then zeros. T is a C struct, so
    // all-zero bytes are a valid value of it.
    return withUnsafeTemporaryAllocation(of: T.self, capacity: 1) { buf in
        let out = UnsafeMutableRawPointer(buf.baseAddress!)
        out.initializeMemory(as: UInt8.self, repeating: 0, count: known)
        out.copyMemory(from: raw, byteCount: size)
        return out.load(as: T.self)
    }
}

/// A C array argument: (pointer, count) checked and copied.
func arrayArgument<T, U>(_ p: UnsafePointer<T>?, _ n: UInt32, limit: UInt32,
                         _ map: (T) -> U) throws(ScamemError) -> [U] {
    if n == 0 { return [] }
    guard let p, n <= limit else { throw .invalid }
    return UnsafeBufferPointer(start: p, count: Int(n)).map(map)
}

/// Fills a C array member (imported as a tuple) from `values`, in order.
func fill<Tuple, Element: FixedWidthInteger>(_ tuple: inout Tuple, _ values: some Sequence<Element>) {
    withUnsafeMutableBytes(of: &tuple) { raw in
        for (i, v) in values.enumerated() where (i + 1) * MemoryLayout<Element>.size <= raw.count {
            raw.storeBytes(of: v, toByteOffset: i * MemoryLayout<Element>.size, as: Element.self)
        }
    }
}

/// Static text as a C string.
@inline(__always)
func cString(_ s: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// Writes a size-first result struct as the kernel's copy_struct_to_user()
/// does: min(caller's size, ours) bytes of `value`, zeros for the rest of the
/// caller's size. A size below 16 (size, padding and one field) or above 4096
/// is `.invalid`.
func copyStructOut<T>(_ value: T, to p: UnsafeMutablePointer<T>?) throws(ScamemError) {
    guard let p else { throw .invalid }
    let raw = UnsafeMutableRawPointer(p)
    let size = Int(raw.load(as: UInt32.self))
    guard size >= 16, size <= 4096 else { throw .invalid }
    let known = MemoryLayout<T>.size
    withUnsafeBytes(of: value) { raw.copyMemory(from: $0.baseAddress!, byteCount: min(size, known)) }
    if size > known { (raw + known).initializeMemory(as: UInt8.self, repeating: 0, count: size - known) }
    raw.storeBytes(of: UInt32(size), as: UInt32.self)
}
