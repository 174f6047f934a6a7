"""``skypact serve`` for real (uvicorn) with TLS and client certificates."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import time

import httpx
import pytest

from skypact.cli import main
from tests.agreements import signed_agreement
from tests.integration.api.tls import Authority


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_only_clients_with_a_certificate_of_the_ca_are_served(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["db", "migrate", "--data-dir", str(data)]) == 0
    assert main(["token", "create", "--data-dir", str(data), "--party", "usa"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    agreement = signed_agreement(tmp_path / "agreement.toml")
    authority = Authority.create(tmp_path / "pki")
    server, client = authority.server(), authority.client("usa", "usa-aoc")
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "skypact.cli", "serve", "--data-dir", str(data),
         "--agreement", str(agreement), "--port", str(port),
         "--tls-cert", str(server.cert), "--tls-key", str(server.key),
         "--client-ca", str(authority.cert)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        context = ssl.create_default_context(cafile=str(authority.cert))
        context.load_cert_chain(str(client.cert), str(client.key))
        url = f"https://127.0.0.1:{port}/api/v1/picture"
        headers = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(url, headers=headers, verify=context, timeout=5)
                break
            except httpx.ConnectError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        assert answer.status_code == 200
        assert answer.json()["own"] == []
        bare = ssl.create_default_context(cafile=str(authority.cert))
        with pytest.raises(
            (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)
        ):
            httpx.get(url, headers=headers, verify=bare, timeout=5).raise_for_status()
        with pytest.raises((httpx.ConnectError, httpx.RemoteProtocolError)):
            httpx.get(f"http://127.0.0.1:{port}/api/v1/picture", timeout=5).json()
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
