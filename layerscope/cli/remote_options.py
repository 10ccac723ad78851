"""Options for images that are not files: registry://, podman:// and docker:// sources."""

from __future__ import annotations

import argparse

from layerscope.remote import RemoteOptions
from layerscope.remote.options import parse_platform

SOURCES_HELP = (
    "An ARCHIVE is a file or directory, or an image where it lives: registry://HOST/REPO:TAG "
    "(or @sha256:DIGEST; registry://alpine means docker.io/library/alpine:latest), "
    "podman://IMAGE (podman's store) or docker://IMAGE (the Docker engine on DOCKER_HOST)."
)


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def add_remote_options(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("images in registries and engines", SOURCES_HELP)
    group.add_argument(
        "--platform",
        metavar="OS/ARCH[/VARIANT]",
        help="read this platform of a multi-platform image, or 'all' (default: for a "
        "registry, this machine's platform; for a file, every platform it holds)",
    )
    group.add_argument(
        "--tls-verify",
        type=_bool,
        default=True,
        metavar="BOOL",
        help="--tls-verify=false: do not verify registries' certificates and allow plain HTTP "
        "(as podman's flag)",
    )
    group.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="this registry only: no certificate check, plain HTTP allowed (repeatable)",
    )
    group.add_argument(
        "--authfile",
        metavar="PATH",
        help="registry credentials file (default: REGISTRY_AUTH_FILE, podman's auth.json, "
        "then ~/.docker/config.json)",
    )


def remote_options_from(args: argparse.Namespace) -> RemoteOptions:
    platform = getattr(args, "platform", None)
    return RemoteOptions(
        platform=parse_platform(platform) if platform else None,
        tls_verify=getattr(args, "tls_verify", True),
        insecure_registries=tuple(getattr(args, "insecure_registry", []) or []),
        authfile=getattr(args, "authfile", None),
    )
