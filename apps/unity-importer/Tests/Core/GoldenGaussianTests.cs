using System;
using NUnit.Framework;

namespace Da3js.Importer.Tests
{
    /// <summary>
    /// 3D Gaussians of the tiny GIANT-style model (GS head) read from the 3DGS PLYs da3js writes
    /// (SH0: 17 floats; SH3: 62 floats) against the prediction's Gaussians, after the axis change —
    /// and the change itself checked for what it must preserve: covariances and SH colours.
    /// </summary>
    [TestFixture]
    public class GoldenGaussianTests
    {
        static Truth T { get { return Golden.Truth("gs"); } }

        [TestCase("gs_ply/0000.ply", 1, "gs_sh0", true)]
        [TestCase("gs_ply/0000_sh3.ply", 16, "gs_sh3", false)]
        public void GaussianPly(string file, int coefficients, string metric, bool pruned)
        {
            var t = T;
            var scene = PlyReader.Read(Golden.Path("gs", file));
            Assert.AreEqual(Da3SourceFormat.GaussianPly, scene.Format);
            var g = scene.Gaussians;
            Assert.AreEqual(t.Views * t.Height * t.Width, t.GaussianCount, "one Gaussian per pixel");
            if (pruned)
            {
                Assert.AreEqual(t.PlyKept.Length, g.Count, "the reference's pruning (border, far depth)");
                Assert.Less(g.Count, t.GaussianCount);
            }
            else Assert.AreEqual(t.GaussianCount, g.Count, "every Gaussian");
            Assert.AreEqual(coefficients, g.ShCoefficients);
            double pos = 0, rot = 0, scaleRel = 0, opa = 0, sh = 0;
            var K = t.ShCoefficients;
            for (int j = 0; j < g.Count; j++)
            {
                var i = pruned ? t.PlyKept[j] : j;
                var m = CoordinateFrames.OpenCvToUnity(new Vec3d(t.Means[3 * i], t.Means[3 * i + 1], t.Means[3 * i + 2]));
                pos = Math.Max(pos, Math.Max(Math.Abs(g.Positions[3 * j] - m.X), Math.Max(Math.Abs(g.Positions[3 * j + 1] - m.Y), Math.Abs(g.Positions[3 * j + 2] - m.Z))));
                var q = CoordinateFrames.OpenCvToUnity(new Quatd(t.RotationsXyzw[4 * i], t.RotationsXyzw[4 * i + 1], t.RotationsXyzw[4 * i + 2], t.RotationsXyzw[4 * i + 3]));
                rot = Math.Max(rot, Math.Max(Math.Max(Math.Abs(g.Rotations[4 * j] - q.X), Math.Abs(g.Rotations[4 * j + 1] - q.Y)), Math.Max(Math.Abs(g.Rotations[4 * j + 2] - q.Z), Math.Abs(g.Rotations[4 * j + 3] - q.W))));
                for (int a = 0; a < 3; a++) scaleRel = Math.Max(scaleRel, Math.Abs(g.Scales[3 * j + a] - t.Scales[3 * i + a]) / t.Scales[3 * i + a]);
                opa = Math.Max(opa, Math.Abs(g.Opacities[j] - t.Opacities[i]));
                for (int c = 0; c < 3; c++)
                {
                    for (int k = 0; k < coefficients; k++)
                    {
                        var want = k < K ? CoordinateFrames.ShSign(k) * t.Harmonics[(3 * i + c) * K + k] : 0f;
                        sh = Math.Max(sh, Math.Abs(g.Sh[(3 * j + c) * coefficients + k] - want));
                    }
                }
            }
            Golden.Metric(metric + ".gaussians", g.Count);
            Golden.Metric(metric + ".max_abs_position_error", pos);
            Golden.Metric(metric + ".max_abs_rotation_error", rot);
            Golden.Metric(metric + ".max_rel_scale_error", scaleRel);
            Golden.Metric(metric + ".max_abs_opacity_error", opa);
            Golden.Metric(metric + ".max_abs_sh_error", sh);
            Assert.AreEqual(0.0, pos, "means are float32, negated exactly");
            Assert.AreEqual(0.0, rot, "rotations are float32, reordered/negated exactly");
            Assert.LessOrEqual(scaleRel, 1e-6, "exp(float32 log scale)");
            Assert.LessOrEqual(opa, 1e-6, "sigmoid(float32 logit)");
            Assert.AreEqual(0.0, sh, "SH are float32, sign-flipped exactly");
        }

        /// <summary>
        /// The KHR_gaussian_splatting GLB (no hf_alignment) loads as a coloured point cloud of the
        /// centres: glTF axes (x, −y, −z of OpenCV) → Unity (x, y, −z) gives S·means exactly.
        /// </summary>
        [Test]
        public void KhrGaussianGlbLoadsAsPoints()
        {
            var t = T;
            var scene = GlbReader.Read(Golden.Path("gs", "gs", "scene_gaussians.glb"));
            Assert.AreEqual(t.GaussianCount, scene.Points.Count);
            Assert.IsFalse(scene.GltfAlignment.HasValue);
            Assert.AreEqual(0, scene.Views.Count);
            double err = 0;
            for (int i = 0; i < t.GaussianCount; i++)
            {
                var m = CoordinateFrames.OpenCvToUnity(new Vec3d(t.Means[3 * i], t.Means[3 * i + 1], t.Means[3 * i + 2]));
                err = Math.Max(err, Math.Max(Math.Abs(scene.Points.Positions[3 * i] - m.X), Math.Max(Math.Abs(scene.Points.Positions[3 * i + 1] - m.Y), Math.Abs(scene.Points.Positions[3 * i + 2] - m.Z))));
            }
            Golden.Metric("gs_gltf.max_abs_position_error", err);
            Assert.AreEqual(0.0, err);
        }

        /// <summary>The Unity covariance R_u·diag(s²)·R_uᵀ equals S·Σ_opencv·S for every Gaussian.</summary>
        [Test]
        public void CovariancesSurviveTheAxisChange()
        {
            var t = T;
            var g = PlyReader.Read(Golden.Path("gs", "gs_ply/0000.ply")).Gaussians;
            double worst = 0;
            for (int j = 0; j < g.Count; j += 7)
            {
                var i = t.PlyKept[j]; // the pruned SH0 file: vertex j is Gaussian i
                var rcv = Mat3d.FromQuaternion(new Quatd(t.RotationsXyzw[4 * i], t.RotationsXyzw[4 * i + 1], t.RotationsXyzw[4 * i + 2], t.RotationsXyzw[4 * i + 3]));
                var ru = Mat3d.FromQuaternion(new Quatd(g.Rotations[4 * j], g.Rotations[4 * j + 1], g.Rotations[4 * j + 2], g.Rotations[4 * j + 3]));
                var s2 = new Mat3d { M00 = Sq(t.Scales[3 * i]), M11 = Sq(t.Scales[3 * i + 1]), M22 = Sq(t.Scales[3 * i + 2]) };
                var su2 = new Mat3d { M00 = Sq(g.Scales[3 * j]), M11 = Sq(g.Scales[3 * j + 1]), M22 = Sq(g.Scales[3 * j + 2]) };
                var want = CoordinateFrames.OpenCvToUnity(rcv * s2 * rcv.Transposed);
                var got = ru * su2 * ru.Transposed;
                var norm = Math.Max(s2.M00, Math.Max(s2.M11, s2.M22));
                worst = Math.Max(worst, MaxDiff(want, got) / norm);
            }
            Golden.Metric("gs.max_rel_covariance_error", worst);
            Assert.LessOrEqual(worst, 1e-5);
        }

        /// <summary>Colour seen from a direction: SH_opencv(d) = SH_unity(S·d), degree 2 (what DA3 predicts).</summary>
        [Test]
        public void ShColoursSurviveTheAxisChange()
        {
            var t = T;
            var g = PlyReader.Read(Golden.Path("gs", "gs_ply/0000_sh3.ply")).Gaussians;
            var rnd = new Random(5);
            double worst = 0;
            for (int trial = 0; trial < 2000; trial++)
            {
                var i = rnd.Next(g.Count);
                var d = new Vec3d(rnd.NextDouble() * 2 - 1, rnd.NextDouble() * 2 - 1, rnd.NextDouble() * 2 - 1).Normalized;
                var du = CoordinateFrames.OpenCvToUnity(d);
                for (int c = 0; c < 3; c++)
                {
                    var want = Eval(t.Harmonics, (3 * i + c) * t.ShCoefficients, t.ShCoefficients, d);
                    var got = Eval(g.Sh, (3 * i + c) * g.ShCoefficients, 9, du);
                    worst = Math.Max(worst, Math.Abs(want - got));
                }
            }
            Golden.Metric("gs.max_abs_sh_colour_error", worst);
            Assert.LessOrEqual(worst, 1e-6);
        }

        static double Sq(double x) { return x * x; }

        static double MaxDiff(Mat3d a, Mat3d b)
        {
            var x = new[] { a.M00 - b.M00, a.M01 - b.M01, a.M02 - b.M02, a.M10 - b.M10, a.M11 - b.M11, a.M12 - b.M12, a.M20 - b.M20, a.M21 - b.M21, a.M22 - b.M22 };
            double m = 0;
            foreach (var v in x) m = Math.Max(m, Math.Abs(v));
            return m;
        }

        /// <summary>The 3DGS real-SH colour (degree ≤ 2) of coefficients at <paramref name="o"/>: 0.5 + Σ c_k·Y_k(d).</summary>
        static double Eval(float[] c, int o, int n, Vec3d d)
        {
            double x = d.X, y = d.Y, z = d.Z;
            var r = 0.28209479177387814 * c[o];
            if (n > 1) r += -0.4886025119029199 * y * c[o + 1] + 0.4886025119029199 * z * c[o + 2] - 0.4886025119029199 * x * c[o + 3];
            if (n > 4)
                r += 1.0925484305920792 * x * y * c[o + 4] - 1.0925484305920792 * y * z * c[o + 5] + 0.31539156525252005 * (2 * z * z - x * x - y * y) * c[o + 6]
                     - 1.0925484305920792 * x * z * c[o + 7] + 0.5462742152960396 * (x * x - y * y) * c[o + 8];
            return 0.5 + r;
        }
    }
}
