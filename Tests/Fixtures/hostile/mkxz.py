# Writes an .xz of `pfns` zero kpageflags entries whose index claims
# `claimed` uncompressed bytes: the index's record and CRC32 rewritten.
import lzma, struct, sys, zlib

def varint(n):
    out = b""
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])

def read_varint(buf, i):
    n, shift = 0, 0
    while True:
        b = buf[i]; i += 1
        n |= (b & 0x7f) << shift; shift += 7
        if not b & 0x80:
            return n, i

def lying(pfns, claimed, path):
    data = lzma.compress(bytes(8 * pfns), format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64)
    footer = data[-12:]
    backward = (struct.unpack("<I", footer[4:8])[0] + 1) * 4
    index_start = len(data) - 12 - backward
    idx = data[index_start:len(data) - 12]
    assert idx[0] == 0
    nrec, i = read_varint(idx, 1)
    assert nrec == 1
    unpadded, i = read_varint(idx, i)
    uncomp, i = read_varint(idx, i)
    assert uncomp == 8 * pfns
    body = b"\0" + varint(1) + varint(unpadded) + varint(claimed)
    body += b"\0" * (-len(body) % 4)
    body += struct.pack("<I", zlib.crc32(body))
    back = struct.pack("<I", len(body) // 4 - 1) + footer[8:10]
    footer = struct.pack("<I", zlib.crc32(back)) + back + b"YZ"
    open(path, "wb").write(data[:index_start] + body + footer)

lying(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
