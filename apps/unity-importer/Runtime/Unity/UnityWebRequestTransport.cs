using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using UnityEngine.Networking;

namespace Da3js.Importer.Unity
{
    /// <summary>
    /// The job client's HTTP transport on <c>UnityWebRequest</c> (editor and players). Call from the
    /// main thread; the task completes there. 4xx/5xx answers are returned (the client turns them
    /// into <see cref="Da3ImportException"/>s); connection failures throw <see cref="Da3ErrorCode.Io"/>,
    /// cancellation aborts the request and throws <see cref="Da3ErrorCode.Canceled"/>.
    /// </summary>
    public sealed class UnityWebRequestTransport : IDa3HttpTransport
    {
        /// <summary>Seconds before a request is abandoned (0: none). Default 300.</summary>
        public int TimeoutSeconds = 300;

        /// <summary>Sends one request.</summary>
        public Task<Da3HttpResponse> SendAsync(Da3HttpRequest request, CancellationToken cancellation)
        {
            var tcs = new TaskCompletionSource<Da3HttpResponse>();
            var www = new UnityWebRequest(request.Url, request.Method);
            www.downloadHandler = new DownloadHandlerBuffer();
            if (request.Body != null) www.uploadHandler = new UploadHandlerRaw(request.Body);
            www.timeout = TimeoutSeconds;
            foreach (var h in request.Headers)
            {
                if (h.Key.Equals("Content-Type", System.StringComparison.OrdinalIgnoreCase) && www.uploadHandler != null) www.uploadHandler.contentType = h.Value;
                www.SetRequestHeader(h.Key, h.Value);
            }
            var registration = cancellation.Register(() => { try { www.Abort(); } catch (System.Exception) { } });
            var op = www.SendWebRequest();
            op.completed += _ =>
            {
                registration.Dispose();
                try
                {
                    if (cancellation.IsCancellationRequested)
                    {
                        tcs.TrySetException(new Da3ImportException(Da3ErrorCode.Canceled, request.Url, "canceled"));
                        return;
                    }
                    if (www.result == UnityWebRequest.Result.ConnectionError || www.result == UnityWebRequest.Result.DataProcessingError)
                    {
                        tcs.TrySetException(new Da3ImportException(Da3ErrorCode.Io, request.Url, www.error ?? "network error"));
                        return;
                    }
                    var res = new Da3HttpResponse { Status = (int)www.responseCode, Body = www.downloadHandler.data ?? new byte[0] };
                    var headers = www.GetResponseHeaders();
                    if (headers != null) foreach (var kv in headers) res.Headers[kv.Key] = kv.Value;
                    tcs.TrySetResult(res);
                }
                finally
                {
                    www.Dispose();
                }
            };
            return tcs.Task;
        }
    }
}
