using System;

namespace Da3js.Importer
{
    /// <summary>
    /// The Unity <c>Camera</c> settings that reproduce a pinhole K: <c>usePhysicalProperties = true</c>,
    /// <c>gateFit = GateFitMode.None</c> (the sensor is stretched onto the viewport, so non-square
    /// pixels survive), <c>focalLength</c> and <c>sensorSize</c> in millimetres, <c>lensShift</c> in
    /// sensor sizes, rendered at <see cref="Width"/>×<see cref="Height"/> pixels.
    ///
    /// <para>Derivation (pixel conventions in <see cref="CoordinateFrames"/>): Unity's physical
    /// projection maps a camera-space point (x right, y up, z forward) to normalised device
    /// coordinates <c>ndc_x = (2f/s_x)·x/z − 2·shift_x</c>, <c>ndc_y = (2f/s_y)·y/z − 2·shift_y</c>, and
    /// screen <c>(ndc + 1)/2 · size</c>. Requiring that OpenCV pixel (u, v) lands on screen
    /// (u + ½, H − v − ½) gives <c>f/s_x = fx/W</c>, <c>f/s_y = fy/H</c>,
    /// <c>shift_x = (W/2 − cx − ½)/W</c>, <c>shift_y = (cy + ½ − H/2)/H</c>.</para>
    /// </summary>
    public struct UnityPhysicalCamera
    {
        /// <summary>Focal length, millimetres.</summary>
        public double FocalLengthMm;
        /// <summary>Sensor width, millimetres (<c>Camera.sensorSize.x</c>).</summary>
        public double SensorWidthMm;
        /// <summary>Sensor height, millimetres (<c>Camera.sensorSize.y</c>).</summary>
        public double SensorHeightMm;
        /// <summary>Horizontal lens shift in sensor widths (<c>Camera.lensShift.x</c>, positive moves the view right).</summary>
        public double LensShiftX;
        /// <summary>Vertical lens shift in sensor heights (<c>Camera.lensShift.y</c>, positive moves the view up).</summary>
        public double LensShiftY;
        /// <summary>Width in pixels of the image the camera reproduces (render at this size).</summary>
        public int Width;
        /// <summary>Height in pixels of the image the camera reproduces.</summary>
        public int Height;

        /// <summary>Unity's vertical field of view (degrees) for these settings, what <c>Camera.fieldOfView</c> reads back.</summary>
        public double VerticalFieldOfViewDegrees
        {
            get { return 2.0 * Math.Atan(SensorHeightMm / (2.0 * FocalLengthMm)) * 180.0 / Math.PI; }
        }

        /// <summary>The settings for K (3×3 row-major, pixels) at W×H with a sensor <paramref name="sensorWidthMm"/> wide.</summary>
        public static UnityPhysicalCamera FromIntrinsics(double[] k, int width, int height, double sensorWidthMm = 36.0)
        {
            if (k == null || k.Length < 9) throw new Da3ImportException(Da3ErrorCode.BadShape, "intrinsics", "K must hold 9 values");
            if (width <= 0 || height <= 0) throw new Da3ImportException(Da3ErrorCode.BadValue, "intrinsics", "image size must be positive, got " + width + "×" + height);
            double fx = k[0], fy = k[4], cx = k[2], cy = k[5];
            if (!(fx > 0) || !(fy > 0) || !Finite.Is(fx) || !Finite.Is(fy) || !Finite.Is(cx) || !Finite.Is(cy))
                throw new Da3ImportException(Da3ErrorCode.BadValue, "intrinsics", "fx, fy must be positive and finite, cx, cy finite; got fx=" + fx + " fy=" + fy + " cx=" + cx + " cy=" + cy);
            if (Math.Abs(k[1]) > 1e-9 * fx || k[3] != 0 || k[6] != 0 || k[7] != 0 || Math.Abs(k[8] - 1) > 1e-9)
                throw new Da3ImportException(Da3ErrorCode.Unsupported, "intrinsics", "only pinhole K = [[fx,0,cx],[0,fy,cy],[0,0,1]] maps onto a Unity camera (skew " + k[1] + ")");
            var f = fx * sensorWidthMm / width;
            return new UnityPhysicalCamera
            {
                FocalLengthMm = f,
                SensorWidthMm = sensorWidthMm,
                SensorHeightMm = f * height / fy,
                LensShiftX = (width / 2.0 - cx - 0.5) / width,
                LensShiftY = (cy + 0.5 - height / 2.0) / height,
                Width = width,
                Height = height,
            };
        }

        /// <summary>
        /// Unity's projection matrix for these settings (what <c>Camera.projectionMatrix</c> holds with
        /// <c>usePhysicalProperties</c> and <c>GateFitMode.None</c>), row-major, OpenGL convention
        /// (view space looks down −z, clip w = −z_view).
        /// </summary>
        public double[] ProjectionMatrix(double near, double far)
        {
            return new[]
            {
                2 * FocalLengthMm / SensorWidthMm, 0, 2 * LensShiftX, 0,
                0, 2 * FocalLengthMm / SensorHeightMm, 2 * LensShiftY, 0,
                0, 0, -(far + near) / (far - near), -2 * far * near / (far - near),
                0, 0, -1, 0,
            };
        }

        /// <summary>
        /// Projects a Unity world point through a camera at <paramref name="position"/> /
        /// <paramref name="rotation"/> with these settings, the way Unity's
        /// <c>Camera.WorldToScreenPoint</c> does: view = Scale(1, 1, −1)·TRS⁻¹, clip = P·view, screen
        /// = (ndc + 1)/2·size. Returns (x, y) in Unity screen pixels (origin bottom-left) and the
        /// camera-space depth in <paramref name="depth"/>.
        /// </summary>
        public void WorldToScreenPoint(Vec3d position, Quatd rotation, Vec3d world, out double x, out double y, out double depth)
        {
            var rInv = Mat3d.FromQuaternion(rotation).Transposed;
            var local = rInv.Mul(world - position);
            var view = new Vec3d(local.X, local.Y, -local.Z);
            var p = ProjectionMatrix(0.01, 1000);
            var cx = p[0] * view.X + p[1] * view.Y + p[2] * view.Z + p[3];
            var cy = p[4] * view.X + p[5] * view.Y + p[6] * view.Z + p[7];
            var cw = p[12] * view.X + p[13] * view.Y + p[14] * view.Z + p[15];
            x = (cx / cw + 1) / 2 * Width;
            y = (cy / cw + 1) / 2 * Height;
            depth = local.Z;
        }
    }
}
