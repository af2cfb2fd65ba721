"""Depth Anything 3 for Blender: import DA3 results and reconstruct scenes from photos.

No PyTorch and nothing installed into Blender's Python: the network runs in ``da3 backend``
(``@da3js/node``, on this machine) or on a remote DA3 service (the edge API or a GPU worker),
reached with the standard library; results are read with NumPy (bundled with Blender).

Installs as a Blender 4.2+ extension (``blender_manifest.toml``) and as a legacy add-on
(``bl_info``) for older versions, from the same files. Modules that do not need Blender
(``readers``, ``remote``, ``axes``, ``errors``) import without ``bpy``; the Blender side is loaded by
:func:`register`.
"""

bl_info = {
    "name": "Depth Anything 3",
    "author": "da3js contributors",
    "version": (0, 0, 0),
    "blender": (3, 3, 0),
    "location": "File > Import > Depth Anything 3; 3D View > Sidebar > DA3",
    "description": "Import Depth Anything 3 results (glb, npz, ply, 3DGS) and reconstruct scenes from photos via da3 backend or the DA3 edge API",
    "doc_url": "https://github.com/da3js/da3js/tree/main/packages/blender-bridge",
    "category": "Import-Export",
}


def register():
    """Registers the add-on's classes, properties, menus and panels."""
    from .blender import addon

    addon.register()


def unregister():
    """Unregisters everything :func:`register` added and stops a backend the add-on started."""
    from .blender import addon

    addon.unregister()
