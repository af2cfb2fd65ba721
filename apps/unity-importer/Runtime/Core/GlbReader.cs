using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Da3js.Importer
{
    /// <summary>Options of <see cref="GlbReader"/>.</summary>
    public sealed class GlbReadOptions
    {
        /// <summary>Size limits (defaults: <see cref="ImportLimits.Default"/>).</summary>
        public ImportLimits Limits = ImportLimits.Default;

        /// <summary>
        /// Width and height in pixels of the processed images (e.g. from <c>depth_vis/0000.jpg</c>
        /// beside the GLB, or the npz). The camera wireframes fix K only up to the image size; with it
        /// the views get full intrinsics, without it only a pose and a field of view.
        /// </summary>
        public int ImageWidth;
        /// <summary>Height in pixels of the processed images (see <see cref="ImageWidth"/>).</summary>
        public int ImageHeight;

        /// <summary>Read the camera wireframes (default true).</summary>
        public bool Cameras = true;
    }

    /// <summary>
    /// Reads da3js' <c>scene.glb</c> (glTF 2.0 binary): the POINTS primitive (POSITION float32 VEC3,
    /// COLOR_0 normalised uint8/uint16 or float RGB/RGBA, and a confidence attribute
    /// <c>_CONFIDENCE</c> / <c>_CONF</c> / <c>_conf</c> float SCALAR when present), the camera
    /// wireframes (nodes <c>camera_NNN</c>, LINES, 16 vertices: centre→corner ×4, then the image
    /// rectangle), and <c>scenes[0].extras.hf_alignment</c>.
    ///
    /// <para>Positions come out in Unity axes in the <b>OpenCV world</b> of the prediction:
    /// <c>S·A⁻¹·q</c> (see <see cref="CoordinateFrames"/>), so a GLB lines up with the PLY, npz and
    /// COLMAP of the same prediction. A GLB without <c>hf_alignment</c> (not from da3js) is mapped
    /// with the plain glTF→Unity change (x, y, −z).</para>
    ///
    /// <para>Streaming: the BIN chunk is never loaded whole; each accessor is read through a 64 KiB
    /// buffer straight into its final array. The stream must be seekable (a file or a
    /// <c>MemoryStream</c> over bytes you already hold).</para>
    /// </summary>
    public static class GlbReader
    {
        const uint Magic = 0x46546C67; // 'glTF'
        const uint ChunkJson = 0x4E4F534A;
        const uint ChunkBin = 0x004E4942;
        const int GlFloat = 5126, GlUByte = 5121, GlUShort = 5123;

        /// <summary>Reads a GLB file.</summary>
        public static Da3SceneData Read(string path, GlbReadOptions options = null)
        {
            using (var s = Da3Files.OpenRead(path)) return Read(s, Path.GetFileName(path), options);
        }

        /// <summary>Reads a GLB from a seekable stream positioned at its first byte.</summary>
        public static Da3SceneData Read(Stream stream, string where, GlbReadOptions options = null)
        {
            options = options ?? new GlbReadOptions();
            var limits = options.Limits ?? ImportLimits.Default;
            if (!stream.CanSeek) throw new Da3ImportException(Da3ErrorCode.Unsupported, where, "the GLB reader needs a seekable stream (a file or a MemoryStream)");
            var origin = stream.Position;
            var fileLength = stream.Length - origin;
            var head = new StreamCursor(stream, where, 64);
            if (fileLength < 12) throw new Da3ImportException(Da3ErrorCode.Truncated, where, "a GLB starts with a 12-byte header; the file has " + fileLength + " bytes");
            var magic = head.U32("GLB magic");
            if (magic != Magic) throw new Da3ImportException(Da3ErrorCode.BadMagic, where, "not a GLB file (expected the magic 'glTF', got 0x" + magic.ToString("x8") + ")");
            var version = head.U32("GLB version");
            if (version != 2) throw new Da3ImportException(Da3ErrorCode.Unsupported, where, "glTF binary version " + version + " (only 2 is read)");
            long total = head.U32("GLB length");
            if (total > fileLength) throw new Da3ImportException(Da3ErrorCode.Truncated, where, "the header declares " + total + " bytes, the file has " + fileLength);
            if (total < 20) throw new Da3ImportException(Da3ErrorCode.BadHeader, where, "declared length " + total + " leaves no room for the JSON chunk");
            long jsonLen = head.U32("JSON chunk length");
            var jsonType = head.U32("JSON chunk type");
            if (jsonType != ChunkJson) throw new Da3ImportException(Da3ErrorCode.BadHeader, where, "the first chunk must be JSON (0x4E4F534A), got 0x" + jsonType.ToString("x8"));
            ImportLimits.Check(where, "JSON chunk length", jsonLen, limits.MaxJsonBytes);
            if (20 + jsonLen > total) throw new Da3ImportException(Da3ErrorCode.Truncated, where, "JSON chunk of " + jsonLen + " bytes runs past the declared end (" + total + ")");
            var jsonBytes = new byte[jsonLen];
            head.ReadExactly(jsonBytes, 0, (int)jsonLen, "the JSON chunk");
            string jsonText;
            try { jsonText = new UTF8Encoding(false, true).GetString(jsonBytes).TrimEnd(' ', '\0'); }
            catch (DecoderFallbackException) { throw new Da3ImportException(Da3ErrorCode.BadHeader, where, "the JSON chunk is not UTF-8"); }
            var root = Json.Obj(Json.Parse(jsonText, where), where, "the glTF JSON");

            long binStart = -1, binLength = 0;
            var at = 20 + Pad4(jsonLen);
            if (at + 8 <= total)
            {
                stream.Position = origin + at;
                var c = new StreamCursor(stream, where, 64);
                binLength = c.U32("BIN chunk length");
                var type = c.U32("BIN chunk type");
                if (type != ChunkBin) throw new Da3ImportException(Da3ErrorCode.BadHeader, where, "the second chunk must be BIN (0x004E4942), got 0x" + type.ToString("x8"));
                if (at + 8 + binLength > total) throw new Da3ImportException(Da3ErrorCode.Truncated, where, "BIN chunk of " + binLength + " bytes runs past the declared end (" + total + ")");
                binStart = origin + at + 8;
            }

            var doc = new Doc(root, where, stream, binStart, binLength, limits);
            var scene = new Da3SceneData { Format = Da3SourceFormat.Glb };
            Mat4d? align = ReadAlignment(root, where);
            scene.GltfAlignment = align;
            Mat4d? toUnity = align.HasValue ? CoordinateFrames.GltfSceneToUnity(align.Value, where) : (Mat4d?)null;
            if (!align.HasValue) scene.Warnings.Add(where + ": no scenes[0].extras.hf_alignment (not a da3js GLB?): glTF axes mapped to Unity by z → −z, cameras not recovered");

            // POINTS primitives of every mesh referenced by a node (da3js: one, mesh "points").
            var meshes = Json.Get(root, "meshes") == null ? new List<object>() : Json.Arr(Json.Get(root, "meshes"), where, "meshes");
            var pointPrims = new List<Dictionary<string, object>>();
            var cameraMeshes = new List<KeyValuePair<string, Dictionary<string, object>>>();
            for (int m = 0; m < meshes.Count; m++)
            {
                var mesh = Json.Obj(meshes[m], where, "meshes[" + m + "]");
                var name = Json.Str(mesh, "name") ?? string.Empty;
                var prims = Json.Arr(Json.Get(mesh, "primitives"), where, "meshes[" + m + "].primitives");
                for (int p = 0; p < prims.Count; p++)
                {
                    var prim = Json.Obj(prims[p], where, "meshes[" + m + "].primitives[" + p + "]");
                    var mode = Json.Int(prim, "mode", where, "meshes[" + m + "].primitives[" + p + "]", 0, 6, 4);
                    if (mode == 0) pointPrims.Add(prim);
                    else if (mode == 1 && name.StartsWith("camera_", StringComparison.Ordinal)) cameraMeshes.Add(new KeyValuePair<string, Dictionary<string, object>>(name, prim));
                }
            }
            if (pointPrims.Count > 0) scene.Points = ReadPoints(doc, pointPrims, toUnity, limits);
            else scene.Warnings.Add(where + ": no POINTS primitive (an empty scene, or cameras only)");

            if (options.Cameras && align.HasValue)
            {
                var unalign = align.Value.InverseAffine(where);
                cameraMeshes.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
                for (int i = 0; i < cameraMeshes.Count; i++)
                {
                    var view = CameraFromWireframe(doc, cameraMeshes[i].Value, cameraMeshes[i].Key, unalign, options);
                    view.Index = i;
                    scene.Views.Add(view);
                }
            }
            return scene;
        }

        static long Pad4(long n) { return (n + 3) / 4 * 4; }

        static Mat4d? ReadAlignment(Dictionary<string, object> root, string where)
        {
            var scenes = Json.Get(root, "scenes") as List<object>;
            if (scenes == null || scenes.Count == 0) return null;
            var s0 = scenes[0] as Dictionary<string, object>;
            var extras = Json.Get(s0, "extras") as Dictionary<string, object>;
            var rows = Json.Get(extras, "hf_alignment");
            if (rows == null) return null;
            var list = Json.Arr(rows, where, "scenes[0].extras.hf_alignment");
            if (list.Count != 4) throw new Da3ImportException(Da3ErrorCode.BadShape, where, "hf_alignment must be 4 rows of 4 numbers, got " + list.Count + " rows");
            var m = new double[16];
            for (int r = 0; r < 4; r++)
            {
                var row = Json.Arr(list[r], where, "hf_alignment[" + r + "]");
                if (row.Count != 4) throw new Da3ImportException(Da3ErrorCode.BadShape, where, "hf_alignment row " + r + " has " + row.Count + " values");
                for (int c = 0; c < 4; c++)
                {
                    if (!(row[c] is double)) throw new Da3ImportException(Da3ErrorCode.BadHeader, where, "hf_alignment[" + r + "][" + c + "] is not a number");
                    m[4 * r + c] = (double)row[c];
                }
            }
            if (m[12] != 0 || m[13] != 0 || m[14] != 0 || m[15] != 1) throw new Da3ImportException(Da3ErrorCode.BadValue, where, "hf_alignment's last row must be [0, 0, 0, 1]");
            return Mat4d.FromRowMajor(m);
        }

        // ------------------------------------------------------------------ accessors

        sealed class Doc
        {
            public readonly string Where;
            public readonly Stream Stream;
            public readonly long BinStart, BinLength;
            public readonly List<object> Accessors, Views, Buffers;
            public readonly ImportLimits Limits;

            public Doc(Dictionary<string, object> root, string where, Stream stream, long binStart, long binLength, ImportLimits limits)
            {
                Where = where; Stream = stream; BinStart = binStart; BinLength = binLength; Limits = limits;
                Accessors = Json.Get(root, "accessors") as List<object> ?? new List<object>();
                Views = Json.Get(root, "bufferViews") as List<object> ?? new List<object>();
                Buffers = Json.Get(root, "buffers") as List<object> ?? new List<object>();
            }
        }

        /// <summary>A validated accessor: where its elements start in the file and how far apart they are.</summary>
        struct Acc
        {
            public long Count;
            public int ComponentType, Components, ElementBytes, Stride;
            public bool Normalized;
            public long FileOffset;
            public string Name;
        }

        static int ComponentsOf(string type)
        {
            switch (type)
            {
                case "SCALAR": return 1;
                case "VEC2": return 2;
                case "VEC3": return 3;
                case "VEC4": return 4;
                default: return 0;
            }
        }

        static int ComponentBytes(int ct)
        {
            switch (ct)
            {
                case 5120: case 5121: return 1;
                case 5122: case 5123: return 2;
                case 5125: case 5126: return 4;
                default: return 0;
            }
        }

        static Acc Accessor(Doc d, long index, string what)
        {
            var w = d.Where;
            if (index < 0 || index >= d.Accessors.Count) throw new Da3ImportException(Da3ErrorCode.BadHeader, w, what + " refers to accessor " + index + ", the file has " + d.Accessors.Count);
            var path = "accessors[" + index + "]";
            var a = Json.Obj(d.Accessors[(int)index], w, path);
            if (Json.Get(a, "sparse") != null) throw new Da3ImportException(Da3ErrorCode.Unsupported, w, path + " is sparse");
            var acc = new Acc { Name = what };
            acc.Count = Json.Int(a, "count", w, path, 1, long.MaxValue);
            acc.ComponentType = (int)Json.Int(a, "componentType", w, path, 0, 100000);
            acc.Components = ComponentsOf(Json.Str(a, "type") ?? string.Empty);
            if (acc.Components == 0) throw new Da3ImportException(Da3ErrorCode.Unsupported, w, path + ".type " + (Json.Str(a, "type") ?? "(missing)") + " is not SCALAR/VEC2/VEC3/VEC4");
            var cb = ComponentBytes(acc.ComponentType);
            if (cb == 0) throw new Da3ImportException(Da3ErrorCode.BadHeader, w, path + ".componentType " + acc.ComponentType + " is not a glTF component type");
            acc.Normalized = Json.Get(a, "normalized") is bool && (bool)Json.Get(a, "normalized");
            acc.ElementBytes = cb * acc.Components;
            if (Json.Get(a, "bufferView") == null) throw new Da3ImportException(Da3ErrorCode.Missing, w, path + " has no bufferView");
            var vi = Json.Int(a, "bufferView", w, path, 0, d.Views.Count - 1);
            var vpath = "bufferViews[" + vi + "]";
            var v = Json.Obj(d.Views[(int)vi], w, vpath);
            var buffer = Json.Int(v, "buffer", w, vpath, 0, d.Buffers.Count - 1);
            var b = Json.Obj(d.Buffers[(int)buffer], w, "buffers[" + buffer + "]");
            if (buffer != 0 || Json.Get(b, "uri") != null) throw new Da3ImportException(Da3ErrorCode.Unsupported, w, "buffer " + buffer + " is external (only the GLB's own BIN chunk is read)");
            if (d.BinStart < 0) throw new Da3ImportException(Da3ErrorCode.Missing, w, "accessors use buffer 0 but the file has no BIN chunk");
            var bufLen = Json.Int(b, "byteLength", w, "buffers[0]", 0, d.BinLength);
            var vOff = Json.Int(v, "byteOffset", w, vpath, 0, long.MaxValue, 0);
            var vLen = Json.Int(v, "byteLength", w, vpath, 1, long.MaxValue);
            var stride = Json.Int(v, "byteStride", w, vpath, 4, 252, acc.ElementBytes);
            if (stride < acc.ElementBytes) throw new Da3ImportException(Da3ErrorCode.BadHeader, w, vpath + ".byteStride " + stride + " is smaller than one element (" + acc.ElementBytes + " bytes)");
            var aOff = Json.Int(a, "byteOffset", w, path, 0, long.MaxValue, 0);
            if (vOff + vLen > bufLen) throw new Da3ImportException(Da3ErrorCode.BadHeader, w, vpath + " (" + vOff + " + " + vLen + ") runs past buffer 0 (" + bufLen + " bytes)");
            var need = aOff + stride * (acc.Count - 1) + acc.ElementBytes;
            if (acc.Count > d.Limits.MaxArrayBytes / Math.Max(1, stride) || need > vLen)
                throw new Da3ImportException(Da3ErrorCode.BadHeader, w, path + ": " + acc.Count + " elements of " + acc.ElementBytes + " bytes (stride " + stride + ") need " + need + " bytes, " + vpath + " has " + vLen);
            acc.Stride = (int)stride;
            acc.FileOffset = d.BinStart + vOff + aOff;
            return acc;
        }

        /// <summary>Streams an accessor's elements: <paramref name="element"/> gets the buffer, the element's offset, and its index.</summary>
        static void ForEachElement(Doc d, Acc acc, Action<byte[], int, long> element)
        {
            d.Stream.Position = acc.FileOffset;
            var cur = new StreamCursor(d.Stream, d.Where);
            var perChunk = Math.Max(1, cur.BufferSize / acc.Stride);
            long i = 0;
            while (i < acc.Count)
            {
                var n = (int)Math.Min(perChunk, acc.Count - i);
                var bytes = (n - 1) * acc.Stride + acc.ElementBytes;
                int off;
                var buf = cur.Peek(bytes, acc.Name, out off);
                for (int k = 0; k < n; k++) element(buf, off + k * acc.Stride, i + k);
                if (i + n < acc.Count) cur.Advance(n * acc.Stride);
                else cur.Advance(bytes);
                i += n;
            }
        }

        static double Component(byte[] b, int o, int ct, bool normalized)
        {
            switch (ct)
            {
                case GlFloat: return Bits.F32LE(b, o);
                case GlUByte: return normalized ? b[o] / 255.0 : b[o];
                case GlUShort: return normalized ? Bits.U16LE(b, o) / 65535.0 : Bits.U16LE(b, o);
                case 5120: { var v = (sbyte)b[o]; return normalized ? Math.Max(v / 127.0, -1.0) : v; }
                case 5122: { var v = (short)Bits.U16LE(b, o); return normalized ? Math.Max(v / 32767.0, -1.0) : v; }
                default: return Bits.U32LE(b, o);
            }
        }

        static readonly string[] ConfidenceNames = { "_CONFIDENCE", "_CONF", "_confidence", "_conf" };

        static PointCloud ReadPoints(Doc d, List<Dictionary<string, object>> prims, Mat4d? toUnity, ImportLimits limits)
        {
            var w = d.Where;
            var accs = new List<Acc[]>();
            long total = 0;
            bool anyConf = false;
            foreach (var prim in prims)
            {
                var attrs = Json.Obj(Json.Get(prim, "attributes"), w, "primitive.attributes");
                if (Json.Get(attrs, "POSITION") == null) throw new Da3ImportException(Da3ErrorCode.Missing, w, "a POINTS primitive has no POSITION");
                var pos = Accessor(d, Json.Int(attrs, "POSITION", w, "attributes", 0, int.MaxValue), "POSITION");
                if (pos.ComponentType != GlFloat || pos.Components != 3) throw new Da3ImportException(Da3ErrorCode.Unsupported, w, "POSITION must be float32 VEC3");
                var set = new Acc[3];
                set[0] = pos;
                set[1].Count = -1;
                set[2].Count = -1;
                if (Json.Get(attrs, "COLOR_0") != null)
                {
                    var col = Accessor(d, Json.Int(attrs, "COLOR_0", w, "attributes", 0, int.MaxValue), "COLOR_0");
                    if (col.Components < 3 || col.Count != pos.Count) throw new Da3ImportException(Da3ErrorCode.BadShape, w, "COLOR_0 must be VEC3/VEC4 with one colour per POSITION (" + col.Count + " vs " + pos.Count + ")");
                    if (col.ComponentType != GlFloat && !col.Normalized) throw new Da3ImportException(Da3ErrorCode.BadHeader, w, "an integer COLOR_0 must be normalized");
                    set[1] = col;
                }
                foreach (var name in ConfidenceNames)
                {
                    if (Json.Get(attrs, name) == null) continue;
                    var conf = Accessor(d, Json.Int(attrs, name, w, "attributes", 0, int.MaxValue), name);
                    if (conf.Components != 1 || conf.ComponentType != GlFloat || conf.Count != pos.Count) throw new Da3ImportException(Da3ErrorCode.BadShape, w, name + " must be a float SCALAR per point");
                    set[2] = conf;
                    anyConf = true;
                    break;
                }
                total += pos.Count;
                ImportLimits.Check(w, "point count", total, Math.Min(limits.MaxPoints, int.MaxValue / 4));
                accs.Add(set);
            }
            var pc = new PointCloud
            {
                Count = (int)total,
                Positions = new float[3 * total],
                Colors = new byte[4 * total],
                Confidence = anyConf ? new float[total] : null,
            };
            long start = 0;
            foreach (var set in accs)
            {
                var baseIndex = start;
                var M = toUnity.HasValue ? toUnity.Value.M : null;
                var dst = pc.Positions;
                ForEachElement(d, set[0], (b, o, i) =>
                {
                    double x = Bits.F32LE(b, o), y = Bits.F32LE(b, o + 4), z = Bits.F32LE(b, o + 8);
                    if (!Finite.Is(x) || !Finite.Is(y) || !Finite.Is(z)) throw new Da3ImportException(Da3ErrorCode.NonFinite, w, "POSITION[" + i + "] is (" + x + ", " + y + ", " + z + ")");
                    var k = 3 * (baseIndex + i);
                    if (M != null)
                    {
                        dst[k] = (float)(M[0] * x + M[1] * y + M[2] * z + M[3]);
                        dst[k + 1] = (float)(M[4] * x + M[5] * y + M[6] * z + M[7]);
                        dst[k + 2] = (float)(M[8] * x + M[9] * y + M[10] * z + M[11]);
                    }
                    else
                    {
                        dst[k] = (float)x;
                        dst[k + 1] = (float)y;
                        dst[k + 2] = (float)-z;
                    }
                });
                var colors = pc.Colors;
                if (set[1].Count > 0)
                {
                    var col = set[1];
                    var cb = ComponentBytes(col.ComponentType);
                    ForEachElement(d, col, (b, o, i) =>
                    {
                        var k = 4 * (baseIndex + i);
                        for (int c = 0; c < 4; c++)
                        {
                            if (c == 3 && col.Components == 3) { colors[k + 3] = 255; break; }
                            var v = Component(b, o + c * cb, col.ComponentType, true);
                            if (!(v >= 0 && v <= 1)) throw new Da3ImportException(Da3ErrorCode.BadValue, w, "COLOR_0[" + i + "] component " + c + " is " + v + " (must be in [0, 1])");
                            colors[k + c] = col.ComponentType == GlUByte ? b[o + c] : (byte)Math.Round(v * 255.0);
                        }
                    });
                }
                else
                {
                    for (long i = 0; i < set[0].Count; i++) for (int c = 0; c < 4; c++) colors[4 * (baseIndex + i) + c] = 255;
                }
                if (set[2].Count > 0)
                {
                    var conf = pc.Confidence;
                    ForEachElement(d, set[2], (b, o, i) =>
                    {
                        var v = Bits.F32LE(b, o);
                        if (!Finite.Is(v)) throw new Da3ImportException(Da3ErrorCode.NonFinite, w, set[2].Name + "[" + i + "] is " + v);
                        conf[baseIndex + i] = v;
                    });
                }
                else if (pc.Confidence != null)
                {
                    for (long i = 0; i < set[0].Count; i++) pc.Confidence[baseIndex + i] = float.NaN;
                }
                start += set[0].Count;
            }
            return pc;
        }

        /// <summary>
        /// A view's pose (and K when the image size is known) from its 16-vertex wireframe: vertex
        /// 2k is the camera centre and 2k + 1 the image corner k, for pixels (0, 0), (W−1, 0),
        /// (W−1, H−1), (0, H−1) on the plane at distance s in front of the camera (da3js'
        /// <c>cameraFrustumVertices</c>).
        /// </summary>
        static Da3View CameraFromWireframe(Doc d, Dictionary<string, object> prim, string name, Mat4d unalign, GlbReadOptions options)
        {
            var w = d.Where;
            var attrs = Json.Obj(Json.Get(prim, "attributes"), w, name + ".attributes");
            var acc = Accessor(d, Json.Int(attrs, "POSITION", w, name + ".attributes", 0, int.MaxValue), name + " POSITION");
            if (acc.Count != 16 || acc.Components != 3 || acc.ComponentType != GlFloat) throw new Da3ImportException(Da3ErrorCode.BadShape, w, name + " must have 16 float VEC3 vertices (da3js' wireframe), got " + acc.Count);
            var v = new Vec3d[16];
            ForEachElement(d, acc, (b, o, i) => { v[i] = unalign.Apply(new Vec3d(Bits.F32LE(b, o), Bits.F32LE(b, o + 4), Bits.F32LE(b, o + 8))); });
            foreach (var p in v) if (!p.IsFinite) throw new Da3ImportException(Da3ErrorCode.NonFinite, w, name + " has a non-finite vertex");
            var centre = v[0];
            var p0 = v[1];
            var p1 = v[3];
            var p3 = v[7];
            var dx = p1 - p0;
            var dy = p3 - p0;
            if (!(dx.Length > 0) || !(dy.Length > 0)) throw new Da3ImportException(Da3ErrorCode.BadValue, w, name + " has a degenerate image rectangle");
            var x = dx.Normalized;
            var z = Vec3d.Cross(x, dy.Normalized).Normalized;
            var y = Vec3d.Cross(z, x);
            // camera→world rotation has columns x, y, z; world→camera is its transpose.
            var s = Vec3d.Dot(p0 - centre, z);
            if (!(s > 0)) throw new Da3ImportException(Da3ErrorCode.BadValue, w, name + ": the image plane is not in front of the camera centre");
            var r = new Mat3d { M00 = x.X, M01 = x.Y, M02 = x.Z, M10 = y.X, M11 = y.Y, M12 = y.Z, M20 = z.X, M21 = z.Y, M22 = z.Z };
            var t = r.Mul(centre) * -1.0;
            var view = new Da3View
            {
                Name = name,
                PoseFromWireframe = true,
                WorldToCamera = new[] { r.M00, r.M01, r.M02, t.X, r.M10, r.M11, r.M12, t.Y, r.M20, r.M21, r.M22, t.Z },
            };
            // Angles of the frustum (exact up to float32): tangents of the corner rays.
            var a0 = p0 - centre;
            double tanLeft = -Vec3d.Dot(a0, x) / s, tanTop = -Vec3d.Dot(a0, y) / s;
            double spanX = dx.Length / s, spanY = dy.Length / s; // (W−1)/fx and (H−1)/fy
            view.WireframeTangents = new[] { tanLeft, tanTop, spanX, spanY };
            if (options.ImageWidth > 1 && options.ImageHeight > 1)
            {
                var fx = (options.ImageWidth - 1) / spanX;
                var fy = (options.ImageHeight - 1) / spanY;
                view.Width = options.ImageWidth;
                view.Height = options.ImageHeight;
                view.Intrinsics = new[] { fx, 0, tanLeft * fx, 0, fy, tanTop * fy, 0, 0, 1.0 };
            }
            return view;
        }
    }
}
