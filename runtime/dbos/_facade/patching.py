"""`DBOS.patch` and `DBOS.deprecate_patch`, as part of the DBOS facade (see `_core/patching`)."""

from __future__ import annotations

from .._core import patching as _patching


class Patching:
    @classmethod
    def patch(cls, name: str) -> bool:
        """In a workflow: True where the code changed by patch `name` runs, False for runs the
        old code recorded (config `enable_patching`)."""
        return _patching.patch(name)

    @classmethod
    async def patch_async(cls, name: str) -> bool:
        return await _patching.patch_async(name)

    @classmethod
    def deprecate_patch(cls, name: str) -> bool:
        """True; steps over the marker of runs that recorded patch `name` (retire it with this,
        then remove the call once no such run is left)."""
        return _patching.deprecate_patch(name)

    @classmethod
    async def deprecate_patch_async(cls, name: str) -> bool:
        return await _patching.deprecate_patch_async(name)
