using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using NUnit.Framework;

namespace Da3js.Importer.Tests
{
    /// <summary>
    /// 2,000,000-point files are read by streaming: the bytes the reader allocates stay within the
    /// output arrays plus small buffers — the file is never held in memory, and nothing is held twice.
    /// </summary>
    [TestFixture]
    public class StreamingTests
    {
        const int N = 2000000;
        // NUnit 2.6 (Debian) and NUnit 3 (Unity) share [SetUp]/[TearDown], not the fixture-level attributes.
        string _dir;

        [SetUp]
        public void Setup()
        {
            _dir = Path.Combine(Path.GetTempPath(), "da3-unity-stream-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(_dir);
        }

        [TearDown]
        public void TearDown()
        {
            try { Directory.Delete(_dir, true); } catch (IOException) { }
        }

        static float X(int i) { return (i % 1000) * 0.001f; }
        static float Y(int i) { return (i / 1000 % 1000) * 0.001f; }
        static float Z(int i) { return 1f + i / 1000000; }

        [Test]
        public void TwoMillionPointPly()
        {
            var path = Path.Combine(_dir, "big.ply");
            using (var f = new FileStream(path, FileMode.Create))
            using (var w = new BinaryWriter(new BufferedStream(f, 1 << 20)))
            {
                w.Write(Encoding.ASCII.GetBytes("ply\nformat binary_little_endian 1.0\nelement vertex " + N + "\nproperty float x\nproperty float y\nproperty float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nproperty float confidence\nend_header\n"));
                for (int i = 0; i < N; i++)
                {
                    w.Write(X(i)); w.Write(Y(i)); w.Write(Z(i));
                    w.Write((byte)(i & 255)); w.Write((byte)((i >> 8) & 255)); w.Write((byte)7);
                    w.Write(1f + (i & 1023) / 1024f);
                }
            }
            var fileBytes = new FileInfo(path).Length;
            GC.Collect();
            var sw = Stopwatch.StartNew();
            var before = GC.GetAllocatedBytesForCurrentThread();
            var pc = PlyReader.Read(path).Points;
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            sw.Stop();
            long output = pc.Positions.Length * 4L + pc.Colors.Length + pc.Confidence.Length * 4L;
            Golden.Metric("stream.ply_2m.file_bytes", fileBytes);
            Golden.Metric("stream.ply_2m.output_bytes", output);
            Golden.Metric("stream.ply_2m.allocated_bytes", allocated);
            Golden.Metric("stream.ply_2m.seconds", sw.Elapsed.TotalSeconds);
            Assert.AreEqual(N, pc.Count);
            Assert.Less(allocated - output, 2 << 20, "beyond the output arrays, under 2 MiB of buffers (the 38 MB file is never loaded)");
            for (int i = 0; i < N; i += 99991)
            {
                Assert.AreEqual(X(i), pc.Positions[3 * i]);
                Assert.AreEqual(-Y(i), pc.Positions[3 * i + 1]);
                Assert.AreEqual(Z(i), pc.Positions[3 * i + 2]);
                Assert.AreEqual((byte)(i & 255), pc.Colors[4 * i]);
                Assert.AreEqual(1f + (i & 1023) / 1024f, pc.Confidence[i]);
            }
        }

        [Test]
        public void TwoMillionPointGlb()
        {
            var path = Path.Combine(_dir, "big.glb");
            var json = "{\"asset\":{\"version\":\"2.0\"},\"scenes\":[{\"nodes\":[0],\"extras\":{\"hf_alignment\":[[1,0,0,0],[0,-1,0,0],[0,0,-1,0],[0,0,0,1]]}}],\"nodes\":[{\"name\":\"points\",\"mesh\":0}]," +
                       "\"meshes\":[{\"name\":\"points\",\"primitives\":[{\"attributes\":{\"POSITION\":0,\"COLOR_0\":1},\"mode\":0}]}]," +
                       "\"accessors\":[{\"bufferView\":0,\"componentType\":5126,\"count\":" + N + ",\"type\":\"VEC3\"},{\"bufferView\":1,\"componentType\":5121,\"normalized\":true,\"count\":" + N + ",\"type\":\"VEC4\"}]," +
                       "\"bufferViews\":[{\"buffer\":0,\"byteLength\":" + (12 * N) + "},{\"buffer\":0,\"byteOffset\":" + (12 * N) + ",\"byteLength\":" + (4 * N) + "}],\"buffers\":[{\"byteLength\":" + (16 * N) + "}]}";
            var j = Encoding.UTF8.GetBytes(json);
            var jl = (j.Length + 3) / 4 * 4;
            using (var f = new FileStream(path, FileMode.Create))
            using (var w = new BinaryWriter(new BufferedStream(f, 1 << 20)))
            {
                w.Write(0x46546C67u); w.Write(2u); w.Write((uint)(12 + 8 + jl + 8 + 16 * N));
                w.Write((uint)jl); w.Write(0x4E4F534Au); w.Write(j); for (int i = j.Length; i < jl; i++) w.Write((byte)0x20);
                w.Write((uint)(16 * N)); w.Write(0x004E4942u);
                // glTF scene = diag(1, −1, −1)·OpenCV world, so q = (x, −y, −z).
                for (int i = 0; i < N; i++) { w.Write(X(i)); w.Write(-Y(i)); w.Write(-Z(i)); }
                for (int i = 0; i < N; i++) { w.Write((byte)(i & 255)); w.Write((byte)1); w.Write((byte)2); w.Write((byte)255); }
            }
            GC.Collect();
            var sw = Stopwatch.StartNew();
            var before = GC.GetAllocatedBytesForCurrentThread();
            var scene = GlbReader.Read(path);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            sw.Stop();
            var pc = scene.Points;
            long output = pc.Positions.Length * 4L + pc.Colors.Length;
            Golden.Metric("stream.glb_2m.allocated_bytes", allocated);
            Golden.Metric("stream.glb_2m.output_bytes", output);
            Golden.Metric("stream.glb_2m.seconds", sw.Elapsed.TotalSeconds);
            Assert.AreEqual(N, pc.Count);
            Assert.Less(allocated - output, 2 << 20, "the 32 MB BIN chunk is streamed");
            for (int i = 0; i < N; i += 99991)
            {
                Assert.AreEqual(X(i), pc.Positions[3 * i], 1e-7);
                Assert.AreEqual(-Y(i), pc.Positions[3 * i + 1], 1e-7, "Unity y = −OpenCV y");
                Assert.AreEqual(Z(i), pc.Positions[3 * i + 2], 1e-7);
                Assert.AreEqual((byte)(i & 255), pc.Colors[4 * i]);
            }
        }
    }
}
