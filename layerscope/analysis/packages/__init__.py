"""Packages per layer: what the package managers of an image installed, layer by layer."""
