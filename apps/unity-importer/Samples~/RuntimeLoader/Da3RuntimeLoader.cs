using System.IO;
using UnityEngine;
using UnityEngine.Networking;
using Da3js.Importer;
using Da3js.Importer.Unity;

/// <summary>
/// Sample: loads a da3js export when the scene starts — from StreamingAssets (a file or an export
/// folder) or from a URL (e.g. a result file of the edge API: GET /v1/jobs/{id}/files/scene.glb
/// with the bearer token) — through <see cref="Da3Scene.LoadAsync(byte[], string, Da3LoadOptions, System.Threading.CancellationToken)"/>.
/// </summary>
public sealed class Da3RuntimeLoader : MonoBehaviour
{
    [Tooltip("A file or folder under StreamingAssets (e.g. scene.glb, scene.ply, export/), or an http(s) URL.")]
    public string source = "scene.glb";
    [Tooltip("Bearer token for URL sources (an edge API key or the backend token).")]
    public string token = "";
    public float pointSize = 0.01f;
    public float confidenceThreshold;

    async void Start()
    {
        var options = new Da3LoadOptions { Parent = transform };
        options.Build.PointSize = pointSize;
        options.Build.ConfidenceThreshold = confidenceThreshold;
        try
        {
            if (source.StartsWith("http://") || source.StartsWith("https://"))
            {
                var http = new UnityWebRequestTransport();
                var request = new Da3HttpRequest { Url = source };
                if (token.Length > 0) request.Headers["Authorization"] = "Bearer " + token;
                var response = await http.SendAsync(request, destroyCancellationToken);
                if (response.Status != 200) { Debug.LogError("[DA3] " + source + ": HTTP " + response.Status); return; }
                await Da3Scene.LoadAsync(response.Body, Path.GetFileName(new System.Uri(source).AbsolutePath), options, destroyCancellationToken);
            }
            else
            {
                await Da3Scene.LoadAsync(Path.Combine(Application.streamingAssetsPath, source), options, destroyCancellationToken);
            }
        }
        catch (Da3ImportException e)
        {
            Debug.LogError(e.Message);
        }
    }
}
