"""Registration of the Blender side, in dependency order (properties before the panels that draw them)."""

from . import ops_import, ops_reconstruct, prefs, props, ui

MODULES = (props, prefs, ops_import, ops_reconstruct, ui)


def register():
    """Registers every module of the Blender side."""
    for m in MODULES:
        m.register()


def unregister():
    """Unregisters them in reverse order."""
    for m in reversed(MODULES):
        m.unregister()
