"""The Reconstruct operator against real ``da3 backend`` processes (tiny model).

Run: blender -b --factory-startup -noaudio --python check_reconstruct.py -- <zip> <config.json>

config.json: ``url``, ``token`` (a backend the test started), ``images`` (paths), ``folder``,
``video`` (a movie file or ""), ``slow_url`` (an image URL the test's server never finishes
sending: a job fetching it blocks the backend's single runner), ``results`` (results folder),
``da3_command`` / ``model`` / ``state_dir`` (for the add-on to start a backend of its own).

In ``blender -b`` there are no window events, so the operator's ``execute`` waits for the job;
where the test needs to act while a job runs (progress, cancel) it calls the same
``start_job`` / ``finish_job`` the modal operator uses.
"""

import json
import os
import sys
import time
import urllib.request
from importlib import import_module

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

import bpy  # noqa: E402


def call(method, url, token, payload=None):
    """A plain urllib request (the test's own, not the add-on's client)."""
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=10) as res:
        return json.loads(res.read())


def operator(fn, **kw):
    """Runs an operator; returns ``(status set or None, error report text or None)``."""
    try:
        return sorted(fn(**kw)), None
    except RuntimeError as e:  # an ERROR report, as Blender hands it to scripts
        return None, str(e).strip()


def summary_of(objs):
    pts = [o for o in objs if o.type == "MESH" and "da3_points" in o]
    cams = sorted((o for o in objs if o.type == "CAMERA"), key=lambda o: o.name)
    return {
        "types": sorted(o.type for o in objs),
        "points": len(pts[0].data.vertices) if pts else 0,
        "cameras": len(cams),
        "backgrounds": sum(len(c.data.background_images) for c in cams),
    }, cams


def compare_with_npz(cams, out_dir):
    """Cameras of an import vs the npz the backend produced (K through Blender's projection)."""
    with np.load(os.path.join(out_dir, "exports", "npz", "results.npz")) as z:
        K, E, depth = z["intrinsics"].astype(np.float64), z["extrinsics"].astype(np.float64), z["depth"]
    n, h, w = depth.shape
    k_err, m_err = common.camera_errors(cams, K, E, w, h)
    valid = int((np.isfinite(depth) & (depth > 0)).sum())
    return {"views": int(n), "size": [int(w), int(h)], "valid_pixels": valid, "k_err": k_err, "m_err": m_err}


def main():
    zip_path, cfg_path = common.args()[:2]
    common.install(zip_path)
    cfg = json.load(open(cfg_path))
    ops = import_module(common.MODULE + ".blender.ops_reconstruct")
    prefs = bpy.context.preferences.addons[common.MODULE].preferences
    prefs.local_url, prefs.local_token, prefs.results_dir = cfg["url"], cfg["token"], cfg["results"]
    s = bpy.context.scene.da3
    s.process_res = 84
    out = {}

    # 1. Images: progress seen from the main thread while the background thread works.
    common.clear_scene()
    s.source = "IMAGES"
    for p in cfg["images"]:
        s.images.add().filepath = p
    before = {o.name for o in bpy.data.objects}
    ui = import_module(common.MODULE + ".blender.ui")
    drawn = {"idle": common.draw(ui.VIEW3D_PT_da3_reconstruct.draw, bpy.context)}
    job = ops.start_job(bpy.context)
    drawn["running"] = common.draw(ui.VIEW3D_PT_da3_reconstruct.draw, bpy.context)
    drawn["status_bar"] = common.draw(ui.draw_status, bpy.context)
    snaps = []
    while not job.finished:
        snaps.append(job.snapshot())
        time.sleep(0.02)
    snaps.append(job.snapshot())
    level, message, summary = ops.finish_job(bpy.context, job)
    objs = common.new_objects(before)
    sm, cams = summary_of(objs)
    bpy.context.view_layer.objects.active = cams[0]
    drawn["scene_panel"] = common.draw(ui.VIEW3D_PT_da3_scene.draw, bpy.context) if ui.VIEW3D_PT_da3_scene.poll(bpy.context) else None
    for source in ("FOLDER", "MOVIE"):
        s.source = source
        drawn[source] = common.draw(ui.VIEW3D_PT_da3_reconstruct.draw, bpy.context)
    s.mode = "REMOTE"
    drawn["remote"] = common.draw(ui.VIEW3D_PT_da3_reconstruct.draw, bpy.context)
    s.mode, s.source = "LOCAL", "IMAGES"
    prefs_log = common.draw(type(prefs).draw, bpy.context, prefs)
    fractions = [x["fraction"] for x in snaps]
    with open(os.path.join(job.out_dir, "job.json")) as f:
        job_json = json.load(f)
    out["images"] = dict(
        sm,
        level=level,
        message=message,
        states=sorted({x["state"] for x in snaps}),
        messages=sorted({x["message"].split(" (")[0] for x in snaps if x["state"] == "waiting"}),
        fractions_monotonic=all(b >= a for a, b in zip(fractions, fractions[1:])),
        last_fraction=fractions[-1],
        job_json=job_json,
        files=sorted(os.path.relpath(os.path.join(d, f), job.out_dir) for d, _, fs in os.walk(job.out_dir) for f in fs),
        status=s.status,
        npz=compare_with_npz(cams, job.out_dir),
        drawn={k: [list(x) for x in v] if v is not None else None for k, v in drawn.items()},
        prefs_drawn=len(prefs_log),
    )

    # 1b. The UI path: the modal operator's timer events (headless Blender never invokes, so the
    # test feeds TIMER events to the operator's own modal() with a real window-manager timer).
    common.clear_scene()
    folder = os.path.dirname(cfg["images"][0])
    chosen = operator(bpy.ops.da3.choose_images, directory=folder + os.sep, files=[{"name": os.path.basename(p)} for p in reversed(cfg["images"][:2])])
    out["choose_images"] = {"status": chosen[0], "images": [i.filepath for i in s.images], "source": s.source}
    modal_op = ops.DA3_OT_reconstruct

    class Stand:
        """Stands in for the running operator instance (Blender cannot instantiate operators)."""

        reports = []

        def report(self, level, message):
            self.reports.append([sorted(level), message])

    stand = Stand()
    stand._report = modal_op._report.__get__(stand)
    stand._job = ops.start_job(bpy.context)
    stand._timer = bpy.context.window_manager.event_timer_add(0.25, window=None)
    before = {o.name for o in bpy.data.objects}
    ignored = modal_op.modal(stand, bpy.context, type("Event", (), {"type": "MOUSEMOVE"})())
    ticks, result = 0, {"PASS_THROUGH"}
    while result == {"PASS_THROUGH"} and ticks < 2000:
        result = modal_op.modal(stand, bpy.context, type("Event", (), {"type": "TIMER"})())
        ticks += 1
        time.sleep(0.02)
    sm, _ = summary_of(common.new_objects(before))
    out["modal"] = dict(sm, ignored=sorted(ignored), result=sorted(result), ticks=ticks, reports=stand.reports, active_jobs=len(ops.ACTIVE_JOBS))

    # 2. A folder of images, through the operator (execute waits in blender -b).
    common.clear_scene()
    s.source, s.folder = "FOLDER", cfg["folder"]
    before = {o.name for o in bpy.data.objects}
    status, error = operator(bpy.ops.da3.reconstruct)
    sm, cams = summary_of(common.new_objects(before))
    out["folder"] = dict(sm, status=status, error=error, last=s.status)

    # 3. A movie clip, sampled every `frame_step` frames (one video input).
    if cfg["video"]:
        common.clear_scene()
        clip = bpy.data.movieclips.load(cfg["video"])
        s.source, s.movie_clip, s.frame_step, s.max_frames = "MOVIE", clip, 2, 8
        before = {o.name for o in bpy.data.objects}
        status, error = operator(bpy.ops.da3.reconstruct)
        sm, _ = summary_of(common.new_objects(before))
        out["movie"] = dict(sm, status=status, error=error, clip_fps=clip.fps, clip_frames=clip.frame_duration)

    # 4. Typed errors as reports: nothing chosen; a wrong token (401 from the service).
    s.source = "IMAGES"
    s.images.clear()
    status, error = operator(bpy.ops.da3.reconstruct)
    out["no_input"] = {"status": status, "error": error, "code": s.last_error_code}
    for p in cfg["images"][:2]:
        s.images.add().filepath = p
    prefs.local_token = "not-the-right-token-123"
    common.clear_scene()
    status, error = operator(bpy.ops.da3.reconstruct)
    out["bad_token"] = {"status": status, "error": error, "code": s.last_error_code, "objects": len(bpy.data.objects)}
    prefs.local_token = cfg["token"]

    # 5. Cancel: a job fetching a never-ending URL keeps the backend busy, so ours waits queued.
    blocker = call("POST", cfg["url"] + "/v1/jobs", cfg["token"], {"inputs": [{"url": cfg["slow_url"]}], "options": {"processRes": 84}})
    common.clear_scene()
    job = ops.start_job(bpy.context)
    deadline = time.time() + 30
    while job.snapshot()["state"] != "waiting" and not job.finished and time.time() < deadline:
        time.sleep(0.02)
    queued = job.snapshot()
    cancel_status, _ = operator(bpy.ops.da3.cancel_reconstruct)
    ops.wait_for(job, 30)
    level, message, _ = ops.finish_job(bpy.context, job)
    remote = call("GET", cfg["url"] + "/v1/jobs/" + job.job_id, cfg["token"]) if job.job_id else {}
    out["cancel"] = {
        "state_before": queued["state"],
        "cancel_status": cancel_status,
        "level": level,
        "message": message,
        "state": job.snapshot()["state"],
        "remote_state": remote.get("state"),
        "objects": len(bpy.data.objects),
        "job_json": os.path.exists(os.path.join(job.out_dir, "job.json")),
        "status": s.status,
    }
    call("DELETE", cfg["url"] + "/v1/jobs/" + blocker["id"], cfg["token"])

    # 6. Remote mode with a GPU worker URL (the same protocol as da3 backend).
    s.mode, prefs.remote_kind, prefs.worker_url, prefs.worker_token = "REMOTE", "WORKER", cfg["url"], cfg["token"]
    common.clear_scene()
    before = {o.name for o in bpy.data.objects}
    status, error = operator(bpy.ops.da3.reconstruct)
    sm, _ = summary_of(common.new_objects(before))
    out["worker"] = dict(sm, status=status, error=error)
    s.mode = "LOCAL"

    # 7. The add-on starts its own backend, reconstructs with it, stops it; then a clear report.
    prefs.da3_command, prefs.local_model, prefs.local_port, prefs.state_dir = cfg["da3_command"], cfg["model"], 0, cfg["state_dir"]
    prefs.local_url, prefs.local_token = "", ""
    started, error = operator(bpy.ops.da3.start_backend)
    url = ops.BACKEND.url
    ready = False
    deadline = time.time() + 60
    while not ready and time.time() < deadline:
        operator(bpy.ops.da3.check_backend)
        ready = s.status.startswith("Service: ready")
        time.sleep(0.1)
    common.clear_scene()
    before = {o.name for o in bpy.data.objects}
    status, rec_error = operator(bpy.ops.da3.reconstruct)
    sm, _ = summary_of(common.new_objects(before))
    stopped, _ = operator(bpy.ops.da3.stop_backend)
    running_after_stop = ops.BACKEND.running
    prefs.local_url = url or ""
    common.clear_scene()
    status_down, error_down = operator(bpy.ops.da3.reconstruct)
    out["own_backend"] = dict(
        sm,
        started=started,
        start_error=error,
        url=url,
        ready=ready,
        token_file=os.path.exists(os.path.join(cfg["state_dir"], "token")),
        status=status,
        error=rec_error,
        stopped=stopped,
        running_after_stop=running_after_stop,
        down_status=status_down,
        down_error=error_down,
        down_code=s.last_error_code,
        down_objects=len(bpy.data.objects),
    )
    return out


common.run(main)
