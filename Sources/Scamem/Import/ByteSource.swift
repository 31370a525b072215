#if canImport(Glibc)
import Glibc
#endif
import CLzma

/// Bytes read in chunks: a plain file, or an .xz file decompressed on the
/// fly. Errors name the file and the byte offset they stopped at.
protocol ByteSource {
    /// The file as errors name it: "kpageflags", "kpageflags.xz".
    var name: String { get }
    /// The bytes it holds, known before reading: a file's size, an .xz
    /// file's uncompressed size from its index (0 for /proc files, which
    /// stat as empty).
    var size: UInt64 { get }
    /// Fills as much of `buffer` as it can; 0 at the end.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImportError) -> Int
}

extension ByteSource {
    /// Fills `buffer` completely unless the data ends first.
    mutating func readFully(into buffer: UnsafeMutableRawBufferPointer) throws(ImportError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Everything, as text (the small /proc files), up to `CaptureLimits.maxTextBytes`.
    mutating func readAllText() throws(ImportError) -> String {
        var bytes: [UInt8] = []
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)
        defer { chunk.deallocate() }
        while true {
            let n = try read(into: chunk)
            if n == 0 { break }
            guard bytes.count + n <= CaptureLimits.maxTextBytes else {
                throw ImportError(.io, file: name, offset: UInt64(bytes.count),
                                  reason: "more than \(CaptureLimits.maxTextBytes >> 20) MiB: no /proc text file is this big")
            }
            bytes += UnsafeRawBufferPointer(rebasing: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// What errno `e` means, as strerror(3) and every Unix tool say it.
func errnoText(_ e: Int32) -> String { String(cString: strerror(e)) }

/// A file descriptor, closed when the last copy goes. Errors name the file
/// as `name` and give errno's text.
final class FileHandle {
    let fd: Int32
    let name: String
    init(fd: Int32, name: String) { self.fd = fd; self.name = name }
    deinit { close(fd) }

    static func open(_ path: String, name: String, write: Bool = false) throws(ImportError) -> FileHandle {
        // O_NONBLOCK: a FIFO in a capture must not hang the open (RawFile refuses it).
        let fd = write ? Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                       : Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw ImportError(errno: errno, file: name) }
        return FileHandle(fd: fd, name: name)
    }

    func write(_ text: String) throws(ImportError) {
        let bytes = Array(text.utf8)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: bytes)
        try write(UnsafeRawBufferPointer(rebasing: buffer[0..<bytes.count]))
    }

    func write(_ buffer: UnsafeRawBufferPointer) throws(ImportError) {
        var done = 0
        while done < buffer.count {
            let n = Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ImportError(errno: n < 0 ? errno : ENOSPC, file: name) }
            done += n
        }
    }
}

extension ImportError {
    /// A failed system call on `file`: ENOENT is `.notFound`, EACCES and
    /// EPERM `.permission`, the rest `.io`; the reason is errno's text.
    init(errno e: Int32, file: String, offset: UInt64 = 0) {
        self.init(e == ENOENT ? .notFound : e == EACCES || e == EPERM ? .permission : .io, file: file, offset: offset,
                  reason: errnoText(e))
    }
}

/// A plain file read in chunks.
struct RawFile: ByteSource {
    let name: String
    let handle: FileHandle
    let size: UInt64
    /// Bytes read so far.
    private(set) var offset: UInt64 = 0

    init(_ path: String, name: String) throws(ImportError) {
        handle = try FileHandle.open(path, name: name)
        var st = stat()
        guard fstat(handle.fd, &st) == 0 else { throw ImportError(errno: errno, file: name) }
        // A device or FIFO has no size to bound the machine by (/proc files are regular).
        guard st.st_mode & S_IFMT == S_IFREG, st.st_size >= 0 else { throw ImportError(.io, file: name, reason: "not a regular file") }
        size = UInt64(st.st_size)
        self.name = name
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImportError) -> Int {
        while true {
            let n = Glibc.read(handle.fd, buffer.baseAddress, buffer.count)
            if n >= 0 { offset += UInt64(n); return n }
            if errno != EINTR { throw ImportError(errno: errno, file: name, offset: offset) }
        }
    }
}

/// An .xz file decompressed by liblzma as it is read. Its size comes from
/// its indexes before any decoding, and liblzma may use at most
/// `memoryLimit`: neither the file nor its headers size an allocation.
struct XzFile: ByteSource {
    let name: String
    let size: UInt64
    private var file: RawFile
    private let state: LzmaState
    private var finished = false

    /// xz -9 needs 65 MiB to decode; a header asking for more is hostile.
    static let memoryLimit: UInt64 = 100 << 20
    /// LZMA2 packs zeros about 1:6850 (256 MiB in 39 KiB); an index
    /// claiming more than twice that was not written by xz.
    static let maxRatio: UInt64 = 1 << 14

    init(_ path: String, name: String) throws(ImportError) {
        file = try RawFile(path, name: name)
        self.name = name
        size = try Self.uncompressedSize(file)
        guard size / Self.maxRatio <= file.size else {
            throw ImportError(.io, file: name, reason: "its index claims \(size) bytes from \(file.size): more than xz compresses to")
        }
        state = try LzmaState(decoderLimit: Self.memoryLimit, name: name)
    }

    /// Every stream's uncompressed size, from the indexes at the file's end
    /// (lzma_file_info_decoder seeks there; pread leaves `file` at 0).
    private static func uncompressedSize(_ file: RawFile) throws(ImportError) -> UInt64 {
        var index: OpaquePointer?
        let state = try LzmaState(fileInfo: &index, limit: memoryLimit, fileSize: file.size, name: file.name)
        let s = state.stream
        var pos: UInt64 = 0
        while true {
            if s.pointee.avail_in == 0 {
                let n = pread(file.handle.fd, state.buffer.baseAddress, state.buffer.count, off_t(pos))
                guard n > 0 else { throw ImportError(.io, file: file.name, offset: pos, reason: "ends inside its xz index") }
                s.pointee.next_in = UnsafePointer(state.buffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
                s.pointee.avail_in = n
                pos += UInt64(n)
            }
            switch lzma_code(s, LZMA_RUN) {
            case LZMA_OK: continue
            case LZMA_SEEK_NEEDED:
                pos = s.pointee.seek_pos
                s.pointee.avail_in = 0
            case LZMA_STREAM_END:
                let bytes = lzma_index_uncompressed_size(index)
                lzma_index_end(index, nil)
                return bytes
            case let r:
                // The index sits at the end: a damaged one is most often a truncated file.
                let why = r == LZMA_DATA_ERROR ? "no sound xz index at its end (truncated?)" : LzmaState.reason(r)
                throw ImportError(r == LZMA_MEM_ERROR ? .noMemory : .io, file: file.name,
                                  offset: pos - UInt64(s.pointee.avail_in), reason: why)
            }
        }
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImportError) -> Int {
        guard !finished, buffer.count > 0 else { return 0 }
        let s = state.stream
        s.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        s.pointee.avail_out = buffer.count
        while s.pointee.avail_out > 0 {
            var action = LZMA_RUN
            if s.pointee.avail_in == 0 {
                let n = try file.read(into: state.buffer)
                s.pointee.next_in = UnsafePointer(state.buffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
                s.pointee.avail_in = n
                if n == 0 { action = LZMA_FINISH }
            }
            let r = lzma_code(s, action)
            if r == LZMA_STREAM_END { finished = true; break }
            guard r == LZMA_OK else {
                throw ImportError(r == LZMA_MEM_ERROR ? .noMemory : .io, file: name, offset: s.pointee.total_in,
                                  reason: "xz data: " + LzmaState.reason(r))
            }
        }
        return buffer.count - s.pointee.avail_out
    }
}

/// An .xz file written by liblzma as data comes (captures). Errors name
/// the file by its path.
final class XzWriter {
    private let handle: FileHandle
    private let state: LzmaState

    init(_ path: String, preset: UInt32 = 6) throws(ImportError) {
        handle = try FileHandle.open(path, name: path, write: true)
        do { state = try LzmaState(encoderPreset: preset) } catch {
            throw ImportError(error, file: path, reason: "no memory for an xz encoder")
        }
    }

    func write(_ data: UnsafeRawBufferPointer) throws(ImportError) {
        try code(data, LZMA_RUN)
    }

    /// Ends the stream; the file is complete afterwards.
    func finish() throws(ImportError) {
        try code(UnsafeRawBufferPointer(start: nil, count: 0), LZMA_FINISH)
    }

    private func code(_ data: UnsafeRawBufferPointer, _ action: lzma_action) throws(ImportError) {
        let s = state.stream
        s.pointee.next_in = data.baseAddress?.assumingMemoryBound(to: UInt8.self)
        s.pointee.avail_in = data.count
        let out = state.buffer
        while true {
            s.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
            s.pointee.avail_out = out.count
            let r = lzma_code(s, action)
            let produced = out.count - s.pointee.avail_out
            if produced > 0 { try handle.write(UnsafeRawBufferPointer(rebasing: out[0..<produced])) }
            if r == LZMA_STREAM_END { return }
            guard r == LZMA_OK else {
                throw ImportError(r == LZMA_MEM_ERROR ? .noMemory : .io, file: handle.name, reason: "xz: " + LzmaState.reason(r))
            }
            if action == LZMA_RUN && s.pointee.avail_in == 0 { return }
        }
    }
}

/// An lzma_stream and its staging buffer in stable memory, ended when dropped.
final class LzmaState {
    let stream: UnsafeMutablePointer<lzma_stream>
    /// Compressed bytes on their way in (decoder) or out (encoder).
    let buffer: UnsafeMutableRawBufferPointer

    /// LZMA_CONCATENATED: a macro liblzma's header spells with UINT32_C.
    private static let concatenated: UInt32 = 0x08

    /// Nothing is stored until `setUp` succeeds, so a failure frees all.
    private init(_ setUp: (UnsafeMutablePointer<lzma_stream>) -> lzma_ret) throws(ScamemError) {
        let s = UnsafeMutablePointer<lzma_stream>.allocate(capacity: 1)
        s.initialize(to: lzma_stream())
        guard setUp(s) == LZMA_OK else {
            lzma_end(s)
            s.deallocate()
            throw .noMemory
        }
        stream = s
        buffer = .allocate(byteCount: 1 << 16, alignment: 8)
    }

    /// A decoder of concatenated streams using at most `decoderLimit` bytes.
    convenience init(decoderLimit: UInt64, name: String) throws(ImportError) {
        do { try self.init { lzma_stream_decoder($0, decoderLimit, Self.concatenated) } } catch {
            throw ImportError(error, file: name, reason: "no memory for an xz decoder")
        }
    }

    /// lzma_file_info_decoder: the indexes of every stream into `index`.
    convenience init(fileInfo index: UnsafeMutablePointer<OpaquePointer?>, limit: UInt64, fileSize: UInt64,
                     name: String) throws(ImportError) {
        do { try self.init { lzma_file_info_decoder($0, index, limit, fileSize) } } catch {
            throw ImportError(error, file: name, reason: "no memory for an xz index decoder")
        }
    }

    convenience init(encoderPreset: UInt32) throws(ScamemError) {
        try self.init { lzma_easy_encoder($0, encoderPreset, LZMA_CHECK_CRC64) }
    }

    deinit {
        lzma_end(stream)
        stream.deallocate()
        buffer.deallocate()
    }

    /// What liblzma's refusal means for a capture file.
    static func reason(_ r: lzma_ret) -> String {
        switch r {
        case LZMA_FORMAT_ERROR: "not an xz file"
        case LZMA_DATA_ERROR: "corrupt (a check or size does not match)"
        case LZMA_BUF_ERROR: "truncated"
        case LZMA_OPTIONS_ERROR: "options liblzma does not support"
        case LZMA_MEMLIMIT_ERROR: "needs more than \(XzFile.memoryLimit >> 20) MiB to decode"
        case LZMA_MEM_ERROR: "out of host memory"
        default: "liblzma error \(r.rawValue)"
        }
    }
}

/// `name.xz` if it exists, else `name`, in `dir`.
func openCaptureFile(_ dir: String, _ name: String) throws(ImportError) -> any ByteSource {
    if access(dir + "/" + name + ".xz", F_OK) == 0 { return try XzFile(dir + "/" + name + ".xz", name: name + ".xz") }
    return try RawFile(dir + "/" + name, name: name)
}

/// The text of a small capture file, or nil if it is missing. `name` is
/// what errors call it (the live files: their path).
func captureText(_ dir: String, _ file: String, name: String? = nil) throws(ImportError) -> CaptureText? {
    do {
        var f = try openCaptureFile(dir, file)
        return CaptureText(file: name ?? f.name, text: try f.readAllText())
    } catch {
        if error.error == .notFound { return nil }
        var named = error
        named.file = name ?? error.file
        throw named
    }
}
