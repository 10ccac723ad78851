"""layerscope: look inside container image archives (a CLI and a desktop app)."""

from importlib import metadata

try:
    __version__ = metadata.version("layerscope")
except metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
