using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace Da3js.Importer
{
    /// <summary>The element types of <c>.npy</c> arrays the importer reads.</summary>
    public enum NpyDtype
    {
        /// <summary><c>&lt;f4</c> / <c>&gt;f4</c>.</summary>
        Float32,
        /// <summary><c>&lt;f8</c> / <c>&gt;f8</c>.</summary>
        Float64,
        /// <summary><c>|u1</c>.</summary>
        UInt8,
        /// <summary><c>|b1</c>.</summary>
        Bool,
        /// <summary><c>&lt;i4</c>.</summary>
        Int32,
        /// <summary><c>&lt;i8</c>.</summary>
        Int64,
    }

    /// <summary>A parsed <c>.npy</c> header: dtype, byte order and C-order shape.</summary>
    public sealed class NpyHeader
    {
        /// <summary>Element type.</summary>
        public NpyDtype Dtype;
        /// <summary>True for little-endian data (or one-byte types).</summary>
        public bool LittleEndian = true;
        /// <summary>Shape, C order (row-major).</summary>
        public long[] Shape;
        /// <summary>Bytes per element.</summary>
        public int ItemSize;
        /// <summary>Number of elements (product of the shape).</summary>
        public long Count;
    }

    /// <summary>
    /// Reads <c>.npy</c> arrays (format versions 1.0, 2.0, 3.0; C order; the dtypes in
    /// <see cref="NpyDtype"/>) from a stream straight into their final array.
    /// </summary>
    public static class NpyReader
    {
        /// <summary>Reads the magic and header dict; checks that the shape's byte count equals <paramref name="dataBytes"/> when it is known (≥ 0 after the header).</summary>
        public static NpyHeader ReadHeader(StreamCursor cur, long totalBytes, ImportLimits limits)
        {
            var w = cur.Where;
            var magic = new byte[8];
            cur.ReadExactly(magic, 0, 8, "the .npy magic");
            if (magic[0] != 0x93 || magic[1] != (byte)'N' || magic[2] != (byte)'U' || magic[3] != (byte)'M' || magic[4] != (byte)'P' || magic[5] != (byte)'Y')
                throw new Da3ImportException(Da3ErrorCode.BadMagic, w, "not a .npy array (it must start with \\x93NUMPY)");
            var major = magic[6];
            long hlen;
            if (major == 1) hlen = cur.U16("the .npy header length");
            else if (major == 2 || major == 3) hlen = cur.U32("the .npy header length");
            else throw new Da3ImportException(Da3ErrorCode.Unsupported, w, ".npy format version " + major + "." + magic[7]);
            ImportLimits.Check(w, ".npy header length", hlen, limits.MaxHeaderBytes);
            var hb = new byte[hlen];
            cur.ReadExactly(hb, 0, (int)hlen, "the .npy header");
            var text = (major == 3 ? Encoding.UTF8 : Encoding.ASCII).GetString(hb).Trim();
            var h = ParseDict(text, w);
            ImportLimits.Check(w, "array bytes", h.Count * h.ItemSize, limits.MaxArrayBytes);
            var prefix = 8 + (major == 1 ? 2 : 4) + hlen;
            if (totalBytes >= 0 && totalBytes - prefix != h.Count * h.ItemSize)
                throw new Da3ImportException(totalBytes - prefix < h.Count * h.ItemSize ? Da3ErrorCode.Truncated : Da3ErrorCode.BadShape, w,
                    "shape (" + string.Join(", ", Array.ConvertAll(h.Shape, x => x.ToString(CultureInfo.InvariantCulture))) + ") of " + h.ItemSize + "-byte items needs " + (h.Count * h.ItemSize) + " bytes of data, the entry has " + (totalBytes - prefix));
            return h;
        }

        static NpyHeader ParseDict(string s, string w)
        {
            // {'descr': '<f4', 'fortran_order': False, 'shape': (3, 56, 84), }
            Func<string, Exception> bad = m => new Da3ImportException(Da3ErrorCode.BadHeader, w, ".npy header " + m + ": " + (s.Length > 120 ? s.Substring(0, 120) + "…" : s));
            if (!s.StartsWith("{", StringComparison.Ordinal) || !s.EndsWith("}", StringComparison.Ordinal)) throw bad("is not a dict");
            string descr = null;
            bool? fortran = null;
            long[] shape = null;
            var i = 1;
            Action ws = () => { while (i < s.Length && char.IsWhiteSpace(s[i])) i++; };
            Func<string> quoted = () =>
            {
                ws();
                if (i >= s.Length || (s[i] != '\'' && s[i] != '"')) throw bad("expects a quoted string at " + i);
                var q = s[i++];
                var start = i;
                while (i < s.Length && s[i] != q) i++;
                if (i >= s.Length) throw bad("has an unterminated string");
                return s.Substring(start, i++ - start);
            };
            for (;;)
            {
                ws();
                if (i < s.Length && s[i] == '}') break;
                var key = quoted();
                ws();
                if (i >= s.Length || s[i] != ':') throw bad("expects ':'");
                i++;
                ws();
                switch (key)
                {
                    case "descr": descr = quoted(); break;
                    case "fortran_order":
                        if (string.CompareOrdinal(s, i, "False", 0, 5) == 0) { fortran = false; i += 5; }
                        else if (string.CompareOrdinal(s, i, "True", 0, 4) == 0) { fortran = true; i += 4; }
                        else throw bad("has a bad fortran_order");
                        break;
                    case "shape":
                    {
                        if (i >= s.Length || s[i] != '(') throw bad("has a bad shape");
                        var end = s.IndexOf(')', i);
                        if (end < 0) throw bad("has an unterminated shape");
                        var parts = s.Substring(i + 1, end - i - 1).Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries);
                        var list = new List<long>();
                        foreach (var p in parts)
                        {
                            long d;
                            var t = p.Trim().TrimEnd('L');
                            if (t.Length == 0) continue;
                            if (!long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out d)) throw bad("has a bad dimension \"" + t + "\"");
                            list.Add(d);
                        }
                        if (list.Count > 32) throw bad("has more than 32 dimensions");
                        shape = list.ToArray();
                        i = end + 1;
                        break;
                    }
                    default: throw bad("has an unknown key '" + key + "'");
                }
                ws();
                if (i < s.Length && s[i] == ',') i++;
            }
            if (descr == null || fortran == null || shape == null) throw bad("lacks descr, fortran_order or shape");
            if (fortran.Value) throw new Da3ImportException(Da3ErrorCode.Unsupported, w, "Fortran-ordered arrays are not read (save with C order)");
            var h = new NpyHeader { Shape = shape };
            if (descr.Length != 3) throw new Da3ImportException(Da3ErrorCode.Unsupported, w, "dtype " + descr);
            h.LittleEndian = descr[0] != '>';
            switch (descr.Substring(1))
            {
                case "f4": h.Dtype = NpyDtype.Float32; h.ItemSize = 4; break;
                case "f8": h.Dtype = NpyDtype.Float64; h.ItemSize = 8; break;
                case "u1": h.Dtype = NpyDtype.UInt8; h.ItemSize = 1; break;
                case "b1": h.Dtype = NpyDtype.Bool; h.ItemSize = 1; break;
                case "i4": h.Dtype = NpyDtype.Int32; h.ItemSize = 4; break;
                case "i8": h.Dtype = NpyDtype.Int64; h.ItemSize = 8; break;
                default: throw new Da3ImportException(Da3ErrorCode.Unsupported, w, "dtype " + descr + " (float32, float64, uint8, bool, int32, int64 are read)");
            }
            long count = 1;
            foreach (var d in shape)
            {
                if (d < 0) throw bad("has a negative dimension");
                if (d > 0 && count > long.MaxValue / 16 / d) throw new Da3ImportException(Da3ErrorCode.TooLarge, w, "shape overflows");
                count *= d;
            }
            h.Count = count;
            return h;
        }

        /// <summary>Reads the data as float32 (float64 values are rounded; integers converted).</summary>
        public static float[] ReadFloats(StreamCursor cur, NpyHeader h)
        {
            var a = new float[h.Count];
            Each(cur, h, (b, o, i) => a[i] = (float)Value(b, o, h));
            return a;
        }

        /// <summary>Reads the data as float64.</summary>
        public static double[] ReadDoubles(StreamCursor cur, NpyHeader h)
        {
            var a = new double[h.Count];
            Each(cur, h, (b, o, i) => a[i] = Value(b, o, h));
            return a;
        }

        /// <summary>Reads uint8/bool data as bytes (other dtypes refused).</summary>
        public static byte[] ReadBytes(StreamCursor cur, NpyHeader h)
        {
            if (h.ItemSize != 1) throw new Da3ImportException(Da3ErrorCode.Unsupported, cur.Where, "expected a uint8 array, got " + h.Dtype);
            var a = new byte[h.Count];
            cur.ReadExactly(a, 0, a.Length, "the array data");
            return a;
        }

        static double Value(byte[] b, int o, NpyHeader h)
        {
            var le = h.LittleEndian;
            switch (h.Dtype)
            {
                case NpyDtype.Float32: return le ? Bits.F32LE(b, o) : Bits.F32BE(b, o);
                case NpyDtype.Float64: return le ? Bits.F64LE(b, o) : Bits.F64BE(b, o);
                case NpyDtype.Int32: return (int)(le ? Bits.U32LE(b, o) : Bits.U32BE(b, o));
                case NpyDtype.Int64: return (long)(le ? Bits.U64LE(b, o) : Bits.U64BE(b, o));
                default: return b[o];
            }
        }

        static void Each(StreamCursor cur, NpyHeader h, Action<byte[], int, long> f)
        {
            var per = cur.BufferSize / h.ItemSize;
            long i = 0;
            while (i < h.Count)
            {
                var n = (int)Math.Min(per, h.Count - i);
                int off;
                var buf = cur.Peek(n * h.ItemSize, "the array data", out off);
                for (int k = 0; k < n; k++) f(buf, off + k * h.ItemSize, i + k);
                cur.Advance(n * h.ItemSize);
                i += n;
            }
        }
    }

    /// <summary>Options of <see cref="NpzReader"/>.</summary>
    public sealed class NpzReadOptions
    {
        /// <summary>Size limits.</summary>
        public ImportLimits Limits = ImportLimits.Default;
        /// <summary>Also unproject the depth maps into a point cloud (default true).</summary>
        public bool PointCloud = true;
        /// <summary>Pixels with confidence below this are left out of the point cloud (default 0: keep all).</summary>
        public float MinConfidence;
        /// <summary>Take every n-th pixel in x and y for the point cloud (default 1).</summary>
        public int PixelStride = 1;
    }

    /// <summary>
    /// Reads da3js' <c>results.npz</c> (<c>exports/npz</c>: <c>image</c> uint8 [N,H,W,3], <c>depth</c>
    /// float32 [N,H,W] rounded to 6 decimals, <c>conf</c> [N,H,W] rounded to 2, <c>extrinsics</c>
    /// [N,3,4] world→camera, <c>intrinsics</c> [N,3,3]; <c>exports/mini_npz</c>: the same without
    /// <c>image</c>, depth rounded to 8 decimals). Produces one <see cref="DepthMap"/> and one
    /// <see cref="Da3View"/> per view and, optionally, the point cloud unprojected from depth
    /// (<c>p = S·c2w(K⁻¹·[u, v, 1]·d)</c> in float64; see <see cref="CoordinateFrames"/>). Mono/metric
    /// files without cameras give depth maps only.
    /// </summary>
    public static class NpzReader
    {
        /// <summary>Reads a file.</summary>
        public static Da3SceneData Read(string path, NpzReadOptions options = null)
        {
            using (var s = Da3Files.OpenRead(path)) return Read(s, Path.GetFileName(path), options);
        }

        /// <summary>Reads a seekable stream.</summary>
        public static Da3SceneData Read(Stream stream, string where, NpzReadOptions options = null)
        {
            options = options ?? new NpzReadOptions();
            var limits = options.Limits ?? ImportLimits.Default;
            var zip = new ZipReader(stream, where, limits);
            Func<string, ZipEntry> entry = name => zip.Find(name + ".npy") ?? zip.Find(name);
            var depthEntry = entry("depth");
            if (depthEntry == null) throw new Da3ImportException(Da3ErrorCode.Missing, where, "no depth array (entries: " + string.Join(", ", zip.Entries.ConvertAll(e => e.Name).ToArray()) + ")");
            NpyHeader hd;
            var depth = ReadArray(zip, depthEntry, where, limits, out hd, (c, h) => NpyReader.ReadFloats(c, h));
            if (hd.Shape.Length != 3) throw new Da3ImportException(Da3ErrorCode.BadShape, where, "depth must be [N, H, W], got " + hd.Shape.Length + " dimensions");
            long N = hd.Shape[0], H = hd.Shape[1], W = hd.Shape[2];
            ImportLimits.Check(where, "views", N, limits.MaxViews);
            ImportLimits.Check(where, "height", H, limits.MaxImageSide);
            ImportLimits.Check(where, "width", W, limits.MaxImageSide);
            float[] conf = null;
            var ce = entry("conf");
            if (ce != null)
            {
                NpyHeader h;
                conf = ReadArray(zip, ce, where, limits, out h, (c, hh) => NpyReader.ReadFloats(c, hh));
                ExpectShape(where, "conf", h.Shape, N, H, W);
            }
            double[] ext = null, intr = null;
            var ee = entry("extrinsics");
            if (ee != null)
            {
                NpyHeader h;
                ext = ReadArray(zip, ee, where, limits, out h, (c, hh) => NpyReader.ReadDoubles(c, hh));
                if (h.Shape.Length == 3 && h.Shape[0] == N && h.Shape[1] == 4 && h.Shape[2] == 4) ext = Drop4x4Row(ext, (int)N);
                else ExpectShape(where, "extrinsics", h.Shape, N, 3, 4);
                CheckFinite(where, "extrinsics", ext);
            }
            var ie = entry("intrinsics");
            if (ie != null)
            {
                NpyHeader h;
                intr = ReadArray(zip, ie, where, limits, out h, (c, hh) => NpyReader.ReadDoubles(c, hh));
                ExpectShape(where, "intrinsics", h.Shape, N, 3, 3);
                CheckFinite(where, "intrinsics", intr);
            }
            byte[] image = null;
            var im = entry("image");
            if (im != null)
            {
                NpyHeader h;
                image = ReadArray(zip, im, where, limits, out h, (c, hh) => NpyReader.ReadBytes(c, hh));
                ExpectShape(where, "image", h.Shape, N, H, W, 3);
            }

            var scene = new Da3SceneData { Format = Da3SourceFormat.Npz };
            int n = (int)N, hh2 = (int)H, ww = (int)W, hw = hh2 * ww;
            for (int v = 0; v < n; v++)
            {
                var dm = new DepthMap { View = v, Width = ww, Height = hh2, Depth = new float[hw] };
                Array.Copy(depth, (long)v * hw, dm.Depth, 0, hw);
                if (conf != null) { dm.Confidence = new float[hw]; Array.Copy(conf, (long)v * hw, dm.Confidence, 0, hw); }
                if (image != null) { dm.Rgb = new byte[3 * hw]; Array.Copy(image, 3L * v * hw, dm.Rgb, 0, 3 * hw); }
                scene.Depths.Add(dm);
                if (ext != null)
                {
                    var view = new Da3View { Index = v, Name = "view_" + v.ToString("D4", CultureInfo.InvariantCulture), Width = ww, Height = hh2, WorldToCamera = new double[12] };
                    Array.Copy(ext, 12 * v, view.WorldToCamera, 0, 12);
                    if (intr != null) { view.Intrinsics = new double[9]; Array.Copy(intr, 9 * v, view.Intrinsics, 0, 9); }
                    scene.Views.Add(view);
                }
            }
            if (ext == null) scene.Warnings.Add(where + ": no extrinsics (a mono/metric prediction): depth maps only, no cameras or points");
            if (options.PointCloud && ext != null && intr != null) scene.Points = Unproject(scene, options, where);
            return scene;
        }

        static T ReadArray<T>(ZipReader zip, ZipEntry e, string where, ImportLimits limits, out NpyHeader header, Func<StreamCursor, NpyHeader, T> read)
        {
            using (var s = zip.Open(e))
            {
                var cur = new StreamCursor(s, where + "/" + e.Name);
                header = NpyReader.ReadHeader(cur, e.Size, limits);
                var result = read(cur, header);
                var probe = new byte[1];
                if (s.Read(probe, 0, 1) != 0 || !cur.AtEnd) throw new Da3ImportException(Da3ErrorCode.BadShape, where + "/" + e.Name, "data continues past the shape");
                return result;
            }
        }

        static void ExpectShape(string where, string name, long[] shape, params long[] want)
        {
            var ok = shape.Length == want.Length;
            for (int i = 0; ok && i < want.Length; i++) ok = shape[i] == want[i];
            if (!ok)
                throw new Da3ImportException(Da3ErrorCode.BadShape, where, name + " has shape (" + string.Join(", ", Array.ConvertAll(shape, x => x.ToString(CultureInfo.InvariantCulture))) + "), expected (" + string.Join(", ", Array.ConvertAll(want, x => x.ToString(CultureInfo.InvariantCulture))) + ")");
        }

        static void CheckFinite(string where, string name, double[] a)
        {
            for (int i = 0; i < a.Length; i++) if (!Finite.Is(a[i])) throw new Da3ImportException(Da3ErrorCode.NonFinite, where, name + "[" + i + "] is " + a[i]);
        }

        static double[] Drop4x4Row(double[] e, int n)
        {
            var o = new double[12 * n];
            for (int v = 0; v < n; v++) Array.Copy(e, 16 * v, o, 12 * v, 12);
            return o;
        }

        /// <summary>
        /// The point cloud of the depth maps: pixels with finite depth &gt; 0 (and confidence ≥
        /// <see cref="NpzReadOptions.MinConfidence"/>), <c>p_world = Rᵀ·(K⁻¹·[u, v, 1]·d − t)</c> in
        /// float64, then Unity axes. Counted first, so the arrays are allocated once.
        /// </summary>
        public static PointCloud Unproject(Da3SceneData scene, NpzReadOptions options, string where)
        {
            var stride = Math.Max(1, options.PixelStride);
            long count = 0;
            foreach (var dm in scene.Depths)
                for (int v = 0; v < dm.Height; v += stride)
                    for (int u = 0; u < dm.Width; u += stride)
                        if (Keep(dm, u, v, options.MinConfidence)) count++;
            ImportLimits.Check(where, "point count", count, Math.Min(options.Limits.MaxPoints, int.MaxValue / 4));
            var pc = new PointCloud { Count = (int)count, Positions = new float[3 * count], Colors = new byte[4 * count] };
            var anyConf = scene.Depths.Count > 0 && scene.Depths[0].Confidence != null;
            if (anyConf) pc.Confidence = new float[count];
            long k = 0;
            foreach (var dm in scene.Depths)
            {
                var view = scene.Views[dm.View];
                var kinv = Mat3d.FromRowMajor(view.Intrinsics).Inverse(where + " intrinsics[" + dm.View + "]");
                var e = view.WorldToCamera;
                var r = new Mat3d { M00 = e[0], M01 = e[1], M02 = e[2], M10 = e[4], M11 = e[5], M12 = e[6], M20 = e[8], M21 = e[9], M22 = e[10] };
                var rt = r.Transposed;
                var t = new Vec3d(e[3], e[7], e[11]);
                for (int v = 0; v < dm.Height; v += stride)
                {
                    for (int u = 0; u < dm.Width; u += stride)
                    {
                        if (!Keep(dm, u, v, options.MinConfidence)) continue;
                        var p = v * dm.Width + u;
                        var d = (double)dm.Depth[p];
                        var cam = kinv.Mul(new Vec3d(u, v, 1)) * d;
                        var world = CoordinateFrames.OpenCvToUnity(rt.Mul(cam - t));
                        pc.Positions[3 * k] = (float)world.X;
                        pc.Positions[3 * k + 1] = (float)world.Y;
                        pc.Positions[3 * k + 2] = (float)world.Z;
                        if (dm.Rgb != null) { pc.Colors[4 * k] = dm.Rgb[3 * p]; pc.Colors[4 * k + 1] = dm.Rgb[3 * p + 1]; pc.Colors[4 * k + 2] = dm.Rgb[3 * p + 2]; }
                        else { pc.Colors[4 * k] = 255; pc.Colors[4 * k + 1] = 255; pc.Colors[4 * k + 2] = 255; }
                        pc.Colors[4 * k + 3] = 255;
                        if (anyConf) pc.Confidence[k] = dm.Confidence[p];
                        k++;
                    }
                }
            }
            return pc;
        }

        static bool Keep(DepthMap dm, int u, int v, float minConf)
        {
            var p = v * dm.Width + u;
            var d = dm.Depth[p];
            if (!(d > 0) || float.IsInfinity(d)) return false;
            if (dm.Confidence != null && !(dm.Confidence[p] >= minConf)) return false;
            return true;
        }
    }
}
