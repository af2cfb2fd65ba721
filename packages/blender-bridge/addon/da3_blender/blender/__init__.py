"""Blender-side modules (need ``bpy``): building objects, operators, panels."""
