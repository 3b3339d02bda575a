"""Assets: load, normalise, re-texture and export meshes.

``load_asset`` reads GLB / glTF / OBJ+MTL / PLY / STL into one merged :class:`Mesh` with
per-face materials, in the world frame of :mod:`photo3d.cameras`; ``ensure_uvs`` gives a mesh
without UVs an atlas and baked base-colour textures; ``export_glb`` writes new base-colour
textures back into a GLB, keeping everything else of the source; ``single_atlas`` gives any mesh
one fresh atlas for baking a new appearance; ``sample_surface`` draws seeded points on the surface.
"""

from photo3d.assets.export import export_glb
from photo3d.assets.load import load_asset
from photo3d.assets.mesh import Asset, Material, Mesh
from photo3d.assets.normalize import normalize_to_world
from photo3d.assets.sampling import SurfaceSamples, sample_surface
from photo3d.assets.uv import ensure_uvs, single_atlas

__all__ = [
    "Asset", "Material", "Mesh", "SurfaceSamples", "ensure_uvs", "export_glb", "load_asset",
    "normalize_to_world", "sample_surface", "single_atlas",
]
