"""The Reconstruct operator in remote mode against the edge API (``wrangler dev`` + a GPU worker
with the tiny model, started by the test): uploads through presigned URLs, ``{key}`` inputs,
polling, downloads from R2, import; and a wrong API key reported as ``[UNAUTHORIZED]``.

Run: blender -b --factory-startup -noaudio --python check_edge.py -- <zip> <config.json>
config.json: ``edge_url``, ``api_key``, ``images``, ``results``.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

import bpy  # noqa: E402


def run_operator():
    try:
        return sorted(bpy.ops.da3.reconstruct()), None
    except RuntimeError as e:
        return None, str(e).strip()


def main():
    zip_path, cfg_path = common.args()[:2]
    common.install(zip_path)
    cfg = json.load(open(cfg_path))
    prefs = bpy.context.preferences.addons[common.MODULE].preferences
    prefs.remote_kind, prefs.edge_url, prefs.edge_api_key, prefs.results_dir = "EDGE", cfg["edge_url"], cfg["api_key"], cfg["results"]
    s = bpy.context.scene.da3
    s.mode, s.source, s.process_res = "REMOTE", "IMAGES", 84
    for p in cfg["images"]:
        s.images.add().filepath = p
    out = {}

    bpy.ops.da3.check_backend()
    out["check"] = s.status
    common.clear_scene()
    before = {o.name for o in bpy.data.objects}
    status, error = run_operator()
    objs = common.new_objects(before)
    cams = [o for o in objs if o.type == "CAMERA"]
    folder = s.last_result
    job = json.load(open(os.path.join(folder, "job.json"))) if folder and os.path.exists(os.path.join(folder, "job.json")) else None
    out["run"] = {
        "status": status,
        "error": error,
        "cameras": len(cams),
        "backgrounds": sum(len(c.data.background_images) for c in cams),
        "points": sum(len(o.data.vertices) for o in objs if o.type == "MESH"),
        "job": job,
        "last": s.status,
    }

    prefs.edge_api_key = "da3_not_a_key"
    common.clear_scene()
    status, error = run_operator()
    out["bad_key"] = {"status": status, "error": error, "code": s.last_error_code, "objects": len(bpy.data.objects)}
    return out


common.run(main)
