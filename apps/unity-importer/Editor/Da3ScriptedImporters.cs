using System;
using System.IO;
using UnityEditor.AssetImporters;
using UnityEngine;
using Da3js.Importer.Unity;

namespace Da3js.Importer.Editor
{
    /// <summary>
    /// The shared import step: read with the core, build with <see cref="Da3SceneBuilder"/>, add every
    /// object to the asset, make the root the main object (a prefab-like asset). A read or build
    /// error becomes one import error in the console naming the file and the problem, and nothing is
    /// added to the asset (no half-made asset).
    /// </summary>
    public abstract class Da3ScriptedImporter : ScriptedImporter
    {
        /// <summary>Point size in world units.</summary>
        [Tooltip("Point size in world units (the Da3/PointCloud shader draws camera-facing disks).")]
        public float pointSize = 0.01f;
        /// <summary>Points below this DA3 confidence are hidden (0: all shown).</summary>
        [Tooltip("Hide points whose DA3 confidence is below this (0 shows all; DA3 confidence starts at 1).")]
        public float confidenceThreshold;
        /// <summary>Create one disabled physical camera per view.</summary>
        public bool cameras = true;
        /// <summary>Create depth / confidence textures.</summary>
        public bool depthTextures = true;
        /// <summary>Sensor width of the physical cameras, mm.</summary>
        public float sensorWidthMm = 36f;

        /// <summary>Reads the file with the core.</summary>
        protected abstract Da3SceneData Read(string path);

        /// <summary>Imports the asset (see the class notes).</summary>
        public override void OnImportAsset(AssetImportContext ctx)
        {
            Da3SceneData data;
            try
            {
                data = Read(ctx.assetPath);
            }
            catch (Da3ImportException e)
            {
                ctx.LogImportError(e.Message);
                return;
            }
            catch (Exception e)
            {
                ctx.LogImportError("[DA3 INTERNAL] " + ctx.assetPath + ": " + e.GetType().Name + ": " + e.Message);
                return;
            }
            Da3BuildResult built;
            try
            {
                built = Da3SceneBuilder.Build(data, Path.GetFileNameWithoutExtension(ctx.assetPath), Options(), w => ctx.LogImportWarning(w));
            }
            catch (Exception e)
            {
                ctx.LogImportError((e is Da3ImportException ? "" : "[DA3 INTERNAL] " + ctx.assetPath + ": ") + e.Message);
                return;
            }
            ctx.AddObjectToAsset("root", built.Root);
            foreach (var kv in built.Assets) ctx.AddObjectToAsset(kv.Key, kv.Value);
            ctx.SetMainObject(built.Root);
        }

        /// <summary>The build options of this importer's settings.</summary>
        protected Da3BuildOptions Options()
        {
            return new Da3BuildOptions { PointSize = pointSize, ConfidenceThreshold = confidenceThreshold, Cameras = cameras, DepthTextures = depthTextures, SensorWidthMm = sensorWidthMm };
        }
    }

    /// <summary>
    /// da3js <c>scene.glb</c>: points (with confidence when the file has a <c>_CONFIDENCE</c>
    /// attribute), the views' cameras recovered from the wireframes (full intrinsics when
    /// <c>depth_vis/0000.jpg</c> is beside the file), in the prediction's world frame. Claims
    /// <c>*.da3.glb</c>; for a plain <c>.glb</c> pick this importer in the Inspector's importer
    /// dropdown (glTFast / UnityGLTF usually own <c>.glb</c>).
    /// </summary>
    [ScriptedImporter(1, new[] { "da3.glb" }, new[] { "glb" })]
    public sealed class Da3GlbImporter : Da3ScriptedImporter
    {
        /// <inheritdoc/>
        protected override Da3SceneData Read(string path) { return Da3SceneReader.Read(path); }
    }

    /// <summary>
    /// Point PLY (<c>scene.ply</c>: positions, colours, confidence) and 3DGS PLY (<c>gs_ply/*.ply</c>:
    /// a <see cref="Da3GaussianAsset"/> plus a preview point cloud of the centres). Note: Unity rejects
    /// every importer of an extension claimed twice — remove Pcx (or this package) if both are installed.
    /// </summary>
    [ScriptedImporter(1, "ply")]
    public sealed class Da3PlyImporter : Da3ScriptedImporter
    {
        /// <inheritdoc/>
        protected override Da3SceneData Read(string path) { return PlyReader.Read(path); }
    }

    /// <summary>
    /// <c>results.npz</c> (npz or mini_npz): one physical camera per view with its depth and confidence
    /// textures (and image for the full npz), and the point cloud unprojected from depth.
    /// </summary>
    [ScriptedImporter(1, "npz")]
    public sealed class Da3NpzImporter : Da3ScriptedImporter
    {
        /// <summary>Unproject the depth maps into a point cloud.</summary>
        public bool pointCloud = true;
        /// <summary>Leave pixels below this confidence out of the point cloud.</summary>
        public float minConfidence;

        /// <inheritdoc/>
        protected override Da3SceneData Read(string path)
        {
            return NpzReader.Read(path, new NpzReadOptions { PointCloud = pointCloud, MinConfidence = minConfidence });
        }
    }
}
