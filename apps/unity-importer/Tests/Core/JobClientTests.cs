using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Da3js.Importer.Tests
{
    /// <summary>HttpClient as the transport (the Unity editor uses UnityWebRequest through the same interface).</summary>
    public sealed class HttpClientTransport : IDa3HttpTransport
    {
        static readonly HttpClient Client = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        public readonly List<Da3HttpRequest> Sent = new List<Da3HttpRequest>();

        public async Task<Da3HttpResponse> SendAsync(Da3HttpRequest request, CancellationToken ct)
        {
            lock (Sent) Sent.Add(request);
            var m = new HttpRequestMessage(new HttpMethod(request.Method), request.Url);
            if (request.Body != null) m.Content = new ByteArrayContent(request.Body);
            foreach (var h in request.Headers)
            {
                if (h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) { if (m.Content == null) m.Content = new ByteArrayContent(new byte[0]); m.Content.Headers.Remove("Content-Type"); m.Content.Headers.TryAddWithoutValidation(h.Key, h.Value); }
                else m.Headers.TryAddWithoutValidation(h.Key, h.Value);
            }
            HttpResponseMessage r;
            try { r = await Client.SendAsync(m, ct).ConfigureAwait(false); }
            catch (HttpRequestException e) { throw new Da3ImportException(Da3ErrorCode.Io, request.Url, e.Message, e); }
            var res = new Da3HttpResponse { Status = (int)r.StatusCode, Body = await r.Content.ReadAsByteArrayAsync().ConfigureAwait(false) };
            foreach (var h in r.Headers) res.Headers[h.Key] = string.Join(",", h.Value);
            foreach (var h in r.Content.Headers) res.Headers[h.Key] = string.Join(",", h.Value);
            return res;
        }
    }

    /// <summary>
    /// The job client against a real <c>da3 backend</c> (the inference service of @da3js/node with
    /// the tiny model, started by the test run; <c>DA3_BACKEND_URL</c>, <c>DA3_BACKEND_TOKEN</c>,
    /// <c>DA3_BACKEND_IMAGES</c>), and against a scripted edge API for the upload flow.
    /// </summary>
    [TestFixture]
    public class JobClientTests
    {
        static string Env(string name)
        {
            var v = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(v))
            {
                if (Environment.GetEnvironmentVariable("DA3_REQUIRE_GOLDEN") == "1") Assert.Fail(name + " is not set: the test run did not start da3 backend");
                Assert.Ignore(name + " not set: the backend round trip runs in the repository's npm test");
            }
            return v;
        }

        static Da3JobSpec Spec(string formats, int processRes)
        {
            var dir = Env("DA3_BACKEND_IMAGES");
            var spec = new Da3JobSpec { Formats = formats, ProcessRes = processRes };
            foreach (var f in Directory.GetFiles(dir, "*.png").OrderBy(x => x, StringComparer.Ordinal))
                spec.Images.Add(new Da3InputImage { Name = Path.GetFileName(f), Bytes = File.ReadAllBytes(f) });
            Assert.AreEqual(3, spec.Images.Count);
            return spec;
        }

        static string Temp()
        {
            var d = Path.Combine(Path.GetTempPath(), "da3-unity-job-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(d);
            return d;
        }

        static string Sha(string path)
        {
            using (var s = SHA256.Create()) return BitConverter.ToString(s.ComputeHash(File.ReadAllBytes(path))).Replace("-", "").ToLowerInvariant();
        }

        [Test]
        public void BackendRoundTripGivesTheSameFilesAsALocalExport()
        {
            var http = new HttpClientTransport();
            var client = new Da3JobClient(Env("DA3_BACKEND_URL"), Env("DA3_BACKEND_TOKEN"), Da3ServiceKind.Backend, http) { PollInterval = TimeSpan.FromMilliseconds(50) };
            var dir = Temp();
            try
            {
                var stages = new List<string>();
                var progress = new SyncProgress(p => stages.Add(p.Stage));
                var result = client.RunAsync(Spec("glb-ply-mini_npz", 84), dir, CancellationToken.None, progress).GetAwaiter().GetResult();
                Assert.AreEqual("succeeded", result.Key.State);
                Assert.AreEqual(3, result.Key.Views);
                var names = result.Value.Select(p => p.Substring(dir.Length + 1).Replace('\\', '/')).ToList();
                CollectionAssert.Contains(names, "scene.glb");
                CollectionAssert.Contains(names, "scene.ply");
                CollectionAssert.Contains(names, "exports/mini_npz/results.npz");
                Assert.AreEqual("submit", stages[0]);
                Assert.AreEqual("done", stages[stages.Count - 1]);
                // Same inputs, same model, same processRes as the golden export: the same bytes.
                foreach (var f in new[] { "scene.ply", "scene.glb", "exports/mini_npz/results.npz" })
                    Assert.AreEqual(Sha(Golden.Path("anyview", f)), Sha(Path.Combine(dir, f)), f + " from the service = the local export");
                var scene = Da3ExportDirectory.Read(dir);
                Assert.AreEqual(3, scene.Views.Count);
                Assert.AreEqual((int)Golden.Truth("anyview").Number("asciiPlyPoints"), scene.Points.Count);
                // The protocol as spoken: bearer on every call, multipart with a job field + images files.
                var submit = http.Sent.First(r => r.Method == "POST");
                Assert.AreEqual("Bearer " + Env("DA3_BACKEND_TOKEN"), submit.Headers["Authorization"]);
                StringAssert.StartsWith("multipart/form-data; boundary=", submit.Headers["Content-Type"]);
                var body = Encoding.UTF8.GetString(submit.Body);
                StringAssert.Contains("name=\"job\"", body);
                StringAssert.Contains("{\"inputs\":[],\"formats\":\"glb-ply-mini_npz\",\"options\":{\"processRes\":84}}", body);
                Assert.AreEqual(3, CountOf(body, "name=\"images\"; filename="));
                Assert.IsTrue(http.Sent.All(r => r.Headers.ContainsKey("Authorization")));
                Golden.Metric("job.requests", http.Sent.Count);
            }
            finally { Directory.Delete(dir, true); }
        }

        [Test]
        public void BackendRefusesAWrongToken()
        {
            var client = new Da3JobClient(Env("DA3_BACKEND_URL"), "wrong-token", Da3ServiceKind.Backend, new HttpClientTransport());
            var e = Assert.Throws<Da3ImportException>(() => client.SubmitAsync(Spec("glb", 84), CancellationToken.None).GetAwaiter().GetResult());
            Assert.AreEqual(Da3ErrorCode.Protocol, e.Code);
            StringAssert.Contains("HTTP 401", e.Message);
            StringAssert.Contains("UNAUTHORIZED", e.Message);
        }

        [Test]
        public void CancelDeletesTheJobOnTheService()
        {
            var http = new HttpClientTransport();
            var client = new Da3JobClient(Env("DA3_BACKEND_URL"), Env("DA3_BACKEND_TOKEN"), Da3ServiceKind.Backend, http) { PollInterval = TimeSpan.FromMilliseconds(20) };
            // A first job keeps the one-at-a-time service busy, so the second is still queued.
            var busy = client.SubmitAsync(Spec("glb-ply-npz-colmap", 280), CancellationToken.None).GetAwaiter().GetResult();
            var queued = client.SubmitAsync(Spec("glb", 84), CancellationToken.None).GetAwaiter().GetResult();
            var cts = new CancellationTokenSource();
            cts.Cancel();
            var e = Assert.Throws<Da3ImportException>(() => client.WaitAsync(queued, cts.Token).GetAwaiter().GetResult());
            Assert.AreEqual(Da3ErrorCode.Canceled, e.Code);
            Assert.IsTrue(http.Sent.Any(r => r.Method == "DELETE" && r.Url.EndsWith("/v1/jobs/" + queued.Id, StringComparison.Ordinal)), "DELETE /v1/jobs/:id was sent");
            var after = client.GetAsync(queued.Id, CancellationToken.None).GetAwaiter().GetResult();
            Assert.AreEqual("canceled", after.State);
            var done = client.WaitAsync(busy, CancellationToken.None).GetAwaiter().GetResult();
            Assert.AreEqual("succeeded", done.State);
        }

        static int CountOf(string s, string part)
        {
            int n = 0, at = 0;
            while ((at = s.IndexOf(part, at, StringComparison.Ordinal)) >= 0) { n++; at += part.Length; }
            return n;
        }

        /// <summary>Progress without a synchronisation context (reports inline).</summary>
        sealed class SyncProgress : IProgress<Da3JobProgress>
        {
            readonly Action<Da3JobProgress> _f;
            public SyncProgress(Action<Da3JobProgress> f) { _f = f; }
            public void Report(Da3JobProgress value) { _f(value); }
        }

        // ------------------------------------------------------------------ edge, scripted

        /// <summary>Answers like apps/edge (openapi.json) and records what it was sent.</summary>
        sealed class ScriptedEdge : IDa3HttpTransport
        {
            public readonly List<Da3HttpRequest> Sent = new List<Da3HttpRequest>();
            public byte[] File = Encoding.ASCII.GetBytes("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\nend_header\n1 2 3\n");
            public string Sha;
            public string FileName = "scene.ply";
            int _polls;

            public Task<Da3HttpResponse> SendAsync(Da3HttpRequest r, CancellationToken ct)
            {
                Sent.Add(r);
                var res = new Da3HttpResponse { Status = 200 };
                Func<string, Da3HttpResponse> json = s => { res.Body = Encoding.UTF8.GetBytes(s); return res; };
                if (r.Method == "POST" && r.Url.EndsWith("/v1/uploads", StringComparison.Ordinal))
                    return Task.FromResult(json("{\"uploads\":[{\"name\":\"0000_a.png\",\"key\":\"in/k1/0000_a.png\",\"method\":\"PUT\",\"url\":\"https://r2.example/in/k1/0000_a.png?X-Amz-Signature=abc\",\"expiresAt\":1,\"headers\":{\"content-type\":\"image/png\"}},{\"name\":\"0001_b_c.jpg\",\"key\":\"in/k1/0001_b_c.jpg\",\"method\":\"PUT\",\"url\":\"/v1/blobs/in/k1/0001_b_c.jpg?sig=def\",\"expiresAt\":1}]}"));
                if (r.Method == "PUT") return Task.FromResult(res);
                if (r.Method == "POST" && r.Url.EndsWith("/v1/jobs", StringComparison.Ordinal)) { res.Status = 202; return Task.FromResult(json("{\"id\":\"job_1\",\"state\":\"queued\",\"createdAt\":1,\"progress\":{\"stage\":\"queued\",\"fraction\":0},\"timings\":{}}")); }
                if (r.Method == "GET" && r.Url.EndsWith("/v1/jobs/job_1", StringComparison.Ordinal))
                {
                    if (_polls++ == 0) return Task.FromResult(json("{\"id\":\"job_1\",\"state\":\"running\",\"createdAt\":1,\"progress\":{\"stage\":\"network\",\"fraction\":0.5},\"timings\":{}}"));
                    return Task.FromResult(json("{\"id\":\"job_1\",\"state\":\"succeeded\",\"createdAt\":1,\"progress\":{\"stage\":\"done\",\"fraction\":1},\"timings\":{},\"result\":{\"views\":2,\"width\":84,\"height\":56,\"isMetric\":false,\"files\":[{\"name\":\"" + FileName + "\",\"size\":" + File.Length + ",\"sha256\":\"" + Sha + "\",\"contentType\":\"application/octet-stream\"}]}}"));
                }
                if (r.Method == "GET" && r.Url.Contains("/v1/jobs/job_1/files/")) { res.Body = File; return Task.FromResult(res); }
                res.Status = 404;
                return Task.FromResult(json("{\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"no route\"}}"));
            }
        }

        static string Hex(byte[] b)
        {
            using (var s = SHA256.Create()) return BitConverter.ToString(s.ComputeHash(b)).Replace("-", "").ToLowerInvariant();
        }

        [Test]
        public void EdgeUploadsThenSubmitsKeysThenDownloadsCheckedFiles()
        {
            var edge = new ScriptedEdge();
            edge.Sha = Hex(edge.File);
            var client = new Da3JobClient("https://edge.example", "da3_key", Da3ServiceKind.Edge, edge) { PollInterval = TimeSpan.FromMilliseconds(1) };
            var spec = new Da3JobSpec { Formats = "ply", Images = { new Da3InputImage { Name = "a.png", Bytes = new byte[] { 1, 2, 3 } }, new Da3InputImage { Name = "b c.jpg", Bytes = new byte[] { 4, 5 } } } };
            var dir = Temp();
            try
            {
                var result = client.RunAsync(spec, dir, CancellationToken.None).GetAwaiter().GetResult();
                var s = edge.Sent;
                Assert.AreEqual("https://edge.example/v1/uploads", s[0].Url);
                Assert.AreEqual("{\"files\":[{\"name\":\"0000_a.png\",\"size\":3,\"contentType\":\"image/png\"},{\"name\":\"0001_b_c.jpg\",\"size\":2,\"contentType\":\"image/jpeg\"}]}", Encoding.UTF8.GetString(s[0].Body));
                Assert.AreEqual("PUT", s[1].Method);
                Assert.AreEqual("https://r2.example/in/k1/0000_a.png?X-Amz-Signature=abc", s[1].Url);
                Assert.IsFalse(s[1].Headers.ContainsKey("Authorization"), "no bearer on a presigned URL");
                Assert.AreEqual("image/png", s[1].Headers["content-type"]);
                Assert.AreEqual("https://edge.example/v1/blobs/in/k1/0001_b_c.jpg?sig=def", s[2].Url, "worker-signed URLs are relative to the API");
                Assert.AreEqual("image/jpeg", s[2].Headers["Content-Type"]);
                Assert.AreEqual("{\"inputs\":[{\"key\":\"in/k1/0000_a.png\",\"name\":\"0000_a.png\"},{\"key\":\"in/k1/0001_b_c.jpg\",\"name\":\"0001_b_c.jpg\"}],\"formats\":\"ply\"}", Encoding.UTF8.GetString(s[3].Body));
                Assert.AreEqual("application/json", s[3].Headers["Content-Type"]);
                Assert.AreEqual("Bearer da3_key", s[3].Headers["Authorization"]);
                Assert.AreEqual("https://edge.example/v1/jobs/job_1/files/scene.ply", s[s.Count - 1].Url);
                Assert.AreEqual("succeeded", result.Key.State);
                CollectionAssert.AreEqual(edge.File, File.ReadAllBytes(Path.Combine(dir, "scene.ply")));

                // A file whose bytes do not match the manifest is refused and not left behind.
                var bad = new ScriptedEdge { Sha = new string('0', 64) };
                var c2 = new Da3JobClient("https://edge.example", "k", Da3ServiceKind.Edge, bad) { PollInterval = TimeSpan.FromMilliseconds(1) };
                var dir2 = Temp();
                var e = Assert.Throws<Da3ImportException>(() => c2.RunAsync(spec, dir2, CancellationToken.None).GetAwaiter().GetResult());
                Assert.AreEqual(Da3ErrorCode.Checksum, e.Code);
                Assert.IsFalse(File.Exists(Path.Combine(dir2, "scene.ply")));
                Directory.Delete(dir2, true);

                // A manifest name leaving the folder is refused.
                var evil = new ScriptedEdge { FileName = "../../etc/passwd" };
                evil.Sha = Hex(evil.File);
                var c3 = new Da3JobClient("https://edge.example", "k", Da3ServiceKind.Edge, evil) { PollInterval = TimeSpan.FromMilliseconds(1) };
                var e3 = Assert.Throws<Da3ImportException>(() => c3.RunAsync(spec, dir, CancellationToken.None).GetAwaiter().GetResult());
                StringAssert.Contains("refusing the result name", e3.Message);
            }
            finally { Directory.Delete(dir, true); }
        }

        [Test]
        public void RequestsAreValidatedBeforeAnythingIsSent()
        {
            var edge = new ScriptedEdge();
            var client = new Da3JobClient("https://edge.example", "k", Da3ServiceKind.Edge, edge);
            Assert.Throws<Da3ImportException>(() => client.SubmitAsync(new Da3JobSpec(), CancellationToken.None).GetAwaiter().GetResult());
            Assert.Throws<Da3ImportException>(() => client.SubmitAsync(new Da3JobSpec { ProcessRes = 5, Images = { new Da3InputImage { Name = "a.png", Bytes = new byte[] { 1 } } } }, CancellationToken.None).GetAwaiter().GetResult());
            Assert.AreEqual(0, edge.Sent.Count);
            Assert.Throws<Da3ImportException>(() => new Da3JobClient("ftp://x", "k", Da3ServiceKind.Edge, edge));
        }
    }
}
