"""A real Flower federation on this machine: one SuperLink and N SuperNodes as separate
processes on 127.0.0.1, talking TLS, running the app in ``flower_app/`` with ``flwr run``.

Usage (``make federation`` runs the first line, ``make flower-sim`` the last)::

    python flower_app/federation.py                      # 3 SuperNodes, TLS, the app's rounds
    python flower_app/federation.py --supernodes 2 --run-config "num-server-rounds=2"
    python flower_app/federation.py --insecure           # plain HTTP, only when asked for
    python flower_app/federation.py --simulation --supernodes 10   # Flower's simulation engine

What it does, in order:

1. ``FLWR_HOME`` is the project's git-ignored ``.flwr/``, so nothing lands in the user's
   home. The TLS certificates (a CA and a server certificate for 127.0.0.1/localhost,
   made with ``cryptography``: no openssl CLI needed) are generated there on first use.
2. ``flower-superlink`` starts with the server certificate; every ``flower-supernode``
   trusts the CA and gets its own ``partition-id`` and ``num-partitions`` node config.
3. ``flwr run flower_app <connection> --stream`` submits the app; the ServerApp's
   ``round N: test accuracy …`` lines are streamed back and gathered, and ``flwr ls``
   must report the run ``finished:completed``.
4. Every process it started (and their children, found by an environment variable they
   all inherit) is stopped by pid, on success, on failure and on Ctrl-C. The exit status
   is non-zero when the run failed or did not report an accuracy for every round.

With ``--simulation`` there is no SuperLink of ours: ``flwr run`` itself starts Flower's
managed local SuperLink in simulation mode (127.0.0.1:39091), which outlives ``flwr run``;
it is stopped afterwards like the rest (``--stop-local-superlink`` stops one left by a
``flwr run`` typed by hand).

No process installs anything at run time: the SuperLink is started with
``--disable-runtime-dependency-installation`` and ``FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION=1``
is set, so the app runs in the project's environment.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from ppml_helpers.kernels import stop_processes  # SIGTERM, then SIGKILL what is still alive

APP_DIR = Path(__file__).resolve().parent
CAPSTONE_DIR = APP_DIR / "capstone"  # notebook 08's app (`--app capstone`, `make capstone`)
PROJECT_DIR = APP_DIR.parent
FLWR_HOME = PROJECT_DIR / ".flwr"
# "round 2: test accuracy 0.8622, …", or "[fedavg] round 2: …" when the ServerApp names its strategy
ROUND_LINE = re.compile(r"(?:\[(?P<name>[\w.-]+)\]\s*)?round (?P<round>\d+): test accuracy (?P<acc>[0-9.]+)")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
RUN_ID_LINE = re.compile(r"Successfully started run (\d+)")
CONNECTION = "ppml-federation"
SIM_CONNECTION = "ppml-simulation"
# where flwr starts its managed local SuperLink (flwr/cli/constant.py)
LOCAL_SUPERLINK_PORT = int(os.environ.get("FLWR_LOCAL_SUPERLINK_HTTP_API_PORT", "39091"))
# Every process we start, and everything they start, inherits this variable: how stop() finds them.
TAG_VAR = "PPML_FEDERATION_TAG"


# ---------------------------------------------------------------- certificates
@dataclass(frozen=True)
class Certificates:
    """Paths of a CA certificate and the server certificate and key it signed."""

    ca: Path
    server_cert: Path
    server_key: Path


#: Names every server certificate carries, so 127.0.0.1 and localhost always work.
LOOPBACK = ("localhost", "127.0.0.1")


def _subject_alternative_names(hosts: Sequence[str]) -> list:
    """Certificate names for ``hosts`` (IP addresses or DNS names, lower-cased), without repeats."""
    from cryptography import x509

    names, seen = [], set()
    for host in hosts:
        try:
            name = x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            name = x509.DNSName(host.lower())
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def make_certificates(directory: Path, *, hosts: Sequence[str] = (), days: int = 365) -> Certificates:
    """A CA (``ca.crt``, its key ``ca.key`` kept beside it) and a server certificate it signed
    for ``hosts`` plus 127.0.0.1 and localhost.

    The CA is reused while valid for another day; the server certificate too, unless its names
    changed, and then the same CA signs a new one, so a ``ca.crt`` handed out earlier stays valid
    (the room federation's new address on the day). EC P-256, SHA-256, made with ``cryptography``:
    the same files ``openssl`` would give.

    Raises:
        ValueError: ``days`` below 2.
    """
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    if days < 2:
        raise ValueError(f"days must be at least 2. Got {days}.")
    names = _subject_alternative_names([*hosts, *LOOPBACK])
    certs = Certificates(directory / "ca.crt", directory / "server.crt", directory / "server.key")
    ca_key_path = directory / "ca.key"
    now = dt.datetime.now(dt.UTC)
    soon = now + dt.timedelta(days=1)
    pem = serialization.Encoding.PEM

    def build(subject, issuer, public_key, signer, *extensions):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days)))
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(signer, hashes.SHA256())

    def write_key(path: Path, key) -> None:
        path.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        path.chmod(0o600)

    directory.mkdir(parents=True, exist_ok=True)
    ca_cert = x509.load_pem_x509_certificate(certs.ca.read_bytes()) if certs.ca.exists() else None
    if ca_cert is None or not ca_key_path.exists() or ca_cert.not_valid_after_utc <= soon:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ppml-course CA")])
        ca_cert = build(ca_name, ca_name, ca_key.public_key(), ca_key,
                        (x509.BasicConstraints(ca=True, path_length=None), True),
                        (x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), True))
        write_key(ca_key_path, ca_key)
        certs.ca.write_bytes(ca_cert.public_bytes(pem))
        certs.server_cert.unlink(missing_ok=True)
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)

    if certs.server_cert.exists() and certs.server_key.exists():
        server = x509.load_pem_x509_certificate(certs.server_cert.read_bytes())
        try:
            server.verify_directly_issued_by(ca_cert)
            current = list(server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
            if current == names and server.not_valid_after_utc > soon:
                return certs
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
            pass  # not ours, or unreadable: issue a new one
    server_key = ec.generate_private_key(ec.SECP256R1())
    first = hosts[0] if hosts else "localhost"
    server = build(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(first))]),
                   ca_cert.subject, server_key.public_key(), ca_key,
                   (x509.SubjectAlternativeName(names), False),
                   (x509.BasicConstraints(ca=False, path_length=None), True),
                   (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False))
    write_key(certs.server_key, server_key)
    certs.server_cert.write_bytes(server.public_bytes(pem))
    return certs


# ---------------------------------------------------------------- processes
def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports that are free on 127.0.0.1 right now."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def flower_env(flwr_home: Path, tag: str | None = None) -> dict[str, str]:
    """The environment of every Flower process: our FLWR_HOME, no installs, no phoning home,
    and ``tag`` in ``PPML_FEDERATION_TAG`` so that their descendants can be found."""
    env = dict(os.environ)
    env.update({
        "FLWR_HOME": str(flwr_home),
        "FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION": "1",
        "FLWR_TELEMETRY_ENABLED": "0",
        "FLWR_DISABLE_UPDATE_CHECK": "1",
        "PYTHONUNBUFFERED": "1",
        # Flower's processes start flower-superexec, flwr-serverapp, … by name
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    })
    if tag is not None:
        env[TAG_VAR] = tag
    return env


def _tool(name: str) -> str:
    """A Flower command from this interpreter's environment (the project's .venv)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found beside {sys.executable} or on PATH: install flwr.")
    return found


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def tagged_processes(tag: str) -> list[psutil.Process]:
    """Live processes whose environment carries ``PPML_FEDERATION_TAG=tag``."""
    found = []
    for p in psutil.process_iter():
        try:
            if p.pid != os.getpid() and p.environ().get(TAG_VAR) == tag and _alive(p):
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


@dataclass
class Federation:
    """The processes of one federation; ``stop()`` ends every one of them and their descendants."""

    flwr_home: Path
    log_dir: Path
    tag: str = field(default_factory=lambda: uuid.uuid4().hex)
    processes: list[psutil.Popen] = field(default_factory=list)
    stopped: set[int] = field(default_factory=set)

    def start(self, name: str, args: Sequence[str]) -> psutil.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")  # closed in stop()
        try:
            proc = psutil.Popen([_tool(args[0]), *args[1:]], stdout=log, stderr=subprocess.STDOUT,
                                env=flower_env(self.flwr_home, self.tag), start_new_session=True)
        except BaseException:
            log.close()
            raise
        proc.log = log
        self.processes.append(proc)
        return proc

    def members(self) -> list[psutil.Process]:
        """The live processes we started, their descendants, and every process carrying our tag
        (which finds those whose parent died, such as the managed SuperLink ``flwr run`` starts)."""
        found: dict[int, psutil.Process] = {}
        for proc in self.processes:
            try:
                for p in [proc, *proc.children(recursive=True)]:
                    found[p.pid] = p
            except psutil.NoSuchProcess:
                pass
        for p in tagged_processes(self.tag):
            found.setdefault(p.pid, p)
        return [p for p in found.values() if _alive(p)]

    def stop(self, timeout: float = 10.0) -> set[int]:
        """Stop every member (SIGTERM, SIGKILL after ``timeout`` s), again until none is left;
        return the pids that were stopped. Ctrl-C is ignored meanwhile so the stop completes."""
        in_main = _in_main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
        try:
            for _ in range(5):  # a process may start a child while its parent is being stopped
                targets = self.members()
                if not targets:
                    break
                self.stopped.update(p.pid for p in targets)
                stop_processes(targets, timeout)
            for proc in self.processes:
                proc.poll()  # reap our own children
                proc.log.close()
        finally:
            if in_main:
                signal.signal(signal.SIGINT, previous)
        return self.stopped


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def local_superlink_processes(flwr_home: Path) -> list[psutil.Process]:
    """The managed local SuperLinks (``flwr run`` on a ``:local:`` connection) that log into
    ``flwr_home``, with their descendants."""
    log_file = (flwr_home / "local-superlink" / "superlink.log").resolve()
    found: dict[int, psutil.Process] = {}
    for p in psutil.process_iter(["cmdline"]):
        cmd = p.info["cmdline"] or []
        if not any(Path(a).name == "flower-superlink" for a in cmd[:2]) or "--log-file" not in cmd:
            continue
        try:
            arg = Path(cmd[cmd.index("--log-file") + 1])
            if (arg if arg.is_absolute() else Path(p.cwd()) / arg).resolve() == log_file:
                for q in [p, *p.children(recursive=True)]:
                    found[q.pid] = q
        except (IndexError, psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return [p for p in found.values() if _alive(p)]


def stop_local_superlink(flwr_home: Path = FLWR_HOME, timeout: float = 10.0) -> list[int]:
    """Stop the managed local SuperLink that ``flwr run`` left running for ``flwr_home``
    (and its SuperExec and apps); return their pids (empty when none was running)."""
    procs = local_superlink_processes(flwr_home)
    stop_processes(procs, timeout)
    return sorted(p.pid for p in procs)


def _wait_for_port(port: int, proc: psutil.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"flower-superlink exited with code {proc.returncode} before listening.")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"flower-superlink did not listen on 127.0.0.1:{port} within {timeout:.0f} s.")


def write_connection(flwr_home: Path, name: str, connection: dict) -> str:
    """Set connection ``name`` in ``$FLWR_HOME/config.toml``, keeping the others; return ``name``."""
    import tomli_w

    path = flwr_home / "config.toml"
    config = tomllib.loads(path.read_text()) if path.exists() else {}
    superlink = config.setdefault("superlink", {})
    superlink.setdefault("default", "local")
    superlink.setdefault("local", {"address": ":local:"})
    superlink[name] = connection
    flwr_home.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(config))
    return name


# ---------------------------------------------------------------- results
def parse_rounds(lines: Sequence[str]) -> dict[str, dict[int, float]]:
    """``{strategy: {round: accuracy}}`` from the ServerApp's ``[strategy] round N: test accuracy A``
    lines (strategy ``""`` when the line names none). Round 0 is the initial model. ANSI colour
    codes are ignored."""
    rounds: dict[str, dict[int, float]] = {}
    for line in lines:
        match = ROUND_LINE.search(ANSI.sub("", line))
        if match:
            rounds.setdefault(match["name"] or "", {})[int(match["round"])] = float(match["acc"])
    return rounds


def app_config(app_dir: Path = APP_DIR) -> dict:
    """The app's default run config: ``[tool.flwr.app.config]`` of its ``pyproject.toml``."""
    return dict(tomllib.loads((Path(app_dir) / "pyproject.toml").read_text())["tool"]["flwr"]["app"]["config"])


def run_config_of(run_config: str, app_dir: Path = APP_DIR) -> dict:
    """The app's run config after the ``--run-config`` overrides (pairs or a TOML file)."""
    config = app_config(app_dir)
    if run_config and Path(run_config).is_file():
        config.update(tomllib.loads(Path(run_config).read_text()))
    elif run_config:
        from flwr.common.config import parse_config_args

        config.update(parse_config_args([run_config]))
    return config


def expected_rounds(run_config: str, app_dir: Path = APP_DIR) -> int:
    """``num-server-rounds`` after the ``--run-config`` overrides (pairs or a TOML file)."""
    return int(run_config_of(run_config, app_dir)["num-server-rounds"])


def check_rounds(rounds: dict[str, dict[int, float]], expected: int, log_dir: Path) -> dict[str, dict[int, float]]:
    """Rounds 1..``expected`` of every strategy (round 0 dropped); ``RuntimeError`` if any is missing."""
    if not rounds:
        raise RuntimeError(f"the run reported no test accuracy; see the logs in {log_dir}.")
    result = {}
    for name, by_round in rounds.items():
        missing = sorted(set(range(1, expected + 1)) - set(by_round))
        if missing:
            label = f" for {name}" if name else ""
            raise RuntimeError(f"the run reported no accuracy{label} for rounds {missing} of 1..{expected}; "
                               f"see the logs in {log_dir}.")
        result[name] = {r: acc for r, acc in sorted(by_round.items()) if r >= 1}
    return result


# ---------------------------------------------------------------- runs
def run_federation(*, supernodes: int = 3, insecure: bool = False, run_config: str = "",
                   flwr_home: Path = FLWR_HOME, timeout: float = 900.0, out=None,
                   federation: Federation | None = None, app_dir: Path = APP_DIR,
                   node_configs: Sequence[str] | None = None) -> dict[str, dict[int, float]]:
    """Start the federation, run the app once, stop everything; return ``{strategy: {round: accuracy}}``.

    ``app_dir`` is the Flower app to run (notebook 02's by default); ``node_configs`` gives each
    SuperNode its ``--node-config`` (default: ``partition-id=i num-partitions=n``).

    The run's output is echoed to ``out`` (default ``sys.stdout`` at call time).
    Raises ``RuntimeError`` when the run fails or does not report every round's accuracy.
    Pass ``federation`` (a ``Federation`` for ``flwr_home``) to see afterwards which pids were stopped.
    """
    _check_supernodes(supernodes)
    if node_configs is not None and len(node_configs) != supernodes:
        raise ValueError(f"node_configs must give one --node-config per SuperNode: {supernodes} needed, "
                         f"got {len(node_configs)}.")
    log_dir = _log_dir(flwr_home)
    certs = None if insecure else make_certificates(flwr_home / "certificates")
    link_port, *node_ports = free_ports(1 + supernodes)
    tls_link = ["--insecure"] if certs is None else [
        "--ssl-ca-certfile", str(certs.ca), "--ssl-certfile", str(certs.server_cert),
        "--ssl-keyfile", str(certs.server_key)]
    tls_node = ["--insecure"] if certs is None else ["--root-certificates", str(certs.ca)]

    fed = federation or Federation(flwr_home, log_dir)
    try:
        link = fed.start("superlink", ["flower-superlink", *tls_link, "--host", "127.0.0.1",
                                       "--port", str(link_port), "--disable-runtime-dependency-installation"])
        _wait_for_port(link_port, link, timeout=60)
        for i, port in enumerate(node_ports):
            fed.start(f"supernode-{i}", [
                "flower-supernode", *tls_node, "--superlink", f"127.0.0.1:{link_port}",
                "--node-config", node_configs[i] if node_configs else f"partition-id={i} num-partitions={supernodes}",
                "--host", "127.0.0.1", "--port", str(port)])
        address = {"address": f"127.0.0.1:{link_port}"}
        address.update({"insecure": True} if certs is None else {"root-certificates": str(certs.ca)})
        connection = write_connection(flwr_home, CONNECTION, address)
        scheme = "plain HTTP (--insecure)" if certs is None else "TLS"
        print(f"SuperLink on 127.0.0.1:{link_port} ({scheme}), {supernodes} SuperNodes; "
              f"logs in {log_dir}", file=out, flush=True)
        return _run_app(fed, connection, run_config, [], timeout=timeout, out=out, app_dir=app_dir)
    finally:
        fed.stop()


def run_simulation(*, supernodes: int = 10, run_config: str = "", flwr_home: Path = FLWR_HOME,
                   timeout: float = 900.0, out=None,
                   federation: Federation | None = None) -> dict[str, dict[int, float]]:
    """``flwr run flower_app`` on Flower's simulation engine with ``supernodes`` simulated nodes;
    then stop the managed local SuperLink ``flwr run`` started (a SuperLink that was already
    running is used and left alone). Returns ``{strategy: {round: accuracy}}``."""
    _check_supernodes(supernodes)
    log_dir = _log_dir(flwr_home)
    connection = write_connection(flwr_home, SIM_CONNECTION, {"address": ":local:"})
    fed = federation or Federation(flwr_home, log_dir)
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", LOCAL_SUPERLINK_PORT)) == 0:
            print(f"Note: a SuperLink already listens on 127.0.0.1:{LOCAL_SUPERLINK_PORT}; flwr run uses it "
                  "and, as this run did not start it, it is left running (`python flower_app/federation.py "
                  "--stop-local-superlink` stops one that logs into this FLWR_HOME).", file=out, flush=True)
    try:
        print(f"Flower simulation engine, {supernodes} simulated SuperNodes; FLWR_HOME={flwr_home}",
              file=out, flush=True)
        return _run_app(fed, connection, run_config, ["--federation-config", f"num-supernodes={supernodes}"],
                        timeout=timeout, out=out)
    finally:
        fed.stop()


#: Flower's and the in-process accuracies may differ by this much: one test patient of 116, whose
#: score the quantisation of SecAgg+ could move across the threshold.
CAPSTONE_TOLERANCE = 1 / 116 + 1e-9


def run_capstone(*, insecure: bool = False, run_config: str = "", flwr_home: Path = FLWR_HOME,
                 timeout: float = 900.0, out=None, federation: Federation | None = None) -> dict[int, tuple[float, float]]:
    """Notebook 08's consortium as a federation: the hospitals' files are written to
    ``flwr_home/capstone-data``, five SuperNodes each get one (node config ``data-path``), the app
    in ``flower_app/capstone`` runs with TLS; then the same configuration runs in-process with the
    same noise draws. Returns ``{round: (Flower accuracy, in-process accuracy)}``; raises
    ``RuntimeError`` when they differ by more than :data:`CAPSTONE_TOLERANCE`."""
    from ppml_helpers import capstone as cap
    from ppml_helpers.capstone.training import TrustConfig, train_consortium

    hospitals = cap.split_hospitals(seed=0)
    paths = cap.save_hospitals(hospitals, flwr_home / "capstone-data")
    cfg = run_config_of(run_config, CAPSTONE_DIR)
    # noise-seed: teaching only, so that the in-process run can draw the same noise; a deployed
    # hospital leaves it out and draws from the OS's entropy.
    node_configs = [f'partition-id={i} data-path="{p}" noise-seed={int(cfg["seed"])}' for i, p in enumerate(paths)]
    rounds = run_federation(supernodes=len(paths), insecure=insecure, run_config=run_config, flwr_home=flwr_home,
                            timeout=timeout, out=out, federation=federation, app_dir=CAPSTONE_DIR,
                            node_configs=node_configs)
    config = TrustConfig("distributed", epsilon=float(cfg["epsilon"]), delta=float(cfg["delta"]),
                         rounds=int(cfg["num-server-rounds"]), lr=float(cfg["lr"]), clip=float(cfg["clip"]),
                         colluders=int(cfg["colluders"]), dropouts=int(cfg["dropouts"]), noise="gaussian",
                         declared_patients=int(cfg["declared-patients"]))
    reference = train_consortium(hospitals, config, seed=int(cfg["seed"]), evaluate_on="test").history
    [flower] = rounds.values()
    both = {r: (flower[r], reference[r - 1]["accuracy"]) for r in flower}
    worst = max(abs(a - b) for a, b in both.values())
    if worst > CAPSTONE_TOLERANCE:
        raise RuntimeError(f"Flower's accuracies differ from the in-process run's by up to {worst:.4f}, more than "
                           f"one test patient ({CAPSTONE_TOLERANCE:.4f}): {both}")
    return both


def _check_supernodes(supernodes: int) -> None:
    # Flower's strategies sample at least min_train_nodes=2 of min_available_nodes=2: with one
    # node the ServerApp would wait for a second one until the timeout.
    if supernodes < 2:
        raise ValueError(f"supernodes must be at least 2 (Flower's strategies wait for 2 nodes). Got {supernodes}.")


def _log_dir(flwr_home: Path) -> Path:
    log_dir = flwr_home / "federation-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    return log_dir


def _run_app(fed: Federation, connection: str, run_config: str, extra: list[str], *,
             timeout: float, out, app_dir: Path = APP_DIR) -> dict[str, dict[int, float]]:
    command = ["flwr", "run", str(app_dir), connection, "--stream", *extra]
    if run_config:
        command += ["--run-config", run_config]
    lines = _stream(fed, command, timeout=timeout, out=out)
    run_ids = [m.group(1) for line in lines if (m := RUN_ID_LINE.search(ANSI.sub("", line)))]
    if not run_ids:
        raise RuntimeError(f"flwr run started no run; see {fed.log_dir / 'flwr-run.log'}.")
    status = run_status(fed, connection, run_ids[-1])
    deadline = time.monotonic() + 30
    while not status.startswith("finished") and time.monotonic() < deadline:  # the stream ends with the run; allow a lagging status 30 s
        time.sleep(1)
        status = run_status(fed, connection, run_ids[-1])
    if status != "finished:completed":
        raise RuntimeError(f"run {run_ids[-1]} ended {status!r}; see the logs in {fed.log_dir}.")
    return check_rounds(parse_rounds(lines), expected_rounds(run_config, app_dir), fed.log_dir)


def run_status(fed: Federation, connection: str, run_id: str) -> str:
    """The run's status as ``flwr ls`` reports it (``finished:completed``, ``finished:failed``, …)."""
    res = subprocess.run([_tool("flwr"), "ls", connection, "--run-id", run_id, "--format", "json"],
                         capture_output=True, text=True, env=flower_env(fed.flwr_home, fed.tag), timeout=60)
    try:
        return str(json.loads(res.stdout)["runs"][0]["status"])
    except (ValueError, KeyError, IndexError) as err:
        raise RuntimeError(f"flwr ls gave no status for run {run_id}: {res.stdout}{res.stderr}") from err


def _stream(fed: Federation, command: list[str], *, timeout: float, out) -> list[str]:
    """Run ``flwr run --stream``, echo its lines, return them; ``TimeoutError`` after ``timeout`` s."""
    proc = fed.start("flwr-run", command)  # its own log, read back as it grows
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    partial = ""
    with open(proc.log.name, encoding="utf-8", errors="replace") as f:
        while True:
            finished = proc.poll() is not None
            text = partial + f.read()
            *complete, partial = text.split("\n")
            if finished:  # everything is written: the last line needs no newline
                complete, partial = [*complete, partial] if partial else complete, ""
            for line in complete:
                lines.append(line)
                print(line, file=out, flush=True)
            if finished:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"flwr run did not finish within {timeout:.0f} s.")
            time.sleep(0.3)
    if proc.returncode != 0:
        raise RuntimeError(f"flwr run exited with code {proc.returncode}.")
    return lines


def print_table(rounds: dict[str, dict[int, float]], out=None) -> None:
    """Round by round, one test-accuracy column per strategy."""
    names = list(rounds)
    print("\nround  " + "  ".join(f"{n or 'test accuracy':>13}" for n in names), file=out)
    for r in sorted({r for by_round in rounds.values() for r in by_round}):
        cells = (f"{rounds[n][r]:>13.4f}" if r in rounds[n] else " " * 13 for n in names)
        print(f"{r:>5}  " + "  ".join(cells), file=out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", choices=("fedavg", "capstone"), default="fedavg",
                        help="notebook 02's FedAvg app (default) or notebook 08's hospital consortium "
                             "(5 SuperNodes, each with its own data-path)")
    parser.add_argument("--supernodes", type=int, default=None,
                        help="SuperNodes to start (default 3; 10 simulated ones with --simulation)")
    parser.add_argument("--insecure", action="store_true", help="plain HTTP instead of TLS")
    parser.add_argument("--simulation", action="store_true",
                        help="run on Flower's simulation engine (a managed local SuperLink) instead")
    parser.add_argument("--stop-local-superlink", action="store_true",
                        help="only stop a managed local SuperLink left running for this FLWR_HOME")
    parser.add_argument("--run-config", default="", help='e.g. "num-server-rounds=2 strategy=\'fedmedian\'"')
    parser.add_argument("--flwr-home", type=Path, default=FLWR_HOME, help=f"default {FLWR_HOME}")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before the run is abandoned")
    args = parser.parse_args(argv)
    flwr_home = args.flwr_home.resolve()
    if args.stop_local_superlink:
        pids = stop_local_superlink(flwr_home)
        print(f"stopped {pids}" if pids else f"no managed local SuperLink running for {flwr_home}")
        return 0
    if args.simulation and args.insecure:
        parser.error("--insecure is for the federation; the simulation engine's SuperLink is local")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the processes
    if args.app == "capstone" and (args.simulation or args.supernodes not in (None, 5)):
        parser.error("--app capstone runs the five hospitals as a federation (no --simulation, no --supernodes)")
    try:
        if args.app == "capstone":
            both = run_capstone(insecure=args.insecure, run_config=args.run_config, flwr_home=flwr_home,
                                timeout=args.timeout)
            print("\nround  Flower (SecAgg+)  in-process")
            for r, (a, b) in sorted(both.items()):
                print(f"{r:>5}  {a:>16.4f}  {b:>10.4f}")
            print(f"every round within {CAPSTONE_TOLERANCE:.4f} (one test patient of 116)")
            return 0
        if args.simulation:
            rounds = run_simulation(supernodes=args.supernodes or 10, run_config=args.run_config,
                                    flwr_home=flwr_home, timeout=args.timeout)
        else:
            rounds = run_federation(supernodes=args.supernodes or 3, insecure=args.insecure,
                                    run_config=args.run_config, flwr_home=flwr_home, timeout=args.timeout)
    except (RuntimeError, TimeoutError, FileNotFoundError, ValueError) as err:
        print(f"federation failed: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: every process it started was stopped", file=sys.stderr)
        return 130
    print_table(rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
