using System;
using System.Collections.Generic;

namespace Da3js.Importer
{
    /// <summary>
    /// A coloured point cloud in <b>Unity axes</b> (x right, y up, z forward; see
    /// <see cref="CoordinateFrames"/>), in the file's units. Arrays are allocated once at their final
    /// size and filled while the file streams past.
    /// </summary>
    public sealed class PointCloud
    {
        /// <summary>Number of points.</summary>
        public int Count;

        /// <summary>xyz per point, Unity axes, <c>3·Count</c> floats.</summary>
        public float[] Positions;

        /// <summary>RGBA per point as stored (8-bit sRGB, alpha 255 when the file has none), <c>4·Count</c> bytes.</summary>
        public byte[] Colors;

        /// <summary>DA3 confidence per point (unitless, ≥ 1 for DA3's expp1 activation), or null when the file has none.</summary>
        public float[] Confidence;
    }

    /// <summary>
    /// One DA3 view: the camera that took a processed image, in OpenCV conventions as stored, with
    /// its Unity pose derived through <see cref="CoordinateFrames.CameraPoseToUnity"/>.
    /// </summary>
    public sealed class Da3View
    {
        /// <summary>0-based index in the prediction.</summary>
        public int Index;

        /// <summary>Image name (COLMAP) or <c>view_0000</c>.</summary>
        public string Name;

        /// <summary>Width in pixels of the image the intrinsics refer to (0 when unknown).</summary>
        public int Width;
        /// <summary>Height in pixels of the image the intrinsics refer to (0 when unknown).</summary>
        public int Height;

        /// <summary>K, 3×3 row-major, pixels, OpenCV (principal point at integer pixel-centre coordinates). Null when unknown.</summary>
        public double[] Intrinsics;

        /// <summary>World→camera <c>[R | t]</c>, 3×4 row-major, OpenCV axes, the file's units.</summary>
        public double[] WorldToCamera;

        /// <summary>True when the pose was recovered from a drawing (the GLB's camera wireframes) rather than stored numbers.</summary>
        public bool PoseFromWireframe;

        /// <summary>
        /// GLB wireframes only: the frustum as tangents in the camera's OpenCV frame,
        /// <c>[cx/fx, cy/fy, (W−1)/fx, (H−1)/fy]</c> (exact up to the file's float32), from which K
        /// follows once the image size is known. Null for other sources.
        /// </summary>
        public double[] WireframeTangents;

        /// <summary>
        /// Intrinsics and size for a Unity camera even when the file did not store them: the stored K
        /// when there is one; for a GLB wireframe without an image size, a virtual image 1,000 pixels
        /// tall with square pixels reproducing the same frustum. Returns false when neither exists.
        /// </summary>
        public bool TryGetCameraIntrinsics(out double[] k, out int width, out int height)
        {
            if (Intrinsics != null && Width > 0 && Height > 0)
            {
                k = Intrinsics; width = Width; height = Height;
                return true;
            }
            if (WireframeTangents != null)
            {
                height = 1000;
                var fy = (height - 1) / WireframeTangents[3];
                var fx = fy;
                width = (int)Math.Max(2, Math.Round(WireframeTangents[2] * fx + 1));
                k = new[] { fx, 0, WireframeTangents[0] * fx, 0, fy, WireframeTangents[1] * fy, 0, 0, 1.0 };
                return true;
            }
            k = null; width = 0; height = 0;
            return false;
        }

        /// <summary>The camera's Unity position (world units, Unity axes).</summary>
        public Vec3d UnityPosition
        {
            get { Vec3d p; Quatd q; CoordinateFrames.CameraPoseToUnity(WorldToCamera, 0, out p, out q); return p; }
        }

        /// <summary>The camera's Unity rotation (a Unity Camera with it looks along the view's optical axis, y up).</summary>
        public Quatd UnityRotation
        {
            get { Vec3d p; Quatd q; CoordinateFrames.CameraPoseToUnity(WorldToCamera, 0, out p, out q); return q; }
        }

        /// <summary>Unity physical-camera settings reproducing K at <see cref="Width"/>×<see cref="Height"/> (sensor 36 mm wide unless given).</summary>
        public UnityPhysicalCamera PhysicalCamera(double sensorWidthMm = 36.0)
        {
            if (Intrinsics == null || Width <= 0 || Height <= 0) throw new Da3ImportException(Da3ErrorCode.Missing, Name, "this view has no intrinsics or image size; a physical camera cannot be derived");
            return UnityPhysicalCamera.FromIntrinsics(Intrinsics, Width, Height, sensorWidthMm);
        }
    }

    /// <summary>One view's depth map (and confidence), row 0 = top of the image (OpenCV order).</summary>
    public sealed class DepthMap
    {
        /// <summary>View index.</summary>
        public int View;
        /// <summary>Width in pixels.</summary>
        public int Width;
        /// <summary>Height in pixels.</summary>
        public int Height;
        /// <summary>Camera-space z per pixel (model units; metres for metric models), <c>Width·Height</c> floats, row-major from the top row.</summary>
        public float[] Depth;
        /// <summary>Confidence per pixel, or null.</summary>
        public float[] Confidence;
        /// <summary>The processed RGB image (8-bit, <c>3·Width·Height</c>, row 0 = top) when the file has it (full npz), else null.</summary>
        public byte[] Rgb;
    }

    /// <summary>
    /// 3D Gaussians in <b>Unity axes</b> with activated values: linear scales, opacities in [0, 1],
    /// unit-or-raw rotations as stored. Spherical harmonics follow the 3DGS convention
    /// (colour = 0.5 + Σ SH·Y) with the coefficient signs already converted for Unity directions.
    /// </summary>
    public sealed class GaussianCloud
    {
        /// <summary>Number of Gaussians.</summary>
        public int Count;
        /// <summary>SH coefficients per colour channel (1, 4, 9 or 16 → degree 0–3).</summary>
        public int ShCoefficients;
        /// <summary>Centres, xyz, Unity axes, <c>3·Count</c>.</summary>
        public float[] Positions;
        /// <summary>Rotations (x, y, z, w) in Unity axes, as stored (not renormalised), <c>4·Count</c>.</summary>
        public float[] Rotations;
        /// <summary>Linear scales along the Gaussian's local axes (exp of the file's log scales), <c>3·Count</c>.</summary>
        public float[] Scales;
        /// <summary>Opacities in [0, 1] (sigmoid of the file's logits), <c>Count</c>.</summary>
        public float[] Opacities;
        /// <summary>SH coefficients, colour-major <c>[g, c, k]</c> (index <c>(3·g + c)·ShCoefficients + k</c>), Unity signs.</summary>
        public float[] Sh;

        /// <summary>The SH degree (0–3).</summary>
        public int ShDegree { get { return (int)Math.Round(Math.Sqrt(ShCoefficients)) - 1; } }
    }

    /// <summary>Which kind of file a <see cref="Da3SceneData"/> came from.</summary>
    public enum Da3SourceFormat
    {
        /// <summary>da3js <c>scene.glb</c> (points + camera wireframes).</summary>
        Glb,
        /// <summary>Point PLY (<c>scene.ply</c>, binary or ASCII).</summary>
        PointPly,
        /// <summary>3DGS PLY (<c>gs_ply/0000.ply</c> SH0 or <c>0000_sh3.ply</c>).</summary>
        GaussianPly,
        /// <summary><c>results.npz</c> (npz or mini_npz).</summary>
        Npz,
        /// <summary>COLMAP text or binary model.</summary>
        Colmap,
        /// <summary>A whole export folder.</summary>
        ExportDirectory,
    }

    /// <summary>
    /// Everything read from one file or export folder, ready for the Unity layer: points, cameras,
    /// depth maps and Gaussians, all in Unity axes where they are geometry.
    /// </summary>
    public sealed class Da3SceneData
    {
        /// <summary>The source.</summary>
        public Da3SourceFormat Format;
        /// <summary>The point cloud, or null.</summary>
        public PointCloud Points;
        /// <summary>The cameras (empty when the file has none).</summary>
        public List<Da3View> Views = new List<Da3View>();
        /// <summary>Per-view depth maps (npz), empty otherwise.</summary>
        public List<DepthMap> Depths = new List<DepthMap>();
        /// <summary>3D Gaussians, or null.</summary>
        public GaussianCloud Gaussians;
        /// <summary>The GLB's <c>hf_alignment</c> (OpenCV world → glTF scene), when read from a da3js GLB.</summary>
        public Mat4d? GltfAlignment;
        /// <summary>Things the reader tolerated (ignored properties, unknown camera models) for the console.</summary>
        public List<string> Warnings = new List<string>();
    }
}
