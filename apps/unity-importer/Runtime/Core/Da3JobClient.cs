using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Da3js.Importer
{
    /// <summary>An HTTP request as the job client builds it.</summary>
    public sealed class Da3HttpRequest
    {
        /// <summary>GET, POST, PUT or DELETE.</summary>
        public string Method = "GET";
        /// <summary>Absolute URL.</summary>
        public string Url;
        /// <summary>Request headers (Authorization, Content-Type, Idempotency-Key, …).</summary>
        public Dictionary<string, string> Headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        /// <summary>Body bytes, or null.</summary>
        public byte[] Body;
    }

    /// <summary>An HTTP response.</summary>
    public sealed class Da3HttpResponse
    {
        /// <summary>Status code (0 when no response arrived).</summary>
        public int Status;
        /// <summary>Response headers (case-insensitive).</summary>
        public Dictionary<string, string> Headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        /// <summary>Body bytes (empty when none).</summary>
        public byte[] Body = new byte[0];
    }

    /// <summary>
    /// The HTTP seam: the Unity editor fills it with <c>UnityWebRequest</c>, tests with
    /// <c>HttpClient</c>. Implementations send the request as given and return any status (they do
    /// not throw for 4xx/5xx); network failures throw <see cref="Da3ImportException"/> with
    /// <see cref="Da3ErrorCode.Io"/>, cancellation <see cref="Da3ErrorCode.Canceled"/>.
    /// </summary>
    public interface IDa3HttpTransport
    {
        /// <summary>Sends one request.</summary>
        Task<Da3HttpResponse> SendAsync(Da3HttpRequest request, CancellationToken cancellation);
    }

    /// <summary>Which server the client talks to.</summary>
    public enum Da3ServiceKind
    {
        /// <summary><c>da3 backend</c> / apps/gpu-worker (job protocol v1): images sent inline as multipart/form-data.</summary>
        Backend,
        /// <summary>The edge API (apps/edge): images uploaded to presigned PUT URLs first (<c>POST /v1/uploads</c>), then the job refers to their keys.</summary>
        Edge,
    }

    /// <summary>One input image.</summary>
    public sealed class Da3InputImage
    {
        /// <summary>File name (e.g. <c>IMG_0001.jpg</c>).</summary>
        public string Name;
        /// <summary>Encoded bytes (JPEG, PNG, …).</summary>
        public byte[] Bytes;
        /// <summary>MIME type; guessed from the name when null.</summary>
        public string ContentType;
    }

    /// <summary>What to reconstruct.</summary>
    public sealed class Da3JobSpec
    {
        /// <summary>The views, in order.</summary>
        public List<Da3InputImage> Images = new List<Da3InputImage>();
        /// <summary>Export formats, the reference's format string (default <c>glb-ply-mini_npz</c>).</summary>
        public string Formats = "glb-ply-mini_npz";
        /// <summary><c>options.processRes</c> (14–4096), or 0 for the service's default.</summary>
        public int ProcessRes;
        /// <summary><c>options.inferGs</c> (models with a GS head).</summary>
        public bool InferGs;
        /// <summary><c>Idempotency-Key</c> header (a retry with the same key never runs twice); null for none.</summary>
        public string IdempotencyKey;
    }

    /// <summary>A result file of a job's manifest.</summary>
    public sealed class Da3JobFile
    {
        /// <summary>Relative path (<c>scene.glb</c>, <c>exports/mini_npz/results.npz</c>).</summary>
        public string Name;
        /// <summary>Size in bytes.</summary>
        public long Size;
        /// <summary>Hex SHA-256 of the bytes.</summary>
        public string Sha256;
        /// <summary>MIME type.</summary>
        public string ContentType;
        /// <summary>Download URL (relative to the service, or absolute), or null (edge: <c>/v1/jobs/{id}/files/{name}</c>).</summary>
        public string Url;
    }

    /// <summary>A job as <c>GET /v1/jobs/:id</c> returns it (docs/job-protocol.md).</summary>
    public sealed class Da3Job
    {
        /// <summary>Job id.</summary>
        public string Id;
        /// <summary><c>queued</c>, <c>running</c>, <c>succeeded</c>, <c>failed</c>, <c>canceled</c>.</summary>
        public string State;
        /// <summary>Progress stage (<c>queued</c>, <c>fetch</c>, …, <c>done</c>) and fraction in [0, 1].</summary>
        public string Stage;
        /// <summary>Progress fraction in [0, 1].</summary>
        public double Fraction;
        /// <summary>Error code of a failed job (a core Da3Error code, INTERRUPTED, …), or null.</summary>
        public string ErrorCode;
        /// <summary>Error message of a failed job, or null.</summary>
        public string ErrorMessage;
        /// <summary>Whether submitting again may succeed.</summary>
        public bool Retryable;
        /// <summary>Result: number of views.</summary>
        public int Views;
        /// <summary>Result: processed image width, pixels.</summary>
        public int Width;
        /// <summary>Result: processed image height, pixels.</summary>
        public int Height;
        /// <summary>True for metric depth (metres).</summary>
        public bool IsMetric;
        /// <summary>The result files (empty until the job succeeded).</summary>
        public List<Da3JobFile> Files = new List<Da3JobFile>();

        /// <summary>True for succeeded, failed and canceled.</summary>
        public bool IsTerminal { get { return State == "succeeded" || State == "failed" || State == "canceled"; } }

        /// <summary>Parses a job object.</summary>
        public static Da3Job FromJson(Dictionary<string, object> o, string where)
        {
            var job = new Da3Job
            {
                Id = Json.Str(o, "id"),
                State = Json.Str(o, "state"),
            };
            if (string.IsNullOrEmpty(job.Id) || string.IsNullOrEmpty(job.State)) throw new Da3ImportException(Da3ErrorCode.Protocol, where, "the answer is not a job (no id/state)");
            var progress = Json.Get(o, "progress") as Dictionary<string, object>;
            if (progress != null)
            {
                job.Stage = Json.Str(progress, "stage");
                var f = Json.Get(progress, "fraction");
                if (f is double) job.Fraction = (double)f;
            }
            var error = Json.Get(o, "error") as Dictionary<string, object>;
            if (error != null)
            {
                job.ErrorCode = Json.Str(error, "code");
                job.ErrorMessage = Json.Str(error, "message");
                job.Retryable = Json.Get(error, "retryable") is bool && (bool)Json.Get(error, "retryable");
            }
            var result = Json.Get(o, "result") as Dictionary<string, object>;
            if (result != null)
            {
                job.Views = (int)Json.Int(result, "views", where, "result", 0, int.MaxValue, 0);
                job.Width = (int)Json.Int(result, "width", where, "result", 0, int.MaxValue, 0);
                job.Height = (int)Json.Int(result, "height", where, "result", 0, int.MaxValue, 0);
                job.IsMetric = Json.Get(result, "isMetric") is bool && (bool)Json.Get(result, "isMetric");
                var files = Json.Get(result, "files") as List<object>;
                if (files != null)
                {
                    for (int i = 0; i < files.Count; i++)
                    {
                        var f = Json.Obj(files[i], where, "result.files[" + i + "]");
                        job.Files.Add(new Da3JobFile
                        {
                            Name = Json.Str(f, "name"),
                            Size = Json.Int(f, "size", where, "result.files[" + i + "]", 0, long.MaxValue),
                            Sha256 = Json.Str(f, "sha256"),
                            ContentType = Json.Str(f, "contentType"),
                            Url = Json.Str(f, "url"),
                        });
                    }
                }
            }
            return job;
        }
    }

    /// <summary>Progress of <see cref="Da3JobClient.RunAsync"/>.</summary>
    public struct Da3JobProgress
    {
        /// <summary><c>upload</c>, <c>submit</c>, then the job's stages, then <c>download</c>.</summary>
        public string Stage;
        /// <summary>Overall fraction in [0, 1].</summary>
        public double Fraction;
        /// <summary>A line for a progress bar.</summary>
        public string Message;
    }

    /// <summary>
    /// A client of the DA3 job protocol v1 (docs/job-protocol.md) for <c>da3 backend</c>,
    /// apps/gpu-worker and the edge API: bearer-token auth, <c>POST /v1/jobs</c> (multipart with a
    /// <c>job</c> field and <c>images</c> files for the backend; presigned uploads + JSON with input
    /// keys for the edge), polling <c>GET /v1/jobs/:id</c>, <c>DELETE /v1/jobs/:id</c> on cancel,
    /// and downloads checked against the manifest's size and SHA-256. It never touches Unity: the
    /// transport is injected.
    /// </summary>
    public sealed class Da3JobClient
    {
        readonly string _base;
        readonly string _token;
        readonly IDa3HttpTransport _http;

        /// <summary>Backend or edge.</summary>
        public readonly Da3ServiceKind Kind;

        /// <summary>Time between polls (default 0.5 s).</summary>
        public TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

        /// <summary>Gives up waiting after this long (default 30 min).</summary>
        public TimeSpan Timeout = TimeSpan.FromMinutes(30);

        /// <summary>Creates a client for <paramref name="baseUrl"/> (e.g. <c>http://127.0.0.1:8008</c>) with a bearer token.</summary>
        public Da3JobClient(string baseUrl, string token, Da3ServiceKind kind, IDa3HttpTransport transport)
        {
            if (string.IsNullOrEmpty(baseUrl)) throw new ArgumentException("baseUrl is required");
            Uri u;
            if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out u) || (u.Scheme != "http" && u.Scheme != "https")) throw new Da3ImportException(Da3ErrorCode.BadValue, baseUrl, "the service URL must be an absolute http(s) URL");
            _base = baseUrl.TrimEnd('/');
            _token = token ?? string.Empty;
            Kind = kind;
            _http = transport ?? throw new ArgumentNullException("transport");
        }

        Da3HttpRequest Req(string method, string path, bool auth = true)
        {
            var r = new Da3HttpRequest { Method = method, Url = path.StartsWith("http://", StringComparison.Ordinal) || path.StartsWith("https://", StringComparison.Ordinal) ? path : _base + path };
            if (auth && _token.Length > 0) r.Headers["Authorization"] = "Bearer " + _token;
            return r;
        }

        async Task<Da3HttpResponse> Send(Da3HttpRequest r, CancellationToken ct, bool expectOk = true)
        {
            for (int attempt = 0; ; attempt++)
            {
                ct.ThrowIfCancellationRequestedDa3(r.Url);
                var res = await _http.SendAsync(r, ct).ConfigureAwait(true);
                if (res.Status == 429 && attempt < 3)
                {
                    string ra;
                    double secs = 1;
                    if (res.Headers.TryGetValue("Retry-After", out ra)) double.TryParse(ra, NumberStyles.Float, CultureInfo.InvariantCulture, out secs);
                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(Math.Max(secs, 0.2), 30)), ct).ConfigureAwait(true);
                    continue;
                }
                if (expectOk && (res.Status < 200 || res.Status >= 300)) throw ErrorOf(r, res);
                return res;
            }
        }

        static Da3ImportException ErrorOf(Da3HttpRequest r, Da3HttpResponse res)
        {
            string code = null, message = null;
            try
            {
                var o = Json.Parse(Encoding.UTF8.GetString(res.Body), r.Url) as Dictionary<string, object>;
                var e = Json.Get(o, "error") as Dictionary<string, object>;
                code = Json.Str(e, "code");
                message = Json.Str(e, "message");
            }
            catch (Da3ImportException) { }
            var text = "HTTP " + res.Status + " from " + r.Method + " " + StripQuery(r.Url) + (code != null ? ": " + code + " — " + message : "");
            return new Da3ImportException(Da3ErrorCode.Protocol, "job service", text);
        }

        static string StripQuery(string url)
        {
            var q = url.IndexOf('?');
            return q < 0 ? url : url.Substring(0, q);
        }

        static Dictionary<string, object> JsonBody(Da3HttpResponse res, string where)
        {
            return Json.Obj(Json.Parse(Encoding.UTF8.GetString(res.Body), where), where, "the answer");
        }

        /// <summary>MIME type from a file name.</summary>
        public static string ContentTypeOf(string name)
        {
            var ext = Path.GetExtension(name ?? string.Empty).ToLowerInvariant();
            switch (ext)
            {
                case ".jpg": case ".jpeg": return "image/jpeg";
                case ".png": return "image/png";
                case ".webp": return "image/webp";
                case ".bmp": return "image/bmp";
                case ".tif": case ".tiff": return "image/tiff";
                case ".mp4": return "video/mp4";
                default: return "application/octet-stream";
            }
        }

        Dictionary<string, object> JobJson(Da3JobSpec spec, List<object> inputs)
        {
            var job = new Dictionary<string, object>(StringComparer.Ordinal);
            job["inputs"] = inputs;
            job["formats"] = spec.Formats;
            var options = new Dictionary<string, object>(StringComparer.Ordinal);
            if (spec.ProcessRes > 0) options["processRes"] = (double)spec.ProcessRes;
            if (spec.InferGs) options["inferGs"] = true;
            if (options.Count > 0) job["options"] = options;
            return job;
        }

        static void Validate(Da3JobSpec spec)
        {
            if (spec == null || spec.Images == null || spec.Images.Count == 0) throw new Da3ImportException(Da3ErrorCode.BadValue, "job", "at least one image is needed");
            if (spec.Images.Count > 1024) throw new Da3ImportException(Da3ErrorCode.TooLarge, "job", spec.Images.Count + " images, the protocol takes at most 1024");
            if (spec.ProcessRes != 0 && (spec.ProcessRes < 14 || spec.ProcessRes > 4096)) throw new Da3ImportException(Da3ErrorCode.BadValue, "job", "processRes must be in [14, 4096], got " + spec.ProcessRes);
            if (string.IsNullOrEmpty(spec.Formats)) throw new Da3ImportException(Da3ErrorCode.BadValue, "job", "formats is empty");
            foreach (var im in spec.Images)
                if (im == null || im.Bytes == null || im.Bytes.Length == 0) throw new Da3ImportException(Da3ErrorCode.BadValue, "job", "image " + (im == null ? "(null)" : im.Name) + " has no bytes");
        }

        /// <summary>
        /// The multipart/form-data body of a backend job: a <c>job</c> field with the JSON request
        /// (empty <c>inputs</c>) and one <c>images</c> file part per image, in order.
        /// </summary>
        public static byte[] MultipartBody(string jobJson, IList<Da3InputImage> images, string boundary)
        {
            var ms = new MemoryStream();
            Action<string> text = s => { var b = Encoding.UTF8.GetBytes(s); ms.Write(b, 0, b.Length); };
            text("--" + boundary + "\r\nContent-Disposition: form-data; name=\"job\"\r\nContent-Type: application/json\r\n\r\n" + jobJson + "\r\n");
            foreach (var im in images)
            {
                var name = (im.Name ?? "image").Replace("\"", "_").Replace("\r", "_").Replace("\n", "_");
                text("--" + boundary + "\r\nContent-Disposition: form-data; name=\"images\"; filename=\"" + name + "\"\r\nContent-Type: " + (im.ContentType ?? ContentTypeOf(im.Name)) + "\r\n\r\n");
                ms.Write(im.Bytes, 0, im.Bytes.Length);
                text("\r\n");
            }
            text("--" + boundary + "--\r\n");
            return ms.ToArray();
        }

        /// <summary>An upload name the edge accepts (<c>^[A-Za-z0-9._-]+$</c>, at most 255 characters), unique by index.</summary>
        public static string SafeUploadName(string name, int index)
        {
            var sb = new StringBuilder();
            foreach (var c in name ?? string.Empty) sb.Append((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ? c : '_');
            var s = index.ToString("D4", CultureInfo.InvariantCulture) + "_" + (sb.Length > 0 ? sb.ToString() : "image");
            return s.Length > 255 ? s.Substring(0, 255) : s;
        }

        /// <summary>Submits a job; returns it as queued (202) or as replayed for a known idempotency key (200).</summary>
        public async Task<Da3Job> SubmitAsync(Da3JobSpec spec, CancellationToken ct, IProgress<Da3JobProgress> progress = null)
        {
            Validate(spec);
            Da3HttpRequest r;
            if (Kind == Da3ServiceKind.Backend)
            {
                var boundary = "da3js-" + Guid.NewGuid().ToString("N");
                r = Req("POST", "/v1/jobs");
                r.Headers["Content-Type"] = "multipart/form-data; boundary=" + boundary;
                r.Body = MultipartBody(Json.Write(JobJson(spec, new List<object>())), spec.Images, boundary);
            }
            else
            {
                var files = new List<object>();
                for (int i = 0; i < spec.Images.Count; i++)
                {
                    var im = spec.Images[i];
                    files.Add(new Dictionary<string, object> { { "name", SafeUploadName(im.Name, i) }, { "size", (double)im.Bytes.Length }, { "contentType", im.ContentType ?? ContentTypeOf(im.Name) } });
                }
                var ur = Req("POST", "/v1/uploads");
                ur.Headers["Content-Type"] = "application/json";
                ur.Body = Encoding.UTF8.GetBytes(Json.Write(new Dictionary<string, object> { { "files", files } }));
                var uploads = Json.Arr(Json.Get(JsonBody(await Send(ur, ct).ConfigureAwait(true), ur.Url), "uploads"), "POST /v1/uploads", "uploads");
                if (uploads.Count != spec.Images.Count) throw new Da3ImportException(Da3ErrorCode.Protocol, "POST /v1/uploads", uploads.Count + " upload URLs for " + spec.Images.Count + " files");
                var inputs = new List<object>();
                for (int i = 0; i < uploads.Count; i++)
                {
                    var u = Json.Obj(uploads[i], "POST /v1/uploads", "uploads[" + i + "]");
                    var url = Json.Str(u, "url");
                    var key = Json.Str(u, "key");
                    if (string.IsNullOrEmpty(url) || string.IsNullOrEmpty(key)) throw new Da3ImportException(Da3ErrorCode.Protocol, "POST /v1/uploads", "uploads[" + i + "] lacks url or key");
                    // Presigned URLs carry their own signature: no bearer token (S3 refuses two auth mechanisms).
                    var put = Req("PUT", url.StartsWith("/", StringComparison.Ordinal) ? _base + url : url, false);
                    var headers = Json.Get(u, "headers") as Dictionary<string, object>;
                    if (headers != null) foreach (var kv in headers) if (kv.Value is string) put.Headers[kv.Key] = (string)kv.Value;
                    if (!put.Headers.ContainsKey("Content-Type")) put.Headers["Content-Type"] = spec.Images[i].ContentType ?? ContentTypeOf(spec.Images[i].Name);
                    put.Body = spec.Images[i].Bytes;
                    if (progress != null) progress.Report(new Da3JobProgress { Stage = "upload", Fraction = 0.1 * i / uploads.Count, Message = "Uploading " + spec.Images[i].Name });
                    await Send(put, ct).ConfigureAwait(true);
                    inputs.Add(new Dictionary<string, object> { { "key", key }, { "name", SafeUploadName(spec.Images[i].Name, i) } });
                }
                r = Req("POST", "/v1/jobs");
                r.Headers["Content-Type"] = "application/json";
                r.Body = Encoding.UTF8.GetBytes(Json.Write(JobJson(spec, inputs)));
            }
            if (!string.IsNullOrEmpty(spec.IdempotencyKey)) r.Headers["Idempotency-Key"] = spec.IdempotencyKey;
            if (progress != null) progress.Report(new Da3JobProgress { Stage = "submit", Fraction = 0.1, Message = "Submitting " + spec.Images.Count + " images" });
            var res = await Send(r, ct).ConfigureAwait(true);
            return Da3Job.FromJson(JsonBody(res, "POST /v1/jobs"), "POST /v1/jobs");
        }

        /// <summary><c>GET /v1/jobs/:id</c>.</summary>
        public async Task<Da3Job> GetAsync(string id, CancellationToken ct)
        {
            var r = Req("GET", "/v1/jobs/" + Uri.EscapeDataString(id));
            return Da3Job.FromJson(JsonBody(await Send(r, ct).ConfigureAwait(true), r.Url), r.Url);
        }

        /// <summary><c>DELETE /v1/jobs/:id</c>: a queued job ends canceled at once, a running one at its next stage.</summary>
        public async Task<Da3Job> CancelAsync(string id, CancellationToken ct)
        {
            var r = Req("DELETE", "/v1/jobs/" + Uri.EscapeDataString(id));
            return Da3Job.FromJson(JsonBody(await Send(r, ct).ConfigureAwait(true), r.Url), r.Url);
        }

        /// <summary>
        /// Polls until the job ends. When <paramref name="ct"/> is canceled the job is cancelled on the
        /// service (<c>DELETE</c>) before <see cref="Da3ErrorCode.Canceled"/> is thrown; a failed job
        /// throws <see cref="Da3ErrorCode.Protocol"/> with its error code and message.
        /// </summary>
        public async Task<Da3Job> WaitAsync(Da3Job job, CancellationToken ct, IProgress<Da3JobProgress> progress = null)
        {
            var started = DateTime.UtcNow;
            while (!job.IsTerminal)
            {
                if (ct.IsCancellationRequested)
                {
                    try { await CancelAsync(job.Id, CancellationToken.None).ConfigureAwait(true); }
                    catch (Da3ImportException) { }
                    throw new Da3ImportException(Da3ErrorCode.Canceled, "job " + job.Id, "canceled by the user (the service was asked to cancel it)");
                }
                if (DateTime.UtcNow - started > Timeout) throw new Da3ImportException(Da3ErrorCode.Protocol, "job " + job.Id, "still " + job.State + " after " + Timeout.TotalMinutes + " min");
                try { await Task.Delay(PollInterval, ct).ConfigureAwait(true); }
                catch (TaskCanceledException) { continue; }
                job = await GetAsync(job.Id, CancellationToken.None).ConfigureAwait(true);
                if (progress != null) progress.Report(new Da3JobProgress { Stage = job.Stage, Fraction = 0.1 + 0.7 * job.Fraction, Message = "Job " + job.State + ": " + job.Stage });
            }
            if (job.State == "failed") throw new Da3ImportException(Da3ErrorCode.Protocol, "job " + job.Id, "failed: " + job.ErrorCode + " — " + job.ErrorMessage + (job.Retryable ? " (retryable)" : ""));
            if (job.State == "canceled") throw new Da3ImportException(Da3ErrorCode.Canceled, "job " + job.Id, "was canceled");
            return job;
        }

        /// <summary>
        /// Downloads every result file into <paramref name="dir"/> (relative paths kept; names that
        /// would leave the folder are refused), each written to a temporary file, checked against the
        /// manifest's size and SHA-256, then renamed: no half-written file is ever left.
        /// </summary>
        public async Task<List<string>> DownloadAsync(Da3Job job, string dir, CancellationToken ct, IProgress<Da3JobProgress> progress = null)
        {
            var root = Path.GetFullPath(dir);
            Directory.CreateDirectory(root);
            var written = new List<string>();
            for (int i = 0; i < job.Files.Count; i++)
            {
                var f = job.Files[i];
                if (string.IsNullOrEmpty(f.Name) || f.Name.Contains("..") || f.Name.StartsWith("/", StringComparison.Ordinal) || f.Name.Contains("\\") || f.Name.Contains(":"))
                    throw new Da3ImportException(Da3ErrorCode.Protocol, "job " + job.Id, "refusing the result name " + f.Name);
                var target = Path.GetFullPath(Path.Combine(root, f.Name.Replace('/', Path.DirectorySeparatorChar)));
                if (!target.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal)) throw new Da3ImportException(Da3ErrorCode.Protocol, "job " + job.Id, "refusing the result name " + f.Name);
                string url;
                if (!string.IsNullOrEmpty(f.Url) && f.Url.StartsWith("/", StringComparison.Ordinal)) url = f.Url;
                else
                {
                    var parts = f.Name.Split('/');
                    for (int k = 0; k < parts.Length; k++) parts[k] = Uri.EscapeDataString(parts[k]);
                    url = "/v1/jobs/" + Uri.EscapeDataString(job.Id) + "/files/" + string.Join("/", parts);
                }
                if (progress != null) progress.Report(new Da3JobProgress { Stage = "download", Fraction = 0.8 + 0.2 * i / Math.Max(1, job.Files.Count), Message = "Downloading " + f.Name });
                var res = await Send(Req("GET", url), ct).ConfigureAwait(true);
                if (res.Body.LongLength != f.Size) throw new Da3ImportException(Da3ErrorCode.Truncated, f.Name, "downloaded " + res.Body.LongLength + " bytes, the manifest says " + f.Size);
                if (!string.IsNullOrEmpty(f.Sha256))
                {
                    string hex;
                    using (var sha = SHA256.Create()) hex = ToHex(sha.ComputeHash(res.Body));
                    if (!string.Equals(hex, f.Sha256, StringComparison.OrdinalIgnoreCase)) throw new Da3ImportException(Da3ErrorCode.Checksum, f.Name, "SHA-256 " + hex + " does not match the manifest's " + f.Sha256);
                }
                Directory.CreateDirectory(Path.GetDirectoryName(target));
                var tmp = target + ".part";
                File.WriteAllBytes(tmp, res.Body);
                if (File.Exists(target)) File.Delete(target);
                File.Move(tmp, target);
                written.Add(target);
            }
            return written;
        }

        static string ToHex(byte[] b)
        {
            var sb = new StringBuilder(b.Length * 2);
            foreach (var x in b) sb.Append(x.ToString("x2", CultureInfo.InvariantCulture));
            return sb.ToString();
        }

        /// <summary>Submit, wait, download: the whole round trip. Returns the finished job and the files written.</summary>
        public async Task<KeyValuePair<Da3Job, List<string>>> RunAsync(Da3JobSpec spec, string dir, CancellationToken ct, IProgress<Da3JobProgress> progress = null)
        {
            var job = await SubmitAsync(spec, ct, progress).ConfigureAwait(true);
            job = await WaitAsync(job, ct, progress).ConfigureAwait(true);
            var files = await DownloadAsync(job, dir, ct, progress).ConfigureAwait(true);
            if (progress != null) progress.Report(new Da3JobProgress { Stage = "done", Fraction = 1, Message = "Done: " + files.Count + " files" });
            return new KeyValuePair<Da3Job, List<string>>(job, files);
        }
    }

    /// <summary>Cancellation helper that raises the core's error type.</summary>
    public static class Da3Cancellation
    {
        /// <summary>Throws <see cref="Da3ErrorCode.Canceled"/> when cancellation was requested.</summary>
        public static void ThrowIfCancellationRequestedDa3(this CancellationToken ct, string where)
        {
            if (ct.IsCancellationRequested) throw new Da3ImportException(Da3ErrorCode.Canceled, where, "canceled");
        }
    }
}
