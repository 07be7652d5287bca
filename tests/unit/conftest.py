"""Unit tests: the core on literal data. No server is started here, and any attempt to open
a network connection fails the test loudly (a unit test must never reach Redis, InfluxDB,
Celery or HTTP, not even by accident through a default URL)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest


class NetworkInUnitTest(AssertionError):
    """A unit test tried to open a network connection."""


def _refuse(address: Any) -> NoReturn:
    raise NetworkInUnitTest(f"a unit test tried to reach {address!r}: unit tests run without "
                            "servers (the end-to-end tests under tests/ start them)")


def _refuse_socket(sock: socket.socket, address: Any, *args: Any) -> NoReturn:
    _refuse(address)


def _refuse_address(address: Any, *args: Any, **kwargs: Any) -> NoReturn:
    _refuse(address)


def _refuse_lookup(host: Any, port: Any, *args: Any, **kwargs: Any) -> NoReturn:
    _refuse((host, port))


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every socket connection (TCP, UDP, Unix) and name lookup raises NetworkInUnitTest."""
    monkeypatch.setattr(socket.socket, "connect", _refuse_socket)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse_socket)
    monkeypatch.setattr(socket, "create_connection", _refuse_address)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse_lookup)
    yield
