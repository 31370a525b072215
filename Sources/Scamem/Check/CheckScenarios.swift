/// The checker's half for the scenario subjects (Scenarios/): the pages a
/// bpf ringbuf or io_uring region allocated are still allocated, and the
/// guard against freeing them lists exactly those. (A subject's area and its
/// pins need no check: a caller may vfree() or unpin behind its back, which
/// the subject survives.)
extension Machine {
    func checkScenarios(_ bad: Report) {
        var owned = Set<UInt64>()
        for slot in scenarios.liveSlots where scenarios[slot].kind.ownsPages {
            let r = scenarios[slot]
            for pfn in r.pages {
                let w = PageWord(rawValue: words[Int(pfn)])
                if w.type != .misc || w.subtype != MiscSubtype.unknown.rawValue {
                    bad(pfn, .refcount, "page of a live \(r.kind) is a \(w.type) page")
                }
                owned.insert(pfn)
            }
        }
        if owned != subjectPages {
            bad(nil, .refcount, "\(subjectPages.count) pages are guarded as subjects', live subjects own \(owned.count)")
        }
    }
}
