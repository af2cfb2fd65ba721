namespace Da3js.Importer
{
    /// <summary>
    /// <para><b>The one place where axes change.</b> Every reader hands data to Unity through these
    /// functions; nothing else in the package flips a sign.</para>
    ///
    /// <para><b>OpenCV</b> (what da3js predicts and what PLY, 3DGS PLY, npz and COLMAP files hold):
    /// right-handed; x right, y down, z forward; a camera looks along its +z with +y pointing down the
    /// image. Extrinsics are world→camera 3×4 <c>[R | t]</c> (<c>p_cam = R·p_world + t</c>); the world
    /// frame is the frame the extrinsics are expressed in (DA3 puts its reference view near the
    /// origin). Intrinsics K are 3×3 in pixels of the processed image; pixel (u, v) — u to the right,
    /// v down — has its centre at the integer coordinates (u, v), as DA3 unprojects
    /// (<c>p_cam = K⁻¹·[u, v, 1]·depth</c>). Depth is the camera-space z, in the model's units (metres
    /// for metric models).</para>
    ///
    /// <para><b>glTF</b> (da3js' <c>scene.glb</c>): right-handed; x right, y up, z towards the viewer.
    /// The GLB stores <c>q = A·p</c> for an OpenCV world point p, with the alignment
    /// <c>A = T(−median) · diag(1, −1, −1, 1) · w2c₀</c> (the first camera's frame with glTF axes,
    /// centred on the points' median) in <c>scenes[0].extras.hf_alignment</c> (row-major rows).</para>
    ///
    /// <para><b>Unity</b>: left-handed; x right, y up, z forward. A <c>Camera</c> looks along its
    /// transform's +z with +y up. Units are the file's (1 model unit = 1 Unity unit).</para>
    ///
    /// <para><b>The conversion</b> used for every format: <c>p_unity = S·p_opencv</c> with
    /// <c>S = diag(1, −1, 1)</c> — a reflection of y (determinant −1, which is exactly the change of
    /// handedness). It maps the OpenCV camera frame (x right, y down, z forward) onto the Unity camera
    /// frame (x right, y up, z forward), so a view keeps looking along +z. Hence:
    /// <list type="bullet">
    /// <item>points and directions: (x, y, z) → (x, −y, z);</item>
    /// <item>rotation matrices: R → S·R·S (still a proper rotation); quaternions (x, y, z, w) → (−x, y, −z, w);</item>
    /// <item>camera poses: the world→camera <c>[R | t]</c> gives the Unity transform position
    /// <c>S·(−Rᵀt)</c> and rotation <c>S·Rᵀ·S</c>;</item>
    /// <item>Gaussians: means as points, rotations as quaternions, scales unchanged (they are along
    /// the Gaussian's own axes), spherical-harmonic coefficients multiplied by
    /// <see cref="ShSign"/> (the parity of each real SH basis function under y → −y);</item>
    /// <item>glTF scene points: <c>p_unity = S·A⁻¹·q</c>, so a GLB lines up with the PLY, npz and
    /// COLMAP files of the same prediction;</item>
    /// <item>pixels: OpenCV pixel (u, v) ↔ Unity screen point (u + ½, H − v − ½) (Unity's screen origin
    /// is the bottom-left corner of the image and pixel centres are at half-integers);</item>
    /// <item>images and depth maps: OpenCV row 0 is the top row, Unity texture row 0 is the bottom
    /// row, so rows are reversed when a texture is filled.</item>
    /// </list></para>
    /// </summary>
    public static class CoordinateFrames
    {
        /// <summary>An OpenCV point or direction in Unity axes: (x, −y, z).</summary>
        public static Vec3d OpenCvToUnity(Vec3d p) { return new Vec3d(p.X, -p.Y, p.Z); }

        /// <summary>A Unity point or direction in OpenCV axes: (x, −y, z) (the conversion is its own inverse).</summary>
        public static Vec3d UnityToOpenCv(Vec3d p) { return new Vec3d(p.X, -p.Y, p.Z); }

        /// <summary>Converts <paramref name="count"/> xyz triplets in place from OpenCV to Unity axes.</summary>
        public static void OpenCvToUnityInPlace(float[] xyz, int start, int count)
        {
            for (int i = 0, k = start + 1; i < count; i++, k += 3) xyz[k] = -xyz[k];
        }

        /// <summary>An OpenCV rotation matrix in Unity axes: S·R·S (negates the elements that touch y exactly once).</summary>
        public static Mat3d OpenCvToUnity(Mat3d r)
        {
            return new Mat3d
            {
                M00 = r.M00, M01 = -r.M01, M02 = r.M02,
                M10 = -r.M10, M11 = r.M11, M12 = -r.M12,
                M20 = r.M20, M21 = -r.M21, M22 = r.M22,
            };
        }

        /// <summary>An OpenCV quaternion (x, y, z, w) as a Unity quaternion: (−x, y, −z, w).</summary>
        public static Quatd OpenCvToUnity(Quatd q) { return new Quatd(-q.X, q.Y, -q.Z, q.W); }

        /// <summary>
        /// The sign of the real spherical-harmonic coefficient with flat index <c>k = l² + l + m</c>
        /// (the 3DGS / da3js order) when directions change from OpenCV to Unity axes (y → −y): −1 for
        /// the basis functions odd in y (k = 1; 4, 5; 9, 10, 11), +1 otherwise. Valid for k &lt; 16
        /// (degree ≤ 3).
        /// </summary>
        public static float ShSign(int k)
        {
            switch (k)
            {
                case 1: case 4: case 5: case 9: case 10: case 11: return -1f;
                default: return 1f;
            }
        }

        /// <summary>
        /// The Unity transform of a camera from its OpenCV world→camera extrinsics (3×4 row-major at
        /// <paramref name="offset"/>): position <c>S·(−Rᵀt)</c> and rotation <c>S·Rᵀ·S</c>.
        /// </summary>
        public static void CameraPoseToUnity(double[] worldToCamera, int offset, out Vec3d position, out Quatd rotation)
        {
            var r = new Mat3d
            {
                M00 = worldToCamera[offset], M01 = worldToCamera[offset + 1], M02 = worldToCamera[offset + 2],
                M10 = worldToCamera[offset + 4], M11 = worldToCamera[offset + 5], M12 = worldToCamera[offset + 6],
                M20 = worldToCamera[offset + 8], M21 = worldToCamera[offset + 9], M22 = worldToCamera[offset + 10],
            };
            var t = new Vec3d(worldToCamera[offset + 3], worldToCamera[offset + 7], worldToCamera[offset + 11]);
            var rt = r.Transposed;
            var centre = rt.Mul(t) * -1.0;
            position = OpenCvToUnity(centre);
            rotation = OpenCvToUnity(rt).ToQuaternion();
        }

        /// <summary>OpenCV pixel (u, v) of an image <paramref name="height"/> rows tall → Unity screen point (u + ½, H − v − ½).</summary>
        public static void PixelToUnityScreen(double u, double v, int height, out double x, out double y)
        {
            x = u + 0.5;
            y = height - v - 0.5;
        }

        /// <summary>Unity screen point (x, y) → OpenCV pixel (x − ½, H − y − ½).</summary>
        public static void UnityScreenToPixel(double x, double y, int height, out double u, out double v)
        {
            u = x - 0.5;
            v = height - y - 0.5;
        }

        /// <summary>
        /// The map from a da3js GLB's scene frame to Unity world axes: <c>S·A⁻¹</c> (row-major 4×4),
        /// where A is the file's <c>hf_alignment</c>.
        /// </summary>
        public static Mat4d GltfSceneToUnity(Mat4d alignment, string where)
        {
            var inv = alignment.InverseAffine(where);
            var m = (double[])inv.M.Clone();
            for (int c = 0; c < 4; c++) m[4 + c] = -m[4 + c];
            return new Mat4d { M = m };
        }

        /// <summary>
        /// Plain glTF → Unity for GLBs without da3js' alignment: (x, y, z) → (x, y, −z), the mapping
        /// UnityGLTF uses (glTF's −z forward becomes Unity's +z forward).
        /// </summary>
        public static Vec3d GltfToUnity(Vec3d p) { return new Vec3d(p.X, p.Y, -p.Z); }
    }
}
