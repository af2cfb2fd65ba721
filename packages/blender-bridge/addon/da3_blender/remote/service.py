"""Clients of the three services that speak job protocol v1.

- :class:`JobService`: ``da3 backend`` (local) and apps/gpu-worker (remote) — inputs inline;
- :class:`EdgeService`: the edge API — inputs uploaded first (``POST /v1/uploads`` + ``PUT`` to
  each presigned URL), then named by ``key``.

Both: ``submit`` → job id, ``status`` → :class:`~da3_blender.remote.protocol.JobStatus`,
``cancel``, ``download``. Every method blocks (they run in the job's background thread) and
raises :class:`~da3_blender.errors.Da3Error`.
"""

import hashlib
import mimetypes
import os
import urllib.parse
import uuid

from ..errors import Da3Error
from . import contract, http, protocol


def _join(base, route):
    """Base URL + route."""
    return base.rstrip("/") + route


class JobService:
    """A ``da3 backend`` or gpu-worker at ``base_url`` with bearer ``token`` (inline inputs)."""

    kind = "backend"

    def __init__(self, base_url, token, timeout=30.0):
        """A client of the service at ``base_url`` (http/https) with bearer ``token``; ``timeout`` seconds per call."""
        if not base_url.lower().startswith(("http://", "https://")):
            raise Da3Error("BAD_VALUE", "the service URL must start with http:// or https://, got %r" % base_url)
        self.base_url = base_url.rstrip("/")
        self.token = token or None
        self.timeout = timeout

    def url(self, route):
        """Absolute URL of a route (``/v1/jobs`` …)."""
        return _join(self.base_url, route)

    def health(self):
        """``GET /healthz`` → the answer (``{ ok, protocolVersion, loading? }``)."""
        return http.call_json("GET", self.url(contract.ENDPOINTS["health"]), timeout=min(self.timeout, 5.0))[1]

    def ready(self):
        """True when ``GET /readyz`` answers 200 (False while the model loads: 503 ``LOADING``)."""
        try:
            http.call_json("GET", self.url(contract.ENDPOINTS["ready"]), timeout=min(self.timeout, 5.0))
            return True
        except Da3Error as e:
            if e.code in ("LOADING",) or e.status == 503:
                return False
            raise

    def prepare_inputs(self, items, on_progress=None, check_cancel=None):
        """Protocol inputs for ``items`` (here: inline base64)."""
        out = []
        for i, item in enumerate(items):
            if check_cancel:
                check_cancel()
            out.append(protocol.inline_input(item, _read(item.path)))
            if on_progress:
                on_progress(i + 1, len(items))
        return out

    def submit(self, body):
        """``POST /v1/jobs`` with an ``Idempotency-Key`` (so a retried submit never runs twice) → job."""
        key = body.get("idempotencyKey") or "blender-" + uuid.uuid4().hex
        _, job = http.call_json("POST", self.url(contract.ENDPOINTS["jobs"]), self.token, body, {"Idempotency-Key": key}, self.timeout)
        return protocol.parse_job(job)

    def status(self, job_id):
        """``GET /v1/jobs/:id`` → :class:`~da3_blender.remote.protocol.JobStatus`."""
        return protocol.parse_job(http.call_json("GET", self.url("%s/%s" % (contract.ENDPOINTS["jobs"], urllib.parse.quote(job_id))), self.token, timeout=self.timeout)[1])

    def cancel(self, job_id):
        """``DELETE /v1/jobs/:id`` → the job (``canceled``, or ``cancelRequested`` while running)."""
        return protocol.parse_job(http.call_json("DELETE", self.url("%s/%s" % (contract.ENDPOINTS["jobs"], urllib.parse.quote(job_id))), self.token, timeout=self.timeout)[1])

    def download(self, job_id, file, folder, on_chunk=None):
        """Downloads a result file into ``folder`` (same relative path) and checks its size and
        sha256 against the job's manifest (``CORRUPT_DOWNLOAD`` otherwise). Returns the path."""
        parts = file.name.split("/")
        if any(p in ("", ".", "..") for p in parts) or "\\" in file.name:
            raise Da3Error("BAD_RESPONSE", "unsafe result file name %r" % file.name)
        dest = os.path.join(folder, *parts)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        route = "%s/%s/files/%s" % (contract.ENDPOINTS["jobs"], urllib.parse.quote(job_id), urllib.parse.quote(file.name))
        size = http.download(self.url(route), self.token, dest, on_chunk, timeout=max(self.timeout, 60.0))
        if size != file.size or _sha256(dest) != file.sha256:
            raise Da3Error("CORRUPT_DOWNLOAD", "%s: got %d bytes, the job lists %d (or the sha256 differs)" % (file.name, size, file.size))
        return dest


class EdgeService(JobService):
    """The edge API at ``base_url`` with API key ``token``: inputs go through presigned uploads."""

    kind = "edge"

    def prepare_inputs(self, items, on_progress=None, check_cancel=None):
        """``POST /v1/uploads``, then ``PUT`` each file to its URL; returns ``{key}`` inputs."""
        sizes = [os.path.getsize(it.path) for it in items]
        types = [mimetypes.guess_type(it.path)[0] or "application/octet-stream" for it in items]
        _, answer = http.call_json("POST", self.url(contract.ENDPOINTS["uploads"]), self.token, protocol.build_upload_request(items, sizes, types), timeout=self.timeout)
        uploads = protocol.parse_upload_response(answer)
        if len(uploads) != len(items):
            raise Da3Error("BAD_RESPONSE", "asked for %d uploads, got %d" % (len(items), len(uploads)))
        out = []
        for i, (item, up) in enumerate(zip(items, uploads)):
            if check_cancel:
                check_cancel()
            headers = dict(up.headers)
            headers.setdefault("Content-Type", types[i])
            with http.open_url(up.method, up.url, None, _read(item.path), headers, timeout=max(self.timeout, 120.0)):
                pass
            out.append(protocol.key_input(item, up.key))
            if on_progress:
                on_progress(i + 1, len(items))
        return out


def _read(path):
    """A local input file's bytes; ``NO_INPUT`` when it cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise Da3Error("NO_INPUT", "cannot read %s (%s)" % (path, e.strerror or e)) from None


def _sha256(path):
    """Lower-case hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
