"""Bearer tokens with scopes."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from harness.errors import Forbidden, Unauthorized
from harness.settings import Token
from harness.web.context import context

View = TypeVar("View", bound=Callable[..., Any])


def authenticate() -> Token:
    """The token of this request; raises Unauthorized when missing or unknown."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("an `Authorization: Bearer <token>` header is required")
    token = context().settings.token_for(secret.strip())
    if token is None:
        raise Unauthorized("unknown token")
    return token


def require_scope(scope: str) -> Callable[[View], View]:
    """Decorate a view so that it needs a token with this scope."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            token = authenticate()
            if scope not in token.scopes and "admin" not in token.scopes:
                raise Forbidden(f"token {token.name!r} lacks the {scope!r} scope")
            g.token = token
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate
