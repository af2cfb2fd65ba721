using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace Da3js.Importer
{
    /// <summary>
    /// A forward reader over a stream with a fixed 64 KiB buffer: bounded little/big-endian reads
    /// that throw <see cref="Da3ErrorCode.Truncated"/> (naming what was being read) instead of
    /// returning short data. <see cref="Remaining"/> is known for seekable streams, so readers can
    /// check a header's counts against the bytes actually present before allocating.
    /// </summary>
    public sealed class StreamCursor
    {
        readonly Stream _stream;
        readonly byte[] _buf;
        int _pos, _len;
        long _consumed; // bytes of the stream before _buf[0]
        readonly long _length; // -1 when unknown
        readonly long _origin;

        /// <summary>The file name or description used in error messages.</summary>
        public readonly string Where;

        /// <summary>Wraps <paramref name="stream"/> from its current position.</summary>
        public StreamCursor(Stream stream, string where, int bufferSize = 1 << 16)
        {
            _stream = stream ?? throw new ArgumentNullException("stream");
            _buf = new byte[bufferSize];
            Where = where ?? string.Empty;
            if (stream.CanSeek)
            {
                _origin = stream.Position;
                _length = stream.Length - _origin;
            }
            else
            {
                _origin = 0;
                _length = -1;
            }
        }

        /// <summary>Bytes read so far (relative to where the cursor started).</summary>
        public long Position { get { return _consumed + _pos; } }

        /// <summary>Bytes left in the stream, or −1 when the stream cannot tell.</summary>
        public long Remaining { get { return _length < 0 ? -1 : _length - Position; } }

        /// <summary>Throws <see cref="Da3ErrorCode.Truncated"/> unless at least <paramref name="bytes"/> remain (no-op for unknown lengths).</summary>
        public void Require(long bytes, string what)
        {
            if (_length >= 0 && bytes > Remaining)
                throw new Da3ImportException(Da3ErrorCode.Truncated, Where, what + " needs " + bytes + " bytes at offset " + Position + ", the file has " + Remaining + " left");
        }

        bool Fill(int need)
        {
            if (_len - _pos >= need) return true;
            if (_pos > 0)
            {
                Buffer.BlockCopy(_buf, _pos, _buf, 0, _len - _pos);
                _consumed += _pos;
                _len -= _pos;
                _pos = 0;
            }
            while (_len < need)
            {
                int n;
                try { n = _stream.Read(_buf, _len, _buf.Length - _len); }
                catch (IOException e) { throw new Da3ImportException(Da3ErrorCode.Io, Where, "read failed: " + e.Message, e); }
                if (n <= 0) return false;
                _len += n;
            }
            return true;
        }

        void Need(int n, string what)
        {
            if (!Fill(n)) throw new Da3ImportException(Da3ErrorCode.Truncated, Where, "the file ends inside " + what + " (offset " + Position + ")");
        }

        /// <summary>Reads exactly <paramref name="count"/> bytes into <paramref name="dst"/>.</summary>
        public void ReadExactly(byte[] dst, int offset, int count, string what)
        {
            while (count > 0)
            {
                if (_pos == _len && !Fill(1)) throw new Da3ImportException(Da3ErrorCode.Truncated, Where, "the file ends inside " + what + " (offset " + Position + ", " + count + " bytes missing)");
                var n = Math.Min(count, _len - _pos);
                Buffer.BlockCopy(_buf, _pos, dst, offset, n);
                _pos += n;
                offset += n;
                count -= n;
            }
        }

        /// <summary>
        /// Exposes the next <paramref name="count"/> bytes (at most the buffer size) in the internal
        /// buffer without copying: returns the buffer and sets <paramref name="offset"/>.
        /// </summary>
        public byte[] Peek(int count, string what, out int offset)
        {
            if (count > _buf.Length) throw new ArgumentOutOfRangeException("count");
            Need(count, what);
            offset = _pos;
            return _buf;
        }

        /// <summary>Consumes bytes previously exposed by <see cref="Peek"/>.</summary>
        public void Advance(int count) { _pos += count; }

        /// <summary>The buffer capacity (largest <see cref="Peek"/>).</summary>
        public int BufferSize { get { return _buf.Length; } }

        /// <summary>Skips <paramref name="count"/> bytes.</summary>
        public void Skip(long count, string what)
        {
            Require(count, what);
            while (count > 0)
            {
                if (_pos == _len && !Fill(1)) throw new Da3ImportException(Da3ErrorCode.Truncated, Where, "the file ends inside " + what);
                var n = (int)Math.Min(count, _len - _pos);
                _pos += n;
                count -= n;
            }
        }

        /// <summary>True when no byte is left.</summary>
        public bool AtEnd { get { return _pos == _len && !Fill(1); } }

        /// <summary>One byte.</summary>
        public byte U8(string what) { Need(1, what); return _buf[_pos++]; }

        /// <summary>Little-endian uint16.</summary>
        public ushort U16(string what) { Need(2, what); var v = (ushort)(_buf[_pos] | (_buf[_pos + 1] << 8)); _pos += 2; return v; }

        /// <summary>Little-endian uint32.</summary>
        public uint U32(string what) { Need(4, what); var v = Bits.U32LE(_buf, _pos); _pos += 4; return v; }

        /// <summary>Little-endian int32.</summary>
        public int I32(string what) { return (int)U32(what); }

        /// <summary>Little-endian uint64.</summary>
        public ulong U64(string what) { Need(8, what); var v = Bits.U64LE(_buf, _pos); _pos += 8; return v; }

        /// <summary>Little-endian float64.</summary>
        public double F64(string what) { return BitConverter.Int64BitsToDouble((long)U64(what)); }

        /// <summary>Like <see cref="ReadUntil"/>, but the end of the stream also ends the text (a last line without a newline).</summary>
        public string ReadUntilOrEnd(byte terminator, int maxBytes, string what)
        {
            var sb = new MemoryStream();
            for (;;)
            {
                if (_pos == _len && !Fill(1)) break;
                var b = _buf[_pos++];
                if (b == terminator) break;
                if (sb.Length >= maxBytes) throw new Da3ImportException(Da3ErrorCode.TooLarge, Where, what + " is longer than " + maxBytes + " bytes");
                sb.WriteByte(b);
            }
            return Encoding.UTF8.GetString(sb.GetBuffer(), 0, (int)sb.Length);
        }

        /// <summary>
        /// Reads bytes up to and including <paramref name="terminator"/> (not returned), at most
        /// <paramref name="maxBytes"/>; ASCII/UTF-8 decoded. Throws when the limit or the end comes first.
        /// </summary>
        public string ReadUntil(byte terminator, int maxBytes, string what)
        {
            var sb = new MemoryStream();
            for (;;)
            {
                if (_pos == _len && !Fill(1)) throw new Da3ImportException(Da3ErrorCode.Truncated, Where, "the file ends inside " + what);
                var b = _buf[_pos++];
                if (b == terminator) break;
                if (sb.Length >= maxBytes) throw new Da3ImportException(Da3ErrorCode.TooLarge, Where, what + " is longer than " + maxBytes + " bytes");
                sb.WriteByte(b);
            }
            return Encoding.UTF8.GetString(sb.GetBuffer(), 0, (int)sb.Length);
        }
    }

    /// <summary>Endian-explicit decoding of primitive values from byte arrays (the host may be either endianness).</summary>
    public static class Bits
    {
        /// <summary>Little-endian uint16.</summary>
        public static ushort U16LE(byte[] b, int o) { return (ushort)(b[o] | (b[o + 1] << 8)); }
        /// <summary>Big-endian uint16.</summary>
        public static ushort U16BE(byte[] b, int o) { return (ushort)((b[o] << 8) | b[o + 1]); }
        /// <summary>Little-endian uint32.</summary>
        public static uint U32LE(byte[] b, int o) { return (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)); }
        /// <summary>Big-endian uint32.</summary>
        public static uint U32BE(byte[] b, int o) { return (uint)((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]); }
        /// <summary>Little-endian uint64.</summary>
        public static ulong U64LE(byte[] b, int o) { return U32LE(b, o) | ((ulong)U32LE(b, o + 4) << 32); }
        /// <summary>Big-endian uint64.</summary>
        public static ulong U64BE(byte[] b, int o) { return ((ulong)U32BE(b, o) << 32) | U32BE(b, o + 4); }
        /// <summary>Little-endian float32.</summary>
        public static float F32LE(byte[] b, int o) { return Int32BitsToSingle((int)U32LE(b, o)); }
        /// <summary>Big-endian float32.</summary>
        public static float F32BE(byte[] b, int o) { return Int32BitsToSingle((int)U32BE(b, o)); }
        /// <summary>Little-endian float64.</summary>
        public static double F64LE(byte[] b, int o) { return BitConverter.Int64BitsToDouble((long)U64LE(b, o)); }
        /// <summary>Big-endian float64.</summary>
        public static double F64BE(byte[] b, int o) { return BitConverter.Int64BitsToDouble((long)U64BE(b, o)); }

        /// <summary>Reinterprets 32 bits as a float (no allocation, no unsafe code).</summary>
        public static float Int32BitsToSingle(int v) { var u = new FloatBits { I = v }; return u.F; }

        /// <summary>Reinterprets a float as 32 bits.</summary>
        public static int SingleToInt32Bits(float v) { var u = new FloatBits { F = v }; return u.I; }

        [StructLayout(LayoutKind.Explicit)]
        struct FloatBits
        {
            [FieldOffset(0)] public int I;
            [FieldOffset(0)] public float F;
        }
    }
}
