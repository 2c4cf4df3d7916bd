"""Gridfinity geometry in pure Python (trimesh + manifold3d): cell layout,
plate-set segmentation and the meshes. Imports nothing of the database."""
