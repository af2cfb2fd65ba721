"""Imports GLB files with Blender's own glTF importer and reports what it made.

Run: blender -b --factory-startup --python glb_import.py -- <file.glb> [<file.glb> ...]
Prints one line per file: DA3JS_GLB {"file": ..., "ok": true, "objects": [{"name", "type",
"vertices", "edges", "faces", "colors"}...]} (or "ok": false with the error). Exits non-zero when
any import failed.

Blender 3.4's importer (Debian bookworm) calls numpy.bool, removed in numpy 1.24:
`numpy.bool = bool` restores it before the import.
"""
import json
import sys

import numpy

numpy.bool = bool

import bpy  # noqa: E402

files = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
failed = False
for path in files:
    result = {"file": path, "blender": list(bpy.app.version)}
    try:
        bpy.ops.wm.read_factory_settings(use_empty=True)
        status = bpy.ops.import_scene.gltf(filepath=path)
        objects = []
        for o in bpy.data.objects:
            entry = {"name": o.name, "type": o.type}
            if o.type == "MESH":
                me = o.data
                entry["vertices"] = len(me.vertices)
                entry["edges"] = len(me.edges)
                entry["faces"] = len(me.polygons)
                colors = getattr(me, "color_attributes", None) or getattr(me, "vertex_colors", [])
                entry["colors"] = [c.name for c in colors]
                entry["attributes"] = sorted(a.name for a in me.attributes)
            objects.append(entry)
        result["status"] = sorted(status)
        result["objects"] = objects
        result["ok"] = "FINISHED" in status
    except Exception as e:  # report, do not hide
        result["ok"] = False
        result["error"] = repr(e)
    failed = failed or not result["ok"]
    print("DA3JS_GLB " + json.dumps(result), flush=True)
sys.exit(1 if failed else 0)
