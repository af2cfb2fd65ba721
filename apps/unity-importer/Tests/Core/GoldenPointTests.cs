using System;
using System.IO;
using NUnit.Framework;

namespace Da3js.Importer.Tests
{
    /// <summary>
    /// Point clouds of the tiny any-view model's prediction read back from every file that holds
    /// them — scene.ply (binary and ASCII), scene.glb, COLMAP (binary and text), the npz's depth —
    /// against the prediction itself: every point, colour and confidence, after the axis change.
    /// </summary>
    [TestFixture]
    public class GoldenPointTests
    {
        const double Tol = 1e-6;

        static Truth T { get { return Golden.Truth("anyview"); } }

        /// <summary>Expected Unity position of a kept pixel.</summary>
        static Vec3d Expected(Truth t, int p)
        {
            int view, u, v;
            t.Pixel(p, out view, out u, out v);
            return CoordinateFrames.OpenCvToUnity(t.WorldPointF32(view, u, v));
        }

        static double MaxPositionError(Truth t, PointCloud pc, System.Collections.Generic.List<int> kept)
        {
            double worst = 0;
            for (int k = 0; k < kept.Count; k++)
            {
                var e = Expected(t, kept[k]);
                worst = Math.Max(worst, Math.Abs(pc.Positions[3 * k] - e.X));
                worst = Math.Max(worst, Math.Abs(pc.Positions[3 * k + 1] - e.Y));
                worst = Math.Max(worst, Math.Abs(pc.Positions[3 * k + 2] - e.Z));
            }
            return worst;
        }

        static void AssertColours(Truth t, PointCloud pc, System.Collections.Generic.List<int> kept, string what)
        {
            for (int k = 0; k < kept.Count; k++)
            {
                var p = kept[k];
                for (int c = 0; c < 3; c++)
                    if (pc.Colors[4 * k + c] != t.Images[3 * p + c]) Assert.Fail(what + ": point " + k + " channel " + c + " is " + pc.Colors[4 * k + c] + ", the image has " + t.Images[3 * p + c]);
                Assert.AreEqual(255, pc.Colors[4 * k + 3], what + " alpha");
            }
        }

        [TestCase("scene.ply", "ply_binary")]
        [TestCase("scene_ascii.ply", "ply_ascii")]
        public void PointPly(string file, string metric)
        {
            var t = T;
            var scene = PlyReader.Read(Golden.Path("anyview", file));
            Assert.AreEqual(Da3SourceFormat.PointPly, scene.Format);
            var kept = t.KeptPixels((float)t.Number("plyThreshold"));
            Assert.AreEqual((int)t.Number("asciiPlyPoints"), kept.Count, "kept pixels at the PLY threshold");
            Assert.AreEqual(kept.Count, scene.Points.Count, "points in " + file);
            var err = MaxPositionError(t, scene.Points, kept);
            Golden.Metric(metric + ".points", scene.Points.Count);
            Golden.Metric(metric + ".max_abs_position_error", err);
            Assert.LessOrEqual(err, Tol, "positions");
            AssertColours(t, scene.Points, kept, file);
            Assert.IsNotNull(scene.Points.Confidence, "confidence property");
            double confErr = 0;
            for (int k = 0; k < kept.Count; k++) confErr = Math.Max(confErr, Math.Abs(scene.Points.Confidence[k] - t.Conf[kept[k]]));
            Golden.Metric(metric + ".max_abs_confidence_error", confErr);
            Assert.AreEqual(0.0, confErr, "confidence is stored as float32: exact");
        }

        [Test]
        public void Glb()
        {
            var t = T;
            var scene = GlbReader.Read(Golden.Path("anyview", "scene.glb"), new GlbReadOptions { ImageWidth = t.Width, ImageHeight = t.Height });
            var kept = t.KeptPixels((float)t.Number("glbThreshold"));
            Assert.AreEqual(kept.Count, scene.Points.Count, "GLB points = kept pixels at the GLB threshold");
            Assert.IsNull(scene.Points.Confidence, "da3js' GLB has no confidence attribute");
            var err = MaxPositionError(t, scene.Points, kept);
            Golden.Metric("glb.points", scene.Points.Count);
            Golden.Metric("glb.max_abs_position_error", err);
            Assert.LessOrEqual(err, Tol, "positions (Unity axes, OpenCV world through S·A⁻¹)");
            AssertColours(t, scene.Points, kept, "scene.glb");

            // hf_alignment's rotation is diag(1, −1, −1) · R₀ of the first view's extrinsics.
            Assert.IsTrue(scene.GltfAlignment.HasValue);
            var a = scene.GltfAlignment.Value.M;
            var e0 = t.W2c(0);
            for (int r = 0; r < 3; r++)
                for (int c = 0; c < 3; c++)
                    Assert.AreEqual((r == 0 ? 1 : -1) * e0[4 * r + c], a[4 * r + c], 1e-7, "hf_alignment[" + r + "][" + c + "]");

            // Cameras from the wireframes: pose and K against the prediction (float32 frustum vertices).
            Assert.AreEqual(t.Views, scene.Views.Count, "camera wireframes");
            double poseErr = 0, kErr = 0;
            for (int v = 0; v < t.Views; v++)
            {
                var view = scene.Views[v];
                Assert.IsTrue(view.PoseFromWireframe);
                var e = t.W2c(v);
                for (int i = 0; i < 12; i++) poseErr = Math.Max(poseErr, Math.Abs(view.WorldToCamera[i] - e[i]));
                var k = t.K(v);
                foreach (var i in new[] { 0, 2, 4, 5 }) kErr = Math.Max(kErr, Math.Abs(view.Intrinsics[i] - k[i]) / k[0]);
            }
            Golden.Metric("glb.cameras.max_abs_extrinsics_error", poseErr);
            Golden.Metric("glb.cameras.max_rel_intrinsics_error", kErr);
            Assert.LessOrEqual(poseErr, 2e-4, "wireframe pose (float32 vertices of a frustum 3 % of the scene)");
            Assert.LessOrEqual(kErr, 2e-4, "wireframe intrinsics");
        }

        [Test]
        public void GlbImageSizeFromDepthVis()
        {
            // Da3SceneReader finds depth_vis/0000.jpg beside scene.glb and gives the cameras full intrinsics.
            var t = T;
            var scene = Da3SceneReader.Read(Golden.Path("anyview", "scene.glb"));
            Assert.AreEqual(t.Width, scene.Views[0].Width);
            Assert.AreEqual(t.Height, scene.Views[0].Height);
            Assert.IsNotNull(scene.Views[0].Intrinsics);
        }

        [TestCase("sparse", "colmap_binary")]
        [TestCase("sparse_text", "colmap_text")]
        public void Colmap(string dir, string metric)
        {
            var t = T;
            var model = ColmapReader.ReadModel(Golden.Path("anyview", dir));
            var scene = ColmapReader.ToScene(model, dir);
            Assert.AreEqual(t.Views, scene.Views.Count);
            double qErr = 0;
            for (int v = 0; v < t.Views; v++)
            {
                var view = scene.Views[v];
                Assert.AreEqual(string.Format("{0:D4}.png", v), view.Name);
                Assert.AreEqual(t.Width, view.Width);
                Assert.AreEqual(t.Height, view.Height);
                var k = t.K(v);
                Assert.AreEqual(k[0], view.Intrinsics[0], 0, "fx");
                Assert.AreEqual(k[4], view.Intrinsics[4], 0, "fy");
                Assert.AreEqual(k[2], view.Intrinsics[2], 0, "cx");
                Assert.AreEqual(k[5], view.Intrinsics[5], 0, "cy");
                var e = t.W2c(v);
                for (int i = 0; i < 12; i++) qErr = Math.Max(qErr, Math.Abs(view.WorldToCamera[i] - e[i]));
            }
            Golden.Metric(metric + ".max_abs_extrinsics_error", qErr);
            Assert.LessOrEqual(qErr, 1e-6, "extrinsics through COLMAP's quaternion");

            Assert.AreEqual((int)t.Number("colmapPoints"), model.PointCount);
            double err = 0;
            for (int i = 0; i < model.PointCount; i++)
            {
                Assert.AreEqual(model.TrackOffsets[i] + 1, model.TrackOffsets[i + 1], "one observation per point");
                var imageId = model.TrackImageIds[model.TrackOffsets[i]];
                var j = (int)model.TrackPoint2DIdx[model.TrackOffsets[i]];
                var im = model.Images.Find(x => x.Id == imageId);
                Assert.AreEqual(model.PointIds[i], im.Point3DIds[j], "the keypoint points back at the point");
                int u = (int)im.Xys[2 * j], v = (int)im.Xys[2 * j + 1];
                Assert.AreEqual((double)u, im.Xys[2 * j], "keypoint at an integer pixel");
                var view = (int)imageId - 1;
                var ex = CoordinateFrames.OpenCvToUnity(t.WorldPointF32(view, u, v));
                err = Math.Max(err, Math.Abs(scene.Points.Positions[3 * i] - ex.X));
                err = Math.Max(err, Math.Abs(scene.Points.Positions[3 * i + 1] - ex.Y));
                err = Math.Max(err, Math.Abs(scene.Points.Positions[3 * i + 2] - ex.Z));
                var p = (view * t.Height + v) * t.Width + u;
                for (int c = 0; c < 3; c++) Assert.AreEqual(t.Images[3 * p + c], scene.Points.Colors[4 * i + c], "colour");
            }
            Golden.Metric(metric + ".points", model.PointCount);
            Golden.Metric(metric + ".max_abs_position_error", err);
            Assert.LessOrEqual(err, Tol);
        }

        [TestCase("exports/npz/results.npz", 6, "npz")]
        [TestCase("exports/mini_npz/results.npz", 8, "mini_npz")]
        public void Npz(string file, int depthDecimals, string metric)
        {
            var t = T;
            var scene = NpzReader.Read(Golden.Path("anyview", file));
            Assert.AreEqual(t.Views, scene.Depths.Count);
            Assert.AreEqual(t.Views, scene.Views.Count);
            double depthErr = 0, confErr = 0, depthRaw = 0;
            var hw = t.Height * t.Width;
            for (int v = 0; v < t.Views; v++)
            {
                var dm = scene.Depths[v];
                Assert.AreEqual(t.Width, dm.Width);
                Assert.AreEqual(t.Height, dm.Height);
                for (int p = 0; p < hw; p++)
                {
                    // The exporter rounds like the reference (np.round in float32): depth to 6 (npz) / 8 (mini) decimals, conf to 2.
                    depthErr = Math.Max(depthErr, Math.Abs(dm.Depth[p] - RoundLikeNumpy(t.Depth[v * hw + p], depthDecimals)));
                    depthRaw = Math.Max(depthRaw, Math.Abs(dm.Depth[p] - t.Depth[v * hw + p]));
                    confErr = Math.Max(confErr, Math.Abs(dm.Confidence[p] - RoundLikeNumpy(t.Conf[v * hw + p], 2)));
                }
                if (depthDecimals == 6)
                {
                    for (int p = 0; p < 3 * hw; p++) if (dm.Rgb[p] != t.Images[3 * v * hw + p]) Assert.Fail("image byte " + p + " of view " + v);
                }
                else Assert.IsNull(dm.Rgb, "mini_npz has no image");
                var e = t.W2c(v);
                var k = t.K(v);
                for (int i = 0; i < 12; i++) Assert.AreEqual(e[i], scene.Views[v].WorldToCamera[i], 0, "extrinsics are stored as float32: exact");
                for (int i = 0; i < 9; i++) Assert.AreEqual(k[i], scene.Views[v].Intrinsics[i], 0, "intrinsics exact");
            }
            Golden.Metric(metric + ".max_abs_depth_error_vs_rounded_prediction", depthErr);
            Golden.Metric(metric + ".max_abs_depth_error_vs_raw_prediction", depthRaw);
            Golden.Metric(metric + ".max_abs_conf_error_vs_rounded_prediction", confErr);
            Assert.AreEqual(0.0, depthErr, "depth = np.round(prediction, decimals), bit for bit");
            Assert.AreEqual(0.0, confErr, "conf = np.round(prediction, 2), bit for bit");

            // The point cloud unprojected from the npz depth: every pixel with depth > 0.
            var all = t.KeptPixels(float.NegativeInfinity);
            Assert.AreEqual(all.Count, scene.Points.Count);
            var err = MaxPositionError(t, scene.Points, all);
            Golden.Metric(metric + ".unprojected_max_abs_position_error", err);
            Assert.LessOrEqual(err, depthDecimals == 8 ? 1e-6 : 2e-5, "unprojection of the rounded depth");
        }

        /// <summary>NumPy's float32 <c>np.round(x, d)</c>: rint(float32(x·10^d)) / 10^d in float32.</summary>
        static float RoundLikeNumpy(float x, int decimals)
        {
            var f = (float)Math.Pow(10, decimals);
            var y = (float)((double)x * f);
            var r = (float)Math.Round((double)y, MidpointRounding.ToEven);
            return (float)((double)r / f);
        }

        /// <summary>Every kept pixel's world point, through the view's Unity camera, lands on its pixel.</summary>
        [Test]
        public void UnityCameraProjectsWorldPointsOntoTheirPixels()
        {
            var t = T;
            var scene = NpzReader.Read(Golden.Path("anyview", "exports/mini_npz/results.npz"));
            double worst = 0, depthErr = 0;
            int n = 0;
            for (int view = 0; view < t.Views; view++)
            {
                var cam = scene.Views[view];
                var phys = cam.PhysicalCamera();
                Assert.AreEqual(cam.Width, phys.Width);
                for (int v = 0; v < t.Height; v++)
                {
                    for (int u = 0; u < t.Width; u++)
                    {
                        var d = t.Depth[(view * t.Height + v) * t.Width + u];
                        if (!(d > 0)) continue;
                        var world = CoordinateFrames.OpenCvToUnity(t.WorldPointF32(view, u, v));
                        double x, y, z, pu, pv;
                        phys.WorldToScreenPoint(cam.UnityPosition, cam.UnityRotation, world, out x, out y, out z);
                        CoordinateFrames.UnityScreenToPixel(x, y, t.Height, out pu, out pv);
                        worst = Math.Max(worst, Math.Max(Math.Abs(pu - u), Math.Abs(pv - v)));
                        depthErr = Math.Max(depthErr, Math.Abs(z - d) / d);
                        n++;
                    }
                }
            }
            Golden.Metric("projection.points", n);
            Golden.Metric("projection.max_pixel_error", worst);
            Golden.Metric("projection.max_rel_depth_error", depthErr);
            Assert.Greater(n, 10000);
            Assert.LessOrEqual(worst, 1e-3, "pixels");
            Assert.LessOrEqual(depthErr, 1e-5, "camera-space depth = the predicted depth");
        }

        [Test]
        public void ExportFolder()
        {
            var t = T;
            var scene = Da3ExportDirectory.Read(Golden.Path("anyview"));
            Assert.AreEqual(Da3SourceFormat.ExportDirectory, scene.Format);
            Assert.AreEqual(t.Views, scene.Views.Count, "views from the npz");
            Assert.IsNotNull(scene.Views[0].Intrinsics);
            Assert.AreEqual(t.Views, scene.Depths.Count);
            Assert.AreEqual((int)t.Number("asciiPlyPoints"), scene.Points.Count, "points from scene.ply");
            Assert.IsNotNull(scene.Points.Confidence);
            Assert.IsTrue(scene.GltfAlignment.HasValue, "alignment from scene.glb");
            var gs = Da3ExportDirectory.Read(Golden.Path("gs"));
            Assert.IsNotNull(gs.Gaussians);
            Assert.AreEqual(16, gs.Gaussians.ShCoefficients, "the SH3 file is preferred");
        }
    }
}
