using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace Da3js.Importer
{
    /// <summary>A COLMAP camera: model name, size in pixels, and its parameters as stored.</summary>
    public sealed class ColmapCamera
    {
        /// <summary>Camera id.</summary>
        public long Id;
        /// <summary>Model name (<c>PINHOLE</c>, <c>SIMPLE_RADIAL</c>, …).</summary>
        public string Model;
        /// <summary>Image width, pixels.</summary>
        public long Width;
        /// <summary>Image height, pixels.</summary>
        public long Height;
        /// <summary>Parameters in COLMAP's order for the model.</summary>
        public double[] Params;
    }

    /// <summary>A COLMAP image: pose (world→camera, OpenCV axes: COLMAP's own), camera and keypoints.</summary>
    public sealed class ColmapImage
    {
        /// <summary>Image id.</summary>
        public long Id;
        /// <summary>Scalar part of the world→camera rotation quaternion (COLMAP's QW).</summary>
        public double Qw;
        /// <summary>x of the world→camera rotation quaternion (QX, OpenCV axes).</summary>
        public double Qx;
        /// <summary>y of the world→camera rotation quaternion (QY).</summary>
        public double Qy;
        /// <summary>z of the world→camera rotation quaternion (QZ).</summary>
        public double Qz;
        /// <summary>x of the world→camera translation (TX, world units, OpenCV axes).</summary>
        public double Tx;
        /// <summary>y of the world→camera translation (TY).</summary>
        public double Ty;
        /// <summary>z of the world→camera translation (TZ).</summary>
        public double Tz;
        /// <summary>The camera's id.</summary>
        public long CameraId;
        /// <summary>File name.</summary>
        public string Name;
        /// <summary>Keypoints (x, y) in COLMAP pixels, <c>2·n</c>.</summary>
        public double[] Xys;
        /// <summary>The 3D point of each keypoint, −1 for none.</summary>
        public long[] Point3DIds;
    }

    /// <summary>A COLMAP model (cameras, images, points3D) as stored, before any axis change.</summary>
    public sealed class ColmapModel
    {
        /// <summary>Cameras in file order.</summary>
        public List<ColmapCamera> Cameras = new List<ColmapCamera>();
        /// <summary>Images in file order.</summary>
        public List<ColmapImage> Images = new List<ColmapImage>();
        /// <summary>Point count.</summary>
        public int PointCount;
        /// <summary>Point ids.</summary>
        public long[] PointIds;
        /// <summary>xyz per point, OpenCV world, float64.</summary>
        public double[] Xyz;
        /// <summary>RGB per point.</summary>
        public byte[] Rgb;
        /// <summary>Reprojection error per point (−1: not computed).</summary>
        public double[] Error;
        /// <summary>Track of point i: elements <c>TrackOffsets[i] … TrackOffsets[i+1]</c> of the two arrays below.</summary>
        public int[] TrackOffsets;
        /// <summary>Track image ids.</summary>
        public long[] TrackImageIds;
        /// <summary>Track keypoint indices.</summary>
        public long[] TrackPoint2DIdx;
    }

    /// <summary>
    /// Reads COLMAP models — <c>cameras</c>, <c>images</c>, <c>points3D</c> as <c>.bin</c>
    /// (little-endian, COLMAP's <c>reconstruction_io_binary.cc</c> layout) or <c>.txt</c> — such as
    /// da3js' <c>sparse/</c>. COLMAP uses OpenCV axes and world→camera poses; the scene returned is in
    /// Unity axes (<see cref="CoordinateFrames"/>), with one <see cref="Da3View"/> per image whose K is
    /// the camera model's pinhole part (distortion is dropped with a warning). Every count is checked
    /// against the bytes (or lines) left before anything is allocated.
    /// </summary>
    public static class ColmapReader
    {
        static readonly string[] Models = { "SIMPLE_PINHOLE", "PINHOLE", "SIMPLE_RADIAL", "RADIAL", "OPENCV", "OPENCV_FISHEYE", "FULL_OPENCV", "FOV", "SIMPLE_RADIAL_FISHEYE", "RADIAL_FISHEYE", "THIN_PRISM_FISHEYE", "RAD_TAN_THIN_PRISM_FISHEYE", "SIMPLE_DIVISION", "DIVISION", "SIMPLE_FISHEYE", "FISHEYE", "EUCM", "EQUIRECTANGULAR" };
        static readonly int[] NumParams = { 3, 4, 4, 5, 8, 8, 12, 5, 4, 5, 12, 16, 4, 5, 3, 4, 6, 2 };
        static readonly int[] Focals = { 1, 2, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 1, 2, 1, 2, 2, 0 };

        static int ModelIndex(string name) { return Array.IndexOf(Models, name); }

        /// <summary>Reads a model folder: the <c>.bin</c> files when present, else the <c>.txt</c> files.</summary>
        public static ColmapModel ReadModel(string dir, ImportLimits limits = null)
        {
            limits = limits ?? ImportLimits.Default;
            if (File.Exists(Path.Combine(dir, "cameras.bin")))
            {
                var m = new ColmapModel();
                using (var s = Da3Files.OpenRead(Path.Combine(dir, "cameras.bin"))) ReadCamerasBinary(new StreamCursor(s, "cameras.bin"), m, limits);
                using (var s = Da3Files.OpenRead(Path.Combine(dir, "images.bin"))) ReadImagesBinary(new StreamCursor(s, "images.bin"), m, limits);
                using (var s = Da3Files.OpenRead(Path.Combine(dir, "points3D.bin"))) ReadPointsBinary(new StreamCursor(s, "points3D.bin"), m, limits);
                return m;
            }
            if (File.Exists(Path.Combine(dir, "cameras.txt")))
            {
                var m = new ColmapModel();
                using (var s = Da3Files.OpenRead(Path.Combine(dir, "cameras.txt"))) ReadCamerasText(new StreamCursor(s, "cameras.txt"), m, limits);
                using (var s = Da3Files.OpenRead(Path.Combine(dir, "images.txt"))) ReadImagesText(new StreamCursor(s, "images.txt"), m, limits);
                using (var s = Da3Files.OpenRead(Path.Combine(dir, "points3D.txt"))) ReadPointsText(new StreamCursor(s, "points3D.txt"), m, limits);
                return m;
            }
            throw new Da3ImportException(Da3ErrorCode.Missing, dir, "no COLMAP model (cameras.bin or cameras.txt)");
        }

        /// <summary>Reads a model folder and converts it (<see cref="ToScene"/>).</summary>
        public static Da3SceneData Read(string dir, ImportLimits limits = null)
        {
            return ToScene(ReadModel(dir, limits), Path.GetFileName(dir.TrimEnd('/', '\\')));
        }

        // ------------------------------------------------------------------ binary

        static long Count(StreamCursor c, string what, long minRecord, long max)
        {
            var n = (long)c.U64(what + " count");
            if (n > long.MaxValue / 2) throw new Da3ImportException(Da3ErrorCode.TooLarge, c.Where, what + " count " + n + " is absurd");
            ImportLimits.Check(c.Where, what + " count", n, max);
            if (c.Remaining >= 0 && n > c.Remaining / minRecord) throw new Da3ImportException(Da3ErrorCode.Truncated, c.Where, n + " " + what + " need at least " + (n * minRecord) + " bytes, the file has " + c.Remaining);
            return n;
        }

        /// <summary>Reads <c>cameras.bin</c>.</summary>
        public static void ReadCamerasBinary(StreamCursor c, ColmapModel m, ImportLimits limits)
        {
            var n = Count(c, "cameras", 24, limits.MaxViews);
            for (long i = 0; i < n; i++)
            {
                var cam = new ColmapCamera { Id = c.U32("camera id") };
                var model = c.I32("camera model");
                if (model < 0 || model >= Models.Length) throw new Da3ImportException(Da3ErrorCode.Unsupported, c.Where, "camera " + cam.Id + " has model id " + model);
                cam.Model = Models[model];
                cam.Width = (long)c.U64("width");
                cam.Height = (long)c.U64("height");
                ImportLimits.Check(c.Where, "camera width", cam.Width, 1 << 20);
                ImportLimits.Check(c.Where, "camera height", cam.Height, 1 << 20);
                cam.Params = new double[NumParams[model]];
                for (int k = 0; k < cam.Params.Length; k++) cam.Params[k] = c.F64("camera params");
                m.Cameras.Add(cam);
            }
        }

        /// <summary>Reads <c>images.bin</c>.</summary>
        public static void ReadImagesBinary(StreamCursor c, ColmapModel m, ImportLimits limits)
        {
            var n = Count(c, "images", 4 + 56 + 4 + 1 + 8, limits.MaxViews);
            for (long i = 0; i < n; i++)
            {
                var im = new ColmapImage { Id = c.U32("image id") };
                im.Qw = c.F64("qvec"); im.Qx = c.F64("qvec"); im.Qy = c.F64("qvec"); im.Qz = c.F64("qvec");
                im.Tx = c.F64("tvec"); im.Ty = c.F64("tvec"); im.Tz = c.F64("tvec");
                im.CameraId = c.U32("camera id");
                var name = new MemoryStream();
                for (;;)
                {
                    var b = c.U8("image name");
                    if (b == 0) break;
                    if (name.Length >= 4096) throw new Da3ImportException(Da3ErrorCode.TooLarge, c.Where, "image " + im.Id + " has a name over 4096 bytes (missing NUL?)");
                    name.WriteByte(b);
                }
                im.Name = Encoding.UTF8.GetString(name.ToArray());
                var k = (long)c.U64("points2D count");
                if (k > int.MaxValue / 2 || (c.Remaining >= 0 && k > c.Remaining / 24)) throw new Da3ImportException(Da3ErrorCode.Truncated, c.Where, "image " + im.Id + " declares " + k + " keypoints, the file has room for " + (c.Remaining / 24));
                ImportLimits.Check(c.Where, "keypoints", k, limits.MaxPoints);
                im.Xys = new double[2 * k];
                im.Point3DIds = new long[k];
                for (long j = 0; j < k; j++)
                {
                    im.Xys[2 * j] = c.F64("keypoint");
                    im.Xys[2 * j + 1] = c.F64("keypoint");
                    var id = c.U64("keypoint point3D id");
                    im.Point3DIds[j] = id == ulong.MaxValue ? -1 : (long)id;
                }
                m.Images.Add(im);
            }
        }

        /// <summary>Reads <c>points3D.bin</c>.</summary>
        public static void ReadPointsBinary(StreamCursor c, ColmapModel m, ImportLimits limits)
        {
            var n = Count(c, "points3D", 8 + 24 + 3 + 8 + 8, Math.Min(limits.MaxPoints, int.MaxValue / 4));
            Alloc(m, (int)n);
            var imageIds = new List<long>();
            var idx = new List<long>();
            for (long i = 0; i < n; i++)
            {
                m.PointIds[i] = (long)c.U64("point id");
                for (int a = 0; a < 3; a++) m.Xyz[3 * i + a] = c.F64("point xyz");
                for (int a = 0; a < 3; a++) m.Rgb[3 * i + a] = c.U8("point rgb");
                m.Error[i] = c.F64("point error");
                var t = (long)c.U64("track length");
                if (t > int.MaxValue || (c.Remaining >= 0 && t > c.Remaining / 8)) throw new Da3ImportException(Da3ErrorCode.Truncated, c.Where, "point " + m.PointIds[i] + " declares a track of " + t + " elements, the file has room for " + (c.Remaining / 8));
                for (long j = 0; j < t; j++) { imageIds.Add(c.U32("track image id")); idx.Add(c.U32("track point2D index")); }
                m.TrackOffsets[i + 1] = imageIds.Count;
                CheckPoint(m, (int)i, c.Where);
            }
            m.TrackImageIds = imageIds.ToArray();
            m.TrackPoint2DIdx = idx.ToArray();
        }

        static void Alloc(ColmapModel m, int n)
        {
            m.PointCount = n;
            m.PointIds = new long[n];
            m.Xyz = new double[3L * n];
            m.Rgb = new byte[3L * n];
            m.Error = new double[n];
            m.TrackOffsets = new int[n + 1];
        }

        static void CheckPoint(ColmapModel m, int i, string where)
        {
            for (int a = 0; a < 3; a++) if (!Finite.Is(m.Xyz[3 * i + a])) throw new Da3ImportException(Da3ErrorCode.NonFinite, where, "point " + m.PointIds[i] + " has coordinate " + m.Xyz[3 * i + a]);
        }

        // ------------------------------------------------------------------ text

        /// <summary>Next non-empty, non-comment line, or null at the end.</summary>
        static string DataLine(StreamCursor c, ImportLimits limits)
        {
            while (!c.AtEnd)
            {
                var line = c.ReadUntilOrEnd((byte)'\n', limits.MaxLineBytes, "a line").Trim();
                if (line.Length == 0 || line[0] == '#') continue;
                return line;
            }
            return null;
        }

        static string[] Words(string line) { return line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries); }

        static double D(string s, string where, string what)
        {
            double v;
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v)) throw new Da3ImportException(Da3ErrorCode.BadValue, where, what + ": \"" + s + "\" is not a number");
            return v;
        }

        static long L(string s, string where, string what)
        {
            long v;
            if (!long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out v)) throw new Da3ImportException(Da3ErrorCode.BadValue, where, what + ": \"" + s + "\" is not an integer");
            return v;
        }

        /// <summary>Reads <c>cameras.txt</c>.</summary>
        public static void ReadCamerasText(StreamCursor c, ColmapModel m, ImportLimits limits)
        {
            string line;
            while ((line = DataLine(c, limits)) != null)
            {
                var w = Words(line);
                if (w.Length < 4) throw new Da3ImportException(Da3ErrorCode.BadValue, c.Where, "camera line \"" + line + "\" is too short");
                var model = ModelIndex(w[1]);
                if (model < 0) throw new Da3ImportException(Da3ErrorCode.Unsupported, c.Where, "camera model " + w[1]);
                if (w.Length != 4 + NumParams[model]) throw new Da3ImportException(Da3ErrorCode.BadValue, c.Where, "camera " + w[0] + " (" + w[1] + ") needs " + NumParams[model] + " params, got " + (w.Length - 4));
                var cam = new ColmapCamera { Id = L(w[0], c.Where, "camera id"), Model = w[1], Width = L(w[2], c.Where, "width"), Height = L(w[3], c.Where, "height"), Params = new double[NumParams[model]] };
                for (int k = 0; k < cam.Params.Length; k++) cam.Params[k] = D(w[4 + k], c.Where, "camera param");
                m.Cameras.Add(cam);
                ImportLimits.Check(c.Where, "cameras", m.Cameras.Count, limits.MaxViews);
            }
        }

        /// <summary>Reads <c>images.txt</c> (two lines per image; the keypoint line may be empty).</summary>
        public static void ReadImagesText(StreamCursor c, ColmapModel m, ImportLimits limits)
        {
            string line;
            while ((line = DataLine(c, limits)) != null)
            {
                var w = Words(line);
                if (w.Length < 10) throw new Da3ImportException(Da3ErrorCode.BadValue, c.Where, "image line \"" + line + "\" needs 10 fields");
                var im = new ColmapImage
                {
                    Id = L(w[0], c.Where, "image id"),
                    Qw = D(w[1], c.Where, "qw"), Qx = D(w[2], c.Where, "qx"), Qy = D(w[3], c.Where, "qy"), Qz = D(w[4], c.Where, "qz"),
                    Tx = D(w[5], c.Where, "tx"), Ty = D(w[6], c.Where, "ty"), Tz = D(w[7], c.Where, "tz"),
                    CameraId = L(w[8], c.Where, "camera id"),
                    Name = string.Join(" ", w, 9, w.Length - 9),
                };
                var pts = c.AtEnd ? string.Empty : c.ReadUntilOrEnd((byte)'\n', limits.MaxLineBytes, "the keypoints of image " + im.Id).Trim();
                var pw = Words(pts);
                if (pw.Length % 3 != 0) throw new Da3ImportException(Da3ErrorCode.BadValue, c.Where, "image " + im.Id + ": the keypoint line has " + pw.Length + " fields, not a multiple of 3");
                var k = pw.Length / 3;
                im.Xys = new double[2 * k];
                im.Point3DIds = new long[k];
                for (int j = 0; j < k; j++)
                {
                    im.Xys[2 * j] = D(pw[3 * j], c.Where, "keypoint x");
                    im.Xys[2 * j + 1] = D(pw[3 * j + 1], c.Where, "keypoint y");
                    im.Point3DIds[j] = L(pw[3 * j + 2], c.Where, "keypoint point3D id");
                }
                m.Images.Add(im);
                ImportLimits.Check(c.Where, "images", m.Images.Count, limits.MaxViews);
            }
        }

        /// <summary>Reads <c>points3D.txt</c> (two passes over the lines' count would need a seek; arrays grow by doubling instead, bounded by the limits).</summary>
        public static void ReadPointsText(StreamCursor c, ColmapModel m, ImportLimits limits)
        {
            var ids = new List<long>();
            var xyz = new List<double>();
            var rgb = new List<byte>();
            var err = new List<double>();
            var offsets = new List<int> { 0 };
            var tImg = new List<long>();
            var tIdx = new List<long>();
            string line;
            while ((line = DataLine(c, limits)) != null)
            {
                var w = Words(line);
                if (w.Length < 8 || (w.Length - 8) % 2 != 0) throw new Da3ImportException(Da3ErrorCode.BadValue, c.Where, "point line with " + w.Length + " fields (need 8 + 2·track)");
                ids.Add(L(w[0], c.Where, "point id"));
                for (int a = 0; a < 3; a++)
                {
                    var v = D(w[1 + a], c.Where, "point xyz");
                    if (!Finite.Is(v)) throw new Da3ImportException(Da3ErrorCode.NonFinite, c.Where, "point " + w[0] + " has coordinate " + v);
                    xyz.Add(v);
                }
                for (int a = 0; a < 3; a++)
                {
                    var v = L(w[4 + a], c.Where, "point rgb");
                    if (v < 0 || v > 255) throw new Da3ImportException(Da3ErrorCode.BadValue, c.Where, "point " + w[0] + " has colour value " + v);
                    rgb.Add((byte)v);
                }
                err.Add(D(w[7], c.Where, "point error"));
                for (int j = 8; j < w.Length; j += 2) { tImg.Add(L(w[j], c.Where, "track image")); tIdx.Add(L(w[j + 1], c.Where, "track index")); }
                offsets.Add(tImg.Count);
                ImportLimits.Check(c.Where, "points3D", ids.Count, Math.Min(limits.MaxPoints, int.MaxValue / 4));
            }
            m.PointCount = ids.Count;
            m.PointIds = ids.ToArray();
            m.Xyz = xyz.ToArray();
            m.Rgb = rgb.ToArray();
            m.Error = err.ToArray();
            m.TrackOffsets = offsets.ToArray();
            m.TrackImageIds = tImg.ToArray();
            m.TrackPoint2DIdx = tIdx.ToArray();
        }

        // ------------------------------------------------------------------ conversion

        /// <summary>
        /// The pinhole part of a COLMAP camera as K (3×3 row-major): PINHOLE / SIMPLE_PINHOLE exactly,
        /// other models their focal length(s) and principal point (<paramref name="approximated"/>
        /// true). K is used as stored, in da3js' convention (pixel centres at integer coordinates,
        /// what da3js' COLMAP export writes); COLMAP itself puts pixel centres at +½, so a model made
        /// by COLMAP comes out shifted by half a pixel.
        /// </summary>
        public static double[] Intrinsics(ColmapCamera cam, string where, out bool approximated)
        {
            var m = ModelIndex(cam.Model);
            if (m < 0 || Focals[m] == 0) throw new Da3ImportException(Da3ErrorCode.Unsupported, where, "camera " + cam.Id + " (" + cam.Model + ") has no pinhole part");
            var p = cam.Params;
            foreach (var v in p) if (!Finite.Is(v)) throw new Da3ImportException(Da3ErrorCode.NonFinite, where, "camera " + cam.Id + " has parameter " + v);
            approximated = cam.Model != "PINHOLE" && cam.Model != "SIMPLE_PINHOLE";
            double fx, fy, cx, cy;
            if (Focals[m] == 1) { fx = fy = p[0]; cx = p[1]; cy = p[2]; }
            else { fx = p[0]; fy = p[1]; cx = p[2]; cy = p[3]; }
            return new[] { fx, 0, cx, 0, fy, cy, 0, 0, 1.0 };
        }

        /// <summary>The model as a scene: views in image order, points in Unity axes.</summary>
        public static Da3SceneData ToScene(ColmapModel model, string where)
        {
            var scene = new Da3SceneData { Format = Da3SourceFormat.Colmap };
            var cams = new Dictionary<long, ColmapCamera>();
            foreach (var c in model.Cameras) cams[c.Id] = c;
            for (int i = 0; i < model.Images.Count; i++)
            {
                var im = model.Images[i];
                ColmapCamera cam;
                if (!cams.TryGetValue(im.CameraId, out cam)) throw new Da3ImportException(Da3ErrorCode.BadValue, where, "image " + im.Id + " (" + im.Name + ") uses camera " + im.CameraId + ", which does not exist");
                var q = new Quatd(im.Qx, im.Qy, im.Qz, im.Qw);
                if (!(q.Length > 0) || !Finite.Is(q.Length)) throw new Da3ImportException(Da3ErrorCode.BadValue, where, "image " + im.Id + " has quaternion " + im.Qw + ", " + im.Qx + ", " + im.Qy + ", " + im.Qz);
                if (!Finite.Is(im.Tx) || !Finite.Is(im.Ty) || !Finite.Is(im.Tz)) throw new Da3ImportException(Da3ErrorCode.NonFinite, where, "image " + im.Id + " has a non-finite translation");
                var r = Mat3d.FromQuaternion(q);
                bool approx;
                var view = new Da3View
                {
                    Index = i,
                    Name = im.Name,
                    Width = (int)cam.Width,
                    Height = (int)cam.Height,
                    Intrinsics = Intrinsics(cam, where, out approx),
                    WorldToCamera = new[] { r.M00, r.M01, r.M02, im.Tx, r.M10, r.M11, r.M12, im.Ty, r.M20, r.M21, r.M22, im.Tz },
                };
                if (approx) scene.Warnings.Add(where + ": camera " + cam.Id + " (" + cam.Model + ") used as a pinhole; its distortion is ignored");
                scene.Views.Add(view);
            }
            var n = model.PointCount;
            var pc = new PointCloud { Count = n, Positions = new float[3L * n], Colors = new byte[4L * n] };
            for (int i = 0; i < n; i++)
            {
                var p = CoordinateFrames.OpenCvToUnity(new Vec3d(model.Xyz[3 * i], model.Xyz[3 * i + 1], model.Xyz[3 * i + 2]));
                pc.Positions[3 * i] = (float)p.X;
                pc.Positions[3 * i + 1] = (float)p.Y;
                pc.Positions[3 * i + 2] = (float)p.Z;
                pc.Colors[4 * i] = model.Rgb[3 * i];
                pc.Colors[4 * i + 1] = model.Rgb[3 * i + 1];
                pc.Colors[4 * i + 2] = model.Rgb[3 * i + 2];
                pc.Colors[4 * i + 3] = 255;
            }
            scene.Points = pc;
            return scene;
        }
    }
}
