using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace Da3js.Importer
{
    /// <summary>The three PLY encodings.</summary>
    public enum PlyEncoding
    {
        /// <summary><c>format ascii 1.0</c>.</summary>
        Ascii,
        /// <summary><c>format binary_little_endian 1.0</c> (what da3js writes).</summary>
        BinaryLittleEndian,
        /// <summary><c>format binary_big_endian 1.0</c>.</summary>
        BinaryBigEndian,
    }

    /// <summary>PLY scalar types (the aliases <c>int8 … float64</c> map onto these).</summary>
    public enum PlyType
    {
        /// <summary>int8.</summary>
        Char,
        /// <summary>uint8.</summary>
        UChar,
        /// <summary>int16.</summary>
        Short,
        /// <summary>uint16.</summary>
        UShort,
        /// <summary>int32.</summary>
        Int,
        /// <summary>uint32.</summary>
        UInt,
        /// <summary>float32.</summary>
        Float,
        /// <summary>float64.</summary>
        Double,
    }

    /// <summary>One property of a PLY element; <see cref="ListCount"/> is set for list properties.</summary>
    public sealed class PlyProperty
    {
        /// <summary>Name (e.g. <c>x</c>, <c>red</c>, <c>f_dc_0</c>).</summary>
        public string Name;
        /// <summary>Value type (item type for lists).</summary>
        public PlyType Type;
        /// <summary>The list length's type, or null for a scalar property.</summary>
        public PlyType? ListCount;
    }

    /// <summary>An element declared in the header (<c>element &lt;name&gt; &lt;count&gt;</c>).</summary>
    public sealed class PlyElement
    {
        /// <summary>Name.</summary>
        public string Name;
        /// <summary>Declared count.</summary>
        public long Count;
        /// <summary>Properties in file order.</summary>
        public List<PlyProperty> Properties = new List<PlyProperty>();

        /// <summary>Index of a property by name, or −1.</summary>
        public int IndexOf(string name)
        {
            for (int i = 0; i < Properties.Count; i++) if (Properties[i].Name == name) return i;
            return -1;
        }
    }

    /// <summary>A parsed PLY header.</summary>
    public sealed class PlyHeader
    {
        /// <summary>Encoding of the body.</summary>
        public PlyEncoding Encoding;
        /// <summary><c>comment</c> lines (without the keyword).</summary>
        public List<string> Comments = new List<string>();
        /// <summary>Elements in file order.</summary>
        public List<PlyElement> Elements = new List<PlyElement>();

        /// <summary>The element named <paramref name="name"/>, or null.</summary>
        public PlyElement Find(string name)
        {
            foreach (var e in Elements) if (e.Name == name) return e;
            return null;
        }

        /// <summary>True when the vertex element has the 3DGS properties (<c>f_dc_0</c>, <c>opacity</c>, <c>scale_0</c>, <c>rot_0</c>).</summary>
        public bool IsGaussianSplat
        {
            get
            {
                var v = Find("vertex");
                return v != null && v.IndexOf("f_dc_0") >= 0 && v.IndexOf("opacity") >= 0 && v.IndexOf("scale_0") >= 0 && v.IndexOf("rot_0") >= 0;
            }
        }
    }

    /// <summary>
    /// Streaming reader of PLY point clouds (da3js <c>scene.ply</c>: x y z, red green blue,
    /// confidence; any encoding, any numeric types, extra properties ignored) and 3DGS PLY files
    /// (<c>gs_ply/0000.ply</c>: the INRIA layout with SH0 only or f_rest for SH degree ≤ 3).
    ///
    /// <para>Files hold OpenCV world coordinates (x right, y down, z forward); everything returned is
    /// converted to Unity axes by <see cref="CoordinateFrames"/>. The header is checked against the
    /// bytes present before the output arrays are allocated (once, at their final size); the body
    /// streams through a 64 KiB buffer, so a 2M-point file is never held in memory as bytes.</para>
    /// </summary>
    public static class PlyReader
    {
        static readonly string[] ConfidenceNames = { "confidence", "conf", "quality", "scalar_confidence" };

        /// <summary>Reads a PLY file: a 3DGS PLY gives <see cref="Da3SceneData.Gaussians"/>, any other a point cloud.</summary>
        public static Da3SceneData Read(string path, ImportLimits limits = null)
        {
            using (var s = Da3Files.OpenRead(path)) return Read(s, Path.GetFileName(path), limits);
        }

        /// <summary>Reads a PLY from a stream (seekable streams get their counts checked against the size before allocation).</summary>
        public static Da3SceneData Read(Stream stream, string where, ImportLimits limits = null)
        {
            limits = limits ?? ImportLimits.Default;
            var cur = new StreamCursor(stream, where);
            var header = ReadHeader(cur, limits);
            var scene = new Da3SceneData();
            if (header.IsGaussianSplat)
            {
                scene.Format = Da3SourceFormat.GaussianPly;
                scene.Gaussians = ReadGaussianBody(cur, header, limits);
            }
            else
            {
                scene.Format = Da3SourceFormat.PointPly;
                scene.Points = ReadPointBody(cur, header, limits, scene.Warnings);
            }
            return scene;
        }

        static PlyType? TypeOf(string s)
        {
            switch (s)
            {
                case "char": case "int8": return PlyType.Char;
                case "uchar": case "uint8": return PlyType.UChar;
                case "short": case "int16": return PlyType.Short;
                case "ushort": case "uint16": return PlyType.UShort;
                case "int": case "int32": return PlyType.Int;
                case "uint": case "uint32": return PlyType.UInt;
                case "float": case "float32": return PlyType.Float;
                case "double": case "float64": return PlyType.Double;
                default: return null;
            }
        }

        /// <summary>Bytes of one value of a type.</summary>
        public static int SizeOf(PlyType t)
        {
            switch (t)
            {
                case PlyType.Char: case PlyType.UChar: return 1;
                case PlyType.Short: case PlyType.UShort: return 2;
                case PlyType.Int: case PlyType.UInt: case PlyType.Float: return 4;
                default: return 8;
            }
        }

        /// <summary>Parses the header (lines up to <c>end_header</c>, at most <see cref="ImportLimits.MaxHeaderBytes"/>).</summary>
        public static PlyHeader ReadHeader(StreamCursor cur, ImportLimits limits)
        {
            var w = cur.Where;
            var first = new byte[4];
            if (cur.Remaining >= 0 && cur.Remaining < 4) throw new Da3ImportException(Da3ErrorCode.Truncated, w, "too short for a PLY header (" + cur.Remaining + " bytes)");
            cur.ReadExactly(first, 0, 4, "the PLY magic");
            if (first[0] != (byte)'p' || first[1] != (byte)'l' || first[2] != (byte)'y' || (first[3] != (byte)'\n' && first[3] != (byte)'\r'))
                throw new Da3ImportException(Da3ErrorCode.BadMagic, w, "not a PLY file (it must start with \"ply\" and a newline)");
            if (first[3] == (byte)'\r') { var lf = cur.U8("the PLY magic"); if (lf != (byte)'\n') throw new Da3ImportException(Da3ErrorCode.BadHeader, w, "bad line ending after \"ply\""); }
            var h = new PlyHeader();
            bool haveFormat = false;
            long used = 4;
            for (int lineNo = 2; ; lineNo++)
            {
                var line = cur.ReadUntil((byte)'\n', (int)Math.Max(0, limits.MaxHeaderBytes - used), "the PLY header (no end_header within " + limits.MaxHeaderBytes + " bytes)");
                used += line.Length + 1;
                if (line.EndsWith("\r", StringComparison.Ordinal)) line = line.Substring(0, line.Length - 1);
                if (line.IndexOf('\0') >= 0) throw new Da3ImportException(Da3ErrorCode.BadHeader, w, "NUL byte in header line " + lineNo);
                var words = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (words.Length == 0) continue;
                var where = "header line " + lineNo + " (\"" + (line.Length > 60 ? line.Substring(0, 60) + "…" : line) + "\")";
                switch (words[0])
                {
                    case "comment":
                        h.Comments.Add(line.Length > 8 ? line.Substring(line.IndexOf("comment", StringComparison.Ordinal) + 7).TrimStart() : string.Empty);
                        continue;
                    case "obj_info":
                        continue;
                    case "format":
                        if (haveFormat) throw new Da3ImportException(Da3ErrorCode.BadHeader, w, where + ": second format line");
                        if (words.Length != 3 || words[2] != "1.0") throw new Da3ImportException(Da3ErrorCode.BadHeader, w, where + ": expected \"format <ascii|binary_little_endian|binary_big_endian> 1.0\"");
                        if (words[1] == "ascii") h.Encoding = PlyEncoding.Ascii;
                        else if (words[1] == "binary_little_endian") h.Encoding = PlyEncoding.BinaryLittleEndian;
                        else if (words[1] == "binary_big_endian") h.Encoding = PlyEncoding.BinaryBigEndian;
                        else throw new Da3ImportException(Da3ErrorCode.BadHeader, w, where + ": unknown format " + words[1]);
                        haveFormat = true;
                        continue;
                    case "element":
                    {
                        if (!haveFormat) throw new Da3ImportException(Da3ErrorCode.BadHeader, w, where + ": element before the format line");
                        long count;
                        if (words.Length != 3 || !long.TryParse(words[2], NumberStyles.None, CultureInfo.InvariantCulture, out count))
                            throw new Da3ImportException(Da3ErrorCode.BadHeader, w, where + ": expected \"element <name> <count>\"");
                        if (h.Find(words[1]) != null) throw new Da3ImportException(Da3ErrorCode.BadHeader, w, where + ": duplicate element " + words[1]);
                        h.Elements.Add(new PlyElement { Name = words[1], Count = count });
                        continue;
                    }
                    case "property":
                    {
                        if (h.Elements.Count == 0) throw new Da3ImportException(Da3ErrorCode.BadHeader, w, where + ": property before any element");
                        var el = h.Elements[h.Elements.Count - 1];
                        PlyProperty p;
                        if (words.Length >= 2 && words[1] == "list")
                        {
                            if (words.Length != 5) throw new Da3ImportException(Da3ErrorCode.BadHeader, w, where + ": expected \"property list <count type> <item type> <name>\"");
                            var ct = TypeOf(words[2]);
                            var it = TypeOf(words[3]);
                            if (ct == null || it == null) throw new Da3ImportException(Da3ErrorCode.BadHeader, w, where + ": unknown type");
                            if (ct == PlyType.Float || ct == PlyType.Double) throw new Da3ImportException(Da3ErrorCode.BadHeader, w, where + ": a list count must be an integer type");
                            p = new PlyProperty { Name = words[4], Type = it.Value, ListCount = ct };
                        }
                        else
                        {
                            if (words.Length != 3) throw new Da3ImportException(Da3ErrorCode.BadHeader, w, where + ": expected \"property <type> <name>\"");
                            var t = TypeOf(words[1]);
                            if (t == null) throw new Da3ImportException(Da3ErrorCode.BadHeader, w, where + ": unknown type " + words[1]);
                            p = new PlyProperty { Name = words[2], Type = t.Value };
                        }
                        if (el.IndexOf(p.Name) >= 0) throw new Da3ImportException(Da3ErrorCode.BadHeader, w, where + ": duplicate property " + p.Name);
                        el.Properties.Add(p);
                        continue;
                    }
                    case "end_header":
                        if (words.Length != 1) throw new Da3ImportException(Da3ErrorCode.BadHeader, w, where + ": junk after end_header");
                        if (!haveFormat) throw new Da3ImportException(Da3ErrorCode.BadHeader, w, "no format line");
                        return h;
                    default:
                        throw new Da3ImportException(Da3ErrorCode.BadHeader, w, where + ": unknown keyword \"" + words[0] + "\"");
                }
            }
        }

        // ------------------------------------------------------------------ body

        /// <summary>
        /// Skips the elements before <c>vertex</c>, then calls <paramref name="row"/> once per vertex
        /// with its scalar properties decoded into a reused double array (file order). The vertex
        /// element may not have list properties.
        /// </summary>
        static void ForEachVertex(StreamCursor cur, PlyHeader h, PlyElement vertex, Action<double[], long> row, ImportLimits limits)
        {
            var w = cur.Where;
            foreach (var el in h.Elements)
            {
                if (el == vertex) break;
                SkipElement(cur, h, el, limits);
            }
            foreach (var p in vertex.Properties)
                if (p.ListCount.HasValue) throw new Da3ImportException(Da3ErrorCode.Unsupported, w, "vertex property " + p.Name + " is a list");
            var n = vertex.Properties.Count;
            var values = new double[n];
            if (h.Encoding == PlyEncoding.Ascii)
            {
                // Each value takes at least 2 bytes ("0 ") — a cheap bound before looping.
                if (cur.Remaining >= 0 && vertex.Count > cur.Remaining / Math.Max(1, 2 * n) + 1)
                    throw new Da3ImportException(Da3ErrorCode.Truncated, w, "element vertex declares " + vertex.Count + " rows of " + n + " values, the body has only " + cur.Remaining + " bytes");
                for (long i = 0; i < vertex.Count; i++)
                {
                    ParseAsciiRow(cur, values, "vertex " + i, limits);
                    row(values, i);
                }
                return;
            }
            var le = h.Encoding == PlyEncoding.BinaryLittleEndian;
            var offsets = new int[n];
            var stride = 0;
            for (int k = 0; k < n; k++) { offsets[k] = stride; stride += SizeOf(vertex.Properties[k].Type); }
            if (stride == 0) throw new Da3ImportException(Da3ErrorCode.BadHeader, w, "element vertex has no properties");
            if (stride > cur.BufferSize) throw new Da3ImportException(Da3ErrorCode.TooLarge, w, "a vertex of " + n + " properties takes " + stride + " bytes, more than the reader's " + cur.BufferSize + "-byte buffer");
            cur.Require(vertex.Count * stride, "element vertex (" + vertex.Count + " × " + stride + " bytes)");
            var types = new PlyType[n];
            for (int k = 0; k < n; k++) types[k] = vertex.Properties[k].Type;
            var perChunk = Math.Max(1, cur.BufferSize / stride);
            long i0 = 0;
            while (i0 < vertex.Count)
            {
                var m = (int)Math.Min(perChunk, vertex.Count - i0);
                int off;
                var buf = cur.Peek(m * stride, "vertex " + i0, out off);
                for (int j = 0; j < m; j++)
                {
                    var o = off + j * stride;
                    for (int k = 0; k < n; k++) values[k] = Decode(buf, o + offsets[k], types[k], le);
                    row(values, i0 + j);
                }
                cur.Advance(m * stride);
                i0 += m;
            }
        }

        static double Decode(byte[] b, int o, PlyType t, bool le)
        {
            switch (t)
            {
                case PlyType.Char: return (sbyte)b[o];
                case PlyType.UChar: return b[o];
                case PlyType.Short: return (short)(le ? Bits.U16LE(b, o) : Bits.U16BE(b, o));
                case PlyType.UShort: return le ? Bits.U16LE(b, o) : Bits.U16BE(b, o);
                case PlyType.Int: return (int)(le ? Bits.U32LE(b, o) : Bits.U32BE(b, o));
                case PlyType.UInt: return le ? Bits.U32LE(b, o) : Bits.U32BE(b, o);
                case PlyType.Float: return le ? Bits.F32LE(b, o) : Bits.F32BE(b, o);
                default: return le ? Bits.F64LE(b, o) : Bits.F64BE(b, o);
            }
        }

        static void ParseAsciiRow(StreamCursor cur, double[] values, string what, ImportLimits limits)
        {
            string line;
            do
            {
                line = cur.ReadUntil((byte)'\n', limits.MaxLineBytes, what);
            } while (line.Trim().Length == 0);
            var words = line.Split(new[] { ' ', '\t', '\r' }, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length != values.Length)
                throw new Da3ImportException(Da3ErrorCode.BadValue, cur.Where, what + " has " + words.Length + " values, the header declares " + values.Length);
            for (int k = 0; k < values.Length; k++) values[k] = ParseNumber(words[k], cur.Where, what);
        }

        /// <summary>A PLY ASCII number (<c>nan</c>, <c>inf</c>, <c>-inf</c> accepted as NumPy writes them; validity is judged later).</summary>
        static double ParseNumber(string s, string where, string what)
        {
            double v;
            if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v)) return v;
            switch (s.ToLowerInvariant())
            {
                case "nan": case "-nan": return double.NaN;
                case "inf": case "+inf": case "infinity": return double.PositiveInfinity;
                case "-inf": case "-infinity": return double.NegativeInfinity;
            }
            throw new Da3ImportException(Da3ErrorCode.BadValue, where, what + ": \"" + (s.Length > 40 ? s.Substring(0, 40) : s) + "\" is not a number");
        }

        static void SkipElement(StreamCursor cur, PlyHeader h, PlyElement el, ImportLimits limits)
        {
            var w = cur.Where;
            if (h.Encoding == PlyEncoding.Ascii)
            {
                if (cur.Remaining >= 0 && el.Count > cur.Remaining) throw new Da3ImportException(Da3ErrorCode.Truncated, w, "element " + el.Name + " declares " + el.Count + " rows, the body has " + cur.Remaining + " bytes");
                for (long i = 0; i < el.Count; i++) cur.ReadUntil((byte)'\n', limits.MaxLineBytes, el.Name + " " + i);
                return;
            }
            var le = h.Encoding == PlyEncoding.BinaryLittleEndian;
            bool hasList = false;
            long fixedBytes = 0;
            foreach (var p in el.Properties)
            {
                if (p.ListCount.HasValue) { hasList = true; fixedBytes += SizeOf(p.ListCount.Value); }
                else fixedBytes += SizeOf(p.Type);
            }
            if (cur.Remaining >= 0 && fixedBytes > 0 && el.Count > cur.Remaining / fixedBytes)
                throw new Da3ImportException(Da3ErrorCode.Truncated, w, "element " + el.Name + " needs at least " + el.Count + " × " + fixedBytes + " bytes, " + cur.Remaining + " left");
            if (!hasList) { cur.Skip(el.Count * fixedBytes, "element " + el.Name); return; }
            var tmp = new byte[8];
            for (long i = 0; i < el.Count; i++)
            {
                foreach (var p in el.Properties)
                {
                    if (!p.ListCount.HasValue) { cur.Skip(SizeOf(p.Type), el.Name); continue; }
                    var cs = SizeOf(p.ListCount.Value);
                    cur.ReadExactly(tmp, 0, cs, el.Name + " list length");
                    var len = Decode(tmp, 0, p.ListCount.Value, le);
                    if (len < 0) throw new Da3ImportException(Da3ErrorCode.BadValue, w, el.Name + "[" + i + "]." + p.Name + ": negative list length " + len);
                    cur.Skip((long)len * SizeOf(p.Type), el.Name + " list");
                }
            }
        }

        // ------------------------------------------------------------------ point clouds

        static PointCloud ReadPointBody(StreamCursor cur, PlyHeader h, ImportLimits limits, List<string> warnings)
        {
            var w = cur.Where;
            var v = h.Find("vertex");
            if (v == null) throw new Da3ImportException(Da3ErrorCode.Missing, w, "no \"vertex\" element");
            ImportLimits.Check(w, "vertex count", v.Count, Math.Min(limits.MaxPoints, int.MaxValue / 4));
            int ix = v.IndexOf("x"), iy = v.IndexOf("y"), iz = v.IndexOf("z");
            if (ix < 0 || iy < 0 || iz < 0) throw new Da3ImportException(Da3ErrorCode.Missing, w, "the vertex element needs x, y and z");
            int ir = v.IndexOf("red"), ig = v.IndexOf("green"), ib = v.IndexOf("blue"), ia = v.IndexOf("alpha");
            if (ir < 0) { ir = v.IndexOf("r"); ig = v.IndexOf("g"); ib = v.IndexOf("b"); }
            var hasColor = ir >= 0 && ig >= 0 && ib >= 0;
            var colorScale = hasColor ? ColorScale(v.Properties[ir].Type) : 1.0;
            var ic = -1;
            foreach (var name in ConfidenceNames) { ic = v.IndexOf(name); if (ic >= 0) break; }
            if (!hasColor) warnings.Add(w + ": no red/green/blue properties; points are white");
            var n = (int)v.Count;
            if (h.Encoding != PlyEncoding.Ascii)
            {
                var stride = 0;
                foreach (var p in v.Properties) stride += SizeOf(p.Type);
                // Check before allocating: the body must hold every vertex.
                cur.Require((long)n * stride, "element vertex (" + n + " × " + stride + " bytes)");
            }
            var pc = new PointCloud
            {
                Count = n,
                Positions = new float[3 * (long)n],
                Colors = new byte[4 * (long)n],
                Confidence = ic >= 0 ? new float[n] : null,
            };
            var pos = pc.Positions;
            var col = pc.Colors;
            var conf = pc.Confidence;
            ForEachVertex(cur, h, v, (row, i) =>
            {
                double x = row[ix], y = row[iy], z = row[iz];
                if (!Finite.Is(x) || !Finite.Is(y) || !Finite.Is(z)) throw new Da3ImportException(Da3ErrorCode.NonFinite, w, "vertex " + i + " is (" + x + ", " + y + ", " + z + ")");
                var k = 3 * i;
                // OpenCV → Unity (CoordinateFrames): y → −y.
                pos[k] = (float)x;
                pos[k + 1] = -(float)y;
                pos[k + 2] = (float)z;
                var c = 4 * i;
                if (hasColor)
                {
                    col[c] = ToByte(row[ir] * colorScale, w, i);
                    col[c + 1] = ToByte(row[ig] * colorScale, w, i);
                    col[c + 2] = ToByte(row[ib] * colorScale, w, i);
                    col[c + 3] = ia >= 0 ? ToByte(row[ia] * ColorScale(v.Properties[ia].Type), w, i) : (byte)255;
                }
                else { col[c] = 255; col[c + 1] = 255; col[c + 2] = 255; col[c + 3] = 255; }
                if (conf != null)
                {
                    var f = (float)row[ic];
                    if (!Finite.Is(f)) throw new Da3ImportException(Da3ErrorCode.NonFinite, w, "vertex " + i + " has confidence " + row[ic]);
                    conf[i] = f;
                }
            }, limits);
            return pc;
        }

        static double ColorScale(PlyType t)
        {
            switch (t)
            {
                case PlyType.UChar: return 1;
                case PlyType.UShort: return 255.0 / 65535.0;
                case PlyType.Float: case PlyType.Double: return 255.0;
                default: return 1;
            }
        }

        static byte ToByte(double v, string where, long i)
        {
            if (!(v >= -0.5 && v < 255.5)) throw new Da3ImportException(Da3ErrorCode.BadValue, where, "vertex " + i + " has colour value " + v + " outside [0, 255]");
            return (byte)Math.Round(v);
        }

        // ------------------------------------------------------------------ 3D Gaussians

        static GaussianCloud ReadGaussianBody(StreamCursor cur, PlyHeader h, ImportLimits limits)
        {
            var w = cur.Where;
            var v = h.Find("vertex");
            ImportLimits.Check(w, "Gaussian count", v.Count, Math.Min(limits.MaxGaussians, int.MaxValue / 64));
            Func<string, int> need = name =>
            {
                var k = v.IndexOf(name);
                if (k < 0) throw new Da3ImportException(Da3ErrorCode.Missing, w, "3DGS PLY without the property " + name);
                return k;
            };
            int ix = need("x"), iy = need("y"), iz = need("z");
            var idc = new[] { need("f_dc_0"), need("f_dc_1"), need("f_dc_2") };
            var iop = need("opacity");
            var isc = new[] { need("scale_0"), need("scale_1"), need("scale_2") };
            var irot = new[] { need("rot_0"), need("rot_1"), need("rot_2"), need("rot_3") };
            var nRest = 0;
            while (v.IndexOf("f_rest_" + nRest) >= 0) nRest++;
            if (nRest % 3 != 0) throw new Da3ImportException(Da3ErrorCode.BadShape, w, nRest + " f_rest properties is not a multiple of 3");
            var K = 1 + nRest / 3;
            if (K != 1 && K != 4 && K != 9 && K != 16) throw new Da3ImportException(Da3ErrorCode.Unsupported, w, K + " SH coefficients per channel is not a complete degree 0–3 (1, 4, 9, 16)");
            var irest = new int[nRest];
            for (int r = 0; r < nRest; r++) irest[r] = v.IndexOf("f_rest_" + r);
            var per = nRest / 3;
            var n = (int)v.Count;
            if (h.Encoding != PlyEncoding.Ascii)
            {
                var stride = 0;
                foreach (var p in v.Properties) stride += SizeOf(p.Type);
                cur.Require((long)n * stride, "element vertex (" + n + " × " + stride + " bytes)");
            }
            var g = new GaussianCloud
            {
                Count = n,
                ShCoefficients = K,
                Positions = new float[3 * (long)n],
                Rotations = new float[4 * (long)n],
                Scales = new float[3 * (long)n],
                Opacities = new float[n],
                Sh = new float[3 * (long)K * n],
            };
            var signs = new float[K];
            for (int k = 0; k < K; k++) signs[k] = CoordinateFrames.ShSign(k);
            ForEachVertex(cur, h, v, (row, i) =>
            {
                foreach (var val in row)
                    if (!Finite.Is(val)) throw new Da3ImportException(Da3ErrorCode.NonFinite, w, "Gaussian " + i + " holds " + val);
                var k3 = 3 * i;
                g.Positions[k3] = (float)row[ix];
                g.Positions[k3 + 1] = -(float)row[iy];
                g.Positions[k3 + 2] = (float)row[iz];
                for (int a = 0; a < 3; a++)
                {
                    var s = Math.Exp(row[isc[a]]);
                    if (!(s < float.MaxValue)) throw new Da3ImportException(Da3ErrorCode.NonFinite, w, "Gaussian " + i + " has scale exp(" + row[isc[a]] + ")");
                    g.Scales[k3 + a] = (float)s;
                }
                g.Opacities[i] = (float)(1.0 / (1.0 + Math.Exp(-row[iop])));
                // rot_0..3 = w, x, y, z (OpenCV) → Unity xyzw = (−x, y, −z, w).
                double qw = row[irot[0]], qx = row[irot[1]], qy = row[irot[2]], qz = row[irot[3]];
                if (qw == 0 && qx == 0 && qy == 0 && qz == 0) throw new Da3ImportException(Da3ErrorCode.BadValue, w, "Gaussian " + i + " has the zero quaternion");
                var q = 4 * i;
                g.Rotations[q] = -(float)qx;
                g.Rotations[q + 1] = (float)qy;
                g.Rotations[q + 2] = -(float)qz;
                g.Rotations[q + 3] = (float)qw;
                for (int c = 0; c < 3; c++)
                {
                    var o = (3 * i + c) * K;
                    g.Sh[o] = (float)row[idc[c]];
                    for (int k = 1; k < K; k++) g.Sh[o + k] = signs[k] * (float)row[irest[c * per + (k - 1)]];
                }
            }, limits);
            return g;
        }
    }
}
