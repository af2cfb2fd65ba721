"""Job protocol v1 messages: building requests and reading answers (no network, no Blender).

The request and the job are the JSON of ``docs/job-protocol.md`` (camelCase; cameras OpenCV,
intrinsics in pixels). A test of ``@da3js/blender-bridge`` runs these builders and validates their
output with ``JobRequestSchema`` (and the edge API's schemas), and feeds the parsers jobs and error
bodies generated from ``JobSchema`` / ``ApiErrorBodySchema``.
"""

import base64
import json
import re
from dataclasses import dataclass, field
from typing import List, Optional

from ..errors import Da3Error
from . import contract

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


@dataclass
class InputFile:
    """One input to send: a local ``path`` (image or video) and how the service should take it.

    ``name`` is what the service shows in messages (the file name by default); ``kind`` is
    ``"image"`` or ``"video"``.
    """

    path: str
    name: str
    kind: str = "image"


@dataclass
class ReconstructOptions:
    """What the user chose in the Reconstruct panel (protocol names in the comments).

    ``process_res`` (``processRes``, pixels of the bounded side), ``process_res_method``
    (``processResMethod``), ``ref_view_strategy`` (``refViewStrategy``), ``use_ray_pose``
    (``useRayPose``), ``infer_gs`` (``inferGs``: also request 3D Gaussians, ``gs_ply``),
    ``video_fps`` (``video.fps``: frames per second of video to sample), ``max_frames``
    (``video.maxFrames``).
    """

    process_res: int = 504
    process_res_method: str = "upper_bound_resize"
    ref_view_strategy: str = "saddle_balanced"
    use_ray_pose: bool = False
    infer_gs: bool = False
    video_fps: Optional[float] = None
    max_frames: Optional[int] = None

    def formats(self):
        """The export formats the add-on imports: the full ``npz`` (cameras, depth, confidence,
        images) and ``gs_ply`` when Gaussians are requested."""
        return ["npz", "gs_ply"] if self.infer_gs else ["npz"]

    def to_json(self):
        """The request's ``options`` object."""
        if self.process_res_method not in contract.RESIZE_METHODS:
            raise Da3Error("BAD_VALUE", "processResMethod must be one of %s, got %r" % (", ".join(contract.RESIZE_METHODS), self.process_res_method))
        if self.ref_view_strategy not in contract.REF_VIEW_STRATEGIES:
            raise Da3Error("BAD_VALUE", "refViewStrategy must be one of %s, got %r" % (", ".join(contract.REF_VIEW_STRATEGIES), self.ref_view_strategy))
        res = int(self.process_res)
        if not contract.PROCESS_RES_MIN <= res <= contract.PROCESS_RES_MAX:
            raise Da3Error("BAD_VALUE", "processRes must be in [%d, %d], got %d" % (contract.PROCESS_RES_MIN, contract.PROCESS_RES_MAX, res))
        out = {"processRes": res, "processResMethod": self.process_res_method, "refViewStrategy": self.ref_view_strategy, "useRayPose": bool(self.use_ray_pose)}
        if self.infer_gs:
            out["inferGs"] = True
        video = {}
        if self.video_fps is not None:
            video["fps"] = float(self.video_fps)
        if self.max_frames is not None:
            video["maxFrames"] = int(self.max_frames)
        if video:
            out["video"] = video
        unknown = set(out) - contract.OPTION_KEYS
        if unknown:  # the contract changed under us: fail loudly rather than send what the service refuses
            raise Da3Error("BAD_VALUE", "options %s are not in the job protocol" % ", ".join(sorted(unknown)))
        return out


def safe_upload_name(name, index):
    """A name the edge API accepts for an upload (letters, digits, ``._-``), unique by index."""
    base = _SAFE_NAME.sub("_", name)[:200].strip(".") or "input"
    return "%04d_%s" % (index, base)


def check_inputs(inputs):
    """Raises ``NO_INPUT`` / ``BAD_VALUE`` unless ``inputs`` is 1..MAX_INPUTS images or one video."""
    if not inputs:
        raise Da3Error("NO_INPUT", "nothing to reconstruct: choose images, a folder or a movie clip")
    if len(inputs) > contract.MAX_INPUTS:
        raise Da3Error("BAD_VALUE", "%d inputs; a job takes at most %d" % (len(inputs), contract.MAX_INPUTS))
    if any(i.kind == "video" for i in inputs) and len(inputs) != 1:
        raise Da3Error("BAD_VALUE", "a video must be the only input of a job")


def inline_input(item, data):
    """A protocol input carrying the file's bytes inline (base64)."""
    out = {"data": base64.b64encode(data).decode("ascii"), "name": item.name[:255] or "input"}
    if item.kind != "image":
        out["kind"] = item.kind
    return out


def key_input(item, key):
    """An edge API input naming an object uploaded with ``POST /v1/uploads``."""
    out = {"key": key, "name": item.name[:255] or "input"}
    if item.kind != "image":
        out["kind"] = item.kind
    return out


def build_job_request(inputs_json, options, metadata=None):
    """The body of ``POST /v1/jobs``: ``inputs`` (from :func:`inline_input` / :func:`key_input`),
    ``options``, ``formats`` (see :meth:`ReconstructOptions.formats`) and ``metadata``."""
    body = {"inputs": list(inputs_json), "options": options.to_json(), "formats": options.formats()}
    if metadata:
        body["metadata"] = {str(k)[:64]: str(v)[:1024] for k, v in metadata.items()}
    return body


def build_upload_request(items, sizes, content_types):
    """The body of the edge API's ``POST /v1/uploads`` for ``items`` (names made safe)."""
    return {"files": [{"name": safe_upload_name(it.name, i), "size": int(sizes[i]), "contentType": content_types[i]} for i, it in enumerate(items)]}


@dataclass
class Upload:
    """One presigned upload from ``POST /v1/uploads``: PUT the bytes to ``url`` with ``headers``."""

    name: str
    key: str
    url: str
    method: str = "PUT"
    headers: dict = field(default_factory=dict)


def parse_upload_response(value):
    """The uploads of an edge API ``POST /v1/uploads`` answer; ``BAD_RESPONSE`` when malformed."""
    try:
        out = [Upload(name=str(u["name"]), key=str(u["key"]), url=str(u["url"]), method=str(u.get("method", "PUT")), headers=dict(u.get("headers") or {})) for u in value["uploads"]]
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise Da3Error("BAD_RESPONSE", "the upload answer is not what the edge API sends (%s)" % e) from None
    if not all(u.url.lower().startswith(("http://", "https://")) for u in out):
        raise Da3Error("BAD_RESPONSE", "an upload URL is not http(s)")
    return out


@dataclass
class JobFile:
    """A result file of a job (``name`` relative path, ``size`` bytes, lower-case hex ``sha256``)."""

    name: str
    size: int
    sha256: str
    content_type: str = "application/octet-stream"


@dataclass
class JobStatus:
    """The parts of a job (``GET /v1/jobs/:id``) the add-on uses."""

    id: str
    state: str
    stage: str
    fraction: float
    views: Optional[int] = None
    width: Optional[int] = None
    height: Optional[int] = None
    is_metric: Optional[bool] = None
    files: List[JobFile] = field(default_factory=list)
    error_code: Optional[str] = None
    error_message: Optional[str] = None
    retryable: Optional[bool] = None
    cancel_requested: bool = False

    @property
    def terminal(self):
        """True once the job is ``succeeded``, ``failed`` or ``canceled``."""
        return self.state in contract.TERMINAL_STATES

    def progress_text(self):
        """A one-line progress text for the status bar (``network 45%``)."""
        return "%s %d%%" % (self.stage, round(100 * self.fraction))


def parse_job(value):
    """A :class:`JobStatus` from a job's JSON; ``BAD_RESPONSE`` when it is not a protocol job."""
    try:
        state = value["state"]
        progress = value["progress"]
        status = JobStatus(id=str(value["id"]), state=str(state), stage=str(progress["stage"]), fraction=float(progress["fraction"]))
        if state not in contract.JOB_STATES or status.stage not in contract.JOB_STAGES:
            raise ValueError("unknown state %r or stage %r" % (state, status.stage))
        status.views = value.get("views")
        status.cancel_requested = bool(value.get("cancelRequested", False))
        result = value.get("result")
        if result is not None:
            status.width, status.height = int(result["width"]), int(result["height"])
            status.views = int(result["views"])
            status.is_metric = bool(result["isMetric"])
            status.files = [JobFile(name=str(f["name"]), size=int(f["size"]), sha256=str(f["sha256"]), content_type=str(f.get("contentType", "application/octet-stream"))) for f in result["files"]]
        error = value.get("error")
        if error is not None:
            status.error_code, status.error_message = str(error["code"]), str(error["message"])
            status.retryable = bool(error.get("retryable", False))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise Da3Error("BAD_RESPONSE", "the answer is not a job of protocol v%d (%s)" % (contract.PROTOCOL_VERSION, e)) from None
    if state == "succeeded" and result is None:
        raise Da3Error("BAD_RESPONSE", "job %s succeeded without a result" % status.id)
    return status


def error_from_body(status, body):
    """A :class:`~da3_blender.errors.Da3Error` for an HTTP error answer: the body's
    ``{"error": {"code", "message", "issues"?}}`` when it has one, else ``HTTP_<status>``."""
    try:
        err = json.loads(body.decode("utf-8"))["error"]
        message = str(err["message"])
        issues = err.get("issues") or []
        if issues:
            message += ": " + "; ".join("%s: %s" % (i.get("path"), i.get("message")) for i in issues[:5])
        return Da3Error(str(err["code"]), message, status=status)
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        text = body[:200].decode("utf-8", "replace").strip()
        return Da3Error("HTTP_%d" % status, "the service answered %d%s" % (status, (": " + text) if text else ""), status=status)
