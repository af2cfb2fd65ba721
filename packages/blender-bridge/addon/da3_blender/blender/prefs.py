"""The add-on's preferences: how to reach (or start) the local backend and the remote services."""

import bpy
from bpy.props import EnumProperty, IntProperty, StringProperty

from ..remote import local_backend
from .compat import ADDON


class Da3Preferences(bpy.types.AddonPreferences):
    """Add-on preferences: the local backend (command, model, port, URL, token, state folder), the remote services (edge API URL + key, GPU worker URL + token) and the results folder."""
    bl_idname = ADDON

    da3_command: StringProperty(
        name="da3 Command",
        description="Command line that runs the da3 CLI (empty: 'da3' on PATH), e.g. 'node /path/to/packages/node/dist/cli/bin.js'",
        default="",
    )
    local_model: StringProperty(name="Model", description="Model id or folder the local backend loads", default=local_backend.DEFAULT_MODEL)
    local_port: IntProperty(name="Port", default=local_backend.DEFAULT_PORT, min=0, max=65535)
    local_url: StringProperty(name="Backend URL", description="URL of a running da3 backend (empty: http://127.0.0.1:<port>)", default="")
    local_token: StringProperty(name="Backend Token", description="Bearer token (empty: read <state folder>/token)", default="", subtype="PASSWORD")
    state_dir: StringProperty(name="State Folder", description="da3 backend's state folder (empty: $DA3_CACHE/backend or ~/.cache/da3js/backend)", default="", subtype="DIR_PATH")
    remote_kind: EnumProperty(
        name="Remote",
        items=[("EDGE", "Edge API", "The DA3 edge API (uploads + API key)"), ("WORKER", "GPU Worker", "A da3js GPU worker (bearer token)")],
        default="EDGE",
    )
    edge_url: StringProperty(name="Edge API URL", default="")
    edge_api_key: StringProperty(name="API Key", default="", subtype="PASSWORD")
    worker_url: StringProperty(name="GPU Worker URL", default="")
    worker_token: StringProperty(name="Worker Token", default="", subtype="PASSWORD")
    results_dir: StringProperty(name="Results Folder", description="Where job results are downloaded (empty: the add-on's user folder)", default="", subtype="DIR_PATH")

    def draw(self, _context):
        """Draws the preferences."""
        col = self.layout.column()
        box = col.box()
        box.label(text="Local (da3 backend on this machine)")
        box.prop(self, "da3_command")
        box.prop(self, "local_model")
        row = box.row()
        row.prop(self, "local_port")
        row.prop(self, "local_url")
        box.prop(self, "local_token")
        box.prop(self, "state_dir")
        box = col.box()
        box.label(text="Remote")
        box.prop(self, "remote_kind")
        if self.remote_kind == "EDGE":
            box.prop(self, "edge_url")
            box.prop(self, "edge_api_key")
        else:
            box.prop(self, "worker_url")
            box.prop(self, "worker_token")
        col.prop(self, "results_dir")


CLASSES = (Da3Preferences,)


def register():
    """Registers the preferences."""
    for cls in CLASSES:
        bpy.utils.register_class(cls)


def unregister():
    """Unregisters them."""
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
