using System;

namespace Da3js.Importer
{
    /// <summary>A 3-vector in double precision. Its frame is whatever the API using it says.</summary>
    public struct Vec3d
    {
        /// <summary>x component.</summary>
        public double X;
        /// <summary>y component.</summary>
        public double Y;
        /// <summary>z component.</summary>
        public double Z;

        /// <summary>Creates the vector (x, y, z).</summary>
        public Vec3d(double x, double y, double z) { X = x; Y = y; Z = z; }

        /// <summary>Sum.</summary>
        public static Vec3d operator +(Vec3d a, Vec3d b) { return new Vec3d(a.X + b.X, a.Y + b.Y, a.Z + b.Z); }
        /// <summary>Difference.</summary>
        public static Vec3d operator -(Vec3d a, Vec3d b) { return new Vec3d(a.X - b.X, a.Y - b.Y, a.Z - b.Z); }
        /// <summary>Scaling.</summary>
        public static Vec3d operator *(Vec3d a, double s) { return new Vec3d(a.X * s, a.Y * s, a.Z * s); }
        /// <summary>Dot product.</summary>
        public static double Dot(Vec3d a, Vec3d b) { return a.X * b.X + a.Y * b.Y + a.Z * b.Z; }
        /// <summary>Cross product (right-hand rule in a right-handed frame).</summary>
        public static Vec3d Cross(Vec3d a, Vec3d b) { return new Vec3d(a.Y * b.Z - a.Z * b.Y, a.Z * b.X - a.X * b.Z, a.X * b.Y - a.Y * b.X); }
        /// <summary>Euclidean length.</summary>
        public double Length { get { return Math.Sqrt(X * X + Y * Y + Z * Z); } }
        /// <summary>This vector divided by its length (zero stays zero).</summary>
        public Vec3d Normalized { get { var l = Length; return l > 0 ? this * (1.0 / l) : this; } }
        /// <summary>True when every component is finite.</summary>
        public bool IsFinite { get { return Finite.Is(X) && Finite.Is(Y) && Finite.Is(Z); } }
        /// <inheritdoc/>
        public override string ToString() { return "(" + X.ToString("R") + ", " + Y.ToString("R") + ", " + Z.ToString("R") + ")"; }
    }

    /// <summary>A quaternion (x, y, z, w), scalar last like Unity's <c>Quaternion</c> and da3js' xyzw.</summary>
    public struct Quatd
    {
        /// <summary>x of the vector part.</summary>
        public double X;
        /// <summary>y of the vector part.</summary>
        public double Y;
        /// <summary>z of the vector part.</summary>
        public double Z;
        /// <summary>The scalar part.</summary>
        public double W;

        /// <summary>Creates the quaternion (x, y, z, w).</summary>
        public Quatd(double x, double y, double z, double w) { X = x; Y = y; Z = z; W = w; }

        /// <summary>The identity rotation.</summary>
        public static Quatd Identity { get { return new Quatd(0, 0, 0, 1); } }

        /// <summary>Norm.</summary>
        public double Length { get { return Math.Sqrt(X * X + Y * Y + Z * Z + W * W); } }

        /// <summary>Unit quaternion with w ≥ 0 (q and −q are the same rotation).</summary>
        public Quatd Normalized
        {
            get
            {
                var l = Length;
                if (!(l > 0)) return Identity;
                var s = (W < 0 ? -1.0 : 1.0) / l;
                return new Quatd(X * s, Y * s, Z * s, W * s);
            }
        }

        /// <summary>Rotates <paramref name="v"/> by this (unit) quaternion.</summary>
        public Vec3d Rotate(Vec3d v)
        {
            return Mat3d.FromQuaternion(this).Mul(v);
        }
    }

    /// <summary>A 3×3 matrix in double precision, row-major (<c>M[3*r + c]</c>).</summary>
    public struct Mat3d
    {
        /// <summary>Row 0, column 0.</summary>
        public double M00;
        /// <summary>Row 0, column 1.</summary>
        public double M01;
        /// <summary>Row 0, column 2.</summary>
        public double M02;
        /// <summary>Row 1, column 0.</summary>
        public double M10;
        /// <summary>Row 1, column 1.</summary>
        public double M11;
        /// <summary>Row 1, column 2.</summary>
        public double M12;
        /// <summary>Row 2, column 0.</summary>
        public double M20;
        /// <summary>Row 2, column 1.</summary>
        public double M21;
        /// <summary>Row 2, column 2.</summary>
        public double M22;

        /// <summary>From nine row-major values starting at <paramref name="offset"/>.</summary>
        public static Mat3d FromRowMajor(double[] a, int offset = 0)
        {
            return new Mat3d
            {
                M00 = a[offset], M01 = a[offset + 1], M02 = a[offset + 2],
                M10 = a[offset + 3], M11 = a[offset + 4], M12 = a[offset + 5],
                M20 = a[offset + 6], M21 = a[offset + 7], M22 = a[offset + 8],
            };
        }

        /// <summary>The identity.</summary>
        public static Mat3d Identity { get { return new Mat3d { M00 = 1, M11 = 1, M22 = 1 }; } }

        /// <summary>Matrix · vector.</summary>
        public Vec3d Mul(Vec3d v)
        {
            return new Vec3d(M00 * v.X + M01 * v.Y + M02 * v.Z, M10 * v.X + M11 * v.Y + M12 * v.Z, M20 * v.X + M21 * v.Y + M22 * v.Z);
        }

        /// <summary>Matrix product a·b.</summary>
        public static Mat3d operator *(Mat3d a, Mat3d b)
        {
            return new Mat3d
            {
                M00 = a.M00 * b.M00 + a.M01 * b.M10 + a.M02 * b.M20,
                M01 = a.M00 * b.M01 + a.M01 * b.M11 + a.M02 * b.M21,
                M02 = a.M00 * b.M02 + a.M01 * b.M12 + a.M02 * b.M22,
                M10 = a.M10 * b.M00 + a.M11 * b.M10 + a.M12 * b.M20,
                M11 = a.M10 * b.M01 + a.M11 * b.M11 + a.M12 * b.M21,
                M12 = a.M10 * b.M02 + a.M11 * b.M12 + a.M12 * b.M22,
                M20 = a.M20 * b.M00 + a.M21 * b.M10 + a.M22 * b.M20,
                M21 = a.M20 * b.M01 + a.M21 * b.M11 + a.M22 * b.M21,
                M22 = a.M20 * b.M02 + a.M21 * b.M12 + a.M22 * b.M22,
            };
        }

        /// <summary>The transpose.</summary>
        public Mat3d Transposed
        {
            get { return new Mat3d { M00 = M00, M01 = M10, M02 = M20, M10 = M01, M11 = M11, M12 = M21, M20 = M02, M21 = M12, M22 = M22 }; }
        }

        /// <summary>Determinant.</summary>
        public double Determinant
        {
            get { return M00 * (M11 * M22 - M12 * M21) - M01 * (M10 * M22 - M12 * M20) + M02 * (M10 * M21 - M11 * M20); }
        }

        /// <summary>The inverse; throws <see cref="Da3ErrorCode.BadValue"/> when singular.</summary>
        public Mat3d Inverse(string where)
        {
            var det = Determinant;
            if (!(Math.Abs(det) > 1e-300) || !Finite.Is(det)) throw new Da3ImportException(Da3ErrorCode.BadValue, where, "singular 3×3 matrix (determinant " + det.ToString("R") + ")");
            var s = 1.0 / det;
            return new Mat3d
            {
                M00 = (M11 * M22 - M12 * M21) * s, M01 = (M02 * M21 - M01 * M22) * s, M02 = (M01 * M12 - M02 * M11) * s,
                M10 = (M12 * M20 - M10 * M22) * s, M11 = (M00 * M22 - M02 * M20) * s, M12 = (M02 * M10 - M00 * M12) * s,
                M20 = (M10 * M21 - M11 * M20) * s, M21 = (M01 * M20 - M00 * M21) * s, M22 = (M00 * M11 - M01 * M10) * s,
            };
        }

        /// <summary>The rotation matrix of a quaternion (normalised first).</summary>
        public static Mat3d FromQuaternion(Quatd q)
        {
            var n = q.Length;
            double x = q.X / n, y = q.Y / n, z = q.Z / n, w = q.W / n;
            return new Mat3d
            {
                M00 = 1 - 2 * (y * y + z * z), M01 = 2 * (x * y - z * w), M02 = 2 * (x * z + y * w),
                M10 = 2 * (x * y + z * w), M11 = 1 - 2 * (x * x + z * z), M12 = 2 * (y * z - x * w),
                M20 = 2 * (x * z - y * w), M21 = 2 * (y * z + x * w), M22 = 1 - 2 * (x * x + y * y),
            };
        }

        /// <summary>
        /// The unit quaternion (w ≥ 0) of a rotation matrix (Shepperd's method). A matrix that is only
        /// nearly orthonormal (float32 predictions) gives the quaternion of its nearest rotation to
        /// first order.
        /// </summary>
        public Quatd ToQuaternion()
        {
            double x, y, z, w;
            var tr = M00 + M11 + M22;
            if (tr > 0)
            {
                var s = Math.Sqrt(tr + 1) * 2;
                w = s / 4; x = (M21 - M12) / s; y = (M02 - M20) / s; z = (M10 - M01) / s;
            }
            else if (M00 > M11 && M00 > M22)
            {
                var s = Math.Sqrt(1 + M00 - M11 - M22) * 2;
                w = (M21 - M12) / s; x = s / 4; y = (M01 + M10) / s; z = (M02 + M20) / s;
            }
            else if (M11 > M22)
            {
                var s = Math.Sqrt(1 + M11 - M00 - M22) * 2;
                w = (M02 - M20) / s; x = (M01 + M10) / s; y = s / 4; z = (M12 + M21) / s;
            }
            else
            {
                var s = Math.Sqrt(1 + M22 - M00 - M11) * 2;
                w = (M10 - M01) / s; x = (M02 + M20) / s; y = (M12 + M21) / s; z = s / 4;
            }
            return new Quatd(x, y, z, w).Normalized;
        }
    }

    /// <summary>
    /// A rigid or affine 4×4 transform in double precision, row-major, applied as
    /// <c>p' = M · [p; 1]</c> (the layout of da3js' <c>hf_alignment</c>).
    /// </summary>
    public struct Mat4d
    {
        /// <summary>The 16 row-major elements.</summary>
        public double[] M;

        /// <summary>Wraps 16 row-major values (copied).</summary>
        public static Mat4d FromRowMajor(double[] a)
        {
            if (a == null || a.Length != 16) throw new ArgumentException("Mat4d needs 16 values");
            return new Mat4d { M = (double[])a.Clone() };
        }

        /// <summary>[R | t; 0 0 0 1].</summary>
        public static Mat4d FromRotationTranslation(Mat3d r, Vec3d t)
        {
            return new Mat4d { M = new[] { r.M00, r.M01, r.M02, t.X, r.M10, r.M11, r.M12, t.Y, r.M20, r.M21, r.M22, t.Z, 0, 0, 0, 1.0 } };
        }

        /// <summary>The upper-left 3×3 block.</summary>
        public Mat3d Linear { get { return new Mat3d { M00 = M[0], M01 = M[1], M02 = M[2], M10 = M[4], M11 = M[5], M12 = M[6], M20 = M[8], M21 = M[9], M22 = M[10] }; } }

        /// <summary>The translation column.</summary>
        public Vec3d Translation { get { return new Vec3d(M[3], M[7], M[11]); } }

        /// <summary><c>M · [p; 1]</c> (the last row is assumed to be 0 0 0 1).</summary>
        public Vec3d Apply(Vec3d p)
        {
            return new Vec3d(M[0] * p.X + M[1] * p.Y + M[2] * p.Z + M[3], M[4] * p.X + M[5] * p.Y + M[6] * p.Z + M[7], M[8] * p.X + M[9] * p.Y + M[10] * p.Z + M[11]);
        }

        /// <summary>The inverse of an affine transform (last row 0 0 0 1); throws when singular.</summary>
        public Mat4d InverseAffine(string where)
        {
            var inv = Linear.Inverse(where);
            var t = inv.Mul(Translation) * -1.0;
            return FromRotationTranslation(inv, t);
        }
    }

    /// <summary>Finite-number checks (netstandard2.1's <c>double.IsFinite</c> is not in every Unity profile).</summary>
    public static class Finite
    {
        /// <summary>True for a finite double.</summary>
        public static bool Is(double v) { return !double.IsNaN(v) && !double.IsInfinity(v); }
        /// <summary>True for a finite float.</summary>
        public static bool Is(float v) { return !float.IsNaN(v) && !float.IsInfinity(v); }
    }
}
