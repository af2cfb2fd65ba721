using System;
using System.IO;
using UnityEditor;
using UnityEngine;
using Da3js.Importer.Unity;

namespace Da3js.Importer.Editor
{
    /// <summary>
    /// The folder importer: a whole da3js export folder (or a COLMAP <c>sparse/</c> folder), from
    /// anywhere on disk, becomes one prefab under <c>Assets/DA3/&lt;name&gt;/</c> with its meshes,
    /// materials, textures and Gaussian asset beside it. Everything is read and built in memory first;
    /// if writing fails half-way the new folder is deleted.
    /// </summary>
    public static class Da3FolderImport
    {
        /// <summary>Menu: pick a folder and import it.</summary>
        [MenuItem("Assets/DA3/Import Export Folder…")]
        [MenuItem("Tools/DA3/Import Export Folder…")]
        public static void ImportWithDialog()
        {
            var dir = EditorUtility.OpenFolderPanel("da3js export folder (scene.glb, scene.ply, exports/, sparse/, gs_ply/)", "", "");
            if (string.IsNullOrEmpty(dir)) return;
            ImportFolder(dir, "Assets/DA3");
        }

        /// <summary>Imports <paramref name="dir"/>; returns the prefab's asset path, or null after logging the error.</summary>
        public static string ImportFolder(string dir, string assetsRoot, Da3BuildOptions options = null)
        {
            var name = SafeName(Path.GetFileName(dir.TrimEnd('/', '\\')));
            Da3SceneData data;
            try
            {
                EditorUtility.DisplayProgressBar("DA3", "Reading " + dir, 0.2f);
                data = Da3SceneReader.Read(dir);
            }
            catch (Da3ImportException e)
            {
                Debug.LogError(e.Message);
                return null;
            }
            finally
            {
                EditorUtility.ClearProgressBar();
            }
            Da3BuildResult built = null;
            string folder = null;
            try
            {
                built = Da3SceneBuilder.Build(data, name, options);
                if (!AssetDatabase.IsValidFolder(assetsRoot)) AssetDatabase.CreateFolder(Path.GetDirectoryName(assetsRoot).Replace('\\', '/'), Path.GetFileName(assetsRoot));
                folder = AssetDatabase.GenerateUniqueAssetPath(assetsRoot + "/" + name);
                AssetDatabase.CreateFolder(assetsRoot, Path.GetFileName(folder));
                foreach (var kv in built.Assets)
                {
                    var ext = kv.Value is Material ? ".mat" : ".asset";
                    AssetDatabase.CreateAsset(kv.Value, folder + "/" + SafeName(kv.Key) + ext);
                }
                var prefab = folder + "/" + name + ".prefab";
                PrefabUtility.SaveAsPrefabAsset(built.Root, prefab);
                UnityEngine.Object.DestroyImmediate(built.Root);
                AssetDatabase.SaveAssets();
                Debug.Log("[DA3] imported " + dir + " → " + prefab);
                return prefab;
            }
            catch (Exception e)
            {
                if (built != null && built.Root != null) UnityEngine.Object.DestroyImmediate(built.Root);
                if (folder != null) AssetDatabase.DeleteAsset(folder);
                Debug.LogError(e is Da3ImportException ? e.Message : "[DA3 INTERNAL] " + dir + ": " + e);
                return null;
            }
        }

        static string SafeName(string s)
        {
            var chars = s.ToCharArray();
            for (int i = 0; i < chars.Length; i++) if (Array.IndexOf(Path.GetInvalidFileNameChars(), chars[i]) >= 0 || chars[i] == ':') chars[i] = '_';
            var r = new string(chars);
            return r.Length == 0 ? "da3" : r;
        }
    }

    /// <summary>
    /// Editor check for the manual checklist: for the selected view camera, sends 25 pixels at depth
    /// 2 through Unity's own <c>Camera.WorldToScreenPoint</c> (rendering at the view's W×H) and logs the
    /// largest distance to where the OpenCV pinhole model puts them.
    /// </summary>
    public static class Da3VerifyProjection
    {
        /// <summary>Menu: verify the selected camera.</summary>
        [MenuItem("Tools/DA3/Verify Selected Camera Projection")]
        public static void Verify()
        {
            var go = Selection.activeGameObject;
            var info = go != null ? go.GetComponent<Da3ViewInfo>() : null;
            var cam = go != null ? go.GetComponent<Camera>() : null;
            if (info == null || cam == null || info.intrinsics.Length != 9 || info.width <= 0)
            {
                EditorUtility.DisplayDialog("DA3", "Select a view camera (under Cameras) of an imported npz, COLMAP or GLB with image size.", "OK");
                return;
            }
            var rt = new RenderTexture(info.width, info.height, 24);
            var previous = cam.targetTexture;
            cam.targetTexture = rt;
            try
            {
                var kinv = Mat3d.FromRowMajor(info.intrinsics).Inverse("K");
                double worst = 0;
                for (int a = 0; a < 5; a++)
                {
                    for (int b = 0; b < 5; b++)
                    {
                        double u = (info.width - 1) * a / 4.0, v = (info.height - 1) * b / 4.0;
                        var camPoint = kinv.Mul(new Vec3d(u, v, 1)) * 2.0;
                        // OpenCV camera frame → Unity camera frame (S), then the camera's own transform.
                        var local = CoordinateFrames.OpenCvToUnity(camPoint).ToVector3();
                        var world = go.transform.TransformPoint(local);
                        var screen = cam.WorldToScreenPoint(world);
                        double pu, pv;
                        CoordinateFrames.UnityScreenToPixel(screen.x, screen.y, info.height, out pu, out pv);
                        worst = Math.Max(worst, Math.Max(Math.Abs(pu - u), Math.Abs(pv - v)));
                    }
                }
                Debug.Log("[DA3] " + go.name + ": Unity's WorldToScreenPoint vs the pinhole K over 25 pixels: max error " + worst.ToString("G4") + " px (expect < 0.01)");
            }
            finally
            {
                cam.targetTexture = previous;
                UnityEngine.Object.DestroyImmediate(rt);
            }
        }
    }
}
