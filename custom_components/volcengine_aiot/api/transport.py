"""What the action mixins of the client (PTZ, recordings) need of ``VolcengineClient``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from .models import JsonObject


class Transport(Protocol):
    """The signed request of ``VolcengineClient``, with its retry rules."""

    async def request(
        self,
        action: str,
        params: Mapping[str, str] | None = None,
        *,
        method: str = "GET",
        body: JsonObject | None = None,
        idempotent: bool = True,
        version: str = ...,
    ) -> JsonObject:
        """Call an action and return its ``Result`` object."""

    async def request_result(
        self,
        action: str,
        params: Mapping[str, str] | None = None,
        *,
        method: str = "GET",
        body: JsonObject | None = None,
        idempotent: bool = True,
        version: str = ...,
    ) -> object:
        """Call an action and return its ``Result``, whatever its JSON type."""
