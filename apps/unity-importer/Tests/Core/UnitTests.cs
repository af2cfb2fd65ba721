using System;
using System.Collections.Generic;
using NUnit.Framework;

namespace Da3js.Importer.Tests
{
    /// <summary>The pieces under the readers: JSON, the axis change, the physical camera.</summary>
    [TestFixture]
    public class UnitTests
    {
        [Test]
        public void JsonParsesAndRefuses()
        {
            var o = (Dictionary<string, object>)Json.Parse("{\"a\": [1, -2.5e3, true, null, \"x\\u00e9\\n\"], \"b\": {}}", "t");
            var a = (List<object>)o["a"];
            Assert.AreEqual(1.0, a[0]);
            Assert.AreEqual(-2500.0, a[1]);
            Assert.AreEqual(true, a[2]);
            Assert.IsNull(a[3]);
            Assert.AreEqual("x\u00e9\n", a[4]);
            foreach (var bad in new[] { "{\"a\":1,}", "[1 2]", "{\"a\":1,\"a\":2}", "01", "\"\\x\"", "[", "{} x", "nul" })
                Assert.Throws<Da3ImportException>(() => Json.Parse(bad, "t"), bad);
            Assert.AreEqual("{\"k\":[1,\"q\\\"\"],\"t\":true}", Json.Write(new Dictionary<string, object> { { "k", new List<object> { 1.0, "q\"" } }, { "t", true } }));
        }

        [Test]
        public void AxisChangeIsAReflectionOfY()
        {
            var p = CoordinateFrames.OpenCvToUnity(new Vec3d(1, 2, 3));
            Assert.AreEqual(1.0, p.X); Assert.AreEqual(-2.0, p.Y); Assert.AreEqual(3.0, p.Z);
            // A rotation R and its quaternion convert consistently: quat(S·R·S) = (−x, y, −z, w).
            var q = new Quatd(0.1, 0.7, -0.3, 0.6).Normalized;
            var viaMatrix = CoordinateFrames.OpenCvToUnity(Mat3d.FromQuaternion(q)).ToQuaternion();
            var direct = CoordinateFrames.OpenCvToUnity(q).Normalized;
            Assert.AreEqual(direct.X, viaMatrix.X, 1e-12); Assert.AreEqual(direct.Y, viaMatrix.Y, 1e-12);
            Assert.AreEqual(direct.Z, viaMatrix.Z, 1e-12); Assert.AreEqual(direct.W, viaMatrix.W, 1e-12);
            Assert.AreEqual(1.0, CoordinateFrames.OpenCvToUnity(Mat3d.FromQuaternion(q)).Determinant, 1e-12, "still a proper rotation");
            // Rotating then converting = converting then rotating.
            var v = new Vec3d(0.3, -1.2, 2.0);
            var a = CoordinateFrames.OpenCvToUnity(Mat3d.FromQuaternion(q).Mul(v));
            var b = Mat3d.FromQuaternion(direct).Mul(CoordinateFrames.OpenCvToUnity(v));
            Assert.AreEqual(a.X, b.X, 1e-12); Assert.AreEqual(a.Y, b.Y, 1e-12); Assert.AreEqual(a.Z, b.Z, 1e-12);
        }

        [Test]
        public void IdentityCameraLooksAlongUnityForwardWithYUp()
        {
            // The OpenCV identity camera: at the origin, looking along +z, image y down.
            Vec3d pos;
            Quatd rot;
            CoordinateFrames.CameraPoseToUnity(new double[] { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0 }, 0, out pos, out rot);
            Assert.AreEqual(0.0, pos.Length, 1e-15);
            Assert.AreEqual(1.0, rot.W, 1e-15, "Unity identity rotation: forward +z, up +y");
            // A point above the optical axis in the world (OpenCV y < 0) is in the upper half of the Unity screen.
            var k = new double[] { 100, 0, 49.5, 0, 100, 29.5, 0, 0, 1 };
            var cam = UnityPhysicalCamera.FromIntrinsics(k, 100, 60);
            double x, y, z;
            cam.WorldToScreenPoint(pos, rot, CoordinateFrames.OpenCvToUnity(new Vec3d(0, -0.2, 1)), out x, out y, out z);
            Assert.AreEqual(50.0, x, 1e-9, "centre column");
            Assert.AreEqual(30 + 20, y, 1e-9, "20 px above the centre (screen y up)");
            Assert.AreEqual(1.0, z, 1e-12);
            Assert.AreEqual(0.0, cam.LensShiftX, 1e-15, "principal point at the image centre (cx = W/2 − ½ in pixel-centre coordinates)");
            Assert.AreEqual(2 * Math.Atan(60 / 200.0) * 180 / Math.PI, cam.VerticalFieldOfViewDegrees, 1e-9);
            Assert.Throws<Da3ImportException>(() => UnityPhysicalCamera.FromIntrinsics(new double[] { 100, 1, 50, 0, 100, 30, 0, 0, 1 }, 100, 60), "skew");
            Assert.Throws<Da3ImportException>(() => UnityPhysicalCamera.FromIntrinsics(new double[] { -1, 0, 50, 0, 100, 30, 0, 0, 1 }, 100, 60), "negative focal");
        }
    }
}
