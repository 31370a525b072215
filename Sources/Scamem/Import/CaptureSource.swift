#if canImport(Glibc)
import Glibc
#endif

/// Where a machine's raw page state comes from: a capture directory (files
/// as the kernel printed them, the two big ones optionally .xz), or the live
/// /proc and /sys of this machine.
public enum CaptureSource: Sendable, CustomStringConvertible {
    case directory(String)
    case live

    public var description: String {
        switch self {
        case .directory(let d): d
        case .live: "live /proc"
        }
    }

    /// The files a capture holds, in the order `capture` copies them.
    public static let textFiles = ["zoneinfo", "buddyinfo", "pagetypeinfo", "vmallocinfo", "meminfo", "vmstat",
                                   "slabinfo", "iomem", "memory_block_size_bytes", "memory_blocks", "uname"]
    public static let binaryFiles = ["kpageflags", "kpagecount"]

    static let memoryDir = "/sys/devices/system/memory"

    /// A binary file, streamed.
    func binary(_ name: String) throws(ImportError) -> any ByteSource {
        switch self {
        case .directory(let d): try openCaptureFile(d, name)
        case .live: try RawFile("/proc/" + name, name: name)
        }
    }

    /// A text file, or nil where it is missing.
    func text(_ name: String) throws(ImportError) -> CaptureText? {
        switch self {
        case .directory(let d): return try captureText(d, name)
        case .live:
            switch name {
            case "uname": return CaptureText(file: name, text: Self.unameText())
            case "memory_blocks": return Self.memoryBlocksText().map { CaptureText(file: name, text: $0) }
            case "memory_block_size_bytes": return try captureText(Self.memoryDir, "block_size_bytes", name: name)
            default: return try captureText("/proc", name)
            }
        }
    }

    /// uname -a, near enough: sysname nodename release version machine.
    static func unameText() -> String {
        var u = utsname()
        uname(&u)
        func field<T>(_ t: T) -> String {
            withUnsafeBytes(of: t) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return [field(u.sysname), field(u.nodename), field(u.release), field(u.version), field(u.machine)]
            .joined(separator: " ") + "\n"
    }

    /// "memoryN phys_index state node" for each block in /sys.
    static func memoryBlocksText() -> String? {
        guard let dir = opendir(memoryDir) else { return nil }
        defer { closedir(dir) }
        var lines: [String] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasPrefix("memory"), name.dropFirst(6).allSatisfy(\.isNumber), name.count > 6 else { continue }
            let base = memoryDir + "/" + name
            let phys = ((try? captureText(base, "phys_index")) ?? nil)?.text.filter { !$0.isWhitespace } ?? "?"
            let state = ((try? captureText(base, "state")) ?? nil)?.text.filter { !$0.isWhitespace } ?? "?"
            var node = "?"
            if let sub = opendir(base) {
                while let s = readdir(sub) {
                    let n = withUnsafeBytes(of: s.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                    if n.hasPrefix("node"), n.dropFirst(4).allSatisfy(\.isNumber), n.count > 4 { node = String(n.dropFirst(4)) }
                }
                closedir(sub)
            }
            lines.append("\(name) \(phys) \(state) \(node)")
        }
        return lines.sorted().joined(separator: "\n") + "\n"
    }
}

/// What a capture copied and what it could not.
public struct CaptureResult: Sendable {
    public var copied: [String]
    /// File and reason, for each file the machine or its permissions withheld.
    public var missing: [(file: String, reason: String)]
}

/// Copies the live machine's raw files into `dir` (created if needed): the
/// text files as they are, kpageflags and kpagecount streamed through xz.
/// What cannot be read (no root, a kernel without the file) is listed in
/// the result and the rest is captured.
public func captureLiveMachine(to dir: String, progress: ((String) -> Void)? = nil) throws(ScamemError) -> CaptureResult {
    if mkdir(dir, 0o755) != 0 && errno != EEXIST { throw errno == EACCES ? .permission : .io }
    var result = CaptureResult(copied: [], missing: [])
    func reason(_ e: any Error) -> String {
        let code = (e as? ImportError)?.error ?? e as? ScamemError
        return code == .permission ? "permission denied (needs root)" : code == .notFound ? "not present on this kernel" : "\(e)"
    }
    for name in CaptureSource.textFiles {
        do {
            guard let text = try CaptureSource.live.text(name) else {
                result.missing.append((name, "not present on this kernel"))
                continue
            }
            try FileHandle.open(dir + "/" + name, write: true).write(text.text)
            result.copied.append(name)
        } catch {
            result.missing.append((name, reason(error)))
        }
    }
    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 8)
    defer { chunk.deallocate() }
    for name in CaptureSource.binaryFiles {
        do {
            var src = try CaptureSource.live.binary(name)
            let out = try XzWriter(dir + "/" + name + ".xz", preset: 1)
            var total = 0
            while true {
                let n = try src.read(into: chunk)
                if n == 0 { break }
                try out.write(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
                total += n
                if total % (64 << 20) == 0 { progress?("\(name): \(total >> 20) MiB") }
            }
            try out.finish()
            // An empty read is a kernel that withholds the file.
            if total == 0 { throw ScamemError.permission }
            result.copied.append(name + ".xz")
        } catch {
            unlink(dir + "/" + name + ".xz")
            result.missing.append((name, reason(error)))
        }
    }
    return result
}
