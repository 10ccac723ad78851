"""How to reach images that are not files: platform choice, TLS, auth file."""

from __future__ import annotations

from dataclasses import dataclass, field

from layerscope.errors import LayerscopeError

ALL_PLATFORMS = "all"
# arm64's only variant is v8: an index may say linux/arm64/v8 or linux/arm64 for the same thing
_DEFAULT_VARIANT = {"arm64": "v8"}


@dataclass(frozen=True)
class RemoteOptions:
    """How to open images that are not local archives (and which platform to take)."""

    # os/arch[/variant] to read from a multi-platform index; "all"; None: the host's
    # platform for a registry, every platform for a file
    platform: str | None = None
    tls_verify: bool = True  # False: no TLS verification and plain HTTP for every registry
    insecure_registries: tuple[str, ...] = field(default=())  # HOST[:PORT] given that leeway
    authfile: str | None = None

    def insecure(self, host: str) -> bool:
        """Whether `host` may skip TLS verification and fall back to plain HTTP."""
        if not self.tls_verify:
            return True
        bare = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return host in self.insecure_registries or bare in self.insecure_registries


def parse_platform(text: str) -> str:
    """Check `os/arch[/variant]` (or `all`) as given to --platform."""
    text = text.strip()
    if text == ALL_PLATFORMS:
        return text
    parts = text.split("/")
    if not 2 <= len(parts) <= 3 or not all(parts):
        raise LayerscopeError(f"--platform {text!r}: expected OS/ARCH[/VARIANT] or 'all'")
    return text


def _split(platform: str) -> tuple[str, str, str | None]:
    parts = platform.split("/")
    os_name, arch = parts[0], parts[1] if len(parts) > 1 else "?"
    variant = parts[2] if len(parts) > 2 else None
    return os_name, arch, variant or _DEFAULT_VARIANT.get(arch)


def platform_matches(actual: str | None, wanted: str) -> bool:
    """`linux/arm64` matches `linux/arm64/v8`; a variant asked for must be the one there."""
    if wanted == ALL_PLATFORMS:
        return True
    if actual is None:
        return False
    a_os, a_arch, a_variant = _split(actual)
    w_os, w_arch, w_variant = _split(wanted)
    if (a_os, a_arch) != (w_os, w_arch):
        return False
    return w_variant is None or a_variant is None or w_variant == a_variant


def host_platform_name() -> str:
    """The platform `podman pull` would choose here, as os/arch[/variant]."""
    import platform  # 1.3 ms to import: only a registry read asks for it

    machine = platform.machine().lower()
    arch = {
        "x86_64": "amd64",
        "amd64": "amd64",
        "aarch64": "arm64",
        "arm64": "arm64",
        "armv7l": "arm/v7",
        "armv6l": "arm/v6",
        "i686": "386",
        "i386": "386",
        "ppc64le": "ppc64le",
        "s390x": "s390x",
        "riscv64": "riscv64",
    }.get(machine, machine)
    return f"linux/{arch}"
