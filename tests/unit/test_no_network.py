"""The guard of tests/unit/conftest.py: a unit test cannot reach a server."""

from __future__ import annotations

import re
import socket

import pytest

# pytest imports conftest.py under its own module name: match the error by its message
REFUSED = "unit tests run without servers"


def test_a_tcp_connection_fails_loudly() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, \
            pytest.raises(AssertionError, match=re.escape("('127.0.0.1', 8086)")):
        sock.connect(("127.0.0.1", 8086))


def test_connect_ex_does_not_quietly_return_an_error_code() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, \
            pytest.raises(AssertionError, match=REFUSED):
        sock.connect_ex(("127.0.0.1", 6379))


def test_an_http_client_cannot_reach_a_server() -> None:
    import requests

    with pytest.raises(AssertionError, match=REFUSED):
        requests.get("http://127.0.0.1:5000/api/v1/health", timeout=1)


def test_a_redis_client_cannot_reach_a_server() -> None:
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1)
    with pytest.raises(AssertionError, match=REFUSED):
        client.ping()
