"""Real PostgreSQL (Debian's server, started here on loopback) and real nginx in front of several
`switchboard serve` replicas: the pieces test_replicas.py puts together."""

import concurrent.futures
import glob
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import httpx2 as httpx

from conftest import MASTER_KEY, Gateway, free_port

NGINX = "/usr/sbin/nginx"
PRICE_IN, PRICE_OUT = 0.001, 0.002


def _postgres_binary(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"{name} is missing: install Debian's postgresql (`make test-setup`, TEST_APT_PACKAGES)")
    return found[-1]


class Postgres:
    """A PostgreSQL server of our own: initdb in a temporary folder, pg_ctl start and stop on 127.0.0.1.
    As root it runs as the `postgres` user, since the server refuses to run as root."""

    def __init__(self):
        self.port = free_port()
        self.folder = pathlib.Path(tempfile.mkdtemp(prefix="switchboard-pg-"))
        self.data = self.folder / "data"
        os.chmod(self.folder, 0o755)
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(_postgres_binary("initdb"), "-D", str(self.data), "-A", "trust", "-U", "switchboard", "--no-sync", "-E", "UTF8")
        self.start()

    def _run(self, *arguments: str) -> str:
        command = (["runuser", "-u", "postgres", "--"] if self.as_root else []) + list(arguments)
        return subprocess.run(command, check=True, capture_output=True, text=True, timeout=60).stdout

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off -c max_connections=200"
        self._run(_postgres_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "server.log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run(_postgres_binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def close(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # stopped already
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def create_database(self, name: str) -> str:
        self.sql("postgres", f"CREATE DATABASE {name}")
        return f"postgresql://switchboard@127.0.0.1:{self.port}/{name}"

    def sql(self, database: str, statement: str) -> list[list[str]]:
        output = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "switchboard", "-d", database, "-At", "-F", "\t",
             "-v", "ON_ERROR_STOP=1", "-c", statement],
            check=True, capture_output=True, text=True, timeout=30,
        ).stdout
        return [line.split("\t") for line in output.splitlines() if line]


CONFIG = """
model_list:
  - {{model_name: "claude-*", litellm_params: {{model: mock/echo, input_cost_per_token: 0.001, output_cost_per_token: 0.002}}}}
  - {{model_name: "slow", litellm_params: {{model: mock/echo, mock_delay_ms: {slow_ms}, input_cost_per_token: 0.001, output_cost_per_token: 0.002}}}}
general_settings:
  master_key: {master}
  database_url: "{url}"
  on_store_failure: {policy}
switchboard:
  instance_id: {instance}
{extra}"""


def start_replicas(url: str, tmp_path: pathlib.Path, count: int = 3, policy: str = "local", slow_ms: int = 1500,
                   extra: str = "", env: dict | None = None) -> list[Gateway]:
    """`count` replicas on one database, started all at once (each migrates and syncs the file's keys, as
    replicas a deployment starts together do)."""
    def start(index: int) -> Gateway:
        folder = tmp_path / f"replica-{index}"
        folder.mkdir(exist_ok=True)
        config = CONFIG.format(master=MASTER_KEY, url=url, policy=policy, instance=f"replica-{index}", slow_ms=slow_ms, extra=extra)
        return Gateway(config, folder, env=env)

    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        return list(pool.map(start, range(count)))


class Nginx:
    """nginx balancing round-robin over the replicas: the configuration docs/deployment.md shows."""

    def __init__(self, replicas: list[Gateway], tmp_path: pathlib.Path):
        if not os.access(NGINX, os.X_OK):
            raise RuntimeError(f"{NGINX} is missing: install Debian's nginx (`make test-setup`)")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        prefix = tmp_path / "nginx"
        prefix.mkdir(exist_ok=True)
        servers = "\n".join(f"        server 127.0.0.1:{replica.port};" for replica in replicas)
        configuration = f"""
daemon off;
master_process off;
worker_processes 1;
error_log {prefix}/error.log error;
pid {prefix}/nginx.pid;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {prefix};
    proxy_temp_path {prefix};
    fastcgi_temp_path {prefix};
    uwsgi_temp_path {prefix};
    scgi_temp_path {prefix};
    upstream switchboard {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{self.port};
        client_max_body_size 64m;
        location / {{
            proxy_pass http://switchboard;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 600s;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""
        path = prefix / "nginx.conf"
        path.write_text(configuration)
        self.process = subprocess.Popen([NGINX, "-c", str(path), "-p", str(prefix), "-e", "stderr"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/health", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def admin(url: str, method: str, path: str, body: dict | None = None):
    response = httpx.request(method, url + path, json=body, headers={"Authorization": f"Bearer {MASTER_KEY}"}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def ask(client: httpx.Client, url: str, key: str, model: str = "claude-sonnet-4-6", text: str = "hi") -> httpx.Response:
    return client.post(
        url + "/v1/messages",
        json={"model": model, "max_tokens": 32, "messages": [{"role": "user", "content": text}]},
        headers={"x-api-key": key, "anthropic-version": "2023-06-01"},
        timeout=30,
    )


def cost(response: httpx.Response) -> float:
    usage = response.json()["usage"]
    return usage["input_tokens"] * PRICE_IN + usage["output_tokens"] * PRICE_OUT


def metric(url: str, name: str) -> float | None:
    for line in httpx.get(url + "/metrics", timeout=5).text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.split()[-1])
    return None


def wait_for_second_of_minute(earliest: int = 2, latest: int = 35) -> None:
    """Waits until the clock is well inside a minute: rate windows are calendar minutes of the database's clock,
    which is this machine's."""
    while not (earliest <= time.time() % 60 <= latest):
        time.sleep(0.2)
