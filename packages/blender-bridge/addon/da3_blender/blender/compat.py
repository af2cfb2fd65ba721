"""Differences between the Blender versions the add-on supports (3.3 LTS … 4.x), in one place."""

import bpy

#: The package name the add-on is registered under (``da3_blender`` as a legacy add-on,
#: ``bl_ext.<repo>.da3_blender`` as a 4.2+ extension): the parent of this subpackage.
ADDON = __package__.rsplit(".", 1)[0]


def preferences(context=None):
    """The add-on's preferences (:class:`~da3_blender.blender.prefs.Da3Preferences`)."""
    ctx = context or bpy.context
    return ctx.preferences.addons[ADDON].preferences


def new_group_socket(tree, name, in_out, socket_type):
    """Adds an input/output to a node group: ``tree.interface`` (4.0+) or ``tree.inputs/outputs`` (3.x)."""
    if hasattr(tree, "interface"):
        return tree.interface.new_socket(name=name, in_out=in_out, socket_type=socket_type)
    return (tree.inputs if in_out == "INPUT" else tree.outputs).new(socket_type, name)


def enabled_output(node, name):
    """The visible output called ``name`` (3.x nodes keep one hidden socket per data type)."""
    for s in node.outputs:
        if s.name == name and s.enabled:
            return s
    return node.outputs[name]


def online_access_allowed():
    """Blender 4.2+'s "Allow Online Access" preference (always True before 4.2)."""
    return getattr(bpy.app, "online_access", True)
