using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using NUnit.Framework;

namespace Da3js.Importer.Tests
{
    /// <summary>
    /// The golden exports written by the repository's test run (apps/unity-importer/test): the tiny
    /// models' predictions as raw arrays (<c>truth/</c>) and every file da3js exports from them.
    /// <c>DA3_GOLDEN_DIR</c> points at them; with <c>DA3_REQUIRE_GOLDEN=1</c> (npm test) a missing
    /// folder fails the tests, otherwise (Unity's Test Runner) they are ignored.
    /// </summary>
    public static class Golden
    {
        public static string Dir
        {
            get
            {
                var d = Environment.GetEnvironmentVariable("DA3_GOLDEN_DIR");
                if (string.IsNullOrEmpty(d) || !Directory.Exists(d))
                {
                    if (Environment.GetEnvironmentVariable("DA3_REQUIRE_GOLDEN") == "1") Assert.Fail("DA3_GOLDEN_DIR is not set or missing (" + d + "): the golden exports were not written");
                    Assert.Ignore("DA3_GOLDEN_DIR not set: golden-file tests run in the repository's npm test");
                }
                return d;
            }
        }

        public static string Path(params string[] parts) { return System.IO.Path.Combine(Dir, System.IO.Path.Combine(parts)); }

        static readonly Dictionary<string, Truth> Cache = new Dictionary<string, Truth>();

        public static Truth Truth(string name)
        {
            Truth t;
            if (!Cache.TryGetValue(name, out t)) Cache[name] = t = new Truth(name);
            return t;
        }

        /// <summary>A metric line the TypeScript harness collects for the report.</summary>
        public static void Metric(string name, double value)
        {
            Console.WriteLine("METRIC " + name + " " + value.ToString("R", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>One prediction as the test run dumped it (little-endian float32 / uint8).</summary>
    public sealed class Truth
    {
        public readonly int Views, Height, Width;
        public readonly float[] Depth, Conf, Extrinsics, Intrinsics;
        public readonly byte[] Images;
        public readonly Dictionary<string, object> Meta;
        public readonly int GaussianCount, ShCoefficients;
        public readonly float[] Means, Scales, RotationsXyzw, Harmonics, Opacities;
        /// <summary>For each vertex of the pruned <c>gs_ply/0000.ply</c>, the index of its Gaussian.</summary>
        public readonly int[] PlyKept;

        public Truth(string name)
        {
            var manifest = Json.Obj(Json.Parse(File.ReadAllText(Golden.Path("truth", "manifest.json")), "manifest"), "manifest", "manifest");
            Meta = Json.Obj(manifest[name], "manifest", name);
            Views = (int)(double)Meta["views"];
            Height = (int)(double)Meta["height"];
            Width = (int)(double)Meta["width"];
            var dir = Golden.Path("truth", name);
            Depth = F32(System.IO.Path.Combine(dir, "depth.f32"));
            Conf = F32(System.IO.Path.Combine(dir, "conf.f32"));
            Extrinsics = F32(System.IO.Path.Combine(dir, "extrinsics.f32"));
            Intrinsics = F32(System.IO.Path.Combine(dir, "intrinsics.f32"));
            Images = File.ReadAllBytes(System.IO.Path.Combine(dir, "images.u8"));
            Assert.AreEqual(Views * Height * Width, Depth.Length, "truth depth size");
            var g = Json.Get(Meta, "gaussians") as Dictionary<string, object>;
            if (g != null)
            {
                GaussianCount = (int)(double)g["count"];
                ShCoefficients = (int)(double)g["shCoefficients"];
                Means = F32(System.IO.Path.Combine(dir, "gs_means.f32"));
                Scales = F32(System.IO.Path.Combine(dir, "gs_scales.f32"));
                RotationsXyzw = F32(System.IO.Path.Combine(dir, "gs_rotations_xyzw.f32"));
                Harmonics = F32(System.IO.Path.Combine(dir, "gs_harmonics.f32"));
                Opacities = F32(System.IO.Path.Combine(dir, "gs_opacities.f32"));
                var kept = File.ReadAllBytes(System.IO.Path.Combine(dir, "gs_ply_kept.u32"));
                PlyKept = new int[kept.Length / 4];
                for (int i = 0; i < PlyKept.Length; i++) PlyKept[i] = (int)BitConverter.ToUInt32(kept, 4 * i);
            }
        }

        public double Number(string key) { return (double)Meta[key]; }

        static float[] F32(string path)
        {
            var b = File.ReadAllBytes(path);
            var a = new float[b.Length / 4];
            for (int i = 0; i < a.Length; i++) a[i] = Bits.F32LE(b, 4 * i);
            return a;
        }

        public double[] W2c(int view)
        {
            var e = new double[12];
            for (int i = 0; i < 12; i++) e[i] = Extrinsics[12 * view + i];
            return e;
        }

        public double[] K(int view)
        {
            var k = new double[9];
            for (int i = 0; i < 9; i++) k[i] = Intrinsics[9 * view + i];
            return k;
        }

        /// <summary>
        /// The world point of pixel (u, v) of a view as da3js computes it (float64
        /// <c>inv(w2c)·(K⁻¹·[u, v, 1]·d)</c>, cast to float32), in OpenCV axes.
        /// </summary>
        public Vec3d WorldPointF32(int view, int u, int v)
        {
            var d = (double)Depth[(view * Height + v) * Width + u];
            var kinv = Mat3d.FromRowMajor(K(view)).Inverse("K");
            var cam = kinv.Mul(new Vec3d(u, v, 1)) * d;
            var e = W2c(view);
            var w2c = Mat4d.FromRowMajor(new[] { e[0], e[1], e[2], e[3], e[4], e[5], e[6], e[7], e[8], e[9], e[10], e[11], 0, 0, 0, 1.0 });
            var p = w2c.InverseAffine("w2c").Apply(cam);
            return new Vec3d((float)p.X, (float)p.Y, (float)p.Z);
        }

        /// <summary>Pixels (view-major, row-major) with finite depth &gt; 0 and conf ≥ threshold (float32 comparison), as the exporters keep them.</summary>
        public List<int> KeptPixels(float threshold)
        {
            var list = new List<int>();
            for (int p = 0; p < Depth.Length; p++)
            {
                var d = Depth[p];
                if (!(d > 0) || float.IsInfinity(d)) continue;
                if (!(Conf[p] >= threshold)) continue;
                list.Add(p);
            }
            return list;
        }

        public void Pixel(int p, out int view, out int u, out int v)
        {
            var hw = Height * Width;
            view = p / hw;
            var r = p - view * hw;
            v = r / Width;
            u = r - v * Width;
        }
    }
}
