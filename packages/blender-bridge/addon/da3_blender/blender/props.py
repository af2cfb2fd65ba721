"""Properties the add-on keeps in the .blend: per object (``Object.da3``) and per scene
(``Scene.da3``: the Reconstruct panel's settings and last outcome)."""

import bpy
from bpy.props import BoolProperty, CollectionProperty, EnumProperty, FloatProperty, IntProperty, PointerProperty, StringProperty

from ..remote import contract


def _scale_changed(self, _context):
    """Applies ``Object.da3.scale`` to the root object's uniform scale."""
    obj = self.id_data
    if self.is_root:
        obj.scale = (self.scale, self.scale, self.scale)


class Da3ObjectSettings(bpy.types.PropertyGroup):
    """``Object.da3``: marks the root of an import and holds its unit information."""

    is_root: BoolProperty(name="DA3 Root", default=False, options={"HIDDEN"})
    is_metric: BoolProperty(name="Metric", description="The prediction is in metres (a metric model); otherwise it is up to an unknown scale", default=False)
    scale: FloatProperty(
        name="Scale",
        description="Uniform scale of the whole reconstruction (scene units per model unit); set it to give a non-metric reconstruction its real size",
        default=1.0,
        min=1e-6,
        soft_max=1000.0,
        update=_scale_changed,
    )


class Da3ImagePath(bpy.types.PropertyGroup):
    """One chosen image file."""

    filepath: StringProperty(name="File", subtype="FILE_PATH")


def _enum(values):
    """Enum items (identifier, name, description) for contract values."""
    return [(v, v.replace("_", " ").capitalize(), v) for v in values]


class Da3ReconstructSettings(bpy.types.PropertyGroup):
    """``Scene.da3``: what the Reconstruct panel sends, and what happened last."""

    source: EnumProperty(
        name="Source",
        items=[("IMAGES", "Images", "Chosen image files"), ("FOLDER", "Folder", "Every image in a folder (sorted by name)"), ("MOVIE", "Movie Clip", "A movie clip, sampled every N frames")],
        default="IMAGES",
    )
    images: CollectionProperty(type=Da3ImagePath)
    folder: StringProperty(name="Folder", subtype="DIR_PATH")
    movie_clip: PointerProperty(name="Clip", type=bpy.types.MovieClip)
    frame_step: IntProperty(name="Frame Step", description="Use every N-th frame of the clip", default=10, min=1, soft_max=300)
    max_frames: IntProperty(name="Max Frames", description="At most this many frames (0: no limit)", default=64, min=0, max=contract.MAX_INPUTS)
    mode: EnumProperty(
        name="Run On",
        items=[("LOCAL", "Local", "da3 backend on this machine"), ("REMOTE", "Remote", "The edge API or a GPU worker (Preferences)")],
        default="LOCAL",
    )
    process_res: IntProperty(
        name="Resolution",
        description="Processing resolution: pixels of the image's bounded side (multiples of 14)",
        default=contract.PROCESS_RES_DEFAULT,
        min=contract.PROCESS_RES_MIN,
        max=contract.PROCESS_RES_MAX,
    )
    process_res_method: EnumProperty(name="Resize", items=_enum(contract.RESIZE_METHODS), default=contract.RESIZE_METHODS[0])
    ref_view_strategy: EnumProperty(name="Reference View", items=_enum(contract.REF_VIEW_STRATEGIES), default=contract.REF_VIEW_STRATEGIES[0])
    use_ray_pose: BoolProperty(name="Ray Pose", description="Camera poses from the ray maps instead of the camera head", default=False)
    infer_gs: BoolProperty(name="3D Gaussians", description="Also predict 3D Gaussians (models with a GS head)", default=False)
    depth_meshes: BoolProperty(name="Depth Meshes", description="Also create one depth-displaced mesh per view", default=False)
    conf_percentile: FloatProperty(name="Conf Percentile", description="Initial confidence filter of the points (0–100)", default=40.0, min=0.0, max=100.0)
    status: StringProperty(name="Status", default="")
    last_error_code: StringProperty(name="Last Error Code", default="")
    last_result: StringProperty(name="Last Result", default="")


CLASSES = (Da3ObjectSettings, Da3ImagePath, Da3ReconstructSettings)


def register():
    """Registers the property groups and adds ``Object.da3`` / ``Scene.da3``."""
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Object.da3 = PointerProperty(type=Da3ObjectSettings)
    bpy.types.Scene.da3 = PointerProperty(type=Da3ReconstructSettings)


def unregister():
    """Removes them."""
    del bpy.types.Scene.da3
    del bpy.types.Object.da3
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
