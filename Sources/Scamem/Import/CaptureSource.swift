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

    /// The two a report cannot do without: `capture` fails without them.
    public static let requiredFiles = ["zoneinfo", "kpageflags"]

    static let memoryDir = "/sys/devices/system/memory"

    /// Where the live machine keeps a capture file: errors about live files
    /// name this path. uname and memory_blocks are put together, not read.
    static func livePath(_ name: String) -> String {
        switch name {
        case "uname": "uname(2)"
        case "memory_blocks": memoryDir
        case "memory_block_size_bytes": memoryDir + "/block_size_bytes"
        default: "/proc/" + name
        }
    }

    /// A binary file, streamed.
    func binary(_ name: String) throws(ImportError) -> any ByteSource {
        switch self {
        case .directory(let d): try openCaptureFile(d, name)
        case .live: try RawFile(Self.livePath(name), name: Self.livePath(name))
        }
    }

    /// A text file, or nil where it is missing.
    func text(_ name: String) throws(ImportError) -> CaptureText? {
        switch self {
        case .directory(let d): return try captureText(d, name)
        case .live:
            let path = Self.livePath(name)
            switch name {
            case "uname": return CaptureText(file: path, text: Self.unameText())
            case "memory_blocks": return Self.memoryBlocksText().map { CaptureText(file: path, text: $0) }
            case "memory_block_size_bytes": return try captureText(Self.memoryDir, "block_size_bytes", name: path)
            default: return try captureText("/proc", name, name: path)
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
            // valid_zones of an online block is the zone it is in ("none"
            // for an early block across zones): where spans overlap, the
            // importer needs it.
            let zone = state == "online"
                ? ((try? captureText(base, "valid_zones")) ?? nil)?.text.split(separator: " ").first.map { " " + $0.filter { !$0.isWhitespace } } ?? ""
                : ""
            lines.append("\(name) \(phys) \(state) \(node)\(zone)")
        }
        return lines.sorted().joined(separator: "\n") + "\n"
    }
}

/// What a capture copied and what it could not.
public struct CaptureResult: Sendable {
    /// The files written, as the capture names them ("kpageflags.xz").
    public var copied: [String]
    /// Path and reason, for each optional file the machine or its
    /// permissions withheld.
    public var missing: [(file: String, reason: String)]
}

/// Copies the live machine's raw files into `dir`, creating it and its
/// parents: the text files as they are, kpageflags and kpagecount streamed
/// through xz. Without zoneinfo or kpageflags there is nothing to report,
/// so failing to read either (no root), or to write any file, throws an
/// error naming the path and errno's reason; nothing is written if
/// kpageflags cannot be opened. Every other file the machine withholds is
/// listed in the result and the rest is captured.
public func captureLiveMachine(to dir: String, progress: ((String) -> Void)? = nil) throws(ImportError) -> CaptureResult {
    let flags = try CaptureSource.live.binary("kpageflags")
    try makeDirectories(dir)
    var result = CaptureResult(copied: [], missing: [])
    /// A read error of an optional file is noted; any other ends the capture.
    func note(_ error: ImportError, _ name: String) throws(ImportError) {
        guard error.file == CaptureSource.livePath(name), !CaptureSource.requiredFiles.contains(name) else { throw error }
        result.missing.append((error.file, error.reason))
    }
    for name in CaptureSource.textFiles {
        do throws(ImportError) {
            guard let text = try CaptureSource.live.text(name) else {
                throw ImportError(.notFound, file: CaptureSource.livePath(name), reason: errnoText(ENOENT))
            }
            try FileHandle.open(dir + "/" + name, name: dir + "/" + name, write: true).write(text.text)
            result.copied.append(name)
        } catch {
            try note(error, name)
        }
    }
    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 8)
    defer { chunk.deallocate() }
    for name in CaptureSource.binaryFiles {
        let path = dir + "/" + name + ".xz"
        do throws(ImportError) {
            var src = try name == "kpageflags" ? flags : CaptureSource.live.binary(name)
            let out = try XzWriter(path, preset: 1)
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
            if total == 0 { throw ImportError(.permission, file: src.name, reason: "reads as empty: the kernel withholds it") }
            result.copied.append(name + ".xz")
        } catch {
            // No partial file, nor one of an earlier capture, is left behind.
            unlink(path)
            try note(error, name)
        }
    }
    return result
}

/// mkdir -p: `path` and every missing parent. An error names the first
/// path that could not be made a directory.
func makeDirectories(_ path: String) throws(ImportError) {
    var prefix = path.hasPrefix("/") ? "/" : ""
    for part in path.split(separator: "/") {
        prefix += part
        var st = stat()
        if mkdir(prefix, 0o755) != 0 {
            let e = errno
            // EEXIST is fine only for a directory (stat follows a symlink to one).
            guard e == EEXIST, stat(prefix, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
                throw ImportError(errno: e == EEXIST ? ENOTDIR : e, file: prefix)
            }
        }
        prefix += "/"
    }
}
