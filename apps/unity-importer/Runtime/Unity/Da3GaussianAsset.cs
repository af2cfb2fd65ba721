using System;
using System.Runtime.InteropServices;
using UnityEngine;

namespace Da3js.Importer.Unity
{
    /// <summary>
    /// 3D Gaussians as an asset a splat renderer can take: flat arrays in <b>Unity axes</b> with
    /// activated values — centres (world units), rotations (x, y, z, w), linear scales along the
    /// Gaussian's local axes, opacities in [0, 1], and spherical harmonics colour-major
    /// <c>[g, c, k]</c> (3DGS convention: colour = 0.5 + Σ SH·Y(direction), with the coefficient
    /// signs already converted for Unity directions). <see cref="CreateSplatBuffer"/> packs them into
    /// one structured <c>GraphicsBuffer</c> of <see cref="Da3Splat"/>.
    /// </summary>
    public sealed class Da3GaussianAsset : ScriptableObject
    {
        /// <summary>Number of Gaussians.</summary>
        public int count;
        /// <summary>SH coefficients per colour channel (1, 4, 9 or 16).</summary>
        public int shCoefficients;
        /// <summary>xyz per Gaussian.</summary>
        [HideInInspector] public float[] positions = new float[0];
        /// <summary>xyzw per Gaussian.</summary>
        [HideInInspector] public float[] rotations = new float[0];
        /// <summary>Linear scales, xyz per Gaussian.</summary>
        [HideInInspector] public float[] scales = new float[0];
        /// <summary>Opacity per Gaussian.</summary>
        [HideInInspector] public float[] opacities = new float[0];
        /// <summary>SH, <c>3·shCoefficients</c> per Gaussian.</summary>
        [HideInInspector] public float[] sh = new float[0];

        /// <summary>Fills the asset from the core's Gaussians (arrays are shared, not copied).</summary>
        public void Set(GaussianCloud g)
        {
            count = g.Count;
            shCoefficients = g.ShCoefficients;
            positions = g.Positions;
            rotations = g.Rotations;
            scales = g.Scales;
            opacities = g.Opacities;
            sh = g.Sh;
        }

        /// <summary>
        /// A structured buffer of <see cref="Da3Splat"/> (position, rotation, scale, opacity, DC colour)
        /// for a custom splat shader; the caller releases it. Higher-order SH stay in <see cref="sh"/>.
        /// </summary>
        public GraphicsBuffer CreateSplatBuffer()
        {
            if (count == 0) throw new InvalidOperationException("Da3GaussianAsset: no Gaussians");
            var splats = new Da3Splat[count];
            const float c0 = 0.28209479177387814f;
            for (int i = 0; i < count; i++)
            {
                splats[i] = new Da3Splat
                {
                    position = new Vector3(positions[3 * i], positions[3 * i + 1], positions[3 * i + 2]),
                    rotation = new Vector4(rotations[4 * i], rotations[4 * i + 1], rotations[4 * i + 2], rotations[4 * i + 3]),
                    scale = new Vector3(scales[3 * i], scales[3 * i + 1], scales[3 * i + 2]),
                    opacity = opacities[i],
                    color = new Vector3(0.5f + c0 * sh[(3 * i) * shCoefficients], 0.5f + c0 * sh[(3 * i + 1) * shCoefficients], 0.5f + c0 * sh[(3 * i + 2) * shCoefficients]),
                };
            }
            var buffer = new GraphicsBuffer(GraphicsBuffer.Target.Structured, count, Marshal.SizeOf(typeof(Da3Splat)));
            buffer.SetData(splats);
            return buffer;
        }
    }

    /// <summary>One packed splat (56 bytes): HLSL <c>struct { float3 position; float4 rotation; float3 scale; float opacity; float3 color; }</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Da3Splat
    {
        /// <summary>Centre, Unity axes.</summary>
        public Vector3 position;
        /// <summary>Rotation (x, y, z, w), Unity axes.</summary>
        public Vector4 rotation;
        /// <summary>Linear scale along the local axes.</summary>
        public Vector3 scale;
        /// <summary>Opacity in [0, 1].</summary>
        public float opacity;
        /// <summary>View-independent colour 0.5 + Y₀₀·DC (not clamped).</summary>
        public Vector3 color;
    }
}
