using System;
using UnityEngine;

namespace Da3js.Importer.Unity
{
    /// <summary>Conversions from the core's double-precision types (already in Unity axes) to Unity's.</summary>
    public static class Da3UnityTypes
    {
        /// <summary>A core vector (Unity axes) as a <see cref="Vector3"/>.</summary>
        public static Vector3 ToVector3(this Vec3d v) { return new Vector3((float)v.X, (float)v.Y, (float)v.Z); }

        /// <summary>A core quaternion (Unity axes, xyzw) as a <see cref="Quaternion"/> (normalised).</summary>
        public static Quaternion ToQuaternion(this Quatd q)
        {
            var n = q.Normalized;
            return new Quaternion((float)n.X, (float)n.Y, (float)n.Z, (float)n.W);
        }
    }

    /// <summary>What the scene builder makes from a <see cref="Da3SceneData"/>.</summary>
    [Serializable]
    public sealed class Da3BuildOptions
    {
        /// <summary>Point size: world units for the quad shader, pixels for the fallback. Default 0.01.</summary>
        public float PointSize = 0.01f;
        /// <summary>Points with a lower confidence are hidden by the shader (0: show all). Changeable later on the material.</summary>
        public float ConfidenceThreshold;
        /// <summary>Create one disabled <c>Camera</c> per view (default true).</summary>
        public bool Cameras = true;
        /// <summary>Create per-view depth (and confidence, image) textures (default true).</summary>
        public bool DepthTextures = true;
        /// <summary>Sensor width (mm) of the physical cameras (default 36, full frame). Only the ratio to the focal length matters.</summary>
        public float SensorWidthMm = 36f;
        /// <summary>Also show the Gaussians' centres as a point cloud coloured by their SH DC term (default true).</summary>
        public bool GaussianPreviewPoints = true;
    }
}
