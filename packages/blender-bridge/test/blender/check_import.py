"""Installs the add-on zip and imports every fixture file; measures the result against the
prediction's own arrays (written by the test as raw float32, independent of the add-on's readers).

Run: blender -b --factory-startup -noaudio --python check_import.py -- <zip> <expected.json> <render dir>

Expectations are computed here from first principles (OpenCV pinhole maths) and from Blender's
own camera code (``world_to_camera_view``, ``calc_matrix_camera``), not from the add-on's helpers.
"""

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
from common import W_CV, expected_matrix_world, intrinsics_from_blender, world_points  # noqa: E402

import bpy  # noqa: E402
from bpy_extras.object_utils import world_to_camera_view  # noqa: E402
from mathutils import Vector  # noqa: E402

def import_file(**kw):
    before = {o.name for o in bpy.data.objects}
    status = bpy.ops.import_scene.da3(**kw)
    return status, common.new_objects(before)


def by_type(objs, kind):
    return sorted((o for o in objs if o.type == kind), key=lambda o: o.name)


def main():
    zip_path, expected_path, render_dir = common.args()[:3]
    mod = common.install(zip_path)
    ex = json.load(open(expected_path))
    n, h, w = ex["views"], ex["height"], ex["width"]
    K = np.array(ex["intrinsics"], dtype=np.float64).reshape(n, 3, 3)
    E = np.array(ex["extrinsics"], dtype=np.float64).reshape(n, 3, 4)
    depth = np.fromfile(ex["depth"], np.float32).reshape(n, h, w)
    conf = np.fromfile(ex["conf"], np.float32).reshape(n, h, w)
    image = np.fromfile(ex["image"], np.uint8).reshape(n, h, w, 3)
    files = ex["files"]
    out = {"blender": list(bpy.app.version), "bl_info_version": list(addon_utils_version(mod))}
    installed = os.path.dirname(mod.__file__)
    out["installed_files"] = sorted(os.listdir(installed))
    with open(os.path.join(installed, "blender_manifest.toml")) as f:
        out["manifest"] = f.read()
    scene = bpy.context.scene

    # ---- results.npz (full): points, cameras, images ----------------------------------------
    common.clear_scene()
    status, objs = import_file(filepath=files["npz"], depth_meshes=True, depth_step=1, conf_percentile=40.0)
    r = {"status": sorted(status), "types": sorted(o.type for o in objs)}
    root = next(o for o in objs if o.type == "EMPTY")
    r["root"] = {"is_root": root.da3.is_root, "is_metric": root.da3.is_metric, "scale": root.da3.scale}
    pts = next(o for o in objs if o.type == "MESH" and "da3_points" in o)
    me = pts.data
    valid = np.isfinite(depth) & (depth > 0)
    expected_pts = np.concatenate([world_points(K[i], E[i], depth[i].astype(np.float64))[valid[i]] for i in range(n)]) @ W_CV.T
    got = common.vertices(me)
    col = common.attribute(me, "color", "color", 4)
    rank = common.attribute(me, "conf_rank")
    view = common.attribute(me, "view", dtype=np.int32)
    r["points"] = {
        "count": len(me.vertices),
        "expected_count": int(valid.sum()),
        "position_max_error": float(np.abs(got - expected_pts).max()),
        "position_scale": float(np.abs(expected_pts).max()),
        "attributes": sorted(a.name for a in me.attributes if not a.name.startswith(".")),
        "color_range": [float(col[:, :3].min()), float(col[:, :3].max())],
        "conf_range": [float(common.attribute(me, "conf").min()), float(common.attribute(me, "conf").max())],
        "expected_conf_range": [float(conf[valid].min()), float(conf[valid].max())],
        "conf_rank_range": [float(rank.min()), float(rank.max())],
        "view_counts": [int((view == i).sum()) for i in range(n)],
        "expected_view_counts": [int(valid[i].sum()) for i in range(n)],
        "footprint_min": float(common.attribute(me, "da3_footprint").min()),
        "modifiers": [m.type for m in pts.modifiers],
    }
    # The live filter: the evaluated point cloud holds exactly conf >= percentile(conf, p), with
    # the confidence the npz stores (rounded to 2 decimals like the reference's export).
    conf = np.round(conf, 2)
    threshold = np.percentile(conf[valid], 40.0)
    filtered, r["points"]["evaluated_attributes"] = common.evaluated_points(pts, with_attributes=True)
    r["points"]["filtered_count"] = len(filtered)
    r["points"]["expected_filtered_count"] = int((conf[valid] >= threshold).sum())
    mod_gn = pts.modifiers[0]
    set_input(pts, "View", 1)
    r["points"]["view1_count"] = len(common.evaluated_points(pts))
    r["points"]["expected_view1_count"] = int(((conf[1] >= threshold) & valid[1]).sum())
    set_input(pts, "View", -1)
    set_input(pts, "Conf Percentile", 90.0)
    r["points"]["p90_count"] = len(common.evaluated_points(pts))
    r["points"]["expected_p90_count"] = int((conf[valid] >= np.percentile(conf[valid], 90.0)).sum())
    set_input(pts, "Conf Percentile", 40.0)
    r["points"]["modifier_group"] = mod_gn.node_group.name

    # Cameras: Blender's own projection matrix and world_to_camera_view against K and extrinsics.
    cams = by_type(objs, "CAMERA")
    r["cameras"] = []
    k_err, m_err, proj_err, checked = 0.0, 0.0, 0.0, 0
    samples = [(u, v) for v in range(0, h, 7) for u in range(0, w, 9)]
    for i, cam in enumerate(cams):
        bpy.ops.da3.use_camera(name=cam.name)
        Kb = intrinsics_from_blender(cam, scene, w, h)
        rel = np.abs(Kb - K[i])[:2, :] / np.array([[K[i][0, 0]], [K[i][1, 1]]])
        k_err = max(k_err, float(rel.max()))
        mw = np.array(cam.matrix_world)
        m_err = max(m_err, float(np.abs(mw - expected_matrix_world(E[i])).max()))
        bg = cam.data.background_images
        # Every sampled pixel of every view, projected through this camera, lands where K·E says.
        for j in range(n):
            wp = world_points(K[j], E[j], depth[j].astype(np.float64))
            for (u, v) in samples:
                if not valid[j, v, u]:
                    continue
                p = wp[v, u]
                cam_p = E[i][:, :3] @ p + E[i][:, 3]
                if cam_p[2] <= 1e-6:
                    continue
                uvw = K[i] @ cam_p
                want = uvw[:2] / uvw[2]
                if not (-0.5 <= want[0] < w - 0.5 and -0.5 <= want[1] < h - 0.5):
                    continue  # lands outside this camera's image
                checked += 1
                ndc = world_to_camera_view(scene, cam, Vector((W_CV @ p).tolist()))
                got_uv = np.array([ndc.x * w - 0.5, (1 - ndc.y) * h - 0.5])
                proj_err = max(proj_err, float(np.abs(got_uv - want).max()))
        img = bg[0].image if len(bg) else None
        r["cameras"].append(
            {
                "name": cam.name,
                "view": int(cam["da3_view"]),
                "lens": cam.data.lens,
                "sensor_width": cam.data.sensor_width,
                "sensor_fit": cam.data.sensor_fit,
                "shift": [cam.data.shift_x, cam.data.shift_y],
                "pixel_aspect": [scene.render.pixel_aspect_x, scene.render.pixel_aspect_y],
                "resolution": [scene.render.resolution_x, scene.render.resolution_y],
                "background": None if img is None else {"size": list(img.size), "packed": img.packed_file is not None, "frame_method": bg[0].frame_method},
                "background_pixel_error": None if img is None else background_error(img, image[i]),
            }
        )
    r["camera_intrinsics_max_rel_error"] = k_err
    r["camera_matrix_max_error"] = m_err
    r["projection_max_error_px"] = proj_err
    r["projection_points"] = checked
    r["depth_meshes"] = [{"name": o.name, "vertices": len(o.data.vertices), "faces": len(o.data.polygons), "uv": len(o.data.uv_layers)} for o in objs if o.type == "MESH" and "da3_view" in o]

    # Render check: view 0's points seen from camera 0 (Workbench, no anti-aliasing) vs the
    # depth map's valid mask (finite depth > 0 and conf >= percentile 40).
    r["render"] = render_check(scene, objs, pts, cams[0], render_dir, valid[0] & (conf[0] >= threshold))
    out["npz"] = r

    # ---- mini_npz: same cameras, no images -----------------------------------------------------
    common.clear_scene()
    status, objs = import_file(filepath=files["miniNpz"])
    cams = by_type(objs, "CAMERA")
    pts = next(o for o in objs if o.type == "MESH")
    out["mini_npz"] = {
        "status": sorted(status),
        "cameras": len(cams),
        "points": len(pts.data.vertices),
        "backgrounds": sum(len(c.data.background_images) for c in cams),
        "matrix_max_error": max(float(np.abs(np.array(c.matrix_world) - expected_matrix_world(E[i])).max()) for i, c in enumerate(cams)),
    }

    # ---- point PLY (binary and ASCII) ------------------------------------------------------------
    plys = {}
    for key in ("ply", "asciiPly"):
        common.clear_scene()
        status, objs = import_file(filepath=files[key])
        pts = next(o for o in objs if o.type == "MESH")
        plys[key] = {"status": sorted(status), "objects": sorted(o.type for o in objs), "points": len(pts.data.vertices), "positions": common.vertices(pts.data), "conf": common.attribute(pts.data, "conf")}
    out["ply"] = {k: {kk: vv for kk, vv in v.items() if kk not in ("positions", "conf")} for k, v in plys.items()}
    out["ply"]["ascii_vs_binary_max_error"] = float(np.abs(plys["ply"]["positions"] - plys["asciiPly"]["positions"]).max())
    ply_positions = plys["ply"]["positions"]

    # ---- scene.glb: points back in the same world as the PLY's; cameras from the frustums --------
    common.clear_scene()
    status, objs = import_file(filepath=files["glb"])
    cams = by_type(objs, "CAMERA")
    pts = next(o for o in objs if o.type == "MESH")
    glb_pos = common.vertices(pts.data)
    glb = {"status": sorted(status), "cameras": len(cams), "points": len(pts.data.vertices)}
    glb["points_vs_ply_max_error"] = float(np.abs(glb_pos - ply_positions).max()) if len(glb_pos) == len(ply_positions) else None
    kerr, merr = common.camera_errors(cams, K, E, w, h)
    glb["camera_intrinsics_max_rel_error"] = kerr
    glb["camera_matrix_max_error"] = merr
    out["glb"] = glb

    # ---- 3DGS PLY: raw attributes, OpenCV means, axis change on the object --------------------
    common.clear_scene()
    status, objs = import_file(filepath=files["gsPly"])
    gs = next(o for o in objs if o.type == "MESH")
    g = ex["gaussians"]
    means = np.fromfile(g["means"], np.float32).reshape(-1, 3)
    opac = np.fromfile(g["opacities"], np.float32)
    logit = common.attribute(gs.data, "opacity")
    world = np.array(gs.matrix_world)
    out["gaussians"] = {
        "status": sorted(status),
        "count": len(gs.data.vertices),
        "expected_count": g["count"],
        "attributes": sorted(a.name for a in gs.data.attributes if not a.name.startswith(".")),
        "means_max_error": float(np.abs(common.vertices(gs.data) - means).max()),
        "opacity_max_error": float(np.abs(1 / (1 + np.exp(-logit.astype(np.float64))) - opac).max()),
        "object_rotation_error": float(np.abs(world[:3, :3] - W_CV).max()),
        "evaluated": len(common.evaluated_points(gs)),
    }

    # ---- an export folder: everything at once --------------------------------------------------
    common.clear_scene()
    export_dir = os.path.dirname(files["glb"])
    status, objs = import_file(filepath=export_dir + os.sep, directory=export_dir + os.sep)
    out["folder"] = {"status": sorted(status), "types": sorted(o.type for o in objs), "names": sorted(o.name for o in objs)}

    # ---- units: metric keeps 1, a non-metric scene gets a user scale ----------------------------
    common.clear_scene()
    _, objs = import_file(filepath=files["miniNpz"], units="RELATIVE", scale=2.5)
    root = next(o for o in objs if o.type == "EMPTY")
    out["units_relative"] = {"is_metric": root.da3.is_metric, "scale": root.da3.scale, "object_scale": list(root.scale)}
    root.da3.scale = 4.0
    out["units_relative"]["after_set"] = list(root.scale)
    common.clear_scene()
    _, objs = import_file(filepath=files["miniNpz"], units="METRIC", scale=2.5)
    root = next(o for o in objs if o.type == "EMPTY")
    out["units_metric"] = {"is_metric": root.da3.is_metric, "scale": root.da3.scale}

    # ---- bad input: a typed report, nothing created ----------------------------------------------
    out["errors"] = {}
    for key in ("badNpz", "badGlb", "badPly", "emptyDir"):
        common.clear_scene()
        before = len(bpy.data.objects)
        path = files[key]
        try:
            if os.path.isdir(path):
                import_file(filepath=path + os.sep, directory=path + os.sep)
            else:
                import_file(filepath=path)
            out["errors"][key] = {"raised": False}
        except RuntimeError as e:  # how Blender surfaces an operator's ERROR report to a script
            out["errors"][key] = {"raised": True, "message": str(e), "objects_created": len(bpy.data.objects) - before}
    return out


def set_input(obj, name, value):
    from importlib import import_module

    nodes = import_module(common.MODULE + ".blender.nodes")
    nodes.set_modifier_input(obj, name, value)


def addon_utils_version(mod):
    return mod.bl_info["version"]


def background_error(img, rgb):
    """Max |pixel − prediction image| (0–255) of a camera's background image."""
    w, h = img.size
    px = np.array(img.pixels[:], dtype=np.float32).reshape(h, w, 4)[::-1, :, :3]
    return float(np.abs(px * 255.0 - rgb.astype(np.float32)).max())


def render_check(scene, objs, pts, cam, render_dir, mask):
    for o in objs:
        o.hide_render = o is not pts
    set_input(pts, "View", 0)
    set_input(pts, "Point Size", 0.9)
    bpy.ops.da3.use_camera(name=cam.name)
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.display.render_aa = "OFF"
    scene.display.shading.light = "FLAT"
    scene.display.shading.color_type = "SINGLE"
    scene.render.film_transparent = True
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGBA"
    path = os.path.join(render_dir, "camera0.png")
    scene.render.filepath = path
    bpy.ops.render.render(write_still=True)
    img = bpy.data.images.load(path)
    w, h = img.size
    alpha = np.array(img.pixels[:], dtype=np.float32).reshape(h, w, 4)[::-1, :, 3] > 0.5
    inter = float((alpha & mask).sum())
    union = float((alpha | mask).sum())
    set_input(pts, "View", -1)
    set_input(pts, "Point Size", 1.0)
    return {"iou": inter / union if union else 0.0, "silhouette": int(alpha.sum()), "mask": int(mask.sum()), "size": [w, h], "path": path}


common.run(main)
