using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using UnityEditor;
using UnityEngine;
using Da3js.Importer.Unity;

namespace Da3js.Importer.Editor
{
    /// <summary>
    /// Window ▸ DA3 ▸ Reconstruct: sends photos to <c>da3 backend</c> / the GPU worker (multipart job)
    /// or to the edge API (presigned uploads), shows the job's progress with a cancelable progress
    /// bar (cancel sends <c>DELETE /v1/jobs/:id</c>), downloads the results (size and SHA-256 checked)
    /// into <c>Assets/DA3/Jobs/&lt;job id&gt;/</c> and imports them as one prefab. The token is kept
    /// in EditorPrefs (per user), never in the project.
    /// </summary>
    public sealed class Da3ReconstructWindow : EditorWindow
    {
        const string PrefUrl = "Da3js.Importer.Url", PrefToken = "Da3js.Importer.Token", PrefKind = "Da3js.Importer.Kind";

        Da3ServiceKind _kind = Da3ServiceKind.Backend;
        string _url = "http://127.0.0.1:8008";
        string _token = "";
        string _formats = "glb-ply-mini_npz";
        int _processRes = 504;
        bool _inferGs;
        readonly List<string> _images = new List<string>();
        Vector2 _scroll;

        CancellationTokenSource _cts;
        string _status = "";
        float _fraction;
        bool _running;

        /// <summary>Opens the window.</summary>
        [MenuItem("Window/DA3/Reconstruct")]
        public static void Open()
        {
            var w = GetWindow<Da3ReconstructWindow>("DA3 Reconstruct");
            w.minSize = new Vector2(380, 320);
        }

        void OnEnable()
        {
            _url = EditorPrefs.GetString(PrefUrl, _url);
            _token = EditorPrefs.GetString(PrefToken, "");
            _kind = (Da3ServiceKind)EditorPrefs.GetInt(PrefKind, 0);
        }

        void OnGUI()
        {
            EditorGUILayout.LabelField("Service", EditorStyles.boldLabel);
            using (new EditorGUI.DisabledScope(_running))
            {
                _kind = (Da3ServiceKind)EditorGUILayout.EnumPopup("Kind", _kind);
                _url = EditorGUILayout.TextField("URL", _url);
                _token = EditorGUILayout.PasswordField("Token", _token);
                EditorGUILayout.HelpBox(_kind == Da3ServiceKind.Backend
                    ? "da3 backend (token in ~/.cache/da3js/backend/token) or the GPU worker (DA3_TOKEN). Images go inline as multipart."
                    : "The edge API: an API key (da3_…). Images are uploaded to presigned URLs first.", MessageType.None);
                EditorGUILayout.Space();
                EditorGUILayout.LabelField("Job", EditorStyles.boldLabel);
                _formats = EditorGUILayout.TextField("Formats", _formats);
                _processRes = EditorGUILayout.IntField("Process resolution", _processRes);
                _inferGs = EditorGUILayout.Toggle("3D Gaussians (GS models)", _inferGs);
                EditorGUILayout.Space();
                EditorGUILayout.BeginHorizontal();
                EditorGUILayout.LabelField("Images (" + _images.Count + ")", EditorStyles.boldLabel);
                if (GUILayout.Button("Add image…"))
                {
                    var f = EditorUtility.OpenFilePanelWithFilters("Add an image", "", new[] { "Images", "jpg,jpeg,png,webp,bmp", "All files", "*" });
                    if (!string.IsNullOrEmpty(f)) _images.Add(f);
                }
                if (GUILayout.Button("Add folder…"))
                {
                    var d = EditorUtility.OpenFolderPanel("Add every image of a folder", "", "");
                    if (!string.IsNullOrEmpty(d))
                    {
                        var found = new List<string>();
                        foreach (var f in Directory.GetFiles(d))
                        {
                            var e = Path.GetExtension(f).ToLowerInvariant();
                            if (e == ".jpg" || e == ".jpeg" || e == ".png" || e == ".webp" || e == ".bmp") found.Add(f);
                        }
                        found.Sort(StringComparer.Ordinal);
                        _images.AddRange(found);
                    }
                }
                if (GUILayout.Button("Clear")) _images.Clear();
                EditorGUILayout.EndHorizontal();
                _scroll = EditorGUILayout.BeginScrollView(_scroll, GUILayout.Height(90));
                foreach (var f in _images) EditorGUILayout.LabelField(Path.GetFileName(f));
                EditorGUILayout.EndScrollView();
            }
            EditorGUILayout.Space();
            if (!_running)
            {
                using (new EditorGUI.DisabledScope(_images.Count == 0 || string.IsNullOrEmpty(_url)))
                {
                    if (GUILayout.Button("Reconstruct")) Run();
                }
            }
            else if (GUILayout.Button("Cancel") && _cts != null) _cts.Cancel();
            var rect = EditorGUILayout.GetControlRect(false, 18);
            EditorGUI.ProgressBar(rect, _fraction, _status);
        }

        async void Run()
        {
            EditorPrefs.SetString(PrefUrl, _url);
            EditorPrefs.SetString(PrefToken, _token);
            EditorPrefs.SetInt(PrefKind, (int)_kind);
            _running = true;
            _cts = new CancellationTokenSource();
            var progress = new Progress<Da3JobProgress>(p =>
            {
                _fraction = (float)p.Fraction;
                _status = p.Message;
                if (EditorUtility.DisplayCancelableProgressBar("DA3 Reconstruct", p.Message, _fraction) && _cts != null) _cts.Cancel();
                Repaint();
            });
            try
            {
                var spec = new Da3JobSpec { Formats = _formats, ProcessRes = _processRes, InferGs = _inferGs, IdempotencyKey = Guid.NewGuid().ToString("N") };
                foreach (var f in _images) spec.Images.Add(new Da3InputImage { Name = Path.GetFileName(f), Bytes = File.ReadAllBytes(f) });
                var client = new Da3JobClient(_url, _token, _kind, new UnityWebRequestTransport());
                var job = await client.SubmitAsync(spec, _cts.Token, progress);
                job = await client.WaitAsync(job, _cts.Token, progress);
                var dir = Path.Combine(Application.dataPath, "DA3", "Jobs", job.Id);
                await client.DownloadAsync(job, dir, _cts.Token, progress);
                EditorUtility.ClearProgressBar();
                AssetDatabase.Refresh();
                var prefab = Da3FolderImport.ImportFolder(dir, "Assets/DA3");
                _status = "Done: " + job.Files.Count + " files" + (prefab != null ? ", prefab " + prefab : "");
                _fraction = 1;
                if (prefab != null) Selection.activeObject = AssetDatabase.LoadAssetAtPath<GameObject>(prefab);
            }
            catch (Da3ImportException e)
            {
                _status = e.Code == Da3ErrorCode.Canceled ? "Canceled" : "Failed: " + e.Message;
                if (e.Code != Da3ErrorCode.Canceled) Debug.LogError(e.Message);
            }
            catch (Exception e)
            {
                _status = "Failed: " + e.Message;
                Debug.LogError("[DA3] reconstruct: " + e);
            }
            finally
            {
                EditorUtility.ClearProgressBar();
                _running = false;
                _cts = null;
                Repaint();
            }
        }
    }
}
