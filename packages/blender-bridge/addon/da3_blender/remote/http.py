"""HTTP with the standard library (``urllib``): JSON calls, uploads and streamed downloads, with
every failure turned into a :class:`~da3_blender.errors.Da3Error`.

- an HTTP error answer → the service's ``{"error": {"code", "message"}}`` code (``UNAUTHORIZED``,
  ``QUEUE_FULL``, …) or ``HTTP_<status>``;
- no connection (refused, DNS, TLS) → ``UNREACHABLE``; no answer in time → ``TIMEOUT``;
- an answer that is not JSON where JSON is expected → ``BAD_RESPONSE``.

Loopback URLs bypass any configured proxy (``http_proxy`` would otherwise capture
``127.0.0.1``), and ``urllib`` sends ``Host: 127.0.0.1:<port>`` as the local service requires.
"""

import json
import socket
import urllib.error
import urllib.parse
import urllib.request

from ..errors import Da3Error
from .protocol import error_from_body

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_DEFAULT = urllib.request.build_opener()


def is_loopback(url):
    """True for ``http(s)://localhost``, ``127.x.x.x`` and ``[::1]`` URLs."""
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def _opener(url):
    """The direct opener for loopback URLs, the proxy-aware one otherwise."""
    return _DIRECT if is_loopback(url) else _DEFAULT


def open_url(method, url, token=None, body=None, headers=None, timeout=30.0):
    """Sends one request and returns the open response (status < 400); raises ``Da3Error``."""
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    req = urllib.request.Request(url, data=body, headers=h, method=method)
    try:
        return _opener(url).open(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        try:
            data = e.read()
        except OSError:
            data = b""
        raise error_from_body(e.code, data) from None
    except urllib.error.URLError as e:
        reason = e.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            raise Da3Error("TIMEOUT", "%s %s: no answer within %.0f s" % (method, _short(url), timeout)) from None
        text = getattr(reason, "strerror", None) or str(reason)
        raise Da3Error("UNREACHABLE", "cannot reach %s (%s)" % (_origin(url), text)) from None
    except (socket.timeout, TimeoutError):
        raise Da3Error("TIMEOUT", "%s %s: no answer within %.0f s" % (method, _short(url), timeout)) from None
    except (ConnectionError, OSError) as e:
        raise Da3Error("UNREACHABLE", "cannot reach %s (%s)" % (_origin(url), e.strerror or e)) from None
    except ValueError as e:
        raise Da3Error("BAD_VALUE", "bad URL %r (%s)" % (url, e)) from None


def call_json(method, url, token=None, payload=None, headers=None, timeout=30.0):
    """Sends ``payload`` as JSON (when given) and returns ``(status, parsed JSON answer)``."""
    h = dict(headers or {})
    body = None
    if payload is not None:
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        h["Content-Type"] = "application/json"
    h.setdefault("Accept", "application/json")
    with open_url(method, url, token, body, h, timeout) as res:
        try:
            data = res.read()
        except (socket.timeout, TimeoutError):
            raise Da3Error("TIMEOUT", "%s %s: the answer stalled" % (method, _short(url))) from None
        status = res.status
    try:
        return status, json.loads(data.decode("utf-8")) if data else None
    except (ValueError, UnicodeDecodeError):
        raise Da3Error("BAD_RESPONSE", "%s %s answered %d with something that is not JSON" % (method, _short(url), status)) from None


def download(url, token, dest, on_chunk=None, timeout=60.0, chunk_size=1 << 20):
    """Streams ``GET url`` into the file ``dest``; ``on_chunk(bytes_so_far)`` may raise to stop."""
    done = 0
    with open_url("GET", url, token, None, {"Accept": "*/*"}, timeout) as res, open(dest, "wb") as out:
        while True:
            try:
                chunk = res.read(chunk_size)
            except (socket.timeout, TimeoutError):
                raise Da3Error("TIMEOUT", "GET %s: the download stalled" % _short(url)) from None
            if not chunk:
                break
            out.write(chunk)
            done += len(chunk)
            if on_chunk:
                on_chunk(done)
    return done


def _origin(url):
    """``scheme://host:port`` of a URL (for messages: no path, no query with signatures)."""
    p = urllib.parse.urlsplit(url)
    return "%s://%s" % (p.scheme, p.netloc)


def _short(url):
    """A URL without its query (for messages)."""
    p = urllib.parse.urlsplit(url)
    return "%s://%s%s" % (p.scheme, p.netloc, p.path)
