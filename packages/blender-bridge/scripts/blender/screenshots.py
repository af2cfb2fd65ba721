"""Makes the README's pictures: installs the built add-on into a temp Blender profile, reconstructs
the bundled example scene with the Reconstruct operator against the ``da3 backend`` the calling
script started, and renders (Cycles, CPU):

- ``overview.png``: the imported points and the DA3 cameras (drawn as wireframe frustums for the
  picture: camera objects do not render) from outside the scene;
- ``camera0.png``: the processed photo of view 0 beside a render of view 0's points from the
  imported camera 0 (each point falls back onto its own pixel when the camera matches the
  prediction, whatever the depth).

Run: blender -b --factory-startup -noaudio --python screenshots.py -- <zip> <url> <token> <out dir> <res> <image>...
"""

import os
import sys

import numpy as np

np.bool = bool  # Blender 3.4's bundled modules use numpy.bool (removed in numpy 1.24)

import addon_utils  # noqa: E402
import bpy  # noqa: E402
from mathutils import Vector  # noqa: E402

MODULE = "da3_blender"


def install(zip_path):
    bpy.ops.preferences.addon_install(filepath=zip_path)
    if addon_utils.enable(MODULE, default_set=True) is None:
        raise SystemExit("could not enable the add-on")


def emission_material(name, rgb):
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    nodes = mat.node_tree.nodes
    for n in list(nodes):
        nodes.remove(n)
    em = nodes.new("ShaderNodeEmission")
    em.inputs["Color"].default_value = (*rgb, 1.0)
    em.inputs["Strength"].default_value = 2.0
    out = nodes.new("ShaderNodeOutputMaterial")
    mat.node_tree.links.new(em.outputs[0], out.inputs[0])
    return mat


def frustum(cam, depth, mat):
    """A wireframe pyramid showing ``cam``'s view (apex at the camera, base at ``depth``)."""
    frame = [v * (depth / -cam.data.view_frame(scene=bpy.context.scene)[0].z) for v in cam.data.view_frame(scene=bpy.context.scene)]
    me = bpy.data.meshes.new(cam.name + " frustum")
    me.from_pydata([Vector((0, 0, 0))] + frame, [], [(0, 1, 2), (0, 2, 3), (0, 3, 4), (0, 4, 1), (1, 2, 3, 4)])
    obj = bpy.data.objects.new(me.name, me)
    bpy.context.scene.collection.objects.link(obj)
    obj.matrix_world = cam.matrix_world.normalized()
    mod = obj.modifiers.new("wire", "WIREFRAME")
    mod.thickness = depth * 0.02
    me.materials.append(mat)
    return obj


def render(path, w, h, percentage=100, samples=24):
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples
    scene.cycles.use_denoising = False  # Debian's Blender is built without OpenImageDenoise
    scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = w, h, percentage
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGB"
    scene.render.image_settings.compression = 100
    scene.view_settings.view_transform = "Standard"
    scene.render.filepath = path
    bpy.ops.render.render(write_still=True)


def main():
    a = sys.argv[sys.argv.index("--") + 1 :]
    zip_path, url, token, out_dir, res = a[:5]
    images = a[5:]
    install(zip_path)
    for o in list(bpy.data.objects):
        bpy.data.objects.remove(o)
    prefs = bpy.context.preferences.addons[MODULE].preferences
    prefs.local_url, prefs.local_token, prefs.results_dir = url, token, os.path.join(out_dir, ".results")
    s = bpy.context.scene.da3
    s.source, s.process_res, s.conf_percentile = "IMAGES", int(res), 20.0
    for p in images:
        s.images.add().filepath = p
    bpy.ops.da3.reconstruct()
    scene = bpy.context.scene
    world = bpy.data.worlds.new("bg")
    world.color = (0.02, 0.02, 0.025)
    scene.world = world
    cams = sorted((o for o in scene.objects if o.type == "CAMERA"), key=lambda o: o.name)
    points = next(o for o in scene.objects if o.type == "MESH" and "da3_points" in o)
    nodes = __import__(MODULE + ".blender.nodes", fromlist=["set_modifier_input"])

    # camera0.png: the processed photo | view 0's points (all of them) rendered from camera 0.
    nodes.set_modifier_input(points, "Point Size", 1.2)
    nodes.set_modifier_input(points, "View", 0)
    nodes.set_modifier_input(points, "Conf Percentile", 0.0)
    bpy.ops.da3.use_camera(name=cams[0].name)
    w, h = scene.render.resolution_x, scene.render.resolution_y
    scale = max(1, 480 // h)
    tmp = os.path.join(out_dir, ".camera0-render.png")
    render(tmp, w, h, 100 * scale, samples=16)
    rendered = bpy.data.images.load(tmp)
    photo = cams[0].data.background_images[0].image
    rw, rh = rendered.size
    r = np.array(rendered.pixels[:], dtype=np.float32).reshape(rh, rw, 4)
    p = np.array(photo.pixels[:], dtype=np.float32).reshape(photo.size[1], photo.size[0], 4)
    p = np.repeat(np.repeat(p, scale, axis=0), scale, axis=1)[:rh, :rw]
    gap = np.ones((rh, 8, 4), np.float32)
    both = np.concatenate([p, gap, r], axis=1)
    out = bpy.data.images.new("camera0", both.shape[1], both.shape[0])
    out.pixels.foreach_set(both.ravel())
    out.filepath_raw = os.path.join(out_dir, "camera0.png")
    out.file_format = "PNG"
    out.save()
    os.remove(tmp)

    # overview.png: points + frustums from outside.
    nodes.set_modifier_input(points, "Point Size", 1.5)
    nodes.set_modifier_input(points, "View", -1)
    nodes.set_modifier_input(points, "Conf Percentile", 20.0)
    pts = np.array([v.co for v in points.data.vertices])
    lo, hi = np.percentile(pts, [5, 95], axis=0)
    centre = Vector(((lo + hi) / 2).tolist())
    extent = float(np.linalg.norm(hi - lo))
    mats = [emission_material("frustum %d" % i, c) for i, c in enumerate([(1.0, 0.35, 0.2), (0.3, 0.9, 0.3), (0.3, 0.6, 1.0), (1.0, 0.85, 0.2)])]
    for i, cam in enumerate(cams):
        frustum(cam, 0.12 * extent, mats[i % len(mats)])
    cam_centre = sum((c.matrix_world.translation for c in cams), Vector()) / len(cams)
    back = (cam_centre - centre).normalized()
    view = bpy.data.objects.new("overview", bpy.data.cameras.new("overview"))
    scene.collection.objects.link(view)
    view.location = centre + back * 1.6 * extent + Vector((0, 0, 0.8 * extent)) + back.cross(Vector((0, 0, 1))).normalized() * 0.6 * extent
    direction = centre - view.location
    view.rotation_euler = direction.to_track_quat("-Z", "Y").to_euler()
    view.data.lens = 30
    scene.camera = view
    scene.render.pixel_aspect_x = scene.render.pixel_aspect_y = 1.0
    render(os.path.join(out_dir, "overview.png"), 800, 450)
    print("DA3JS_SCREENSHOTS done", flush=True)


main()
