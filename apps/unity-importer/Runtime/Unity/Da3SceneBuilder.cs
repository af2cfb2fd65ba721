using System;
using System.Collections.Generic;
using System.Globalization;
using UnityEngine;
using UnityEngine.Rendering;

namespace Da3js.Importer.Unity
{
    /// <summary>Everything <see cref="Da3SceneBuilder.Build"/> created, for an importer to add to its asset.</summary>
    public sealed class Da3BuildResult
    {
        /// <summary>The root GameObject (children: Points, Cameras, Gaussians).</summary>
        public GameObject Root;
        /// <summary>Meshes, materials, textures and the Gaussian asset, each with a stable identifier.</summary>
        public readonly List<KeyValuePair<string, UnityEngine.Object>> Assets = new List<KeyValuePair<string, UnityEngine.Object>>();
        /// <summary>The Gaussian asset, or null.</summary>
        public Da3GaussianAsset Gaussians;
    }

    /// <summary>
    /// Turns a <see cref="Da3SceneData"/> (already in Unity axes) into GameObjects: a point mesh
    /// (<c>MeshTopology.Points</c>, 32-bit indices above 65,535 points, colours, confidence in UV
    /// channel 1 as <c>TEXCOORD1.x</c>) drawn with the <c>Da3/PointCloud</c> shader; one disabled
    /// physical <c>Camera</c> per view; per-view depth and confidence <c>Texture2D</c>s (RFloat);
    /// the Gaussians as a <see cref="Da3GaussianAsset"/>. Runs on the main thread. If anything fails
    /// every object made so far is destroyed before the error propagates: no half-made scene.
    /// </summary>
    public static class Da3SceneBuilder
    {
        /// <summary>The point shader's name (Runtime/Resources/Da3PointCloud.shader, Built-in and URP).</summary>
        public const string PointShaderName = "Da3/PointCloud";

        /// <summary>Builds the scene; <paramref name="name"/> names the root; the reader's warnings go to <paramref name="warn"/> (default: the console).</summary>
        public static Da3BuildResult Build(Da3SceneData data, string name, Da3BuildOptions options = null, Action<string> warn = null)
        {
            if (data == null) throw new ArgumentNullException("data");
            options = options ?? new Da3BuildOptions();
            var result = new Da3BuildResult();
            try
            {
                result.Root = new GameObject(name);
                if (data.Points != null && data.Points.Count > 0)
                {
                    var go = PointObject("Points", data.Points, options, result);
                    go.transform.SetParent(result.Root.transform, false);
                }
                if (options.Cameras && data.Views.Count > 0)
                {
                    var cams = new GameObject("Cameras");
                    cams.transform.SetParent(result.Root.transform, false);
                    foreach (var view in data.Views)
                    {
                        DepthMap depth = null;
                        foreach (var d in data.Depths) if (d.View == view.Index) depth = d;
                        CameraObject(view, depth, options, result).transform.SetParent(cams.transform, false);
                    }
                }
                else if (options.DepthTextures)
                {
                    foreach (var d in data.Depths) AddTextures(d, null, result);
                }
                if (data.Gaussians != null)
                {
                    var asset = ScriptableObject.CreateInstance<Da3GaussianAsset>();
                    asset.name = "Gaussians";
                    asset.Set(data.Gaussians);
                    result.Gaussians = asset;
                    result.Assets.Add(new KeyValuePair<string, UnityEngine.Object>("gaussians", asset));
                    var holder = new GameObject("Gaussians");
                    holder.transform.SetParent(result.Root.transform, false);
                    holder.AddComponent<Da3GaussianSplats>().asset = asset;
                    if (options.GaussianPreviewPoints && data.Gaussians.Count > 0)
                    {
                        var preview = PointObject("Gaussian centres", GaussianCentres(data.Gaussians), options, result);
                        preview.transform.SetParent(holder.transform, false);
                    }
                }
                foreach (var w in data.Warnings)
                {
                    if (warn != null) warn("[DA3] " + w);
                    else Debug.LogWarning("[DA3] " + w);
                }
                return result;
            }
            catch
            {
                Destroy(result);
                throw;
            }
        }

        /// <summary>Destroys everything a (possibly partial) build made.</summary>
        public static void Destroy(Da3BuildResult result)
        {
            foreach (var kv in result.Assets) if (kv.Value != null) DestroyObject(kv.Value);
            result.Assets.Clear();
            if (result.Root != null) DestroyObject(result.Root);
            result.Root = null;
        }

        static void DestroyObject(UnityEngine.Object o)
        {
            if (Application.isPlaying) UnityEngine.Object.Destroy(o);
            else UnityEngine.Object.DestroyImmediate(o);
        }

        /// <summary>
        /// The point mesh: vertex streams uploaded straight from the core's arrays (positions float3
        /// in stream 0, colours UNorm8×4 in stream 1, confidence float in stream 2 as TEXCOORD1.x) —
        /// no Vector3[]/Color32[] copies of a 2M-point cloud.
        /// </summary>
        public static Mesh PointMesh(PointCloud pc, string name)
        {
            var n = pc.Count;
            var mesh = new Mesh { name = name };
            var attrs = new List<VertexAttributeDescriptor>
            {
                new VertexAttributeDescriptor(VertexAttribute.Position, VertexAttributeFormat.Float32, 3, 0),
                new VertexAttributeDescriptor(VertexAttribute.Color, VertexAttributeFormat.UNorm8, 4, 1),
            };
            if (pc.Confidence != null) attrs.Add(new VertexAttributeDescriptor(VertexAttribute.TexCoord1, VertexAttributeFormat.Float32, 1, 2));
            mesh.SetVertexBufferParams(n, attrs.ToArray());
            var flags = MeshUpdateFlags.DontValidateIndices | MeshUpdateFlags.DontRecalculateBounds;
            mesh.SetVertexBufferData(pc.Positions, 0, 0, 3 * n, 0, flags);
            mesh.SetVertexBufferData(pc.Colors, 0, 0, 4 * n, 1, flags);
            if (pc.Confidence != null) mesh.SetVertexBufferData(pc.Confidence, 0, 0, n, 2, flags);
            if (n > 65535)
            {
                mesh.SetIndexBufferParams(n, IndexFormat.UInt32);
                var idx = new int[n];
                for (int i = 0; i < n; i++) idx[i] = i;
                mesh.SetIndexBufferData(idx, 0, 0, n, flags);
            }
            else
            {
                mesh.SetIndexBufferParams(n, IndexFormat.UInt16);
                var idx = new ushort[n];
                for (int i = 0; i < n; i++) idx[i] = (ushort)i;
                mesh.SetIndexBufferData(idx, 0, 0, n, flags);
            }
            var bounds = Bounds(pc.Positions, n);
            mesh.subMeshCount = 1;
            mesh.SetSubMesh(0, new SubMeshDescriptor(0, n, MeshTopology.Points) { bounds = bounds, vertexCount = n }, flags);
            mesh.bounds = bounds;
            return mesh;
        }

        static Bounds Bounds(float[] p, int n)
        {
            if (n == 0) return new Bounds(Vector3.zero, Vector3.zero);
            float x0 = p[0], y0 = p[1], z0 = p[2], x1 = x0, y1 = y0, z1 = z0;
            for (int i = 1; i < n; i++)
            {
                float x = p[3 * i], y = p[3 * i + 1], z = p[3 * i + 2];
                if (x < x0) x0 = x; if (x > x1) x1 = x;
                if (y < y0) y0 = y; if (y > y1) y1 = y;
                if (z < z0) z0 = z; if (z > z1) z1 = z;
            }
            return new Bounds(new Vector3((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2), new Vector3(x1 - x0, y1 - y0, z1 - z0));
        }

        /// <summary>A material of the point shader with the options' size and threshold.</summary>
        public static Material PointMaterial(Da3BuildOptions options, bool hasConfidence)
        {
            var shader = Shader.Find(PointShaderName);
            if (shader == null) throw new Da3ImportException(Da3ErrorCode.Missing, PointShaderName, "shader not found (is the package's Runtime/Resources folder intact?)");
            var m = new Material(shader) { name = "Da3 points" };
            m.SetFloat("_PointSize", options.PointSize);
            m.SetFloat("_ConfidenceThreshold", options.ConfidenceThreshold);
            m.SetFloat("_HasConfidence", hasConfidence ? 1f : 0f);
            return m;
        }

        static GameObject PointObject(string name, PointCloud pc, Da3BuildOptions options, Da3BuildResult result)
        {
            var go = new GameObject(name);
            var mesh = PointMesh(pc, name);
            result.Assets.Add(new KeyValuePair<string, UnityEngine.Object>("mesh:" + name, mesh));
            var material = PointMaterial(options, pc.Confidence != null);
            result.Assets.Add(new KeyValuePair<string, UnityEngine.Object>("material:" + name, material));
            go.AddComponent<MeshFilter>().sharedMesh = mesh;
            var renderer = go.AddComponent<MeshRenderer>();
            renderer.sharedMaterial = material;
            renderer.shadowCastingMode = ShadowCastingMode.Off;
            renderer.receiveShadows = false;
            var info = go.AddComponent<Da3PointCloud>();
            info.pointCount = pc.Count;
            info.hasConfidence = pc.Confidence != null;
            info.pointSize = options.PointSize;
            info.confidenceThreshold = options.ConfidenceThreshold;
            return go;
        }

        static PointCloud GaussianCentres(GaussianCloud g)
        {
            var pc = new PointCloud { Count = g.Count, Positions = g.Positions, Colors = new byte[4L * g.Count] };
            const double c0 = 0.28209479177387814;
            for (int i = 0; i < g.Count; i++)
            {
                for (int c = 0; c < 3; c++)
                {
                    var v = 0.5 + c0 * g.Sh[(3 * i + c) * g.ShCoefficients];
                    pc.Colors[4 * i + c] = (byte)Math.Round(255 * Math.Min(1, Math.Max(0, v)));
                }
                pc.Colors[4 * i + 3] = (byte)Math.Round(255 * g.Opacities[i]);
            }
            return pc;
        }

        static GameObject CameraObject(Da3View view, DepthMap depth, Da3BuildOptions options, Da3BuildResult result)
        {
            var go = new GameObject(string.IsNullOrEmpty(view.Name) ? "view_" + view.Index.ToString("D4", CultureInfo.InvariantCulture) : view.Name);
            go.transform.localPosition = view.UnityPosition.ToVector3();
            go.transform.localRotation = view.UnityRotation.ToQuaternion();
            var cam = go.AddComponent<Camera>();
            cam.enabled = false; // a reference camera, not one more render of the game view
            cam.nearClipPlane = 0.01f;
            cam.farClipPlane = 1000f;
            double[] k;
            int w, h;
            if (view.TryGetCameraIntrinsics(out k, out w, out h))
            {
                var p = UnityPhysicalCamera.FromIntrinsics(k, w, h, options.SensorWidthMm);
                cam.usePhysicalProperties = true;
                cam.gateFit = Camera.GateFitMode.None;
                cam.sensorSize = new Vector2((float)p.SensorWidthMm, (float)p.SensorHeightMm);
                cam.focalLength = (float)p.FocalLengthMm;
                cam.lensShift = new Vector2((float)p.LensShiftX, (float)p.LensShiftY);
            }
            var info = go.AddComponent<Da3ViewInfo>();
            info.viewIndex = view.Index;
            info.width = view.Width;
            info.height = view.Height;
            info.intrinsics = view.Intrinsics ?? new double[0];
            info.worldToCamera = view.WorldToCamera;
            info.poseFromWireframe = view.PoseFromWireframe;
            if (options.DepthTextures && depth != null) AddTextures(depth, info, result);
            return go;
        }

        static void AddTextures(DepthMap d, Da3ViewInfo info, Da3BuildResult result)
        {
            var tag = d.View.ToString("D4", CultureInfo.InvariantCulture);
            var depth = FloatTexture("depth_" + tag, d.Depth, d.Width, d.Height);
            result.Assets.Add(new KeyValuePair<string, UnityEngine.Object>("depth:" + tag, depth));
            Texture2D conf = null, image = null;
            if (d.Confidence != null)
            {
                conf = FloatTexture("confidence_" + tag, d.Confidence, d.Width, d.Height);
                result.Assets.Add(new KeyValuePair<string, UnityEngine.Object>("confidence:" + tag, conf));
            }
            if (d.Rgb != null)
            {
                image = new Texture2D(d.Width, d.Height, TextureFormat.RGB24, false, false) { name = "image_" + tag };
                image.SetPixelData(FlipRows(d.Rgb, d.Width * 3, d.Height), 0, 0);
                image.Apply(false, false);
                result.Assets.Add(new KeyValuePair<string, UnityEngine.Object>("image:" + tag, image));
            }
            if (info != null) { info.depth = depth; info.confidence = conf; info.image = image; }
        }

        /// <summary>An RFloat texture of a top-first map (rows reversed: Unity's row 0 is the bottom).</summary>
        public static Texture2D FloatTexture(string name, float[] topFirst, int width, int height)
        {
            var t = new Texture2D(width, height, TextureFormat.RFloat, false, true) { name = name, wrapMode = TextureWrapMode.Clamp, filterMode = FilterMode.Point };
            t.SetPixelData(FlipRows(topFirst, width, height), 0, 0);
            t.Apply(false, false);
            return t;
        }

        /// <summary>Reverses the row order of a row-major array (<paramref name="rowLength"/> elements per row).</summary>
        public static T[] FlipRows<T>(T[] a, int rowLength, int rows)
        {
            var o = new T[a.Length];
            for (int r = 0; r < rows; r++) Array.Copy(a, r * rowLength, o, (rows - 1 - r) * rowLength, rowLength);
            return o;
        }
    }
}
