import CScamem
import Glibc
import Scamem

@c @implementation
public func scamem_memory_failure(_ m: OpaquePointer!, _ pfn: UInt64, _ flags: Int32) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.memoryFailure(pfn: pfn, flags: MFFlags(rawValue: flags)) }
}

@c @implementation
public func scamem_unpoison_memory(_ m: OpaquePointer!, _ pfn: UInt64) -> Int32 {
    perform(m) { m throws(ScamemError) in try m.unpoisonMemory(pfn: pfn) }
}

@c @implementation
public func scamem_page_hwpoison(_ m: OpaquePointer!, _ pfn: UInt64) -> Int32 {
    onMachine(m) { m throws(ScamemError) in try m.pageHWPoison(pfn) ? 1 : 0 }
}
