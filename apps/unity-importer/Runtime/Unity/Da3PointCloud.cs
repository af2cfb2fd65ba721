using UnityEngine;

namespace Da3js.Importer.Unity
{
    /// <summary>
    /// On a point-cloud GameObject: how many points, whether they carry DA3 confidence, and live
    /// controls of the <c>Da3/PointCloud</c> material (point size in world units, confidence threshold).
    /// </summary>
    [ExecuteAlways]
    public sealed class Da3PointCloud : MonoBehaviour
    {
        /// <summary>Points in the mesh.</summary>
        public int pointCount;
        /// <summary>True when the mesh has confidence in TEXCOORD1.x.</summary>
        public bool hasConfidence;
        /// <summary>Quad size in world units (0.01 = 1 cm for metric scenes).</summary>
        [Min(0f)] public float pointSize = 0.01f;
        /// <summary>Hide points below this confidence (DA3 confidence is ≥ 1; 0 shows all).</summary>
        [Min(0f)] public float confidenceThreshold;

        MaterialPropertyBlock _block;

        void OnEnable() { Apply(); }
        void OnValidate() { Apply(); }

        /// <summary>Pushes the size and threshold to the renderer (per instance, the shared material is untouched).</summary>
        public void Apply()
        {
            var r = GetComponent<MeshRenderer>();
            if (r == null) return;
            if (_block == null) _block = new MaterialPropertyBlock();
            r.GetPropertyBlock(_block);
            _block.SetFloat("_PointSize", pointSize);
            _block.SetFloat("_ConfidenceThreshold", confidenceThreshold);
            r.SetPropertyBlock(_block);
        }
    }

    /// <summary>Holds a <see cref="Da3GaussianAsset"/> in the scene, for a splat renderer to pick up.</summary>
    public sealed class Da3GaussianSplats : MonoBehaviour
    {
        /// <summary>The Gaussians.</summary>
        public Da3GaussianAsset asset;
    }
}
