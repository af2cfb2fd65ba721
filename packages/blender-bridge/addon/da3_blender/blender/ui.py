"""The 3D View sidebar panels (tab "DA3") and the status-bar progress with its Cancel button."""

import bpy

from ..remote import local_backend
from . import ops_reconstruct
from .compat import preferences


def _root_of(obj):
    """The DA3 root above ``obj`` (or ``obj`` itself), else None."""
    while obj is not None:
        if obj.da3.is_root:
            return obj
        obj = obj.parent
    return None


class VIEW3D_PT_da3_reconstruct(bpy.types.Panel):
    """Sidebar › DA3 › Reconstruct: source, service, options, run / progress / cancel, last status."""
    bl_label = "Reconstruct"
    bl_idname = "VIEW3D_PT_da3_reconstruct"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "DA3"

    def draw(self, context):
        """Draws the panel."""
        s = context.scene.da3
        prefs = preferences(context)
        layout = self.layout
        layout.prop(s, "source", expand=True)
        if s.source == "IMAGES":
            row = layout.row(align=True)
            row.operator("da3.choose_images", icon="FILE_IMAGE", text="Choose Images… (%d)" % len(s.images))
            row.operator("da3.clear_images", icon="X", text="")
        elif s.source == "FOLDER":
            layout.prop(s, "folder")
        else:
            layout.template_ID(s, "movie_clip", open="clip.open")
            row = layout.row(align=True)
            row.prop(s, "frame_step")
            row.prop(s, "max_frames")

        layout.prop(s, "mode", expand=True)
        box = layout.box()
        if s.mode == "LOCAL":
            box.label(text="da3 backend at " + ops_reconstruct.local_url(prefs))
            box.prop(prefs, "local_model")
            row = box.row(align=True)
            if ops_reconstruct.BACKEND.running:
                row.operator("da3.stop_backend", icon="PAUSE")
            elif local_backend.find_command(prefs.da3_command):
                row.operator("da3.start_backend", icon="PLAY")
            else:
                col = box.column(align=True)
                col.label(text="da3 is not installed; run:")
                col.label(text=local_backend.suggested_command(prefs.local_model, prefs.local_port))
            row.operator("da3.check_backend", icon="FILE_REFRESH")
        else:
            kind = "Edge API" if prefs.remote_kind == "EDGE" else "GPU worker"
            url = prefs.edge_url if prefs.remote_kind == "EDGE" else prefs.worker_url
            box.label(text="%s: %s" % (kind, url or "set its URL in the add-on preferences"))
            box.operator("da3.check_backend", icon="FILE_REFRESH")

        col = layout.column(align=True)
        col.prop(s, "process_res")
        col.prop(s, "process_res_method")
        col.prop(s, "ref_view_strategy")
        row = layout.row(align=True)
        row.prop(s, "use_ray_pose")
        row.prop(s, "infer_gs")
        row = layout.row(align=True)
        row.prop(s, "depth_meshes")
        row.prop(s, "conf_percentile")

        if ops_reconstruct.ACTIVE_JOBS:
            job = ops_reconstruct.ACTIVE_JOBS[0]
            snap = job.snapshot()
            row = layout.row(align=True)
            row.label(text="%d%% %s" % (round(100 * snap["fraction"]), snap["message"]), icon="TIME")
            row.operator("da3.cancel_reconstruct", icon="CANCEL")
        else:
            layout.operator("da3.reconstruct", icon="PLAY")
        if s.status:
            layout.label(text=s.status, icon="ERROR" if s.status.startswith("Failed") else "INFO")


class VIEW3D_PT_da3_scene(bpy.types.Panel):
    """Sidebar › DA3 › DA3 Scene: units and scale of the active import, its cameras, its modifiers' inputs."""
    bl_label = "DA3 Scene"
    bl_idname = "VIEW3D_PT_da3_scene"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "DA3"

    @classmethod
    def poll(cls, context):
        """Shown when the active object belongs to a DA3 import."""
        return _root_of(context.active_object) is not None

    def draw(self, context):
        """Draws the panel."""
        root = _root_of(context.active_object)
        layout = self.layout
        layout.label(text=root.name)
        if root.da3.is_metric:
            layout.label(text="Metric: units are metres", icon="CHECKMARK")
        else:
            layout.label(text="Up to scale: set its real size", icon="ERROR")
        layout.prop(root.da3, "scale")
        for child in sorted(root.children, key=lambda o: o.name):
            if child.type == "CAMERA":
                layout.operator("da3.use_camera", text=child.name, icon="CAMERA_DATA").name = child.name
            elif child.modifiers:
                for mod in child.modifiers:
                    if mod.type == "NODES" and mod.node_group is not None:
                        layout.label(text=child.name, icon="MOD_NODES")
                        for item in _inputs(mod.node_group):
                            layout.prop(mod, '["%s"]' % item.identifier, text=item.name)


def _inputs(tree):
    """The non-geometry inputs of a node group (3.x ``inputs`` / 4.x ``interface``)."""
    if hasattr(tree, "interface"):
        return [s for s in tree.interface.items_tree if getattr(s, "in_out", None) == "INPUT" and s.socket_type != "NodeSocketGeometry"]
    return [s for s in tree.inputs if s.type != "GEOMETRY"]


def draw_status(self, _context):
    """Status-bar item: the running job's progress and a Cancel button."""
    if not ops_reconstruct.ACTIVE_JOBS:
        return
    snap = ops_reconstruct.ACTIVE_JOBS[0].snapshot()
    row = self.layout.row(align=True)
    row.label(text="DA3 %d%%: %s" % (round(100 * snap["fraction"]), snap["message"]), icon="TIME")
    row.operator("da3.cancel_reconstruct", text="", icon="CANCEL")


CLASSES = (VIEW3D_PT_da3_reconstruct, VIEW3D_PT_da3_scene)


def register():
    """Registers the panels and the status-bar item."""
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.STATUSBAR_HT_header.append(draw_status)


def unregister():
    """Removes them."""
    bpy.types.STATUSBAR_HT_header.remove(draw_status)
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
