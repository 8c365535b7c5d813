"""flower_app/room.py: the room federation's input checks, certificates and seat keys, and a
real room on 127.0.0.1: a SuperLink and three SuperNodes as separate processes, each with its
own seat key, TLS and SuperNode authentication on; the rounds complete, a SuperNode with an
unregistered key is refused, and nothing is left running.

The learners are simulated as Flower's docs and ``room/learners.txt`` describe them: each
gets a folder of its own, the seat's handed-out folder copied into it as ``room/seat-k``, and
types the printed command there.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_ssh_private_key, load_ssh_public_key
from test_federation import Watcher, _name, _processes_of, _still_running, federation

ROOT = Path(__file__).resolve().parent.parent
ROOM_PY = ROOT / "flower_app" / "room.py"
SMALL = "num-server-rounds=2 train-examples=2000 test-examples=1000"


def _load_room():
    spec = importlib.util.spec_from_file_location("ppml_room", ROOM_PY)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


room = _load_room()


# ---------------------------------------------------------------- input checks
@pytest.mark.parametrize("value", ["192.168.1.20:9092", "localhost:9092", "teacher.local:1", "[::1]:9092"])
def test_superlink_addresses_that_are_host_and_port(value):
    assert str(room.parse_superlink(value)) == value


@pytest.mark.parametrize("value", ["192.168.1.20", "https://192.168.1.20:9092", "host:0", "host:70000",
                                   "host:port", ":9092", "", "bad host!:9092"])
def test_superlink_refuses_what_is_not_host_and_port(value):
    with pytest.raises(ValueError, match=r"SUPERLINK must be host:port.*" + re.escape(f"Got {value!r}")):
        room.parse_superlink(value)


@pytest.mark.parametrize(("partition", "seats", "message"), [
    ("3", "3", r"PARTITION must be one of 0\.\.2 .*SEATS=3.* Got '3'\."),
    (-1, 3, r"PARTITION must be one of 0\.\.2 .* Got -1\."),
    ("two", "3", r"PARTITION must be a whole number\. Got 'two'\."),
    ("0", "1", r"SEATS must be at least 2: .* Got '1'\."),
    ("0", "", r"SEATS must be a whole number\. Got ''\."),
])
def test_partition_and_seats_name_the_value_and_what_is_allowed(partition, seats, message):
    with pytest.raises(ValueError, match=message):
        room.check_partition(partition, seats)


def test_a_missing_key_file_says_where_the_key_comes_from(tmp_path):
    with pytest.raises(ValueError, match=r"KEY file '.*nope\.key' does not exist: copy your seat's folder"):
        room.check_key_file(tmp_path / "nope.key")


def test_a_public_key_or_certificate_is_not_taken_for_the_private_key(tmp_path):
    [seat] = room.make_seat_keys(tmp_path / "seats", 2)[:1]
    certs = federation.make_certificates(tmp_path / "tls", hosts=["127.0.0.1"])
    for wrong in (seat.public_key, certs.ca):
        with pytest.raises(ValueError, match=r"is not an EC private key in OpenSSH format: pass seat-k\.key"):
            room.check_key_file(wrong)
    assert room.check_key_file(seat.private_key) == seat.private_key.resolve()


def test_a_missing_or_wrong_ca_file_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"CA file '.*ca\.crt' does not exist"):
        room.check_ca_file(tmp_path / "ca.crt")
    (tmp_path / "junk.crt").write_text("not a certificate")
    with pytest.raises(ValueError, match=r"CA '.*junk\.crt' is not a PEM certificate"):
        room.check_ca_file(tmp_path / "junk.crt")


@pytest.mark.parametrize("host", ["bad host", "-x.example", "a..b", ""])
def test_hosts_for_the_certificate_must_be_addresses_or_names(host):
    with pytest.raises(ValueError, match=r"--host must be an IP address .* or a host name"):
        room.check_host(host)


def test_the_room_run_config_trains_every_online_laptop_unless_told_otherwise(tmp_path):
    assert room.room_run_config("") == "fraction-train=1.0"
    assert room.room_run_config("num-server-rounds=5") == "fraction-train=1.0 num-server-rounds=5"
    assert room.room_run_config("fraction-train=0.5 lr=0.1") == "fraction-train=0.5 lr=0.1"
    toml = tmp_path / "run.toml"
    assert room.room_run_config(str(toml)) == str(toml)  # flwr takes a TOML file alone


def test_bad_input_stops_the_learner_before_anything_starts(tmp_path, capsys):
    home = tmp_path / "flwr"
    code = room.main(["supernode", "--superlink", "127.0.0.1:9092", "--partition", "5", "--seats", "3",
                      "--key", str(tmp_path / "k"), "--flwr-home", str(home)])
    assert code == 2
    assert "room supernode: PARTITION must be one of 0..2" in capsys.readouterr().err
    assert not home.exists()


def test_room_run_without_a_room_says_to_start_the_superlink(tmp_path):
    with pytest.raises(ValueError, match=r"no room in .*: start `make room-superlink SEATS=n`"):
        room.run_room(room_dir=tmp_path)


@pytest.mark.parametrize(("target", "variables", "expected"), [
    ("room-supernode", ["SUPERLINK=10.0.0.5:9092", "PARTITION=1", "SEATS=3", "KEY=room/seat-1/seat-1.key"],
     'room.py supernode --superlink "10.0.0.5:9092" --partition "1" --seats "3" --key "room/seat-1/seat-1.key"'),
    ("room-superlink", ["SEATS=24", "ROOM_HOST=10.0.0.5"],
     'room.py superlink --seats "24" --port "9092" --host "10.0.0.5"'),
    ("room-run", ["MIN_NODES=2"], 'room.py run --min-nodes "2"'),
])
def test_the_make_targets_pass_the_variables_on(target, variables, expected):
    """`make -n` prints the recipe without running it: the line learners type reaches room.py."""
    res = subprocess.run(["make", "-n", target, *variables], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert expected in res.stdout, res.stdout


# ---------------------------------------------------------------- certificates and keys
def _sans(certs):
    cert = x509.load_pem_x509_certificate(certs.server_cert.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(map(str, san.get_values_for_type(x509.IPAddress))) | set(san.get_values_for_type(x509.DNSName))


def test_certificates_name_the_room_s_host_and_loopback_and_chain_to_the_ca(tmp_path):
    certs = federation.make_certificates(tmp_path, hosts=["192.168.1.20", "Teacher.local"])
    assert _sans(certs) == {"192.168.1.20", "teacher.local", "127.0.0.1", "localhost"}
    ca = x509.load_pem_x509_certificate(certs.ca.read_bytes())
    x509.load_pem_x509_certificate(certs.server_cert.read_bytes()).verify_directly_issued_by(ca)
    assert certs.server_key.stat().st_mode & 0o077 == 0
    assert (tmp_path / "ca.key").stat().st_mode & 0o077 == 0


def test_a_new_address_reissues_the_server_certificate_from_the_same_ca(tmp_path):
    first = federation.make_certificates(tmp_path, hosts=["192.168.1.20"])
    ca, server = first.ca.read_bytes(), first.server_cert.read_bytes()
    federation.make_certificates(tmp_path, hosts=["192.168.1.20"])
    assert (first.ca.read_bytes(), first.server_cert.read_bytes()) == (ca, server)  # same names: reused
    second = federation.make_certificates(tmp_path, hosts=["10.0.0.7"])
    assert second.ca.read_bytes() == ca  # the learners' ca.crt stays valid
    assert second.server_cert.read_bytes() != server
    assert _sans(second) == {"10.0.0.7", "127.0.0.1", "localhost"}
    x509.load_pem_x509_certificate(server).verify_directly_issued_by(x509.load_pem_x509_certificate(ca))


def test_seat_keys_are_ec_openssh_pairs_kept_across_calls(tmp_path):
    seats = room.make_seat_keys(tmp_path, 3)
    assert [s.index for s in seats] == [0, 1, 2]
    for seat in seats:
        private = load_ssh_private_key(seat.private_key.read_bytes(), password=None)
        public = load_ssh_public_key(seat.public_key.read_bytes())
        assert isinstance(private, ec.EllipticCurvePrivateKey) and private.curve.name == "secp384r1"
        assert private.public_key().public_numbers() == public.public_numbers()
        assert seat.private_key.stat().st_mode & 0o077 == 0
    before = [s.private_key.read_bytes() for s in seats]
    assert [s.private_key.read_bytes() for s in room.make_seat_keys(tmp_path, 4)[:3]] == before
    assert len({s.public_key.read_bytes() for s in room.make_seat_keys(tmp_path, 4)}) == 4


def test_the_learner_command_is_the_make_line():
    address = room.parse_superlink("192.168.1.20:9092")
    assert room.learner_command(address, 3, 24) == (
        "make room-supernode SUPERLINK=192.168.1.20:9092 PARTITION=3 SEATS=24 KEY=room/seat-3/seat-3.key")


# ---------------------------------------------------------------- a real room on 127.0.0.1
class Room:
    """The room.py processes of one test, each writing to its own output file."""

    def __init__(self, base: Path):
        self.base = base
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str], cwd: Path) -> subprocess.Popen:
        out = open(self.base / f"{name}.out", "w")  # the child keeps its own descriptor
        proc = subprocess.Popen([sys.executable, str(ROOM_PY), *args], cwd=cwd, stdout=out,
                                stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        out.close()
        self.procs[name] = proc
        return proc

    def output(self, name: str) -> str:
        return (self.base / f"{name}.out").read_text()

    def wait_for(self, name: str, text: str, timeout: float) -> str:
        """The process's output once it contains ``text``; fails fast if the process exits first."""
        deadline = time.monotonic() + timeout
        while text not in (out := self.output(name)):
            if self.procs[name].poll() is not None:
                pytest.fail(f"{name} exited with code {self.procs[name].returncode} before printing "
                            f"{text!r}:\n{out[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not print {text!r} within {timeout:.0f} s:\n{out[-3000:]}")
            time.sleep(0.5)
        return out

    def homes(self) -> list[Path]:
        """Every FLWR_HOME the room's processes use: the SuperLink's and each learner's."""
        return [self.base / "room" / "flwr", *sorted(self.base.glob("learner-*/.flwr")),
                self.base / "intruder" / ".flwr"]

    def flower_processes(self) -> list[psutil.Process]:
        return [p for home in self.homes() for p in _processes_of(home)]


@pytest.fixture
def room_dir(tmp_path, data_dir, monkeypatch):
    """A folder for one room. Whatever a failed test leaves running there is killed."""
    monkeypatch.setenv("PPML_DATA_DIR", str(data_dir))  # the learners' ClientApps read MNIST there
    state = Room(tmp_path)
    yield state
    for proc in state.procs.values():
        if proc.poll() is None:
            proc.terminate()  # room.py stops its processes on SIGTERM
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    leftovers = state.flower_processes()
    for p in leftovers:
        p.kill()
    psutil.wait_procs(leftovers, timeout=10)


def test_a_room_of_three_seats_trains_refuses_an_unknown_key_and_stops_everything(room_dir):
    """SuperLink + 3 SuperNodes (separate processes, own keys, TLS, node auth), 2 rounds."""
    r = room_dir
    [port] = room.free_ports(1)
    r.start("superlink", ["superlink", "--seats", "3", "--host", "127.0.0.1", "--listen", "127.0.0.1",
                          "--port", str(port), "--room-dir", str(r.base / "room"), "--watch-interval", "2"], r.base)
    handout = r.wait_for("superlink", "Seats joining and leaving", timeout=120)
    assert "TLS, SuperNode authentication on, 3 seat keys registered" in handout
    commands = re.findall(r"seat (\d): make room-supernode (.+)", handout)
    assert [int(k) for k, _ in commands] == [0, 1, 2], handout

    # Each learner copies their seat's folder into their course folder and types the printed line
    # (make's variables become room.py's options, as test_the_make_targets_pass_the_variables_on checks).
    for k, line in commands:
        learner = r.base / f"learner-{k}"
        shutil.copytree(r.base / "room" / "seats" / f"seat-{k}", learner / "room" / f"seat-{k}")
        variables = dict(item.split("=", 1) for item in shlex.split(line))
        assert variables["SUPERLINK"] == f"127.0.0.1:{port}" and variables["PARTITION"] == k
        r.start(f"seat-{k}", ["supernode", "--superlink", variables["SUPERLINK"], "--partition",
                              variables["PARTITION"], "--seats", variables["SEATS"], "--key", variables["KEY"],
                              "--flwr-home", str(learner / ".flwr")], learner)
    for k, _ in commands:
        r.wait_for(f"seat-{k}", f"Joined the room as seat {k}", timeout=120)
    r.wait_for("superlink", "(3 of 3 online)", timeout=60)

    # A laptop with a key of its own, not registered, and the room's right CA: TLS passes, auth refuses.
    intruder = r.base / "intruder"
    [stranger] = room.make_seat_keys(intruder, 2)[:1]
    shutil.copyfile(r.base / "room" / "tls" / "ca.crt", stranger.folder / "ca.crt")
    proc = r.start("intruder", ["supernode", "--superlink", f"127.0.0.1:{port}", "--partition", "0", "--seats", "3",
                                "--key", str(stranger.private_key), "--flwr-home", str(intruder / ".flwr")], intruder)
    try:
        assert proc.wait(timeout=120) == 1
    except subprocess.TimeoutExpired:
        pytest.fail(f"the SuperNode with an unknown key was not refused within 120 s:\n{r.output('intruder')}")
    refused = r.output("intruder")
    assert "[code: 2004] Failed to activate SuperNode." in refused, refused  # Flower's SuperNode, exit code 305
    assert "The SuperLink does not know this key" in refused  # our hint
    assert "Joined the room" not in refused
    superlink_log = (r.base / "room" / "logs" / "superlink.log").read_text()
    assert "No SuperNode found with the given public key" in superlink_log
    assert re.search(r'"POST /v1/fleet/activate-node HTTP/1.1" 412', superlink_log)

    # The instructor's `make room-run`, in-process, with a small run.
    watcher = Watcher(r.base / "room" / "flwr")
    rounds = room.run_room(room_dir=r.base / "room", run_config=SMALL, wait=60, timeout=300, out=watcher)
    [(_strategy, accuracy)] = rounds.items()
    assert set(accuracy) == {1, 2} and all(0 < a <= 1 for a in accuracy.values())
    assert accuracy[2] > 0.5, accuracy  # 10 % is chance; observed 0.62 (667 examples a seat)
    streamed = "".join(watcher.text)
    assert streamed.count("configure_train: Sampled 3 nodes (out of 3)") == 2, streamed  # every seat, every round
    assert "Received 3 results and 0 failures" in streamed
    manifest = json.loads((r.base / "room" / "room.json").read_text())
    fed = room.Federation(r.base / "room" / "flwr", r.base / "room" / "logs")
    assert room.online_nodes(fed) == set(manifest["nodes"])  # the three seats, not the intruder

    # Everything that ran: the SuperLink's side (seen by the watcher) and the learners' side.
    seen = {p.pid: p for p in [*watcher.processes(), *r.flower_processes()]}
    names = [_name(p) for p in seen.values()]
    assert names.count("flower-superlink") == 1 and names.count("flower-supernode") == 3, names

    # Ctrl-C on every laptop, then on the instructor's.
    for name in ["seat-0", "seat-1", "seat-2", "superlink"]:
        r.procs[name].send_signal(signal.SIGINT)
        try:
            assert r.procs[name].wait(timeout=60) == 130, r.output(name)[-2000:]
        except subprocess.TimeoutExpired:
            pytest.fail(f"{name} did not stop within 60 s of Ctrl-C:\n{r.output(name)[-2000:]}")
    assert "room SuperLink stopped" in r.output("superlink")
    assert _still_running(seen.values()) == []
    assert r.flower_processes() == []
    tagged = [p for p in psutil.process_iter() if _tag_in(p, r.base)]
    assert tagged == [], tagged


def _tag_in(p: psutil.Process, base: Path) -> bool:
    """A live process started by one of this room's room.py processes (tagged, FLWR_HOME under ``base``)."""
    try:
        env = p.environ()
        return (federation.TAG_VAR in env and env.get("FLWR_HOME", "").startswith(str(base))
                and p.status() != psutil.STATUS_ZOMBIE)
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def test_the_default_host_is_an_ip_address_the_certificate_can_name():
    """What the instructor's default --host is: an address the certificate can name."""
    try:
        address = room.lan_address()
    except ValueError as err:  # a machine with no route at all
        assert "pass --host" in str(err)
        return
    ipaddress.ip_address(address)
