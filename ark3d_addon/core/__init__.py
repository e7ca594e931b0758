"""The bpy-free core: Ark client, polling, download, archive handling and the library.

Nothing in this package imports ``bpy``: it runs in Blender's worker threads, in the command
line (``python -m ark3d_addon``) and in plain pytest.
"""
