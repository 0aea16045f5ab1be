"""Find the real ``restate-server`` binary, or say exactly how to install it.

The lookup order is: env ``RESTATE_SERVER_BIN``; the project cache
``.cache/restate-server/`` (written by ``scripts/install-restate-server.sh``) under the
repository root and under the current directory; then ``PATH``. The npm package installs a
node wrapper at ``node_modules/.bin/restate-server`` that spawns the platform binary; when
the native binary sits next to it we return that instead, so the harness signals the server
itself rather than a node intermediary.
"""

from __future__ import annotations

import os
import platform
import shutil
from pathlib import Path

#: The server version the project pins and documents (``docs/observed-restate-1.7.12.md``).
PINNED_VERSION = "1.7.12"

_CACHE = Path(".cache") / "restate-server"
_REPO_ROOT = Path(__file__).resolve().parents[2]

INSTALL_HINT = (
    "Install it with `scripts/install-restate-server.sh` (npm install of "
    f"@restatedev/restate-server@{PINNED_VERSION} into .cache/restate-server/ in the repository), "
    "or point the environment variable RESTATE_SERVER_BIN at a restate-server binary."
)


class RestateServerNotInstalled(RuntimeError):
    """The real Restate Server binary could not be found; the message says how to install it."""

    def __init__(self, searched: list[str]) -> None:
        self.searched = searched
        super().__init__("restate-server binary not found (searched: " + ", ".join(searched) + "). " + INSTALL_HINT)


def _npm_arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64"}.get(machine, machine)


def _native_beside(wrapper: Path) -> Path | None:
    """The platform binary the npm wrapper at ``node_modules/.bin/restate-server`` would spawn."""
    node_modules = wrapper.parent.parent
    native = (
        node_modules
        / "@restatedev"
        / f"restate-server-{platform.system().lower()}-{_npm_arch()}"
        / "bin"
        / "restate-server"
    )
    return native if native.is_file() and os.access(native, os.X_OK) else None


def _usable(path: Path) -> Path | None:
    if path.is_file() and os.access(path, os.X_OK):
        return _native_beside(path) if path.parent.name == ".bin" and _native_beside(path) else path
    return None


def find_restate_server() -> Path:
    """Return the path of an executable ``restate-server``; raise :class:`RestateServerNotInstalled`."""
    searched: list[str] = []
    env = os.environ.get("RESTATE_SERVER_BIN")
    if env:
        searched.append(f"$RESTATE_SERVER_BIN={env}")
        found = _usable(Path(env))
        if found:
            return found
    for root in dict.fromkeys([_REPO_ROOT, Path.cwd()]):
        wrapper = root / _CACHE / "node_modules" / ".bin" / "restate-server"
        searched.append(str(wrapper))
        found = _usable(wrapper)
        if found:
            return found
    searched.append("PATH")
    on_path = shutil.which("restate-server")
    if on_path:
        found = _usable(Path(on_path))
        if found:
            return found
    raise RestateServerNotInstalled(searched)
