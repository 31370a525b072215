/// Why an import refused a capture, and where: the errno the C face returns
/// and the file, 1-based line (text files) or byte offset (binary files) it
/// stopped at. A capture is untrusted input: every number in it is checked
/// against what a real x86_64 kernel can print, and a bad one is `.io`
/// naming its line. The C counterpart is `struct scamem_import_error`,
/// filled through `scamem_import_opts.error`, beside `scamem_import()`'s
/// negative errno.
public struct ImportError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The errno: `.io` (malformed or unreadable capture), `.notFound` (no
    /// kpageflags), `.permission` (live without root), `.noMemory`.
    public var error: ScamemError
    /// The capture file, e.g. "zoneinfo" or "kpageflags.xz"; a live file or
    /// a file `captureLiveMachine` writes by its path ("/proc/kpageflags");
    /// "" if none.
    public var file: String
    /// 1-based line in a text file; 0 if not a line.
    public var line: Int
    /// Byte offset in a binary file; 0 if not an offset.
    public var offset: UInt64
    /// What was wrong.
    public var reason: String

    public init(_ error: ScamemError, file: String, line: Int = 0, offset: UInt64 = 0, reason: String) {
        self.error = error; self.file = file; self.line = line; self.offset = offset; self.reason = reason
    }

    /// "FILE:LINE: reason", "FILE: byte N: reason" or "FILE: reason".
    public var description: String {
        let at = line > 0 ? "\(file):\(line)" : offset > 0 ? "\(file): byte \(offset)" : file
        return at.isEmpty ? reason : at + ": " + reason
    }
}

/// What a real x86_64 kernel can print, and the machine the import builds.
enum CaptureLimits {
    /// The import's machine: pfns below 2^(46 - 12), nodes below MAX_NUMNODES.
    static let profile = LayoutProfile.x86_64Vmemmap
    static let maxPfn: UInt64 = 1 << UInt64(profile.maxPhysmemBits - 12)
    static let pfnBound = "the profile's \(profile.maxPhysmemBits)-bit physical address space ends at pfn \(maxPfn)"
    static let maxNodes: UInt64 = 1 << UInt64(profile.nodesShift)
    static let nodeBound = "MAX_NUMNODES is \(maxNodes)"
    /// MAX_PHYSMEM_BITS with 5-level paging: no physical address reaches it.
    static let maxPhysAddress: UInt64 = 1 << 52
    static let physBound = "MAX_PHYSMEM_BITS is 52"
    /// The biggest /proc text file the import reads (vmallocinfo of a large
    /// machine is a few MiB).
    static let maxTextBytes = 64 << 20
}

/// A text file of a capture: its name, for errors, and its lines.
struct CaptureText {
    let file: String
    let text: String

    /// Every line with a word in it, with its 1-based number.
    var lines: some Sequence<CaptureLine> {
        text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().lazy
            .map { CaptureLine(file: file, number: $0.offset + 1, text: $0.element) }
            .filter { !$0.words.isEmpty }
    }

    var firstLine: CaptureLine? {
        var i = lines.makeIterator()
        return i.next()
    }

    /// An error about the file as a whole.
    func error(_ reason: String) -> ImportError { ImportError(.io, file: file, reason: reason) }
}

/// One line of a capture's text file: the range-checked number parser every
/// importer of a /proc file goes through.
struct CaptureLine {
    let file: String
    let number: Int
    let text: Substring
    /// Split at blanks and commas, as the kernel separates its fields.
    let words: [Substring]

    init(file: String, number: Int, text: Substring) {
        self.file = file; self.number = number; self.text = text
        words = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })
    }

    /// The `i`th word, or nil.
    func word(_ i: Int) -> Substring? { i < words.count ? words[i] : nil }

    func error(_ reason: String) -> ImportError { ImportError(.io, file: file, line: number, reason: reason) }

    /// `s` (trimmed of blanks) as a number below `limit`, `bound` saying why
    /// that is the limit; `what` names the field in the error.
    func number(_ s: Substring?, _ what: String, below limit: UInt64, _ bound: String, radix: Int = 10) throws(ImportError) -> UInt64 {
        guard let s else { throw error("no \(what)") }
        let digits = s.drop { $0 == " " }.prefix { $0 != " " }
        guard let v = UInt64(digits, radix: radix) else { throw error("\(what) '\(digits.prefix(24))' is not a number") }
        guard v < limit else { throw error("\(what) \(radix == 16 ? "0x" : "")\(digits.prefix(24)) is out of range: \(bound)") }
        return v
    }
}
