"""The gateway reaching a TLS upstream through a real CONNECT proxy (issue 12, defect 5).

Debian's nginx plays Gemini over HTTPS (HTTP/2) with a certificate signed by a CA made here;
Debian's tinyproxy is the proxy, named by HTTPS_PROXY. Without CURLOPT_SUPPRESS_CONNECT_HEADERS the
proxy's "200 Connection established" was taken for the upstream's response head.
Everything listens on 127.0.0.1 and is stopped by its fixture.
"""

import os
import pathlib
import shutil
import socket
import subprocess
import time

import anthropic
import pytest

from conftest import MASTER_KEY, Gateway, free_port

NGINX = "/usr/sbin/nginx"
TINYPROXY = "/usr/bin/tinyproxy"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
GEMINI_KEY = "k"
ANSWER = (
    '{"candidates":[{"content":{"role":"model","parts":[{"text":"through the tunnel"}]},'
    '"finishReason":"STOP"}],'
    '"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3,"totalTokenCount":8}}'
)


def require(binary: str, package: str) -> None:
    if not os.access(binary, os.X_OK):
        pytest.fail(f"{binary} is missing: install Debian's {package} (`make test-setup`, TEST_APT_PACKAGES)")


def wait_for_port(port: int, process: subprocess.Popen, name: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.025)
    raise RuntimeError(f"{name} did not listen on {port} within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def openssl(*arguments: str) -> None:
    subprocess.run([OPENSSL, *arguments], check=True, capture_output=True, timeout=60)


@pytest.fixture
def certificates(tmp_path) -> dict[str, pathlib.Path]:
    """A CA, and a certificate it signs for localhost and 127.0.0.1."""
    require(OPENSSL, "openssl")
    paths = {name: tmp_path / f"{name}.pem" for name in ("ca", "ca-key", "server", "server-key")}
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=switchboard e2e CA",
            "-keyout", str(paths["ca-key"]), "-out", str(paths["ca"]))
    request = tmp_path / "server.csr"
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-keyout", str(paths["server-key"]), "-out", str(request))
    extensions = tmp_path / "server.ext"
    extensions.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", str(request), "-CA", str(paths["ca"]), "-CAkey", str(paths["ca-key"]),
            "-CAcreateserial", "-days", "1", "-extfile", str(extensions), "-out", str(paths["server"]))
    return paths


@pytest.fixture
def nginx_port(tmp_path, certificates):
    """nginx answering Gemini's two methods for gemini-2.5-flash over HTTPS; yields its port."""
    require(NGINX, "nginx")
    port = free_port()
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    models = "/v1beta/models/gemini-2.5-flash"
    # nginx reads \n in a quoted string as a newline: one SSE event, then the blank line ending it.
    configuration = f"""
daemon off;
master_process off;
worker_processes 1;
error_log stderr error;
pid {prefix}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix};
    proxy_temp_path {prefix};
    fastcgi_temp_path {prefix};
    uwsgi_temp_path {prefix};
    scgi_temp_path {prefix};
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {certificates["server"]};
        ssl_certificate_key {certificates["server-key"]};
        if ($http_x_goog_api_key != "{GEMINI_KEY}") {{ return 401; }}
        location = {models}:generateContent {{
            default_type application/json;
            return 200 '{ANSWER}';
        }}
        location = {models}:streamGenerateContent {{
            default_type text/event-stream;
            return 200 'data: {ANSWER}\\n\\n';
        }}
        location / {{ return 404; }}
    }}
}}
"""
    configuration_path = prefix / "nginx.conf"
    configuration_path.write_text(configuration)
    process = subprocess.Popen([NGINX, "-c", str(configuration_path), "-p", str(prefix), "-e", "stderr"])
    try:
        wait_for_port(port, process, "nginx")
        yield port
    finally:
        stop(process)


@pytest.fixture
def tinyproxy(tmp_path, nginx_port):
    """tinyproxy tunnelling to the nginx port only; yields (port, log path)."""
    require(TINYPROXY, "tinyproxy")
    port = free_port()
    log_path = tmp_path / "tinyproxy.log"
    # No User/Group: it runs as whoever runs the tests. `Connect` logging names each tunnel.
    configuration_path = tmp_path / "tinyproxy.conf"
    configuration_path.write_text(
        f"Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 16\nAllow 127.0.0.1\n"
        f"ConnectPort {nginx_port}\nLogFile \"{log_path}\"\nLogLevel Connect\n"
    )
    process = subprocess.Popen([TINYPROXY, "-d", "-c", str(configuration_path)])
    try:
        wait_for_port(port, process, "tinyproxy")
        yield port, log_path
    finally:
        stop(process)


@pytest.fixture
def proxied_gateway(tmp_path, certificates, nginx_port, tinyproxy):
    proxy_port, _ = tinyproxy
    config = f"""
model_list:
  - model_name: flash
    litellm_params:
      model: gemini/gemini-2.5-flash
      api_key: {GEMINI_KEY}
      api_base: https://localhost:{nginx_port}/v1beta
general_settings:
  master_key: {MASTER_KEY}
"""
    env = {
        "HTTPS_PROXY": f"http://127.0.0.1:{proxy_port}",
        "SSL_CERT_FILE": str(certificates["ca"]),
        # An inherited NO_PROXY naming localhost would let the request bypass the proxy.
        "NO_PROXY": "",
        "no_proxy": "",
    }
    running = Gateway(config, tmp_path, env=env)
    try:
        yield running
    finally:
        assert running.stop() == 0


def test_gemini_over_tls_through_a_connect_proxy(proxied_gateway, tinyproxy, nginx_port):
    _, proxy_log = tinyproxy
    client = anthropic.Anthropic(base_url=proxied_gateway.url, api_key=MASTER_KEY, max_retries=0, timeout=30)
    prompt = [{"role": "user", "content": "are you there?"}]

    message = client.messages.create(model="flash", max_tokens=64, messages=prompt)
    assert message.content[0].text == "through the tunnel"
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens == 3

    with client.messages.stream(model="flash", max_tokens=64, messages=prompt) as stream:
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert streamed == "through the tunnel"
    assert final.stop_reason == "end_turn"

    log = proxy_log.read_text()
    assert f"CONNECT localhost:{nginx_port}" in log, f"the requests did not go through the proxy:\n{log}"
