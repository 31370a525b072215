import Scamem

let machine = try Machine(.default)
let pfn = try machine.folioAlloc(.file, order: 2, nid: 1)
let nid = try machine.pageToNid(pfn)
let zone = try machine.pageZonenum(pfn)
print("folio at pfn \(pfn) on node \(nid), zone \(zone)")
try machine.folioPut(pfn)
let issues = machine.check()
print("invariant checker: \(issues.count) issues")
