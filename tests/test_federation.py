"""flower_app/federation.py: certificates, parsing, and real Flower runs on 127.0.0.1
(a TLS federation of 2 SuperNodes, a failing run, Ctrl-C, the simulation engine), each
checked to leave none of the processes it started behind.

Every run gets its own FLWR_HOME under tmp_path; the processes of a run are found by that
FLWR_HOME in their environment, independently of how federation.py tracks them.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import ipaddress
import os
import queue
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import psutil
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

ROOT = Path(__file__).resolve().parent.parent
SMALL = "num-server-rounds=2 train-examples=2000 test-examples=1000"


def _load_federation():
    spec = importlib.util.spec_from_file_location("ppml_federation", ROOT / "flower_app" / "federation.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


federation = _load_federation()


# ---------------------------------------------------------------- helpers
def _processes_of(flwr_home: Path) -> list[psutil.Process]:
    """Live (non-zombie) processes whose environment has FLWR_HOME=flwr_home."""
    found = []
    for p in psutil.process_iter():
        try:
            if p.environ().get("FLWR_HOME") == str(flwr_home) and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def _still_running(procs) -> list[str]:
    alive = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:  # is_running checks pid reuse
                alive.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            pass
    return alive


def _name(p: psutil.Process) -> str:
    """The command a process runs: ``flower-supernode`` for ``python .../flower-supernode ...``."""
    try:
        cmd = p.cmdline()
        return Path(cmd[1]).name if len(cmd) > 1 and Path(cmd[0]).name.startswith("python") else p.name()
    except psutil.NoSuchProcess:
        return "?"


class Watcher:
    """A stream for ``out=``: keeps the text, and while the run streams its lines, records the
    processes that carry our FLWR_HOME (pid -> (process, command name))."""

    def __init__(self, flwr_home: Path):
        self.flwr_home = flwr_home
        self.text = []
        self.seen: dict[int, tuple[psutil.Process, str]] = {}
        self._last = 0.0

    def write(self, s: str) -> int:
        self.text.append(s)
        if time.monotonic() - self._last > 1.0:
            self._last = time.monotonic()
            for p in _processes_of(self.flwr_home):
                self.seen.setdefault(p.pid, (p, _name(p)))
        return len(s)

    def flush(self) -> None:
        pass

    def processes(self) -> list[psutil.Process]:
        return [p for p, _ in self.seen.values()]

    def names(self) -> list[str]:
        return [name for _, name in self.seen.values()]


@pytest.fixture
def flwr_home(tmp_path, data_dir, monkeypatch):
    """A FLWR_HOME of the test's own. Flower's processes inherit this process's environment:
    point them at the shared data. Whatever a failed test leaves running there is killed."""
    monkeypatch.setenv("PPML_DATA_DIR", str(data_dir))
    home = tmp_path / "flwr"
    yield home
    leftovers = _processes_of(home)
    for p in leftovers:
        p.kill()
    psutil.wait_procs(leftovers, timeout=10)


# ---------------------------------------------------------------- certificates
def _load(certs):
    ca = x509.load_pem_x509_certificate(certs.ca.read_bytes())
    server = x509.load_pem_x509_certificate(certs.server_cert.read_bytes())
    key = serialization.load_pem_private_key(certs.server_key.read_bytes(), password=None)
    return ca, server, key


def test_certificates_chain_to_the_ca_and_name_loopback(tmp_path):
    certs = federation.make_certificates(tmp_path / "certs")
    ca, server, key = _load(certs)
    server.verify_directly_issued_by(ca)  # raises on a wrong issuer or signature
    ca.verify_directly_issued_by(ca)  # self-signed
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    raw = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    assert key.public_key().public_bytes(*raw) == server.public_key().public_bytes(*raw)
    assert certs.server_key.stat().st_mode & 0o077 == 0
    now = dt.datetime.now(dt.UTC)
    assert server.not_valid_before_utc <= now < server.not_valid_after_utc


@pytest.mark.parametrize("hostname", ["127.0.0.1", "localhost"])
def test_certificates_pass_a_tls_handshake(tmp_path, hostname):
    """Python's ssl, as a client trusting only our CA, accepts the server for both names."""
    certs = federation.make_certificates(tmp_path / "certs")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(certs.server_cert, certs.server_key)
    client_ctx = ssl.create_default_context(cafile=str(certs.ca))  # check_hostname on
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname=hostname)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(10):
        for name, end in (("client", client), ("server", server)):
            if not done[name]:
                try:
                    end.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
    assert done == {"client": True, "server": True}
    assert client.getpeercert()["subjectAltName"] == (("DNS", "localhost"), ("IP Address", "127.0.0.1"))


def test_certificates_are_reused_while_valid(tmp_path):
    first = federation.make_certificates(tmp_path / "certs")
    before = [p.read_bytes() for p in (first.ca, first.server_cert, first.server_key)]
    second = federation.make_certificates(tmp_path / "certs")
    assert second == first
    assert [p.read_bytes() for p in (second.ca, second.server_cert, second.server_key)] == before


def test_certificates_close_to_expiry_are_regenerated(tmp_path, monkeypatch):
    certs = federation.make_certificates(tmp_path / "certs", days=2)
    old = certs.server_cert.read_bytes()
    assert federation.make_certificates(tmp_path / "certs", days=2) == certs
    assert certs.server_cert.read_bytes() == old  # still 2 days left: reused

    real_datetime = dt.datetime

    class Later(real_datetime):  # 1.5 days on: less than a day left
        @classmethod
        def now(cls, tz=None):
            return real_datetime.now(tz) + dt.timedelta(days=1.5)

    fake = types.SimpleNamespace(datetime=Later, UTC=dt.UTC, timedelta=dt.timedelta)
    monkeypatch.setattr(federation, "dt", fake)
    federation.make_certificates(tmp_path / "certs", days=2)
    new = x509.load_pem_x509_certificate(certs.server_cert.read_bytes())
    assert certs.server_cert.read_bytes() != old
    assert new.not_valid_after_utc > x509.load_pem_x509_certificate(old).not_valid_after_utc
    new.verify_directly_issued_by(x509.load_pem_x509_certificate(certs.ca.read_bytes()))


def test_certificates_refuse_too_short_a_validity(tmp_path):
    with pytest.raises(ValueError, match=r"days must be at least 2\. Got 1\."):
        federation.make_certificates(tmp_path, days=1)


# ---------------------------------------------------------------- parsing, ports, config
LINES = [
    "\x1b[92mINFO \x1b[0m:      [ROUND 1/2]",
    "round 0: test accuracy 0.1061, loss 2.3063",
    "\x1b[92mINFO \x1b[0m:      Initial global evaluation results: {'accuracy': 0.1061}",
    "\x1b[92mINFO \x1b[0m:      round 1: test accuracy 0.8129, loss 0.7480",
    "round 2: test \x1b[1maccuracy\x1b[0m 0.8622, loss 0.4858",
    "[fedmedian] round 1: test accuracy 0.7000, loss 0.9",
    "[fedmedian] round 2: test accuracy 0.7500, loss 0.8",
    "\x1b[92mINFO \x1b[0m:      \t  1: {'accuracy': '8.1290e-01', 'loss': '7.4801e-01'},",
]


def test_parse_rounds_per_strategy_ignoring_colour_codes():
    assert federation.parse_rounds(LINES) == {
        "": {0: 0.1061, 1: 0.8129, 2: 0.8622},
        "fedmedian": {1: 0.7, 2: 0.75},
    }
    assert federation.parse_rounds(["[ROUND 1/3]", "nothing here"]) == {}


def test_check_rounds_drops_round_0_and_names_what_is_missing(tmp_path):
    rounds = federation.parse_rounds(LINES)
    assert federation.check_rounds(rounds, 2, tmp_path) == {
        "": {1: 0.8129, 2: 0.8622}, "fedmedian": {1: 0.7, 2: 0.75}}
    with pytest.raises(RuntimeError, match=r"for fedmedian for rounds \[3\] of 1..3"):
        federation.check_rounds({"": {1: 0.1, 2: 0.2, 3: 0.3}, "fedmedian": {1: 0.7, 2: 0.75}}, 3, tmp_path)
    with pytest.raises(RuntimeError, match="reported no test accuracy"):
        federation.check_rounds({}, 2, tmp_path)


def test_expected_rounds_follows_the_overrides(tmp_path):
    app = federation.tomllib.loads((ROOT / "flower_app" / "pyproject.toml").read_text())
    assert federation.expected_rounds("") == app["tool"]["flwr"]["app"]["config"]["num-server-rounds"]
    assert federation.expected_rounds("lr=0.1 num-server-rounds=7 seed=1") == 7
    overrides = tmp_path / "overrides.toml"
    overrides.write_text("num-server-rounds = 4\n")
    assert federation.expected_rounds(str(overrides)) == 4


def test_free_ports_are_distinct_and_free():
    ports = federation.free_ports(5)
    assert len(set(ports)) == 5
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_write_connection_keeps_the_other_connections(tmp_path):
    (tmp_path / "config.toml").write_text(
        '[superlink]\ndefault = "mine"\n\n[superlink.mine]\naddress = "10.0.0.1:9093"\n')
    federation.write_connection(tmp_path, "ppml-federation", {"address": "127.0.0.1:5", "insecure": True})
    config = federation.tomllib.loads((tmp_path / "config.toml").read_text())["superlink"]
    assert config == {"default": "mine", "mine": {"address": "10.0.0.1:9093"},
                      "local": {"address": ":local:"},
                      "ppml-federation": {"address": "127.0.0.1:5", "insecure": True}}


@pytest.mark.parametrize("run", ["run_federation", "run_simulation"])
def test_one_supernode_is_refused_before_anything_starts(tmp_path, run):
    with pytest.raises(ValueError, match=r"supernodes must be at least 2 .* Got 1\."):
        getattr(federation, run)(supernodes=1, flwr_home=tmp_path / "flwr")
    assert not (tmp_path / "flwr").exists()


# ---------------------------------------------------------------- real runs
def test_tls_federation_of_two_supernodes_reports_every_round_and_stops_everything(flwr_home):
    """The CI run: SuperLink + 2 SuperNodes with TLS, 2 rounds on a small MNIST slice."""
    watcher = Watcher(flwr_home)
    fed = federation.Federation(flwr_home, flwr_home / "federation-logs")
    rounds = federation.run_federation(supernodes=2, run_config=SMALL, flwr_home=flwr_home,
                                       timeout=300, out=watcher, federation=fed)

    [(_strategy, accuracy)] = rounds.items()  # one strategy: the app's default
    assert set(accuracy) == {1, 2}
    assert all(0 < a <= 1 for a in accuracy.values())
    assert accuracy[2] > 0.5, accuracy  # 10 % is chance; observed 0.75 (1000 examples a node)
    log = "".join(watcher.text)
    assert "(TLS), 2 SuperNodes" in log
    assert "https://127.0.0.1:" in (flwr_home / "federation-logs" / "superlink.log").read_text()
    assert (flwr_home / "certificates" / "ca.crt").exists()
    assert any((flwr_home / "apps").iterdir())  # the FAB went into our FLWR_HOME, not ~/.flwr

    names = watcher.names()
    assert names.count("flower-superlink") == 1 and names.count("flower-supernode") == 2, names
    link_and_nodes = fed.processes[:3]  # then flwr run, which ends by itself
    assert _still_running(link_and_nodes) == []
    assert {p.pid for p in link_and_nodes} <= fed.stopped  # stopped by us
    assert _still_running(watcher.processes()) == []
    assert _processes_of(flwr_home) == []


def test_a_failing_run_exits_non_zero_and_stops_everything(flwr_home, capsys):
    """The ServerApp raises (unknown strategy); flwr run itself exits 0 then, flwr ls says failed."""
    code = federation.main(["--supernodes", "2", "--flwr-home", str(flwr_home), "--timeout", "300",
                            "--run-config", "num-server-rounds=1 test-examples=100 strategy='nope'"])
    err = capsys.readouterr().err
    assert code == 1
    assert "federation failed: run" in err and "'finished:failed'" in err, err
    assert _processes_of(flwr_home) == []


def test_ctrl_c_stops_every_process_it_started(flwr_home):
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "flower_app" / "federation.py"), "--supernodes", "2",
         "--flwr-home", str(flwr_home), "--run-config", "num-server-rounds=50 train-examples=600 test-examples=100"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ))
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    seen: dict[int, psutil.Process] = {}
    try:
        deadline = time.monotonic() + 120
        output = []
        while not any("round 1: test accuracy" in line for line in output):  # mid-run
            assert time.monotonic() < deadline and proc.poll() is None, "".join(output)
            try:
                output.append(lines.get(timeout=0.5))
            except queue.Empty:
                pass
        for p in [*_processes_of(flwr_home), *psutil.Process(proc.pid).children(recursive=True)]:
            seen.setdefault(p.pid, p)
        names = [_name(p) for p in seen.values()]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.terminate()  # federation.py stops its processes on SIGTERM too
            proc.wait(timeout=60)
    assert names.count("flower-superlink") == 1 and names.count("flower-supernode") == 2, names
    assert "flwr" in names and "flwr-serverapp" in names, names  # flwr run, and the run's ServerApp
    assert _still_running(seen.values()) == []
    assert _processes_of(flwr_home) == []


def test_simulation_engine_run_and_its_managed_superlink_is_stopped(flwr_home):
    """`flwr run flower_app` on a `:local:` connection: flwr starts a SuperLink in simulation
    mode on 127.0.0.1:39091 that outlives flwr run; run_simulation stops it."""
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", 39091)) == 0:
            pytest.skip("a local SuperLink already listens on 127.0.0.1:39091; flwr run would use it")
    watcher = Watcher(flwr_home)
    rounds = federation.run_simulation(supernodes=2, run_config=SMALL, flwr_home=flwr_home,
                                       timeout=300, out=watcher)
    [(_strategy, accuracy)] = rounds.items()
    assert set(accuracy) == {1, 2} and accuracy[2] > 0.5, accuracy
    assert "2 simulated SuperNodes" in "".join(watcher.text)
    assert "flower-superlink" in watcher.names(), watcher.names()
    assert (flwr_home / "local-superlink" / "superlink.log").exists()
    assert _still_running(watcher.processes()) == []
    assert _processes_of(flwr_home) == []
    assert federation.local_superlink_processes(flwr_home) == []


def _start_local_style_superlink(flwr_home: Path) -> psutil.Popen:
    """A SuperLink started the way flwr run starts its managed one (local_superlink.py), on free ports."""
    http, control = federation.free_ports(2)
    log_file = flwr_home / "local-superlink" / "superlink.log"
    log_file.parent.mkdir(parents=True)
    return psutil.Popen(
        [str(Path(sys.executable).parent / "flower-superlink"), "--insecure", "--simulation",
         "--isolation", "subprocess", "--control-api-address", f"127.0.0.1:{control}",
         "--host", "127.0.0.1", "--port", str(http), "--log-file", str(log_file)],
        env=federation.flower_env(flwr_home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)


def _superexec_of(superlink: psutil.Popen, timeout: float = 60.0) -> psutil.Process:
    """The SuperExec a SuperLink started with --isolation subprocess spawns. Not just any child:
    Flower's telemetry runs a short-lived `uname -p` under the SuperLink about 1 s in, before the
    SuperExec exists, and a wait for any child ended on it (a CI flake)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert superlink.poll() is None, f"flower-superlink exited with code {superlink.returncode}"
        for child in superlink.children():
            try:
                if any(Path(a).name == "flower-superexec" for a in child.cmdline()[:2]):
                    return child
            except psutil.NoSuchProcess:
                pass
        time.sleep(0.2)
    raise AssertionError(f"no flower-superexec under the SuperLink within {timeout:.0f} s")


def _is_or_under(p: psutil.Process, root: psutil.Process) -> bool:
    """True if p is root or its descendant, or has already exited (a short-lived helper)."""
    try:
        return p.pid == root.pid or root.pid in {a.pid for a in p.parents()}
    except psutil.NoSuchProcess:
        return True


def test_stop_local_superlink_stops_only_the_one_of_its_flwr_home(tmp_path, monkeypatch):
    ours, other = _start_local_style_superlink(tmp_path / "ours"), _start_local_style_superlink(tmp_path / "other")
    try:
        superexec, their_superexec = _superexec_of(ours), _superexec_of(other)
        found = federation.local_superlink_processes(tmp_path / "ours")
        pids = {p.pid for p in found}
        assert {ours.pid, superexec.pid} <= pids, (pids, ours.pid, superexec.pid)
        # everything found is ours or under it (the SuperExec may fork short-lived helpers)
        assert [p.pid for p in found if not _is_or_under(p, ours)] == []
        assert not pids & {other.pid, their_superexec.pid}
        monkeypatch.chdir(tmp_path)  # a relative FLWR_HOME is resolved against the cwd
        stopped = federation.stop_local_superlink(Path("ours"))
        assert {ours.pid, superexec.pid} <= set(stopped) and other.pid not in stopped, stopped
        assert _still_running([ours, superexec, *found]) == []
        assert other.poll() is None and their_superexec.is_running()
        assert federation.stop_local_superlink(tmp_path / "ours") == []
    finally:
        for proc in (ours, other):
            federation.stop_processes([proc, *proc.children(recursive=True)] if proc.poll() is None else [])


def test_the_capstone_app_runs_as_a_tls_federation_of_five_hospitals(flwr_home):
    """`make capstone` with 2 rounds: SuperLink + 5 SuperNodes, each reading only its own file."""
    watcher = Watcher(flwr_home)
    fed = federation.Federation(flwr_home, flwr_home / "federation-logs")
    both = federation.run_capstone(run_config="num-server-rounds=2", flwr_home=flwr_home, timeout=300,
                                   out=watcher, federation=fed)
    assert set(both) == {1, 2}
    assert all(abs(a - b) <= federation.CAPSTONE_TOLERANCE for a, b in both.values())
    assert all(a > 0.5 for a, _ in both.values())
    names = watcher.names()
    assert names.count("flower-supernode") == 5, names
    paths = sorted((flwr_home / "capstone-data").glob("hospital_*.npz"))
    assert len(paths) == 5
    superlink_and_nodes = fed.processes[:6]
    assert _still_running(superlink_and_nodes) == []
    assert _processes_of(flwr_home) == []


def test_capstone_expected_rounds_come_from_its_own_app():
    app = federation.app_config(federation.CAPSTONE_DIR)
    assert federation.expected_rounds("", federation.CAPSTONE_DIR) == app["num-server-rounds"]
    assert federation.run_config_of("epsilon=1.5 num-server-rounds=4", federation.CAPSTONE_DIR)["epsilon"] == 1.5


def test_node_configs_must_match_the_supernodes(tmp_path):
    with pytest.raises(ValueError, match="one --node-config per SuperNode: 3 needed, got 2"):
        federation.run_federation(supernodes=3, node_configs=["a=1", "b=2"], flwr_home=tmp_path / "flwr")
