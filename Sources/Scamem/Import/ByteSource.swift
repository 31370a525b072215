#if canImport(Glibc)
import Glibc
#endif
import CLzma

/// Bytes read in chunks: a plain file, or an .xz file decompressed on the fly.
protocol ByteSource {
    /// Fills as much of `buffer` as it can; 0 at the end.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ScamemError) -> Int
}

extension ByteSource {
    /// Fills `buffer` completely unless the data ends first.
    mutating func readFully(into buffer: UnsafeMutableRawBufferPointer) throws(ScamemError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Everything, as text (the small /proc files).
    mutating func readAllText() throws(ScamemError) -> String {
        var bytes: [UInt8] = []
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)
        defer { chunk.deallocate() }
        while true {
            let n = try read(into: chunk)
            if n == 0 { break }
            bytes += UnsafeRawBufferPointer(rebasing: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A file descriptor, closed when the last copy goes.
final class FileHandle {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }

    static func open(_ path: String, write: Bool = false) throws(ScamemError) -> FileHandle {
        let fd = write ? Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                       : Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            switch errno {
            case ENOENT: throw .notFound
            case EACCES, EPERM: throw .permission
            default: throw .io
            }
        }
        return FileHandle(fd: fd)
    }

    func write(_ text: String) throws(ScamemError) {
        let bytes = Array(text.utf8)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: bytes)
        try write(UnsafeRawBufferPointer(rebasing: buffer[0..<bytes.count]))
    }

    func write(_ buffer: UnsafeRawBufferPointer) throws(ScamemError) {
        var done = 0
        while done < buffer.count {
            let n = Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .io }
            done += n
        }
    }
}

/// A plain file read in chunks.
struct RawFile: ByteSource {
    let handle: FileHandle
    init(_ path: String) throws(ScamemError) { handle = try FileHandle.open(path) }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ScamemError) -> Int {
        while true {
            let n = Glibc.read(handle.fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw errno == EACCES || errno == EPERM ? .permission : .io }
        }
    }
}

/// An .xz file decompressed by liblzma as it is read.
struct XzFile: ByteSource {
    private var file: RawFile
    private let state: LzmaState
    private var finished = false

    init(_ path: String) throws(ScamemError) {
        file = try RawFile(path)
        state = try LzmaState(decoder: ())
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ScamemError) -> Int {
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
            guard r == LZMA_OK else { throw .io }
        }
        return buffer.count - s.pointee.avail_out
    }
}

/// An .xz file written by liblzma as data comes (captures).
final class XzWriter {
    private let handle: FileHandle
    private let state: LzmaState

    init(_ path: String, preset: UInt32 = 6) throws(ScamemError) {
        handle = try FileHandle.open(path, write: true)
        state = try LzmaState(encoderPreset: preset)
    }

    func write(_ data: UnsafeRawBufferPointer) throws(ScamemError) {
        try code(data, LZMA_RUN)
    }

    /// Ends the stream; the file is complete afterwards.
    func finish() throws(ScamemError) {
        try code(UnsafeRawBufferPointer(start: nil, count: 0), LZMA_FINISH)
    }

    private func code(_ data: UnsafeRawBufferPointer, _ action: lzma_action) throws(ScamemError) {
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
            guard r == LZMA_OK else { throw .io }
            if action == LZMA_RUN && s.pointee.avail_in == 0 { return }
        }
    }
}

/// An lzma_stream and its staging buffer in stable memory, ended when dropped.
final class LzmaState {
    let stream: UnsafeMutablePointer<lzma_stream>
    /// Compressed bytes on their way in (decoder) or out (encoder).
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)

    /// LZMA_CONCATENATED: a macro liblzma's header spells with UINT32_C.
    private static let concatenated: UInt32 = 0x08

    init(decoder: Void) throws(ScamemError) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: lzma_stream())
        guard lzma_stream_decoder(stream, UInt64.max, Self.concatenated) == LZMA_OK else { throw .noMemory }
    }

    init(encoderPreset: UInt32) throws(ScamemError) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: lzma_stream())
        guard lzma_easy_encoder(stream, encoderPreset, LZMA_CHECK_CRC64) == LZMA_OK else { throw .noMemory }
    }

    deinit {
        lzma_end(stream)
        stream.deallocate()
        buffer.deallocate()
    }
}

/// `name.xz` if it exists, else `name`, in `dir`.
func openCaptureFile(_ dir: String, _ name: String) throws(ScamemError) -> any ByteSource {
    if access(dir + "/" + name + ".xz", F_OK) == 0 { return try XzFile(dir + "/" + name + ".xz") }
    return try RawFile(dir + "/" + name)
}

/// The text of a small capture file, or nil if it is missing.
func captureText(_ dir: String, _ name: String) throws(ScamemError) -> String? {
    do {
        var f = try openCaptureFile(dir, name)
        return try f.readAllText()
    } catch {
        if error == .notFound { return nil }
        throw error
    }
}
