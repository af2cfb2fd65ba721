"""File > Import > Depth Anything 3: ``scene.glb``, ``results.npz`` (npz / mini_npz), point PLY,
3DGS PLY, or a whole export folder (choose the folder and press Import without a file name)."""

import os

import bpy
from bpy.props import BoolProperty, CollectionProperty, EnumProperty, FloatProperty, IntProperty, StringProperty
from bpy_extras.io_utils import ImportHelper

from ..errors import Da3Error, as_da3_error
from ..readers.folder import read_path
from .build import BuildOptions, build_scene

UNITS = [
    ("AUTO", "Auto", "Metric when the file says so (PLY comment, job.json), else up to scale"),
    ("METRIC", "Metres", "The prediction is metric (DA3METRIC, DA3NESTED)"),
    ("RELATIVE", "Up to Scale", "The prediction has no real-world scale; use Scale"),
]


def import_path(context, path, opts, fallback_fov=60.0):
    """Reads ``path`` (file or export folder) and builds it; returns ``(summary, warnings)``.
    Raises :class:`~da3_blender.errors.Da3Error` for anything that cannot be imported."""
    data = read_path(path, fallback_fov)
    try:
        summary = build_scene(context, data, opts)
    except Da3Error:
        raise
    except Exception as e:  # a Blender-side failure on valid data: report, never a traceback
        raise as_da3_error(e, "building %s" % os.path.basename(path)) from None
    return summary, data.warnings


class DA3_OT_import(bpy.types.Operator, ImportHelper):
    """Import a Depth Anything 3 result: scene.glb, results.npz, point or 3DGS PLY, or an export folder"""

    bl_idname = "import_scene.da3"
    bl_label = "Import Depth Anything 3"
    bl_options = {"REGISTER", "UNDO"}

    filename_ext = ""
    filter_glob: StringProperty(default="*.glb;*.npz;*.ply", options={"HIDDEN"})
    files: CollectionProperty(type=bpy.types.OperatorFileListElement, options={"HIDDEN", "SKIP_SAVE"})
    directory: StringProperty(subtype="DIR_PATH", options={"HIDDEN", "SKIP_SAVE"})

    points: BoolProperty(name="Points", default=True)
    cameras: BoolProperty(name="Cameras", default=True)
    background_images: BoolProperty(name="Background Images", description="Each camera shows its view's image (npz with images)", default=True)
    depth_meshes: BoolProperty(name="Depth Meshes", description="One depth-displaced mesh per view (npz)", default=False)
    depth_step: IntProperty(name="Depth Mesh Step", description="Pixels between depth-mesh vertices", default=2, min=1, max=64)
    conf_percentile: FloatProperty(name="Conf Percentile", description="Hide points below this confidence percentile (live in the modifier)", default=40.0, min=0.0, max=100.0)
    point_size: FloatProperty(name="Point Size", description="Point diameter in source-image pixels (live in the modifier)", default=1.0, min=0.0, soft_max=10.0)
    max_points: IntProperty(name="Max Points", description="More points are subsampled (seeded)", default=2_000_000, min=1)
    units: EnumProperty(name="Units", items=UNITS, default="AUTO")
    scale: FloatProperty(name="Scale", description="Scale of a non-metric reconstruction (scene units per model unit)", default=1.0, min=1e-6)
    fallback_fov: FloatProperty(name="Assumed FoV", description="Horizontal field of view (degrees) for predictions without intrinsics", default=60.0, min=1.0, max=179.0)

    def selected_paths(self):
        """The chosen files, or the folder itself when no file was chosen."""
        names = [f.name for f in self.files if f.name]
        if names:
            return [os.path.join(self.directory, n) for n in names]
        path = self.filepath or self.directory
        if not path or os.path.isdir(path) or not os.path.basename(path):
            return [self.directory or os.path.dirname(path)]
        return [path]

    def build_options(self):
        """The operator's options as :class:`~da3_blender.blender.build.BuildOptions`."""
        return BuildOptions(
            points=self.points,
            cameras=self.cameras,
            background_images=self.background_images,
            depth_meshes=self.depth_meshes,
            depth_step=self.depth_step,
            max_points=self.max_points,
            conf_percentile=self.conf_percentile,
            point_size=self.point_size,
            units=self.units,
            scale=self.scale,
        )

    def execute(self, context):
        """Imports every chosen path; an unreadable one ends the operator with an ERROR report."""
        done = []
        for path in self.selected_paths():
            try:
                summary, warnings = import_path(context, path, self.build_options(), self.fallback_fov)
            except Da3Error as e:
                self.report({"ERROR"}, "DA3 import: " + e.report_text())
                return {"CANCELLED"}
            for w in warnings:
                self.report({"WARNING"}, "DA3 import: " + w)
            done.append(summary)
        for s in done:
            self.report({"INFO"}, "DA3: imported %s (%d cameras%s%s)" % (s["root"], len(s["cameras"]), ", points" if s["points"] else "", ", Gaussians" if s["gaussians"] else ""))
        return {"FINISHED"}


def menu_func(self, _context):
    """The File › Import menu entry."""
    self.layout.operator(DA3_OT_import.bl_idname, text="Depth Anything 3 (.glb, .npz, .ply, folder)")


CLASSES = (DA3_OT_import,)


def register():
    """Registers the operator and its menu entry."""
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.TOPBAR_MT_file_import.append(menu_func)


def unregister():
    """Removes them."""
    bpy.types.TOPBAR_MT_file_import.remove(menu_func)
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
