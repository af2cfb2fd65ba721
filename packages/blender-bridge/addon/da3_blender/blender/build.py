"""A :class:`~da3_blender.readers.scene.Da3Scene` → Blender objects.

One import makes one collection ``DA3 <name>`` holding a root empty (``DA3 <name>``) and, parented
to it: the points mesh (``<name> Points``), one camera per view (``<name> Camera 000`` …), the
optional per-view depth meshes and the Gaussians. Positions are converted to Blender's world with
:func:`~da3_blender.axes.world_opencv_to_blender` (Z up); units are the prediction's — metres for
metric predictions. The root's ``da3.scale`` (a uniform scale on the root) lets the user give a
non-metric reconstruction its real size.
"""

from dataclasses import dataclass

import bpy
import numpy as np
from mathutils import Matrix

from ..axes import world_matrix_opencv_to_blender, world_opencv_to_blender
from ..readers.geometry import confidence_rank, depth_grid, valid_depth_mask
from . import nodes
from .cameras import create_camera, use_camera
from .images import image_from_array, srgb_to_linear


@dataclass
class BuildOptions:
    """What to create. ``units``: ``AUTO`` (what the file says, else up to scale), ``METRIC``,
    ``RELATIVE``; ``scale``: the root's scale for non-metric results (metric ones keep 1)."""

    points: bool = True
    cameras: bool = True
    background_images: bool = True
    depth_meshes: bool = False
    depth_step: int = 2
    max_points: int = 2_000_000
    conf_percentile: float = 40.0
    point_size: float = 1.0
    units: str = "AUTO"
    scale: float = 1.0
    set_scene_camera: bool = True
    seed: int = 0


def _attribute(mesh, name, kind, values, field="value"):
    """Adds a POINT-domain attribute and fills it from a NumPy array."""
    attr = mesh.attributes.new(name, kind, "POINT")
    attr.data.foreach_set(field, np.ascontiguousarray(values).ravel())
    return attr


def _subsample(count, limit, seed):
    """Sorted indices of a seeded subsample of ``limit`` out of ``count`` (None when all fit)."""
    if count <= limit:
        return None
    return np.sort(np.random.default_rng(seed).choice(count, size=limit, replace=False))


def create_points(name, points, collection, parent, opts):
    """The points mesh: one vertex per point (Blender world), attributes ``color`` (byte colour),
    ``conf`` (raw confidence, when known), ``conf_rank`` (0–100; 100 when there is no confidence),
    ``view`` (int, −1 when unknown), ``da3_footprint`` (world size of one source pixel), and the
    ``DA3 Points`` Geometry Nodes modifier."""
    pick = _subsample(len(points), opts.max_points, opts.seed)

    def sel(a):
        """The subsampled rows of ``a`` (or ``a`` itself)."""
        return a if a is None or pick is None else a[pick]

    xyz = world_opencv_to_blender(sel(points.xyz)).astype(np.float32)
    n = len(xyz)
    mesh = bpy.data.meshes.new(name)
    mesh.vertices.add(n)
    mesh.vertices.foreach_set("co", xyz.ravel())
    rgb = sel(points.rgb)
    colors = mesh.color_attributes.new("color", "BYTE_COLOR", "POINT")
    colors.data.foreach_set("color", srgb_to_linear(rgb if rgb is not None else np.full((n, 3), 200, np.uint8)).ravel())
    conf = sel(points.conf)
    if conf is not None:
        _attribute(mesh, "conf", "FLOAT", conf.astype(np.float32))
        _attribute(mesh, "conf_rank", "FLOAT", confidence_rank(points.conf)[pick] if pick is not None else confidence_rank(conf))
    else:
        _attribute(mesh, "conf_rank", "FLOAT", np.full(n, 100.0, np.float32))
    view = sel(points.view)
    _attribute(mesh, "view", "INT", view.astype(np.int32) if view is not None else np.full(n, -1, np.int32))
    foot = sel(points.footprint)
    _attribute(mesh, "da3_footprint", "FLOAT", foot.astype(np.float32) if foot is not None else np.full(n, 0.01, np.float32))
    mesh.update()
    obj = bpy.data.objects.new(name, mesh)
    collection.objects.link(obj)
    obj.parent = parent
    tree, _ = nodes.points_group()
    nodes.add_modifier(obj, tree, {"Conf Percentile": float(opts.conf_percentile), "Point Size": float(opts.point_size), "View": -1})
    obj["da3_points"] = n
    return obj


def create_gaussians(name, gaussians, collection, parent):
    """The Gaussians as a vertex-only mesh with every PLY property as a float attribute under its
    PLY name (``f_dc_0`` … ``rot_3``, values as stored) plus ``color``. The vertices keep the raw
    OpenCV means and the object carries the axis change (its local frame is the OpenCV world), so
    rotations and spherical harmonics stay consistent for splat add-ons that read the attributes."""
    mesh = bpy.data.meshes.new(name)
    n = len(gaussians)
    mesh.vertices.add(n)
    mesh.vertices.foreach_set("co", gaussians.xyz.astype(np.float32).ravel())
    for key, values in gaussians.attributes.items():
        _attribute(mesh, key, "FLOAT", values.astype(np.float32))
    colors = mesh.color_attributes.new("color", "BYTE_COLOR", "POINT")
    colors.data.foreach_set("color", srgb_to_linear(gaussians.rgb).ravel())
    mesh.update()
    obj = bpy.data.objects.new(name, mesh)
    collection.objects.link(obj)
    obj.parent = parent
    obj.matrix_basis = Matrix(world_matrix_opencv_to_blender().tolist())
    tree, _ = nodes.gaussians_group()
    nodes.add_modifier(obj, tree, {"Point Size": 1.0, "Min Opacity": 0.05})
    obj["da3_gaussians"] = n
    return obj


def create_depth_mesh(name, view, collection, parent, image, step):
    """A view's depth map as a textured grid mesh (see :func:`~da3_blender.readers.geometry.depth_grid`)."""
    verts, faces, uv = depth_grid(view, step)
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(world_opencv_to_blender(verts).tolist(), [], faces.tolist())
    layer = mesh.uv_layers.new(name="UVMap")
    layer.data.foreach_set("uv", uv[faces.ravel()].ravel())
    mesh.update()
    if image is not None:
        mat = bpy.data.materials.new(name)
        mat.use_nodes = True
        tex = mat.node_tree.nodes.new("ShaderNodeTexImage")
        tex.image = image
        bsdf = next(nd for nd in mat.node_tree.nodes if nd.type == "BSDF_PRINCIPLED")
        mat.node_tree.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
        mesh.materials.append(mat)
    obj = bpy.data.objects.new(name, mesh)
    collection.objects.link(obj)
    obj.parent = parent
    obj["da3_view"] = int(view.index)
    return obj


def _units(scene_data, opts):
    """True when the import is metric (the option, else what the file says)."""
    if opts.units == "METRIC":
        return True
    if opts.units == "RELATIVE":
        return False
    return bool(scene_data.is_metric)


def _scene_extent(scene_data):
    """The points' 5–95 % bounding-box diagonal (scene units), 1 without points."""
    pts = scene_data.points.xyz if scene_data.points is not None and len(scene_data.points) else None
    if pts is None:
        return 1.0
    lo, hi = np.percentile(pts, [5, 95], axis=0)
    return float(np.linalg.norm(hi - lo)) or 1.0


def build_scene(context, scene_data, opts=None):
    """Creates the objects of ``scene_data`` in ``context.scene``; returns a summary dict
    (``root``, ``collection``, ``points``, ``cameras``, ``depth_meshes``, ``gaussians``)."""
    opts = opts or BuildOptions()
    name = scene_data.name or "DA3"
    collection = bpy.data.collections.new("DA3 " + name)
    context.scene.collection.children.link(collection)
    root = bpy.data.objects.new("DA3 " + name, None)
    root.empty_display_type = "PLAIN_AXES"
    collection.objects.link(root)
    metric = _units(scene_data, opts)
    root.da3.is_root = True
    root.da3.is_metric = metric
    root.da3.scale = 1.0 if metric else float(opts.scale)
    extent = _scene_extent(scene_data)
    root.empty_display_size = 0.05 * extent
    summary = {"root": root.name, "collection": collection.name, "points": None, "cameras": [], "depth_meshes": [], "gaussians": None, "is_metric": metric}

    images = {}
    if opts.background_images or opts.depth_meshes:
        for view in scene_data.cameras:
            if view.image is not None:
                images[view.index] = image_from_array("%s View %03d" % (name, view.index), view.image)

    if opts.points and scene_data.points is not None and len(scene_data.points):
        summary["points"] = create_points("%s Points" % name, scene_data.points, collection, root, opts).name

    if opts.cameras:
        for view in scene_data.cameras:
            clip = None
            if view.depth is not None and np.any(valid_depth_mask(view.depth)):
                d = view.depth[valid_depth_mask(view.depth)]
                clip = (max(float(d.min()) * 0.5, 1e-6), float(d.max()) * 4.0 + 1.0)
            obj = create_camera(view, "%s Camera %03d" % (name, view.index), collection, root, images.get(view.index) if opts.background_images else None, clip, 0.03 * extent)
            summary["cameras"].append(obj.name)
        if summary["cameras"] and opts.set_scene_camera:
            use_camera(context.scene, bpy.data.objects[summary["cameras"][0]])

    if opts.depth_meshes:
        for view in scene_data.cameras:
            if view.depth is not None:
                obj = create_depth_mesh("%s Depth %03d" % (name, view.index), view, collection, root, images.get(view.index), opts.depth_step)
                summary["depth_meshes"].append(obj.name)

    if scene_data.gaussians is not None and len(scene_data.gaussians):
        summary["gaussians"] = create_gaussians("%s Gaussians" % name, scene_data.gaussians, collection, root).name
    return summary
