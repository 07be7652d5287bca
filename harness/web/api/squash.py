"""/squash/: the protocol of LSST's own client (`lsst.verify.squash`, `dispatch_verify.py`).

Discovery at the root, `auth` trades an API token's name and secret for a short-lived
access token, `job` takes a Job JSON document exactly like /api/v1/jobs."""

from __future__ import annotations

import hashlib

from flask import Blueprint, request, url_for
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from harness.errors import Forbidden, Unauthorized
from harness.formats.job import parse_job
from harness.model import utcnow
from harness.settings import Token
from harness.web.api.submissions import accept, read_json
from harness.web.context import WebContext, context

bp = Blueprint("squash", __name__, url_prefix="/squash")
ACCESS_TOKEN_SECONDS = 600


def _serializer(ctx: WebContext) -> URLSafeTimedSerializer:
    # keyed by the configured token hashes: every web process agrees, and rotating or
    # removing an API token invalidates the access tokens made from it
    material = "|".join(sorted(f"{t.name}:{t.secret_sha256}" for t in ctx.settings.api_tokens))
    key = hashlib.sha256(f"harness-squash|{material}".encode()).hexdigest()
    return URLSafeTimedSerializer(key, salt="squash-access")


@bp.get("/")
def root() -> ResponseReturnValue:
    """Endpoint discovery, as `lsst.verify.squash.get_endpoint_url` reads it."""
    return {
        "auth": url_for(".auth", _external=True),
        "job": url_for(".job", _external=True),
        "metrics": url_for("api.metrics.index", _external=True),
    }


@bp.post("/auth")
def auth() -> ResponseReturnValue:
    """Trade `{"username": token name, "password": token secret}` for an access token."""
    body = read_json()
    if not isinstance(body, dict) or not all(
        isinstance(body.get(key), str) for key in ("username", "password")
    ):
        # no credentials is no token: 401 like every other write without one
        raise Unauthorized("needs string fields username and password (a token's name and "
                           "secret)")
    ctx = context()
    token = ctx.settings.token_for(body["password"])
    if token is None or token.name != body["username"]:
        raise Unauthorized("invalid username or password")
    access = _serializer(ctx).dumps({"name": token.name})
    return {"access_token": access, "token_type": "JWT", "expires_in": ACCESS_TOKEN_SECONDS}


@bp.post("/job")
def job() -> ResponseReturnValue:
    """Take a Job JSON document with `Authorization: JWT <access token>`."""
    ctx = context()
    token = _access_token(ctx)
    if "ingest" not in token.scopes and "admin" not in token.scopes:
        raise Forbidden(f"token {token.name!r} lacks the 'ingest' scope")
    body = read_json()
    parsed = parse_job(body, ctx.full_catalog(), received=utcnow(),
                       max_measurements=ctx.settings.max_measurements)
    answer = accept(ctx, parsed, body)
    return {"message": f"Job accepted as submission {answer['submission']}.", **answer}, 202


def _access_token(ctx: WebContext) -> Token:
    scheme, _, access = request.headers.get("Authorization", "").partition(" ")
    if scheme.upper() != "JWT" or not access.strip():
        raise Unauthorized("an `Authorization: JWT <access_token>` header is required "
                           "(get one from /squash/auth)")
    try:
        claims = _serializer(ctx).loads(access.strip(), max_age=ACCESS_TOKEN_SECONDS)
    except SignatureExpired:
        raise Unauthorized("the access token has expired; authenticate again") from None
    except BadSignature:
        raise Unauthorized("invalid access token") from None
    token = next((t for t in ctx.settings.api_tokens if t.name == claims.get("name")), None)
    if token is None:
        raise Unauthorized("the token behind this access token no longer exists")
    return token
