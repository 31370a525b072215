import CScamem
import Glibc
import Scamem

@c @implementation
public func scamem_version_number() -> UInt32 {
    UInt32(SCAMEM_VERSION_MAJOR * 10000 + SCAMEM_VERSION_MINOR * 100 + SCAMEM_VERSION_PATCH)
}

@c @implementation
public func scamem_version_string() -> UnsafePointer<CChar>! {
    cString(libraryVersion)
}

@c @implementation
public func scamem_layout_version() -> UInt32 {
    PageWord.layoutVersion
}

@c @implementation
public func scamem_strerror(_ err: Int32) -> UnsafePointer<CChar>! {
    // magnitude, not abs(): abs(Int32.min) would trap.
    cString(ScamemError.message(Int32(truncatingIfNeeded: err.magnitude)))
}

@c @implementation
public func scamem_word_decode(_ layout: UnsafePointer<scamem_layout>!, _ word: UInt64,
                               _ info: UnsafeMutablePointer<scamem_word_info>!) -> Int32 {
    errnoResult { () throws(ScamemError) -> Int32 in
        guard let layout, let info, layout.pointee.version == PageWord.layoutVersion else { throw .invalid }
        let l = layout.pointee
        let fl = try FlagsLayout(sectionSizeBits: l.section_size_bits, sectionsWidth: l.sections_width,
                                 nodesWidth: l.nodes_width, zonesWidth: l.zones_width,
                                 sectionsShift: l.sections_pgshift, nodesShift: l.nodes_pgshift,
                                 zonesShift: l.zones_pgshift)
        let w = PageWord(rawValue: word)
        var out = scamem_word_info()
        out.word = word
        out.type = UInt32(w.type.rawValue)
        out.is_nopage = w.isNopage ? 1 : 0
        out.is_inline = w.type.isInline ? 1 : 0
        if w.type.isInline {
            out.subtype = UInt32(w.subtype)
            out.order = UInt32(w.order)
            out.usermap = w.usermap ? 1 : 0
            out.nid = UInt32(truncatingIfNeeded: fl.nid(word))
            out.zone = fl.zone(word).rawValue
            out.section = fl.section(word)
        } else {
            out.desc = w.descriptorAddress
        }
        info.pointee = out
        return 0
    }
}
