using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Text;

namespace Da3js.Importer
{
    /// <summary>One entry of a ZIP central directory.</summary>
    public sealed class ZipEntry
    {
        /// <summary>Name as stored (<c>depth.npy</c>).</summary>
        public string Name;
        /// <summary>0 = stored, 8 = deflate.</summary>
        public int Method;
        /// <summary>CRC-32 of the uncompressed bytes.</summary>
        public uint Crc32;
        /// <summary>Compressed size in bytes.</summary>
        public long CompressedSize;
        /// <summary>Uncompressed size in bytes.</summary>
        public long Size;
        /// <summary>Offset of the local header.</summary>
        public long HeaderOffset;
    }

    /// <summary>
    /// A strict, streaming ZIP reader for <c>.npz</c> archives (NumPy's <c>savez</c> /
    /// <c>savez_compressed</c> and da3js' writer): stored or deflated entries, ZIP64, CRC-32 checked.
    /// Nothing is decompressed until an entry is opened, and an opened entry streams; declared sizes
    /// are bounded (<see cref="ImportLimits.MaxArrayBytes"/>, and a deflate ratio cap against zip
    /// bombs) before anything is allocated.
    /// </summary>
    public sealed class ZipReader
    {
        readonly Stream _stream;
        readonly string _where;
        readonly ImportLimits _limits;

        /// <summary>The entries in central-directory order.</summary>
        public readonly List<ZipEntry> Entries = new List<ZipEntry>();

        /// <summary>Reads the central directory of a seekable stream.</summary>
        public ZipReader(Stream stream, string where, ImportLimits limits = null)
        {
            _stream = stream;
            _where = where;
            _limits = limits ?? ImportLimits.Default;
            if (!stream.CanSeek) throw new Da3ImportException(Da3ErrorCode.Unsupported, where, "the npz reader needs a seekable stream");
            ReadDirectory();
        }

        byte[] ReadAt(long offset, int count, string what)
        {
            if (offset < 0 || offset + count > _stream.Length) throw new Da3ImportException(Da3ErrorCode.Truncated, _where, what + " at offset " + offset + " runs past the end of the file (" + _stream.Length + " bytes)");
            _stream.Position = offset;
            var b = new byte[count];
            var at = 0;
            while (at < count)
            {
                var n = _stream.Read(b, at, count - at);
                if (n <= 0) throw new Da3ImportException(Da3ErrorCode.Truncated, _where, "the file ends inside " + what);
                at += n;
            }
            return b;
        }

        void ReadDirectory()
        {
            var len = _stream.Length;
            if (len < 22) throw new Da3ImportException(len >= 2 && ReadAt(0, 2, "magic")[0] == (byte)'P' ? Da3ErrorCode.Truncated : Da3ErrorCode.BadMagic, _where, "not a ZIP/npz file (" + len + " bytes, no end-of-central-directory record)");
            var head = ReadAt(0, 4, "the ZIP magic");
            if (head[0] != (byte)'P' || head[1] != (byte)'K') throw new Da3ImportException(Da3ErrorCode.BadMagic, _where, "not a ZIP/npz file (it must start with \"PK\")");
            var tailLen = (int)Math.Min(len, 22 + 65535);
            var tail = ReadAt(len - tailLen, tailLen, "the end of the file");
            var eocd = -1;
            for (int i = tailLen - 22; i >= 0; i--)
            {
                if (Bits.U32LE(tail, i) == 0x06054b50) { eocd = i; break; }
            }
            if (eocd < 0) throw new Da3ImportException(Da3ErrorCode.Truncated, _where, "no end-of-central-directory record (a truncated npz?)");
            long count = Bits.U16LE(tail, eocd + 10);
            long cdSize = Bits.U32LE(tail, eocd + 12);
            long cdOffset = Bits.U32LE(tail, eocd + 16);
            var eocdAbs = len - tailLen + eocd;
            if (count == 0xFFFF || cdSize == 0xFFFFFFFF || cdOffset == 0xFFFFFFFF)
            {
                if (eocdAbs < 20) throw new Da3ImportException(Da3ErrorCode.BadHeader, _where, "ZIP64 markers without a ZIP64 locator");
                var loc = ReadAt(eocdAbs - 20, 20, "the ZIP64 locator");
                if (Bits.U32LE(loc, 0) != 0x07064b50) throw new Da3ImportException(Da3ErrorCode.BadHeader, _where, "ZIP64 markers without a ZIP64 locator");
                var recOffset = (long)Bits.U64LE(loc, 8);
                var rec = ReadAt(recOffset, 56, "the ZIP64 end record");
                if (Bits.U32LE(rec, 0) != 0x06064b50) throw new Da3ImportException(Da3ErrorCode.BadHeader, _where, "bad ZIP64 end record signature");
                count = (long)Bits.U64LE(rec, 32);
                cdSize = (long)Bits.U64LE(rec, 40);
                cdOffset = (long)Bits.U64LE(rec, 48);
            }
            ImportLimits.Check(_where, "ZIP entry count", count, 4096);
            if (cdOffset < 0 || cdSize < 0 || cdOffset + cdSize > len) throw new Da3ImportException(Da3ErrorCode.Truncated, _where, "the central directory (" + cdSize + " bytes at " + cdOffset + ") runs past the end of the file (" + len + ")");
            ImportLimits.Check(_where, "central directory size", cdSize, 64L << 20);
            var cd = ReadAt(cdOffset, (int)cdSize, "the central directory");
            var at = 0;
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (long e = 0; e < count; e++)
            {
                if (at + 46 > cd.Length || Bits.U32LE(cd, at) != 0x02014b50) throw new Da3ImportException(Da3ErrorCode.BadHeader, _where, "central directory entry " + e + " is malformed");
                var flags = Bits.U16LE(cd, at + 8);
                var entry = new ZipEntry
                {
                    Method = Bits.U16LE(cd, at + 10),
                    Crc32 = Bits.U32LE(cd, at + 16),
                    CompressedSize = Bits.U32LE(cd, at + 20),
                    Size = Bits.U32LE(cd, at + 24),
                    HeaderOffset = Bits.U32LE(cd, at + 42),
                };
                int nameLen = Bits.U16LE(cd, at + 28), extraLen = Bits.U16LE(cd, at + 30), commentLen = Bits.U16LE(cd, at + 32);
                if (at + 46 + nameLen + extraLen + commentLen > cd.Length) throw new Da3ImportException(Da3ErrorCode.BadHeader, _where, "central directory entry " + e + " runs past the directory");
                entry.Name = (flags & 0x800) != 0 ? Encoding.UTF8.GetString(cd, at + 46, nameLen) : Latin1(cd, at + 46, nameLen);
                var x = at + 46 + nameLen;
                var xEnd = x + extraLen;
                while (x + 4 <= xEnd)
                {
                    int id = Bits.U16LE(cd, x), size = Bits.U16LE(cd, x + 2);
                    if (x + 4 + size > xEnd) break;
                    if (id == 1)
                    {
                        var p = x + 4;
                        if (entry.Size == 0xFFFFFFFF && p + 8 <= x + 4 + size) { entry.Size = (long)Bits.U64LE(cd, p); p += 8; }
                        if (entry.CompressedSize == 0xFFFFFFFF && p + 8 <= x + 4 + size) { entry.CompressedSize = (long)Bits.U64LE(cd, p); p += 8; }
                        if (entry.HeaderOffset == 0xFFFFFFFF && p + 8 <= x + 4 + size) { entry.HeaderOffset = (long)Bits.U64LE(cd, p); }
                    }
                    x += 4 + size;
                }
                if ((flags & 1) != 0) throw new Da3ImportException(Da3ErrorCode.Unsupported, _where, entry.Name + " is encrypted");
                if (entry.Method != 0 && entry.Method != 8) throw new Da3ImportException(Da3ErrorCode.Unsupported, _where, entry.Name + " uses compression method " + entry.Method + " (only stored and deflate)");
                if (entry.Size < 0 || entry.CompressedSize < 0 || entry.HeaderOffset < 0 || entry.HeaderOffset + 30 + entry.CompressedSize > len)
                    throw new Da3ImportException(Da3ErrorCode.Truncated, _where, entry.Name + ": " + entry.CompressedSize + " bytes at offset " + entry.HeaderOffset + " run past the end of the file (" + len + ")");
                if (!names.Add(entry.Name)) throw new Da3ImportException(Da3ErrorCode.BadHeader, _where, "duplicate entry " + entry.Name);
                Entries.Add(entry);
                at += 46 + nameLen + extraLen + commentLen;
            }
        }

        /// <summary>Names without the UTF-8 flag: bytes as characters (ASCII, which is all NumPy writes, is the same in CP437).</summary>
        static string Latin1(byte[] b, int offset, int count)
        {
            var c = new char[count];
            for (int i = 0; i < count; i++) c[i] = (char)b[offset + i];
            return new string(c);
        }

        /// <summary>The entry named <paramref name="name"/>, or null.</summary>
        public ZipEntry Find(string name)
        {
            foreach (var e in Entries) if (e.Name == name) return e;
            return null;
        }

        /// <summary>
        /// Opens an entry as a forward-only stream of exactly <see cref="ZipEntry.Size"/> bytes; the
        /// CRC-32 and the size are verified when the last byte has been read (a mismatch throws
        /// <see cref="Da3ErrorCode.Checksum"/> / <see cref="Da3ErrorCode.Truncated"/>).
        /// </summary>
        public Stream Open(ZipEntry entry)
        {
            var what = _where + "/" + entry.Name;
            ImportLimits.Check(what, "uncompressed size", entry.Size, _limits.MaxArrayBytes);
            if (entry.Method == 8 && entry.Size > Math.Max(1024, entry.CompressedSize * _limits.MaxDeflateRatio))
                throw new Da3ImportException(Da3ErrorCode.TooLarge, what, "declares " + entry.Size + " bytes from " + entry.CompressedSize + " compressed (ratio over " + _limits.MaxDeflateRatio + ", a zip bomb?)");
            var local = ReadAt(entry.HeaderOffset, 30, "the local header of " + entry.Name);
            if (Bits.U32LE(local, 0) != 0x04034b50) throw new Da3ImportException(Da3ErrorCode.BadHeader, what, "bad local header signature");
            var dataStart = entry.HeaderOffset + 30 + Bits.U16LE(local, 26) + Bits.U16LE(local, 28);
            if (dataStart + entry.CompressedSize > _stream.Length) throw new Da3ImportException(Da3ErrorCode.Truncated, what, "compressed data runs past the end of the file");
            if (entry.Method == 0 && entry.CompressedSize != entry.Size) throw new Da3ImportException(Da3ErrorCode.BadHeader, what, "a stored entry's sizes differ");
            Stream raw = new SubStream(_stream, dataStart, entry.CompressedSize);
            if (entry.Method == 8) raw = new DeflateStream(raw, CompressionMode.Decompress, false);
            return new CheckedStream(raw, entry.Size, entry.Crc32, what);
        }

        /// <summary>A read-only window [start, start + length) of a seekable stream.</summary>
        sealed class SubStream : Stream
        {
            readonly Stream _s;
            readonly long _start, _length;
            long _pos;

            public SubStream(Stream s, long start, long length) { _s = s; _start = start; _length = length; }
            public override bool CanRead { get { return true; } }
            public override bool CanSeek { get { return false; } }
            public override bool CanWrite { get { return false; } }
            public override long Length { get { return _length; } }
            public override long Position { get { return _pos; } set { throw new NotSupportedException(); } }
            public override void Flush() { }
            public override int Read(byte[] buffer, int offset, int count)
            {
                var n = (int)Math.Min(count, _length - _pos);
                if (n <= 0) return 0;
                _s.Position = _start + _pos;
                var r = _s.Read(buffer, offset, n);
                _pos += r;
                return r;
            }
            public override long Seek(long offset, SeekOrigin origin) { throw new NotSupportedException(); }
            public override void SetLength(long value) { throw new NotSupportedException(); }
            public override void Write(byte[] buffer, int offset, int count) { throw new NotSupportedException(); }
        }

        /// <summary>Counts and CRCs the bytes read; refuses more or fewer than declared.</summary>
        sealed class CheckedStream : Stream
        {
            readonly Stream _s;
            readonly long _size;
            readonly uint _crc;
            readonly string _what;
            long _read;
            uint _running = 0xFFFFFFFF;
            bool _verified;

            public CheckedStream(Stream s, long size, uint crc, string what) { _s = s; _size = size; _crc = crc; _what = what; }
            public override bool CanRead { get { return true; } }
            public override bool CanSeek { get { return false; } }
            public override bool CanWrite { get { return false; } }
            public override long Length { get { return _size; } }
            public override long Position { get { return _read; } set { throw new NotSupportedException(); } }
            public override void Flush() { }

            public override int Read(byte[] buffer, int offset, int count)
            {
                if (_read >= _size) { Verify(); return 0; }
                var want = (int)Math.Min(count, _size - _read);
                int n;
                try { n = _s.Read(buffer, offset, want); }
                catch (InvalidDataException e) { throw new Da3ImportException(Da3ErrorCode.BadHeader, _what, "corrupt deflate data: " + e.Message, e); }
                if (n <= 0) throw new Da3ImportException(Da3ErrorCode.Truncated, _what, "the entry ends after " + _read + " of " + _size + " bytes");
                _running = Crc32.Update(_running, buffer, offset, n);
                _read += n;
                if (_read == _size) Verify();
                return n;
            }

            void Verify()
            {
                if (_verified) return;
                _verified = true;
                var crc = _running ^ 0xFFFFFFFF;
                if (crc != _crc) throw new Da3ImportException(Da3ErrorCode.Checksum, _what, "CRC-32 mismatch (stored 0x" + _crc.ToString("x8") + ", data 0x" + crc.ToString("x8") + ")");
            }

            protected override void Dispose(bool disposing) { if (disposing) _s.Dispose(); base.Dispose(disposing); }
            public override long Seek(long offset, SeekOrigin origin) { throw new NotSupportedException(); }
            public override void SetLength(long value) { throw new NotSupportedException(); }
            public override void Write(byte[] buffer, int offset, int count) { throw new NotSupportedException(); }
        }
    }

    /// <summary>CRC-32 (IEEE 802.3, the ZIP checksum).</summary>
    public static class Crc32
    {
        static readonly uint[] Table = MakeTable();

        static uint[] MakeTable()
        {
            var t = new uint[256];
            for (uint i = 0; i < 256; i++)
            {
                var c = i;
                for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                t[i] = c;
            }
            return t;
        }

        /// <summary>Feeds bytes into a running CRC (start with 0xFFFFFFFF, finish by xor-ing 0xFFFFFFFF).</summary>
        public static uint Update(uint crc, byte[] b, int offset, int count)
        {
            for (int i = offset, end = offset + count; i < end; i++) crc = Table[(crc ^ b[i]) & 0xFF] ^ (crc >> 8);
            return crc;
        }

        /// <summary>CRC-32 of a whole array.</summary>
        public static uint Of(byte[] b) { return Update(0xFFFFFFFF, b, 0, b.Length) ^ 0xFFFFFFFF; }
    }
}
