"""Helpers shared by the Blender-side test scripts (run inside ``blender -b --factory-startup``).

The add-on is installed from the built zip into ``$BLENDER_USER_SCRIPTS`` (a temp folder the test
made) exactly as a user installs it, then enabled. Every script prints one line
``DA3JS_RESULT <json>`` with its measurements; the vitest side asserts on them.
"""

import json
import os
import sys
import traceback

import numpy as np

np.bool = bool  # Blender 3.4's bundled modules use np.bool (removed in numpy 1.24)

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


def attribute(mesh, name, field="value", width=1, dtype=np.float32):
    attr = mesh.attributes[name]
    out = np.zeros(len(attr.data) * width, dtype=dtype)
    attr.data.foreach_get(field, out)
    return out.reshape(-1, width) if width > 1 else out


def vertices(mesh):
    out = np.zeros(len(mesh.vertices) * 3, dtype=np.float64)
    mesh.vertices.foreach_get("co", out)
    return out.reshape(-1, 3)


def evaluated_points(obj, with_attributes=False):
    """``[M, 3]`` positions (object space) of the point cloud the object's modifier makes (and,
    with ``with_attributes``, the names of its attributes)."""
    dg = bpy.context.evaluated_depsgraph_get()
    dg.update()
    for inst in dg.object_instances:
        if inst.object.original == obj and inst.object.type == "POINTCLOUD":
            pc = inst.object.data
            out = np.zeros(len(pc.points) * 3)
            pc.points.foreach_get("co", out)
            names = sorted(a.name for a in pc.attributes if not a.name.startswith("."))
            return (out.reshape(-1, 3), names) if with_attributes else out.reshape(-1, 3)
    return (np.zeros((0, 3)), []) if with_attributes else np.zeros((0, 3))


# OpenCV world (x right, y down, z forward) → Blender world (Z up): (x, y, z) → (x, z, −y).
W_CV = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])


def expected_matrix_world(e):
    """Blender camera matrix_world of OpenCV world→camera ``e``: W · inv([e; 0 0 0 1]) · diag(1, −1, −1, 1)."""
    m = np.eye(4)
    m[:3, :4] = e
    w = np.eye(4)
    w[:3, :3] = W_CV
    return w @ np.linalg.inv(m) @ np.diag([1.0, -1.0, -1.0, 1.0])


def world_points(K, e, depth):
    """``[H, W, 3]`` OpenCV world points of a depth map (pixel centres at integer coordinates)."""
    h, w = depth.shape
    u, v = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    rays = np.stack([u, v, np.ones_like(u)], -1) @ np.linalg.inv(K).T
    cam = rays * depth[..., None]
    m = np.eye(4)
    m[:3, :4] = e
    c2w = np.linalg.inv(m)
    return cam @ c2w[:3, :3].T + c2w[:3, 3]


def intrinsics_from_blender(cam, scene, w, h):
    """K implied by Blender's own projection matrix of ``cam`` at the scene's size and aspect."""
    r = scene.render
    p = np.array(cam.calc_matrix_camera(bpy.context.evaluated_depsgraph_get(), x=w, y=h, scale_x=r.pixel_aspect_x, scale_y=r.pixel_aspect_y))
    fx, fy = w / 2 * p[0, 0], h / 2 * p[1, 1]
    cx, cy = w / 2 * (1 - p[0, 2]) - 0.5, h / 2 * (1 + p[1, 2]) - 0.5
    return np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]])


def camera_errors(cameras, K, E, width, height):
    """Max relative error of the intrinsics Blender projects with, and max |matrix_world − expected|,
    over ``cameras`` (each made the scene camera with the add-on's Use Camera first)."""
    scene = bpy.context.scene
    k_err, m_err = 0.0, 0.0
    for i, cam in enumerate(cameras):
        bpy.ops.da3.use_camera(name=cam.name)
        Kb = intrinsics_from_blender(cam, scene, width, height)
        k_err = max(k_err, float((np.abs(Kb - K[i])[:2, :] / np.array([[K[i][0, 0]], [K[i][1, 1]]])).max()))
        m_err = max(m_err, float(np.abs(np.array(cam.matrix_world) - expected_matrix_world(E[i])).max()))
    return k_err, m_err


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


class LayoutRecorder:
    """Stands in for ``UILayout`` so a panel's ``draw`` can run in ``blender -b`` (which has no
    windows). It records what would be drawn and checks every referenced property and operator
    exists, so a typo in a panel fails the test instead of the user's sidebar."""

    def __init__(self, log=None):
        self.log = [] if log is None else log

    def _sub(self, *_a, **_k):
        return LayoutRecorder(self.log)

    row = column = box = split = _sub

    def label(self, text="", **_k):
        self.log.append(("label", text))

    def prop(self, data, name, **_k):
        if not name.startswith('["') and name not in data.bl_rna.properties:
            raise AttributeError("%s has no property %r" % (data.bl_rna.identifier, name))
        self.log.append(("prop", name))

    def template_ID(self, data, name, **_k):
        self.prop(data, name)

    def operator(self, idname, **_k):
        module, name = idname.split(".")
        getattr(getattr(bpy.ops, module), name).get_rna_type()  # raises for an unknown operator
        self.log.append(("operator", idname))

        class _Props:
            pass

        return _Props()


def draw(draw_fn, context, owner=None):
    """Runs a panel/header/preferences ``draw`` with a :class:`LayoutRecorder` (other attributes
    of ``self`` come from ``owner``); returns what it drew."""

    class _Self:
        layout = LayoutRecorder()

        def __getattr__(self, name):
            return getattr(owner, name)

    me = _Self()
    draw_fn(me, context)
    return me.layout.log
