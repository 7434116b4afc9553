"""Fixtures that run the real binaries: switchboard serve, and fake upstreams from switchboard-fakes.

Binaries come from $SWITCHBOARD_BIN_DIR (default: .build/debug). Everything listens on 127.0.0.1.
"""

import json
import os
import pathlib
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from otlp_receiver import OTLPReceiver

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN_DIR = pathlib.Path(os.environ.get("SWITCHBOARD_BIN_DIR", ROOT / ".build" / "debug"))
MASTER_KEY = "sk-e2e-master"
FAKE_ANTHROPIC_KEY = "sk-e2e-upstream"
FAKE_GEMINI_KEY = "e2e-gemini-key"
FAKE_OPENAI_KEY = "sk-e2e-openai"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not become healthy in {timeout} s")


class Gateway:
    """A running `switchboard serve`, its stderr captured as JSON lines."""

    def __init__(self, config_text: str | None, tmp_path: pathlib.Path, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"switchboard-{self.port}.log"
        args = [str(BIN_DIR / "switchboard"), "serve", "--port", str(self.port)]
        if config_text is not None:
            config_path = tmp_path / f"config-{self.port}.yaml"
            config_path.write_text(config_text)
            args += ["--config", str(config_path)]
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            # With a master key and no database_url, the key database is switchboard.db in the working directory.
            args, stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, cwd=tmp_path
        )
        wait_until_healthy(self.url, self.process)

    def log_lines(self) -> list[dict]:
        self.log.flush()
        lines = []
        for line in self.log_path.read_text().splitlines():
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                pass
        return lines

    def stop(self, sig=signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        self.log.close()
        return code


def fetch(url: str):
    """GET `url` and decode its JSON body (the fakes' /_fake/… inspection routes)."""
    with urllib.request.urlopen(url) as response:
        return json.load(response)


def start_fake(kind: str, key: str):
    """A fake upstream from SwitchboardTesting, as a process; yields its base URL."""
    process = subprocess.Popen(
        [str(BIN_DIR / "switchboard-fakes"), kind, "--port", "0", "--api-key", key],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline().strip()
    assert line.startswith("listening on "), line
    yield line.removeprefix("listening on ")
    process.terminate()
    process.wait(timeout=10)


def service_account_key(project: str, account: str) -> dict:
    """A fresh RSA key in a key file shaped as Google's (PKCS#8 PEM, private_key_id); its token_uri is
    Google's until the test points it at a fake."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": project,
        "private_key_id": os.urandom(20).hex(),
        "private_key": pem,
        "client_email": account,
        "client_id": "109876543210",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "universe_domain": "googleapis.com",
    }


class FakeVertex:
    """`switchboard-fakes vertex` for `project`, trusting the key files in `trusted`; each key file named
    in `trusted` or `untrusted` is written to `directory` with its token_uri at the fake, as a real key's
    is at Google. `keys[name]` is each file's path."""

    def __init__(self, directory: pathlib.Path, project: str, trusted: dict, untrusted: dict | None = None):
        self.keys = {}
        for name, key in {**trusted, **(untrusted or {})}.items():
            self.keys[name] = directory / f"{name}.json"
            self.keys[name].write_text(json.dumps(key))
        args = [str(BIN_DIR / "switchboard-fakes"), "vertex", "--port", "0", "--project", project]
        for name in trusted:
            args += ["--service-account", str(self.keys[name])]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().strip()
        assert line.startswith("listening on "), line
        self.url = line.removeprefix("listening on ")
        for name, key in {**trusted, **(untrusted or {})}.items():
            self.keys[name].write_text(json.dumps({**key, "token_uri": self.url + "/token"}))

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of the tests' own on loopback (Debian's), started on first use, stopped at the end."""
    from replicas import Postgres

    server = Postgres()
    yield server
    server.close()


@pytest.fixture(scope="session")
def fake_anthropic():
    yield from start_fake("anthropic", FAKE_ANTHROPIC_KEY)


@pytest.fixture(scope="session")
def fake_gemini():
    yield from start_fake("gemini", FAKE_GEMINI_KEY)


@pytest.fixture(scope="session")
def fake_openai():
    """`switchboard-fakes openai`: OpenAI's /v1/chat/completions, Azure OpenAI's deployments, vLLM's /tokenize."""
    yield from start_fake("openai", FAKE_OPENAI_KEY)


@pytest.fixture(scope="session")
def gateway_config(fake_anthropic, fake_gemini) -> str:
    return f"""
model_list:
  - model_name: mock-echo
    litellm_params:
      model: mock/echo
      mock_chunk_chars: 5
  - model_name: slow-mock
    litellm_params:
      model: mock/slow
      mock_chunk_chars: 1
      mock_delay_ms: 100
  - model_name: "claude-*"
    litellm_params:
      model: mock/claude-echo
  - model_name: real-claude
    litellm_params:
      model: anthropic/claude-sonnet-4-5-20250929
      api_key: {FAKE_ANTHROPIC_KEY}
      api_base: {fake_anthropic}
  - model_name: gemini-3-flash-preview
    litellm_params:
      model: gemini/gemini-3-flash-preview
      api_key: {FAKE_GEMINI_KEY}
      api_base: {fake_gemini}/v1beta
  - model_name: gemini-2.5-flash
    litellm_params:
      model: gemini/gemini-2.5-flash
      api_key: {FAKE_GEMINI_KEY}
      api_base: {fake_gemini}/v1beta
general_settings:
  master_key: {MASTER_KEY}
"""


@pytest.fixture(scope="session")
def gateway(gateway_config, tmp_path_factory):
    running = Gateway(gateway_config, tmp_path_factory.mktemp("gateway"))
    yield running
    assert running.stop() == 0


# OTLP span kinds, as the decoded protobuf spans carry them.
SERVER, CLIENT = 2, 3


@pytest.fixture(scope="module")
def receiver():
    """An OTLP/HTTP receiver on loopback, one per test module."""
    running = OTLPReceiver()
    yield running
    running.stop()
