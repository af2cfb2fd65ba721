using System;
using System.Threading;
using System.Threading.Tasks;
using UnityEngine;

namespace Da3js.Importer.Unity
{
    /// <summary>Options of <see cref="Da3Scene.LoadAsync(string, Da3LoadOptions, CancellationToken)"/>.</summary>
    [Serializable]
    public sealed class Da3LoadOptions
    {
        /// <summary>How to read (limits, npz point cloud, GLB image size).</summary>
        public Da3ReadOptions Read = new Da3ReadOptions();
        /// <summary>What to build (point size, cameras, textures).</summary>
        public Da3BuildOptions Build = new Da3BuildOptions();
        /// <summary>Parent of the new root, or null.</summary>
        public Transform Parent;
    }

    /// <summary>
    /// The runtime API: loads a da3js export (GLB, point or 3DGS PLY, npz, COLMAP folder, export
    /// folder) from a path or from bytes — e.g. files an app received from the edge API — into the
    /// open scene. Parsing runs on a worker thread with the same core the editor importers use;
    /// the GameObjects are made on the main thread when the task resumes (call from the main thread).
    ///
    /// <code>
    /// var root = await Da3Scene.LoadAsync(Path.Combine(Application.persistentDataPath, "scene.glb"));
    /// var fromBytes = await Da3Scene.LoadAsync(bytes, "scene.ply");
    /// </code>
    /// </summary>
    public static class Da3Scene
    {
        /// <summary>Loads a file or folder. Throws <see cref="Da3ImportException"/> (nothing is left in the scene on failure).</summary>
        public static async Task<GameObject> LoadAsync(string path, Da3LoadOptions options = null, CancellationToken cancellation = default(CancellationToken))
        {
            options = options ?? new Da3LoadOptions();
            var data = await Task.Run(() => Da3SceneReader.Read(path, options.Read), cancellation);
            cancellation.ThrowIfCancellationRequestedDa3(path);
            return Instantiate(data, System.IO.Path.GetFileNameWithoutExtension(path.TrimEnd('/', '\\')), options);
        }

        /// <summary>Loads a file held in memory (its format from its first bytes; <paramref name="name"/> names the root and errors).</summary>
        public static async Task<GameObject> LoadAsync(byte[] bytes, string name, Da3LoadOptions options = null, CancellationToken cancellation = default(CancellationToken))
        {
            if (bytes == null) throw new ArgumentNullException("bytes");
            options = options ?? new Da3LoadOptions();
            var data = await Task.Run(() => Da3SceneReader.Read(bytes, name, options.Read), cancellation);
            cancellation.ThrowIfCancellationRequestedDa3(name);
            return Instantiate(data, System.IO.Path.GetFileNameWithoutExtension(name ?? "da3"), options);
        }

        /// <summary>Reads only (any thread): the core's data, for apps that build their own objects.</summary>
        public static Task<Da3SceneData> ReadAsync(string path, Da3ReadOptions options = null, CancellationToken cancellation = default(CancellationToken))
        {
            return Task.Run(() => Da3SceneReader.Read(path, options), cancellation);
        }

        static GameObject Instantiate(Da3SceneData data, string name, Da3LoadOptions options)
        {
            var built = Da3SceneBuilder.Build(data, name, options.Build);
            if (options.Parent != null) built.Root.transform.SetParent(options.Parent, false);
            built.Root.AddComponent<Da3SceneAssets>().Hold(built);
            return built.Root;
        }
    }

    /// <summary>Owns the meshes, materials and textures a runtime load made, and destroys them with the scene root.</summary>
    public sealed class Da3SceneAssets : MonoBehaviour
    {
        /// <summary>The objects made for this scene (not assets on disk).</summary>
        public UnityEngine.Object[] owned = new UnityEngine.Object[0];

        /// <summary>Takes ownership of a build's objects.</summary>
        public void Hold(Da3BuildResult built)
        {
            owned = new UnityEngine.Object[built.Assets.Count];
            for (int i = 0; i < owned.Length; i++) owned[i] = built.Assets[i].Value;
        }

        void OnDestroy()
        {
            foreach (var o in owned) if (o != null) Destroy(o);
        }
    }
}
