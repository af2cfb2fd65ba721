"""Imports PLY files with Blender's own PLY importer and reports what it made.

Run: blender -b --factory-startup --python ply_import.py -- <file.ply> [<file.ply> ...]
Prints one line per file: DA3JS_PLY {"file": ..., "vertices": n, "faces": n, "ok": true}
(or "ok": false with the error). Exits non-zero when any import failed.
Blender 3.4 (Debian bookworm) has only the legacy operator bpy.ops.import_mesh.ply;
3.6+ also has bpy.ops.wm.ply_import, used when the legacy one is missing.
"""
import json
import sys

import bpy

files = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
failed = False
for path in files:
    result = {"file": path, "blender": list(bpy.app.version)}
    try:
        bpy.ops.object.select_all(action="SELECT")
        bpy.ops.object.delete()
        before = set(bpy.data.objects.keys())
        if hasattr(bpy.ops.import_mesh, "ply"):
            status = bpy.ops.import_mesh.ply(filepath=path)
        else:
            status = bpy.ops.wm.ply_import(filepath=path)
        new = [bpy.data.objects[k] for k in bpy.data.objects.keys() if k not in before]
        meshes = [o for o in new if o.type == "MESH"]
        result["status"] = sorted(status)
        result["objects"] = len(new)
        result["vertices"] = sum(len(o.data.vertices) for o in meshes)
        result["faces"] = sum(len(o.data.polygons) for o in meshes)
        result["ok"] = "FINISHED" in status and len(meshes) == 1
        if meshes:
            v = meshes[0].data.vertices
            result["first"] = list(v[0].co) if len(v) else None
    except Exception as e:  # report, do not hide
        result["ok"] = False
        result["error"] = repr(e)
    failed = failed or not result["ok"]
    print("DA3JS_PLY " + json.dumps(result), flush=True)
sys.exit(1 if failed else 0)
