"""Helpers shared by the Blender-side test scripts (run inside ``blender -b --factory-startup``).

The add-on is installed from the built zip into ``$BLENDER_USER_SCRIPTS`` (a temp folder the test
made) exactly as a user installs it, then enabled. Every script prints one line
``DA3JS_RESULT <json>`` with its measurements; the vitest side asserts on them.
"""

import json
import os
import sys
import traceback

import numpy

numpy.bool = bool  # Blender 3.4's bundled modules use numpy.bool (removed in numpy 1.24)

import addon_utils  # noqa: E402
import bpy  # noqa: E402

MODULE = "da3_blender"


def args():
    """The script's arguments after ``--``."""
    return sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []


def install(zip_path):
    """Installs and enables the add-on from ``zip_path``; returns the enabled module."""
    scripts = os.environ.get("BLENDER_USER_SCRIPTS", "")
    if not scripts or not os.path.realpath(bpy.utils.user_resource("SCRIPTS")).startswith(os.path.realpath(scripts)):
        raise SystemExit("BLENDER_USER_SCRIPTS must point at the test's temp folder")
    bpy.ops.preferences.addon_install(filepath=zip_path)
    errors = []
    mod = addon_utils.enable(MODULE, default_set=True, handle_error=lambda e: errors.append(traceback.format_exc()))
    if mod is None:
        raise SystemExit("could not enable %s: %s" % (MODULE, errors))
    return mod


def clear_scene():
    """Removes every object, collection and data-block an import may have made."""
    for coll in (bpy.data.objects, bpy.data.meshes, bpy.data.cameras, bpy.data.images, bpy.data.materials, bpy.data.node_groups, bpy.data.pointclouds if hasattr(bpy.data, "pointclouds") else []):
        for item in list(coll):
            if getattr(item, "type", None) != "RENDER_RESULT":
                coll.remove(item)
    for c in list(bpy.data.collections):
        bpy.data.collections.remove(c)


def new_objects(before):
    return [o for o in bpy.data.objects if o.name not in before]


def attribute(mesh, name, field="value", width=1, dtype=numpy.float32):
    attr = mesh.attributes[name]
    out = numpy.zeros(len(attr.data) * width, dtype=dtype)
    attr.data.foreach_get(field, out)
    return out.reshape(-1, width) if width > 1 else out


def vertices(mesh):
    out = numpy.zeros(len(mesh.vertices) * 3, dtype=numpy.float64)
    mesh.vertices.foreach_get("co", out)
    return out.reshape(-1, 3)


def evaluated_points(obj):
    """``[M, 3]`` positions (object space) of the point cloud the object's modifier makes."""
    dg = bpy.context.evaluated_depsgraph_get()
    dg.update()
    for inst in dg.object_instances:
        if inst.object.original == obj and inst.object.type == "POINTCLOUD":
            pts = inst.object.data.points
            out = numpy.zeros(len(pts) * 3)
            pts.foreach_get("co", out)
            return out.reshape(-1, 3)
    return numpy.zeros((0, 3))


def emit(result):
    print("DA3JS_RESULT " + json.dumps(result), flush=True)


def run(main):
    """Runs ``main()`` and emits its result; an exception becomes ``{"ok": false, "error": …}``."""
    try:
        result = main()
        result["ok"] = True
    except BaseException as e:  # report everything to the test, then fail
        result = {"ok": False, "error": "%s: %s" % (type(e).__name__, e), "traceback": traceback.format_exc()}
    emit(result)
    sys.exit(0 if result["ok"] else 1)
