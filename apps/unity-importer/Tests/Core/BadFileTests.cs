using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Text;
using NUnit.Framework;

namespace Da3js.Importer.Tests
{
    /// <summary>
    /// Hostile and broken files: truncated, wrong magic, NaNs, absurd counts. Each must end in a
    /// <see cref="Da3ImportException"/> with the right code and a message naming the problem —
    /// never another exception, never a huge allocation, never a partly filled result.
    /// </summary>
    [TestFixture]
    public class BadFileTests
    {
        static Da3ImportException Fails(Func<object> read, Da3ErrorCode code, string messagePart = null)
        {
            try
            {
                read();
            }
            catch (Da3ImportException e)
            {
                Assert.AreEqual(code, e.Code, "code of: " + e.Message);
                StringAssert.StartsWith("[DA3 " + Da3ImportException.CodeName(code) + "]", e.Message);
                if (messagePart != null) StringAssert.Contains(messagePart, e.Message);
                return e;
            }
            Assert.Fail("expected a Da3ImportException " + code);
            return null;
        }

        static Da3SceneData ReadBytes(byte[] b, string name) { return Da3SceneReader.Read(b, name); }

        // ------------------------------------------------------------------ magic / empty

        [Test]
        public void WrongMagicAndEmptyFiles()
        {
            Fails(() => ReadBytes(Encoding.ASCII.GetBytes("hello world, not a scene"), "x.bin"), Da3ErrorCode.BadMagic, "not a da3js export");
            Fails(() => ReadBytes(new byte[0], "empty.glb"), Da3ErrorCode.Truncated);
            Fails(() => GlbReader.Read(new MemoryStream(Encoding.ASCII.GetBytes("glTX0000000000000000")), "x.glb"), Da3ErrorCode.BadMagic, "glTF");
            Fails(() => PlyReader.Read(new MemoryStream(Encoding.ASCII.GetBytes("plx\nformat ascii 1.0\n")), "x.ply"), Da3ErrorCode.BadMagic, "PLY");
            Fails(() => NpzReader.Read(new MemoryStream(Encoding.ASCII.GetBytes("PQ\u0003\u0004 this is not a zip at all, really not")), "x.npz"), Da3ErrorCode.BadMagic);
            Fails(() => Da3SceneReader.Read("/nonexistent/da3/file.ply"), Da3ErrorCode.Io, "cannot open");
        }

        // ------------------------------------------------------------------ PLY

        static byte[] Ply(string header, byte[] body = null)
        {
            var h = Encoding.ASCII.GetBytes(header);
            if (body == null) return h;
            var all = new byte[h.Length + body.Length];
            Buffer.BlockCopy(h, 0, all, 0, h.Length);
            Buffer.BlockCopy(body, 0, all, h.Length, body.Length);
            return all;
        }

        [Test]
        public void PlyHugeCountIsRefusedBeforeAllocating()
        {
            var bytes = Ply("ply\nformat binary_little_endian 1.0\nelement vertex 4000000000\nproperty float x\nproperty float y\nproperty float z\nend_header\n", new byte[120]);
            var before = GC.GetAllocatedBytesForCurrentThread();
            Fails(() => PlyReader.Read(new MemoryStream(bytes), "huge.ply"), Da3ErrorCode.TooLarge, "vertex count is 4000000000");
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Golden.Metric("bad.ply_huge_count_allocated_bytes", allocated);
            Assert.Less(allocated, 1 << 20, "no allocation from the declared count");

            var lying = Ply("ply\nformat binary_little_endian 1.0\nelement vertex 50000000\nproperty float x\nproperty float y\nproperty float z\nend_header\n", new byte[120]);
            before = GC.GetAllocatedBytesForCurrentThread();
            Fails(() => PlyReader.Read(new MemoryStream(lying), "lying.ply"), Da3ErrorCode.Truncated, "50000000 × 12 bytes");
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Less(allocated, 1 << 20, "a count the body cannot hold is refused before the 600 MB arrays");
        }

        [Test]
        public void PlyTruncatedNanAndMalformed()
        {
            var header = "ply\nformat binary_little_endian 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n";
            var body = new byte[3 * 15];
            Fails(() => PlyReader.Read(new MemoryStream(Ply(header, new byte[44])), "short.ply"), Da3ErrorCode.Truncated);
            var nan = (byte[])body.Clone();
            Buffer.BlockCopy(BitConverter.GetBytes(float.NaN), 0, nan, 15 + 4, 4);
            Fails(() => PlyReader.Read(new MemoryStream(Ply(header, nan)), "nan.ply"), Da3ErrorCode.NonFinite, "vertex 1");
            Fails(() => PlyReader.Read(new MemoryStream(Ply("ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\nproperty float z\nend_header\n0 0 0\n1 nan 2\n")), "nan_ascii.ply"), Da3ErrorCode.NonFinite, "vertex 1");
            Fails(() => PlyReader.Read(new MemoryStream(Ply("ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\nproperty float z\nend_header\n0 0 0\n1 2\n")), "short_row.ply"), Da3ErrorCode.BadValue, "vertex 1 has 2 values");
            Fails(() => PlyReader.Read(new MemoryStream(Ply("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\nend_header\n0 zero 0\n")), "word.ply"), Da3ErrorCode.BadValue, "not a number");
            Fails(() => PlyReader.Read(new MemoryStream(Ply("ply\nformat binary_little_endian 1.0\nelement vertex 1\nproperty float x\n")), "noend.ply"), Da3ErrorCode.Truncated);
            Fails(() => PlyReader.Read(new MemoryStream(Ply("ply\nformat binary_middle_endian 1.0\nend_header\n")), "fmt.ply"), Da3ErrorCode.BadHeader, "unknown format");
            Fails(() => PlyReader.Read(new MemoryStream(Ply("ply\nformat ascii 1.0\nelement vertex 1\nproperty float32x x\nend_header\n")), "type.ply"), Da3ErrorCode.BadHeader, "unknown type");
            Fails(() => PlyReader.Read(new MemoryStream(Ply("ply\nformat ascii 1.0\nelement face 0\nproperty list uchar int vertex_indices\nend_header\n")), "faces.ply"), Da3ErrorCode.Missing, "vertex");
            var wide = new StringBuilder("ply\nformat binary_little_endian 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\n");
            for (int i = 0; i < 20000; i++) wide.Append("property float p" + i + "\n");
            wide.Append("end_header\n");
            Fails(() => PlyReader.Read(new MemoryStream(Ply(wide.ToString(), new byte[80012])), "wide.ply"), Da3ErrorCode.TooLarge, "80012 bytes");
            var endless = new StringBuilder("ply\nformat ascii 1.0\n");
            while (endless.Length < (1 << 20) + 100) endless.Append("comment padding padding padding padding padding\n");
            Fails(() => PlyReader.Read(new MemoryStream(Encoding.ASCII.GetBytes(endless.ToString())), "endless.ply"), Da3ErrorCode.TooLarge, "PLY header");
            // 3DGS: f_rest count not a multiple of 3, zero quaternion.
            Fails(() => PlyReader.Read(new MemoryStream(Ply("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\nproperty float f_dc_0\nproperty float f_dc_1\nproperty float f_dc_2\nproperty float f_rest_0\nproperty float opacity\nproperty float scale_0\nproperty float scale_1\nproperty float scale_2\nproperty float rot_0\nproperty float rot_1\nproperty float rot_2\nproperty float rot_3\nend_header\n0 0 0 0 0 0 0 0 0 0 0 1 0 0 0\n")), "rest.ply"), Da3ErrorCode.BadShape, "f_rest");
            Fails(() => PlyReader.Read(new MemoryStream(Ply("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\nproperty float f_dc_0\nproperty float f_dc_1\nproperty float f_dc_2\nproperty float opacity\nproperty float scale_0\nproperty float scale_1\nproperty float scale_2\nproperty float rot_0\nproperty float rot_1\nproperty float rot_2\nproperty float rot_3\nend_header\n0 0 0 0 0 0 0 0 0 0 0 0 0 0\n")), "zeroq.ply"), Da3ErrorCode.BadValue, "zero quaternion");
        }

        [Test]
        public void PlyEncodingsAndSkippedElementsAgree()
        {
            // The same two points as ascii, little- and big-endian with a face element first (skipped).
            var ascii = Ply("ply\nformat ascii 1.0\ncomment x\nelement face 1\nproperty list uchar int vertex_indices\nelement vertex 2\nproperty double x\nproperty float y\nproperty float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nproperty float confidence\nend_header\n3 0 1 1\n1.5 -2 3 10 20 30 1.25\n-4 5.5 6 255 0 1 2\n");
            Func<bool, byte[]> bin = le =>
            {
                var ms = new MemoryStream();
                var w = new BinaryWriter(ms);
                Action<byte[]> put = b => { if (!le) Array.Reverse(b); w.Write(b); };
                w.Write((byte)3); put(BitConverter.GetBytes(0)); put(BitConverter.GetBytes(1)); put(BitConverter.GetBytes(1));
                foreach (var row in new[] { new double[] { 1.5, -2, 3, 10, 20, 30, 1.25 }, new double[] { -4, 5.5, 6, 255, 0, 1, 2 } })
                {
                    put(BitConverter.GetBytes(row[0]));
                    put(BitConverter.GetBytes((float)row[1]));
                    put(BitConverter.GetBytes((float)row[2]));
                    w.Write((byte)row[3]); w.Write((byte)row[4]); w.Write((byte)row[5]);
                    put(BitConverter.GetBytes((float)row[6]));
                }
                var head = "ply\nformat " + (le ? "binary_little_endian" : "binary_big_endian") + " 1.0\nelement face 1\nproperty list uchar int vertex_indices\nelement vertex 2\nproperty double x\nproperty float y\nproperty float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nproperty float confidence\nend_header\n";
                return Ply(head, ms.ToArray());
            };
            foreach (var bytes in new[] { ascii, bin(true), bin(false) })
            {
                var pc = PlyReader.Read(new MemoryStream(bytes), "enc.ply").Points;
                Assert.AreEqual(2, pc.Count);
                CollectionAssert.AreEqual(new[] { 1.5f, 2f, 3f, -4f, -5.5f, 6f }, pc.Positions, "OpenCV y down → Unity y up");
                CollectionAssert.AreEqual(new byte[] { 10, 20, 30, 255, 255, 0, 1, 255 }, pc.Colors);
                CollectionAssert.AreEqual(new[] { 1.25f, 2f }, pc.Confidence);
            }
        }

        // ------------------------------------------------------------------ GLB

        static byte[] Glb(string json, byte[] bin)
        {
            var j = Encoding.UTF8.GetBytes(json);
            var jl = (j.Length + 3) / 4 * 4;
            var bl = bin == null ? 0 : (bin.Length + 3) / 4 * 4;
            var total = 12 + 8 + jl + (bin == null ? 0 : 8 + bl);
            var ms = new MemoryStream();
            var w = new BinaryWriter(ms);
            w.Write(0x46546C67u); w.Write(2u); w.Write((uint)total);
            w.Write((uint)jl); w.Write(0x4E4F534Au); w.Write(j); for (int i = j.Length; i < jl; i++) w.Write((byte)0x20);
            if (bin != null) { w.Write((uint)bl); w.Write(0x004E4942u); w.Write(bin); for (int i = bin.Length; i < bl; i++) w.Write((byte)0); }
            return ms.ToArray();
        }

        static string PointsJson(long count, int binBytes, string extraAttr = "")
        {
            return "{\"asset\":{\"version\":\"2.0\"},\"scenes\":[{\"nodes\":[0]}],\"nodes\":[{\"mesh\":0}],\"meshes\":[{\"name\":\"points\",\"primitives\":[{\"attributes\":{\"POSITION\":0" + extraAttr + "},\"mode\":0}]}]," +
                   "\"accessors\":[{\"bufferView\":0,\"componentType\":5126,\"count\":" + count + ",\"type\":\"VEC3\"},{\"bufferView\":1,\"componentType\":5126,\"count\":" + count + ",\"type\":\"SCALAR\"}]," +
                   "\"bufferViews\":[{\"buffer\":0,\"byteOffset\":0,\"byteLength\":" + (12 * count) + "},{\"buffer\":0,\"byteOffset\":" + (12 * count) + ",\"byteLength\":" + (4 * count) + "}],\"buffers\":[{\"byteLength\":" + binBytes + "}]}";
        }

        [Test]
        public void GlbHostileHeaders()
        {
            var bin = new byte[32];
            // Accessor claims 10^12 points over a 32-byte buffer: refused from the JSON, nothing allocated.
            var before = GC.GetAllocatedBytesForCurrentThread();
            Fails(() => GlbReader.Read(new MemoryStream(Glb(PointsJson(1000000000000L, 32), bin)), "huge.glb"), Da3ErrorCode.BadHeader, "bufferViews");
            Assert.Less(GC.GetAllocatedBytesForCurrentThread() - before, 1 << 20);
            // A valid point, then its header truncated and the BIN cut.
            var ok = new byte[16];
            Buffer.BlockCopy(BitConverter.GetBytes(1f), 0, ok, 0, 4);
            var good = Glb(PointsJson(1, 16, ",\"_CONFIDENCE\":1"), ok);
            var pc = GlbReader.Read(new MemoryStream(good), "one.glb").Points;
            Assert.AreEqual(1, pc.Count);
            Assert.AreEqual(1f, pc.Positions[0]);
            Assert.AreEqual(0f, pc.Confidence[0], "the confidence attribute is read when present");
            Fails(() => GlbReader.Read(new MemoryStream(good, 0, good.Length - 5), "cut.glb"), Da3ErrorCode.Truncated, "declares");
            Fails(() => GlbReader.Read(new MemoryStream(good, 0, 11), "tiny.glb"), Da3ErrorCode.Truncated);
            // NaN position.
            var nan = (byte[])ok.Clone();
            Buffer.BlockCopy(BitConverter.GetBytes(float.NaN), 0, nan, 4, 4);
            Fails(() => GlbReader.Read(new MemoryStream(Glb(PointsJson(1, 16), nan)), "nan.glb"), Da3ErrorCode.NonFinite, "POSITION[0]");
            // Broken JSON, deep nesting, external buffer, missing BIN.
            Fails(() => GlbReader.Read(new MemoryStream(Glb("{\"asset\":", null)), "json.glb"), Da3ErrorCode.BadHeader, "invalid JSON");
            Fails(() => GlbReader.Read(new MemoryStream(Glb(new string('[', 500) + new string(']', 500), null)), "deep.glb"), Da3ErrorCode.BadHeader, "nested deeper");
            Fails(() => GlbReader.Read(new MemoryStream(Glb(PointsJson(1, 16).Replace("\"buffers\":[{", "\"buffers\":[{\"uri\":\"x.bin\","), ok)), "ext.glb"), Da3ErrorCode.Unsupported, "external");
            Fails(() => GlbReader.Read(new MemoryStream(Glb(PointsJson(1, 16), null)), "nobin.glb"), Da3ErrorCode.Missing, "BIN");
            Fails(() => GlbReader.Read(new MemoryStream(Glb("{\"asset\":{\"version\":\"2.0\"},\"scenes\":[{\"extras\":{\"hf_alignment\":[[1,0,0,0],[0,1,0,0],[0,0,0,0],[0,0,0,1]]}}]}", null)), "singular.glb"), Da3ErrorCode.BadValue, "singular");
        }

        // ------------------------------------------------------------------ npz

        static byte[] Npy(string descr, string shape, byte[] data)
        {
            var dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
            var total = 10 + dict.Length + 1;
            var pad = (64 - total % 64) % 64;
            var header = dict + new string(' ', pad) + "\n";
            var ms = new MemoryStream();
            ms.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }, 0, 8);
            ms.Write(BitConverter.GetBytes((ushort)header.Length), 0, 2);
            var hb = Encoding.ASCII.GetBytes(header);
            ms.Write(hb, 0, hb.Length);
            ms.Write(data, 0, data.Length);
            return ms.ToArray();
        }

        static byte[] Npz(params KeyValuePair<string, byte[]>[] entries)
        {
            var ms = new MemoryStream();
            using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, true))
            {
                foreach (var e in entries)
                {
                    var entry = zip.CreateEntry(e.Key, CompressionLevel.Optimal);
                    using (var s = entry.Open()) s.Write(e.Value, 0, e.Value.Length);
                }
            }
            return ms.ToArray();
        }

        static KeyValuePair<string, byte[]> E(string name, byte[] b) { return new KeyValuePair<string, byte[]>(name, b); }

        [Test]
        public void NpzShapesCrcAndBombs()
        {
            var depth = Npy("<f4", "(1, 2, 2)", new byte[16]);
            var good = Npz(E("depth.npy", depth));
            var scene = NpzReader.Read(new MemoryStream(good), "depth_only.npz");
            Assert.AreEqual(1, scene.Depths.Count);
            Assert.AreEqual(0, scene.Views.Count, "no extrinsics: depth only");
            Assert.IsNull(scene.Points);

            Fails(() => NpzReader.Read(new MemoryStream(Npz(E("conf.npy", depth))), "nodepth.npz"), Da3ErrorCode.Missing, "no depth array");
            Fails(() => NpzReader.Read(new MemoryStream(Npz(E("depth.npy", Npy("<f4", "(1, 2, 3)", new byte[16])))), "short.npz"), Da3ErrorCode.Truncated, "needs 24 bytes");
            Fails(() => NpzReader.Read(new MemoryStream(Npz(E("depth.npy", Npy("<f4", "(100000, 100000, 100000)", new byte[16])))), "huge.npz"), Da3ErrorCode.TooLarge);
            Fails(() => NpzReader.Read(new MemoryStream(Npz(E("depth.npy", Npy("<c8", "(1, 2, 2)", new byte[32])))), "complex.npz"), Da3ErrorCode.Unsupported, "dtype");
            Fails(() => NpzReader.Read(new MemoryStream(Npz(E("depth.npy", depth), E("extrinsics.npy", Npy("<f4", "(2, 3, 4)", new byte[96])))), "mismatch.npz"), Da3ErrorCode.BadShape, "extrinsics has shape (2, 3, 4), expected (1, 3, 4)");
            var nanExt = new byte[48];
            Buffer.BlockCopy(BitConverter.GetBytes(float.NaN), 0, nanExt, 8, 4);
            Fails(() => NpzReader.Read(new MemoryStream(Npz(E("depth.npy", depth), E("extrinsics.npy", Npy("<f4", "(1, 3, 4)", nanExt)))), "nanext.npz"), Da3ErrorCode.NonFinite, "extrinsics[2]");

            // A stored (method 0) entry with one data byte flipped: the CRC catches it.
            var stored = StoredZip("depth.npy", depth);
            Assert.AreEqual(1, NpzReader.Read(new MemoryStream(stored), "stored.npz").Depths.Count, "stored entries are read");
            stored[30 + "depth.npy".Length + depth.Length - 1] ^= 0x40;
            Fails(() => NpzReader.Read(new MemoryStream(stored), "crc.npz"), Da3ErrorCode.Checksum, "CRC-32");

            // Truncations anywhere: a typed error every time.
            for (int cut = 1; cut < good.Length; cut += 7)
            {
                try { NpzReader.Read(new MemoryStream(good, 0, cut), "cut.npz"); Assert.Fail("a cut at " + cut + " was read"); }
                catch (Da3ImportException) { }
            }

            // A zip bomb: 64 MiB of zeros deflate to ~64 KiB (ratio ~1000) — over the limit when lowered.
            var bomb = Npz(E("depth.npy", Npy("<f4", "(1, 4096, 4096)", new byte[4 * 4096 * 4096])));
            var limits = new ImportLimits { MaxDeflateRatio = 100 };
            Fails(() => NpzReader.Read(new MemoryStream(bomb), "bomb.npz", new NpzReadOptions { Limits = limits }), Da3ErrorCode.TooLarge, "zip bomb");
        }

        /// <summary>A one-entry ZIP with the entry stored (method 0), laid out by hand.</summary>
        static byte[] StoredZip(string name, byte[] data)
        {
            var ms = new MemoryStream();
            var w = new BinaryWriter(ms);
            var n = Encoding.ASCII.GetBytes(name);
            var crc = Crc32.Of(data);
            w.Write(0x04034b50u); w.Write((ushort)20); w.Write((ushort)0); w.Write((ushort)0); w.Write(0u); w.Write(crc); w.Write((uint)data.Length); w.Write((uint)data.Length); w.Write((ushort)n.Length); w.Write((ushort)0); w.Write(n); w.Write(data);
            var cd = ms.Position;
            w.Write(0x02014b50u); w.Write((ushort)20); w.Write((ushort)20); w.Write((ushort)0); w.Write((ushort)0); w.Write(0u); w.Write(crc); w.Write((uint)data.Length); w.Write((uint)data.Length);
            w.Write((ushort)n.Length); w.Write((ushort)0); w.Write((ushort)0); w.Write((ushort)0); w.Write((ushort)0); w.Write(0u); w.Write(0u); w.Write(n);
            var cdLen = ms.Position - cd;
            w.Write(0x06054b50u); w.Write((ushort)0); w.Write((ushort)0); w.Write((ushort)1); w.Write((ushort)1); w.Write((uint)cdLen); w.Write((uint)cd); w.Write((ushort)0);
            return ms.ToArray();
        }

        // ------------------------------------------------------------------ COLMAP

        [Test]
        public void ColmapAbsurdCounts()
        {
            var ms = new MemoryStream();
            ms.Write(BitConverter.GetBytes((ulong)1 << 60), 0, 8);
            ms.Write(new byte[64], 0, 64);
            Fails(() => { var m = new ColmapModel(); ColmapReader.ReadPointsBinary(new StreamCursor(new MemoryStream(ms.ToArray()), "points3D.bin"), m, ImportLimits.Default); return m; }, Da3ErrorCode.TooLarge, "points3D count");
            var cams = new MemoryStream();
            cams.Write(BitConverter.GetBytes(3UL), 0, 8);
            cams.Write(new byte[30], 0, 30);
            Fails(() => { var m = new ColmapModel(); ColmapReader.ReadCamerasBinary(new StreamCursor(new MemoryStream(cams.ToArray()), "cameras.bin"), m, ImportLimits.Default); return m; }, Da3ErrorCode.Truncated, "3 cameras");
            Fails(() => { var m = new ColmapModel(); ColmapReader.ReadCamerasText(new StreamCursor(new MemoryStream(Encoding.ASCII.GetBytes("1 PINHOLE 10 10 1 2 3\n")), "cameras.txt"), m, ImportLimits.Default); return m; }, Da3ErrorCode.BadValue, "needs 4 params");
            Fails(() => { var m = new ColmapModel(); ColmapReader.ReadCamerasText(new StreamCursor(new MemoryStream(Encoding.ASCII.GetBytes("1 MAGIC 10 10 1 2 3\n")), "cameras.txt"), m, ImportLimits.Default); return m; }, Da3ErrorCode.Unsupported, "MAGIC");
        }

        // ------------------------------------------------------------------ every golden file, damaged

        /// <summary>
        /// Every golden file cut at 40 places and with bytes flipped at 200 seeded places: each read
        /// either succeeds or throws <see cref="Da3ImportException"/> — never anything else.
        /// </summary>
        [Test]
        public void DamagedGoldenFilesOnlyEverThrowTypedErrors()
        {
            var files = new[] { "anyview/scene.glb", "anyview/scene.ply", "anyview/scene_ascii.ply", "anyview/exports/npz/results.npz", "anyview/exports/mini_npz/results.npz", "gs/gs_ply/0000.ply", "gs/gs_ply/0000_sh3.ply" };
            var rnd = new Random(11);
            int reads = 0, typed = 0;
            foreach (var f in files)
            {
                var bytes = File.ReadAllBytes(Golden.Path(f.Split('/')));
                var name = Path.GetFileName(f);
                for (int i = 1; i <= 40; i++)
                {
                    var cut = (int)((long)bytes.Length * i / 41);
                    var part = new byte[cut];
                    Buffer.BlockCopy(bytes, 0, part, 0, cut);
                    reads++;
                    try { Da3SceneReader.Read(part, name); Assert.Fail(f + " cut to " + cut + " bytes was read without error"); }
                    catch (Da3ImportException) { typed++; }
                }
                for (int i = 0; i < 200; i++)
                {
                    var copy = (byte[])bytes.Clone();
                    var at = i < 100 ? rnd.Next(Math.Min(copy.Length, 2048)) : rnd.Next(copy.Length);
                    copy[at] ^= (byte)(1 << rnd.Next(8));
                    reads++;
                    try { Da3SceneReader.Read(copy, name); }
                    catch (Da3ImportException) { typed++; }
                    catch (Exception e) { Assert.Fail(f + " with byte " + at + " flipped threw " + e.GetType().Name + ": " + e.Message); }
                }
            }
            Golden.Metric("bad.damaged_reads", reads);
            Golden.Metric("bad.damaged_typed_errors", typed);
        }
    }
}
