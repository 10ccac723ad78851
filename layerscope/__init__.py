"""layerscope: look inside container image archives (a CLI and a desktop app)."""


def __getattr__(name: str) -> str:
    # `__version__` is looked up when asked for, not at import: importlib.metadata takes
    # longer to import than everything `layerscope report` needs to reopen a cached image.
    if name == "__version__":
        from importlib import metadata

        try:
            return metadata.version("layerscope")
        except metadata.PackageNotFoundError:  # run from a source tree that was never installed
            return "0+unknown"
    raise AttributeError(f"module 'layerscope' has no attribute {name!r}")
