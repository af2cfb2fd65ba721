"""Readers of DA3 result files (NumPy, no Blender): npz, glb, PLY, export folders."""
