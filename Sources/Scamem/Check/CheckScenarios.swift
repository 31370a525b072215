/// The checker's half for the scenario subjects (Scenarios/): what each
/// holds is still there.
extension Machine {
    func checkScenarios(_ bad: Report) {
        var pinned: [UInt64: UInt32] = [:]
        for slot in scenarios.liveSlots {
            let r = scenarios[slot]
            switch r.kind {
            case .bpfRingbuf, .ioUringRegion:
                // Pages the subject allocated are its own until it frees them.
                for pfn in r.pages where PageWord(rawValue: words[Int(pfn)]).type != .misc {
                    bad(pfn, .refcount, "page of a live \(r.kind) is a \(PageWord(rawValue: words[Int(pfn)]).type) page")
                }
                if r.kaddr >= VmallocSpace.start, vmalloc.index(containing: r.kaddr) == nil {
                    bad(nil, .descriptor, "live \(r.kind) has lost its area at \(hex(r.kaddr))")
                }
            case .kcov, .perfBuffer, .vb2Buffer:
                if vmalloc.index(containing: r.kaddr) == nil {
                    bad(nil, .descriptor, "live \(r.kind) has lost its area at \(hex(r.kaddr))")
                }
            case .ioUringBuffer, .vb2Userptr:
                for pfn in r.pages { pinned[pfn, default: 0] += 1 }
            }
        }
        // Registered buffers hold pins the GUP ledger has.
        for (pfn, n) in pinned where (gupLedger[pfn]?.pins ?? 0) < n {
            bad(pfn, .refcount, "registered user buffers hold \(n) pins, GUP has \(gupLedger[pfn]?.pins ?? 0)")
        }
    }
}
