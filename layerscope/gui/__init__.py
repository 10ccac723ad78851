"""The desktop GUI: the only package of layerscope that imports Qt (PySide6).

Qt models here adapt the core's objects (layerscope.model / layerscope.analysis); nothing in
this package parses an archive.
"""
