#!/usr/bin/env python3
"""One entry point for a fresh machine that has only Python 3.11+.

    python3 scripts/dev.py run    # set up, then serve the platform + a worker
    python3 scripts/dev.py test   # set up, then run the whole test suite

Set-up is idempotent: a virtual env at .venv/, the pinned requirements (re-
installed only when requirements.txt changes), the browser libraries pinned
in package-lock.json (`npm ci`, again only when the lock changes), the
embedded PostgreSQL 18 + pgvector server under var/ (unless DATABASE_URL is
set), migrations and the demo study. Uses only the standard library so it runs before anything is
installed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
VENV_PY = VENV / "bin" / "python"
REQUIREMENTS = ROOT / "requirements.txt"
STAMP = VENV / ".requirements.sha256"
PGDATA = Path(os.environ.get("MGE_PGDATA", ROOT / "var" / "pgdata"))
# Debian packages the browser tests need; the test command installs them.
BROWSER_PACKAGES = ["chromium"]
# Browser libraries (the graph explorer's cytoscape) come from npm, pinned by
# package-lock.json, and are served from node_modules/ as static files.
PACKAGE_LOCK = ROOT / "package-lock.json"
NODE_MODULES = ROOT / "node_modules"
JS_STAMP = NODE_MODULES / ".package-lock.sha256"
JS_PACKAGES = ["npm"]


def log(message: str) -> None:
    print(f"[mge] {message}", flush=True)


def run(cmd: list[str], **kwargs) -> None:
    subprocess.run(cmd, check=True, cwd=ROOT, **kwargs)


def ensure_python() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before the venv, on any python3
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")


def ensure_venv() -> None:
    if not VENV_PY.exists():
        log("creating virtual env at .venv/")
        run([sys.executable, "-m", "venv", str(VENV)])
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == digest:
        return
    log("installing pinned requirements (first run takes about a minute)")
    quiet = ["--quiet"] if os.environ.get("CI") or not sys.stdout.isatty() else []
    run([str(VENV_PY), "-m", "pip", "install", "--disable-pip-version-check", *quiet, "--upgrade", "pip"])
    run([str(VENV_PY), "-m", "pip", "install", "--disable-pip-version-check", *quiet, "-r", str(REQUIREMENTS)])
    STAMP.write_text(digest)


def ensure_browser() -> None:
    """Debian's chromium for the Playwright tests (no browser download)."""
    if shutil.which("chromium") or os.environ.get("MGE_SKIP_BROWSER"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        log("chromium not found and cannot be installed here; browser tests will be skipped")
        return
    log("installing Debian chromium for browser tests")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *BROWSER_PACKAGES], env=env)


def ensure_js() -> None:
    """`npm ci` from package-lock.json, again only when the lock changes.
    Without npm the graph explorer still works, as tables."""
    if os.environ.get("MGE_SKIP_JS"):
        return
    digest = hashlib.sha256(PACKAGE_LOCK.read_bytes()).hexdigest()
    if JS_STAMP.exists() and JS_STAMP.read_text().strip() == digest:
        return
    if not shutil.which("npm"):
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            log("npm not found and cannot be installed here; the graph explorer will show tables only")
            return
        log("installing Debian npm for the graph explorer's JavaScript")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-qq"], env=env)
        run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *JS_PACKAGES], env=env)
    log("installing pinned JavaScript packages (npm ci)")
    try:
        run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"])
    except (subprocess.CalledProcessError, OSError) as err:
        log(f"npm ci failed ({err}); the graph explorer will show tables only")
        return
    JS_STAMP.write_text(digest)


def platform_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.setdefault("MGE_DEV", "1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.update(extra or {})
    return env


def embedded_db_running() -> bool:
    pid_file = PGDATA / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
        return True
    except (ValueError, IndexError, ProcessLookupError, PermissionError):
        return False


def stop_embedded_db() -> None:
    code = (
        "from mgeplatform import embedded_db; from pathlib import Path; import sys; embedded_db.stop(Path(sys.argv[1]))"
    )
    subprocess.run([str(VENV_PY), "-c", code, str(PGDATA)], cwd=ROOT, check=False)


class EmbeddedDatabaseOwnership:
    """Stop the embedded server on exit only if this command started it,
    so a test run never pulls the database out from under a running server."""

    def __init__(self):
        self.owned = not os.environ.get("DATABASE_URL") and not embedded_db_running()

    def release(self) -> None:
        if self.owned and embedded_db_running():
            log("stopping the embedded PostgreSQL server")
            stop_embedded_db()


def manage(*args: str, env: dict) -> None:
    run([str(VENV_PY), "manage.py", *args], env=env)


def compile_messages(env: dict) -> None:
    """The participant pages' catalogs (locale/*/LC_MESSAGES/django.po) to
    the .mo files Django reads; needs GNU gettext's msgfmt."""
    if not shutil.which("msgfmt"):
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            log("msgfmt not found and cannot be installed here; participant pages will be in English only")
            return
        log("installing Debian gettext for the translation catalogs")
        apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-qq"], env=apt_env)
        run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "gettext"], env=apt_env)
    manage("compilemessages", "-v", "0", "--ignore=.venv", "--ignore=node_modules", env=env)


def prepare_database(env: dict) -> None:
    log("applying migrations")
    manage("migrate", "--noinput", "-v", "0", env=env)
    manage("seed_case_study", env=env)


def cmd_test(args: argparse.Namespace) -> int:
    ensure_python()
    ensure_venv()
    ensure_js()
    ensure_browser()
    owner = EmbeddedDatabaseOwnership()
    env = platform_env()
    try:
        compile_messages(env)
        failed = static_checks(env)
        cov = coverage_args(args.pytest_args)
        pytest = [str(VENV_PY), "-m", "pytest", *reuse_test_database(), *cov, *args.pytest_args]
        log("running: " + " ".join(pytest[1:]))
        code = subprocess.call(pytest, cwd=ROOT, env=env)
        if cov:
            report_coverage()
        if failed:
            log("failed: " + ", ".join(failed))
        return code or (1 if failed else 0)
    finally:
        owner.release()


def static_check_commands() -> dict[str, list[str]]:
    """Lint, formatting, the layering of the apps, migrations that match the
    models, and types in the apps pyproject.toml's [tool.mypy] enables."""
    return {
        "ruff": [str(VENV / "bin" / "ruff"), "check", "--quiet", "."],
        "format": [str(VENV / "bin" / "ruff"), "format", "--check", "--quiet", "."],
        "layers": [str(VENV_PY), "scripts/check_layers.py"],
        "migrations": [str(VENV_PY), "manage.py", "makemigrations", "--check", "--dry-run"],
        "mypy": [str(VENV / "bin" / "mypy")],
    }


def static_checks(env: dict) -> list[str]:
    failed = []
    for name, cmd in static_check_commands().items():
        log(f"check: {name}")
        started = time.monotonic()
        if subprocess.call(cmd, cwd=ROOT, env=env) != 0:
            failed.append(name)
        if name == "mypy":  # its cache (.mypy_cache/) makes a second run much quicker: say how long
            log(f"mypy took {time.monotonic() - started:.1f} s")
    return failed


FAST_TIER = "not slow and not browser"


def coverage_args(pytest_args: list[str]) -> list[str]:
    """Coverage of the apps for a fast-tier run (`-m "not slow and not
    browser"`), measured by pytest-cov and reported as one total line after
    it (no threshold). Other runs start servers in processes coverage does
    not follow, so they are left unmeasured; `--no-cov` turns it off."""
    marked = [b for a, b in zip(pytest_args, pytest_args[1:]) if a == "-m"]
    marked += [a[len("-m=") :] for a in pytest_args if a.startswith("-m=")]
    if FAST_TIER not in [m.strip() for m in marked] or "--no-cov" in pytest_args:
        return []
    return ["--cov", "--cov-report="]  # what and where: pyproject.toml's [tool.coverage]


def report_coverage() -> None:
    out = subprocess.run(
        [str(VENV / "bin" / "coverage"), "report", "--format=total"], cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode == 0 and out.stdout.strip():
        log(f"coverage (fast tier, statements of the apps): {out.stdout.strip()}% total")
    else:
        log("coverage: no figure (" + (out.stderr.strip() or "no data") + ")")


def reuse_test_database() -> list[str]:
    """Keep the test database between runs (--reuse-db), and build it again
    when any migration changed since it was made."""
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    stamp = ROOT / "var" / "test-db-migrations.sha256"
    stamp.parent.mkdir(exist_ok=True)
    fresh = stamp.exists() and stamp.read_text().strip() == digest.hexdigest()
    stamp.write_text(digest.hexdigest())
    return ["--reuse-db"] if fresh else ["--reuse-db", "--create-db"]


class Supervised:
    """A child process that is started again, with backoff, whenever it exits
    unasked: 1, 2, 4 ... up to RESTART_BACKOFF_MAX_SECONDS (30) between tries,
    back to 1 s after it has run for a minute. A crash or a lost database
    then costs a pause, not the platform."""

    HEALTHY_SECONDS = 60

    def __init__(self, name: str, cmd: list[str], env: dict, pass_fds: tuple[int, ...] = ()):
        self.name, self.cmd, self.env, self.pass_fds = name, cmd, env, pass_fds
        self.max_backoff = float(env.get("RESTART_BACKOFF_MAX_SECONDS", 30))
        self.backoff = 1.0
        self.proc: subprocess.Popen | None = None
        self.started = 0.0
        self.restart_at: float | None = None
        self.restarts = 0

    def start(self) -> None:
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, pass_fds=self.pass_fds)
        self.started = time.monotonic()
        self.restart_at = None

    def tend(self) -> None:
        """Called every half second: notice an exit, restart when it is due."""
        now = time.monotonic()
        if self.restart_at is None and self.proc.poll() is not None:
            if now - self.started >= self.HEALTHY_SECONDS:
                self.backoff = 1.0
            log(f"{self.name} exited with {self.proc.returncode}; restarting in {self.backoff:.0f}s")
            self.restart_at = now + self.backoff
            self.backoff = min(self.backoff * 2, self.max_backoff)
        elif self.restart_at is not None and now >= self.restart_at:
            self.restarts += 1
            log(f"restarting {self.name}")
            self.start()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)

    def wait(self, timeout: float) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_embedded_db() -> None:
    code = (
        "from mgeplatform import embedded_db; from pathlib import Path; import sys; "
        "embedded_db.ensure_running(Path(sys.argv[1]))"
    )
    subprocess.run([str(VENV_PY), "-c", code, str(PGDATA)], cwd=ROOT, check=False, timeout=60)


def wait_for_http(url: str, timeout: float, procs: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                name = proc.args[1] if len(proc.args) > 1 else proc.args[0]
                raise RuntimeError(f"{name} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


def smoke_check(base: str) -> None:
    """A real request to the participant page and the admin login."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with opener.open(f"{base}/s/case-study/?PROLIFIC_PID=smokecheck&STUDY_ID=smoke&SESSION_ID=smoke", timeout=10) as r:
        body = r.read().decode()
        if r.status != 200 or "I agree" not in body:
            raise RuntimeError(f"consent page did not render (HTTP {r.status})")
        log(f"consent page OK: {r.geturl()}")
    with opener.open(f"{base}/admin/", timeout=10) as r:
        body = r.read().decode()
        if r.status != 200 or "password" not in body.lower():
            raise RuntimeError(f"admin login did not render (HTTP {r.status})")
        log(f"admin login OK: {r.geturl()}")


REDIS_PACKAGES = ["redis-server"]
# A handshake is given this long to be accepted (daphne's default is 5 s).
# Consumers accept before any database work, so this only matters when a
# burst of connects queues for the CPU.
WEBSOCKET_CONNECT_TIMEOUT = os.environ.get("WEBSOCKET_CONNECT_TIMEOUT", "20")


def listening_sockets(host: str, port: int, processes: int) -> list[socket.socket]:
    """The listening socket(s) the web processes accept from (`--fd`): no
    proxy in between. Bound here, in the supervisor, so they outlive a web
    process that is restarted: connects made meanwhile wait in the backlog
    instead of being refused. Above one process, one socket per process on
    the same port (SO_REUSEPORT): the kernel then spreads new connections
    evenly over the processes by a hash of the client's address and port,
    where one shared socket gave one process 72 % of 500 interviews'
    work (docs/performance.md)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    socks = []
    for _ in range(processes):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if processes > 1:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind((host.strip("[]"), port))
        except OSError as err:
            sock.close()
            for other in socks:
                other.close()
            raise SystemExit(f"[mge] cannot listen on {host}:{port}: {err.strerror}") from None
        sock.listen(4096)  # a launch sends hundreds of connects at once (capped by net.core.somaxconn)
        sock.set_inheritable(True)
        socks.append(sock)
    return socks


WEB_SERVERS = ("daphne", "uvicorn")


def web_commands(socks: list[socket.socket], env: dict, server: str = "uvicorn") -> list[Supervised]:
    """One ASGI server process per listening socket."""

    def command(fd: str) -> list[str]:
        if server == "uvicorn":
            # --no-proxy-headers: config/asgi.py believes X-Forwarded-For only from TRUSTED_PROXIES.
            return [
                str(VENV / "bin" / "uvicorn"),
                "--fd",
                fd,
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--ws",
                "websockets-sansio",
                "--no-proxy-headers",
                "--lifespan",
                "on",
                "--timeout-graceful-shutdown",
                "10",
                "config.asgi:application",
            ]
        # No --proxy-headers: daphne would believe any client's X-Forwarded-For; config/asgi.py
        # believes it only from TRUSTED_PROXIES.
        return [
            str(VENV / "bin" / "daphne"),
            "--fd",
            fd,
            "--websocket_connect_timeout",
            WEBSOCKET_CONNECT_TIMEOUT,
            "config.asgi:application",
        ]

    if len(socks) == 1:
        return [
            Supervised(f"web server ({server})", command(str(socks[0].fileno())), env, pass_fds=(socks[0].fileno(),))
        ]
    return [
        Supervised(f"web server {i} ({server})", command(str(sock.fileno())), env, pass_fds=(sock.fileno(),))
        for i, sock in enumerate(socks, start=1)
    ]


def ensure_redis_server() -> str:
    """Debian's redis-server: installed with apt-get when missing and we are root."""
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(
            "[mge] --processes > 1 needs a shared channel layer: set REDIS_URL, or install "
            "redis-server (Debian package redis-server)"
        )
    log("installing Debian redis-server for the shared channel layer")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *REDIS_PACKAGES], env=env)
    return shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def local_redis(env: dict) -> Supervised:
    """A Redis for this run only (channel layer and shared cache), on a free
    local port, keeping nothing on disk; supervised like the other children."""
    binary = ensure_redis_server()
    port = free_port()
    workdir = ROOT / "var" / "redis"
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [
        binary,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(workdir),
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--maxclients",
        "10000",
        "--tcp-backlog",
        "4096",
        "--loglevel",
        "warning",
    ]
    env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    return Supervised("redis-server", cmd, env)


def wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:.0f}s")


def cmd_run(args: argparse.Namespace) -> int:
    ensure_python()
    ensure_venv()
    ensure_js()
    owner = EmbeddedDatabaseOwnership()
    # A development run may sit behind a proxy on this machine; the settings
    # trust none unless told (a deployment names its own proxy).
    env = platform_env({"TRUSTED_PROXIES": os.environ.get("TRUSTED_PROXIES", "127.0.0.1,::1")})
    children: list[Supervised] = []
    demo_builder: subprocess.Popen | None = None

    def shutdown(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, shutdown)
    # Also Ctrl-C's SIGINT, explicitly: started in the background (a script,
    # `cmd &`), this process inherits SIGINT ignored, so a SIGINT would stop
    # nothing, and the children (which inherit an ignored signal, not a
    # handler) would ignore ours too and be killed only after the wait.
    signal.signal(signal.SIGINT, shutdown)
    try:
        compile_messages(env)
        prepare_database(env)
        manage("collectstatic", "--noinput", "-v", "0", env=env)
        report_path = ""
        if args.demo:
            # Only the study now (an outdated demo is set aside); it is filled in the background below.
            demo = subprocess.run(
                [str(VENV_PY), "manage.py", "demo_study", "--prepare", "--n", str(args.demo)],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            report_path = next((line.split()[-1] for line in demo.splitlines() if line.startswith("Report:")), "")
        credentials = (
            subprocess.run(
                [str(VENV_PY), "manage.py", "ensure_demo_staff"],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            if env.get("MGE_DEV") == "1"
            else ""
        )
        base = f"http://{args.host}:{args.port}"
        processes = max(1, args.processes)
        if processes > 1 and not env.get("REDIS_URL"):
            redis = local_redis(env)
            log(f"starting redis-server on {env['REDIS_URL']} (channel layer and shared cache)")
            redis.start()
            children.append(redis)
            wait_for_port(int(env["REDIS_URL"].rsplit(":", 1)[1].split("/")[0]), timeout=15)
        socks = listening_sockets(args.host, args.port, processes)
        log(f"starting {processes} web server process{'es' if processes > 1 else ''} ({args.server}) on {base}")
        web = web_commands(socks, env, server=args.server)
        children.extend(web)
        # run_worker keeps procrastinate's worker going through database restarts.
        log(f"starting {args.workers} background worker(s) (procrastinate, supervised by manage.py run_worker)")
        for i in range(args.workers):
            name = "background worker" if args.workers == 1 else f"background worker {i + 1}"
            children.append(Supervised(name, [str(VENV_PY), "manage.py", "run_worker"], env))
        for child in children:
            if child.proc is None:
                child.start()
        if args.demo:
            demo_builder = start_demo_build(args.demo, env)
        # A web server that cannot start (a port in use) is a set-up error: say so and stop.
        wait_for_http(f"{base}/healthz", timeout=60, procs=[child.proc for child in web])
        print(
            f"\n  The platform is running.\n"
            f"  Participant link:  {base}/s/case-study/\n"
            f"  (from Prolific:    {base}/s/case-study/?PROLIFIC_PID=...&STUDY_ID=...&SESSION_ID=...)\n"
            f"  Staff sign-in:     {base}/admin/\n"
            + (
                f"  Demo moral graph:  {base}/graph/demo/\n"
                f"  Demo report:       {base}{report_path}\n"
                f"  (the demo is being filled in the background with {args.demo} simulated participants;\n"
                f"   its pages say so until it is done; progress in {DEMO_LOG.relative_to(ROOT)})\n"
                if args.demo
                else f"  For a populated graph and report: python3 scripts/dev.py run --demo  ({DEMO_SIZE} simulated "
                "participants)\n"
            )
            + (
                f"{credentials}  (saved in var/demo-credentials.json)\n"
                if credentials
                else "  Create a coordinator: MGE_DEV=1 .venv/bin/python manage.py create_staff "
                "--email you@example.org --role coordinator\n"
            )
            + "  A process that stops is started again. Stop everything with Ctrl-C.\n",
            flush=True,
        )
        if args.check:
            smoke_check(base)
            # What the configured model supports (tools, turn order, usage, embeddings); says
            # "nothing to check" for the offline provider, fails when the model cannot answer.
            log("checking the default language model")
            subprocess.run([str(VENV_PY), "manage.py", "check_model"], cwd=ROOT, env=env, check=True)
            return 0
        supervise(children, owner)
        return 0
    except KeyboardInterrupt:
        log("shutting down")
        return 0
    finally:
        stop_demo_build(demo_builder)
        for child in children:
            child.stop()
        for child in children:
            child.wait(timeout=15)
        owner.release()


DEMO_SIZE = 150  # journey.simulation.DEMO_SIZE (this script runs before Django is importable)
DEMO_LOG = ROOT / "var" / "demo-build.log"


def start_demo_build(n: int, env: dict) -> subprocess.Popen:
    """Fill the demo study in the background (manage.py demo_study), so the
    platform answers at once; its pages say it is being built meanwhile."""
    log(f"filling the demo study with {n} simulated participants in the background (log: {DEMO_LOG})")
    DEMO_LOG.parent.mkdir(exist_ok=True)
    with open(DEMO_LOG, "w") as out:
        return subprocess.Popen(
            [str(VENV_PY), "manage.py", "demo_study", "--n", str(n)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_demo_build(proc: subprocess.Popen | None) -> None:
    """Stop an unfinished demo build (the next `run --demo` tops it up)."""
    if proc is None or proc.poll() is not None:
        return
    log("stopping the unfinished demo build; the next run --demo carries on")
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def supervise(children: list[Supervised], owner: EmbeddedDatabaseOwnership) -> None:
    """Until Ctrl-C or SIGTERM: restart children that stop, and start the
    embedded database again if the one this command started has stopped
    (the children wait for it with their own backoff)."""
    db_down_since = None
    while True:
        time.sleep(0.5)
        for child in children:
            child.tend()
        if owner.owned:
            if embedded_db_running():
                db_down_since = None
            elif db_down_since is None:
                db_down_since = time.monotonic()
            elif time.monotonic() - db_down_since > 5:  # give a deliberate restart time to finish
                log("the embedded PostgreSQL server stopped; starting it again")
                start_embedded_db()
                db_down_since = None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="set up and serve the platform with a background worker")
    p_run.add_argument("--host", default=os.environ.get("MGE_HOST", "127.0.0.1"))
    p_run.add_argument("--port", type=int, default=int(os.environ.get("MGE_PORT", "8000")))
    p_run.add_argument(
        "--check",
        action="store_true",
        help="start, request the consent page and the admin, then stop (exit 0 if both work)",
    )
    p_run.add_argument(
        "--demo",
        type=int,
        nargs="?",
        const=DEMO_SIZE,
        default=0,
        metavar="N",
        help=f"fill a demo study in the background with N simulated participants (default "
        f"{DEMO_SIZE}), its moral graph and report; the server starts at once",
    )
    p_run.add_argument(
        "--processes",
        type=int,
        default=int(os.environ.get("WEB_PROCESSES", "1")),
        metavar="N",
        help="web processes sharing the port (default 1; WEB_PROCESSES). Above 1 they share a Redis "
        "channel layer: REDIS_URL, or a redis-server started here",
    )
    p_run.add_argument(
        "--server",
        choices=WEB_SERVERS,
        default=os.environ.get("WEB_SERVER", "uvicorn"),
        help="the ASGI server each web process runs (default uvicorn, measured cheaper per "
        "turn than daphne in docs/performance.md; env WEB_SERVER)",
    )
    p_run.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WORKER_PROCESSES", "1")),
        metavar="N",
        help="background worker processes (default 1; WORKER_PROCESSES)",
    )
    p_run.set_defaults(func=cmd_run)
    p_test = sub.add_parser("test", help="set up and run the test suite; extra arguments go to pytest")
    p_test.set_defaults(func=cmd_test)
    args, extra = parser.parse_known_args()
    if extra and args.command != "test":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pytest_args = extra
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
