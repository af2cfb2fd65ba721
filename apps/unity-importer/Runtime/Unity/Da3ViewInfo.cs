using UnityEngine;

namespace Da3js.Importer.Unity
{
    /// <summary>
    /// The numbers of one DA3 view, kept on its camera GameObject: intrinsics K (3×3 row-major,
    /// pixels, OpenCV: x right, y down, pixel centres at integers), world→camera extrinsics
    /// (3×4 row-major, OpenCV axes, the prediction's world frame), the image size, and the depth,
    /// confidence and image textures (row 0 at the bottom, Unity's convention: the rows of the
    /// prediction's top-first maps are reversed). The GameObject's transform holds the same pose in
    /// Unity axes (see <c>CoordinateFrames</c>).
    /// </summary>
    public sealed class Da3ViewInfo : MonoBehaviour
    {
        /// <summary>View index in the prediction.</summary>
        public int viewIndex;
        /// <summary>Processed image width, pixels.</summary>
        public int width;
        /// <summary>Processed image height, pixels.</summary>
        public int height;
        /// <summary>K, 9 values row-major (empty when unknown).</summary>
        public double[] intrinsics = new double[0];
        /// <summary>World→camera [R | t], 12 values row-major, OpenCV axes.</summary>
        public double[] worldToCamera = new double[0];
        /// <summary>True when the pose came from a GLB wireframe rather than stored numbers.</summary>
        public bool poseFromWireframe;
        /// <summary>Depth (RFloat, model units; metres for metric models), or null.</summary>
        public Texture2D depth;
        /// <summary>Confidence (RFloat), or null.</summary>
        public Texture2D confidence;
        /// <summary>The processed RGB image (full npz only), or null.</summary>
        public Texture2D image;
    }
}
