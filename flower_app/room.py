"""A federation across the room: the instructor's laptop runs Flower's SuperLink, each
learner's laptop joins as a SuperNode holding its own partition of MNIST, and the room trains
notebook 02's app (``flower_app/ppml_flower``) together, with TLS and SuperNode
authentication on. The walk-through for instructors is ``docs/room_federation.md``.

Three roles (``make room-superlink``, ``make room-supernode``, ``make room-run``)::

    python flower_app/room.py superlink --seats 24 [--host 192.168.1.20] [--port 9092]
    python flower_app/room.py supernode --superlink 192.168.1.20:9092 --partition 3 --seats 24 \\
        --key room/seat-3/seat-3.key
    python flower_app/room.py run [--min-nodes 20] [--run-config "num-server-rounds=5"]

``superlink`` (instructor) keeps everything in ``room/`` (git-ignored): a CA and a server
certificate naming ``--host`` (default: this machine's LAN address) plus 127.0.0.1 and
localhost (``room/tls``; the CA's key stays there so that a new address on the day only
reissues the server certificate, and the ``ca.crt`` handed out the day before stays valid);
one EC P-384 key pair per seat in OpenSSH format (``room/seats/seat-k``: the folder to hand
out, with ``ca.crt`` and the seat's command in ``JOIN.txt``); then it starts
``flower-superlink --enable-supernode-auth`` with the certificates on ``--listen`` (0.0.0.0),
registers every seat's public key with ``flwr supernode register`` (the Control API: how
Flower 1.42 does node authentication; ``--auth-list-public-keys`` is gone), prints what each
learner types, and reports seats joining and leaving until Ctrl-C, which stops it all.

``supernode`` (learner) starts ``flower-supernode --root-certificates <ca.crt>
--auth-supernode-private-key <seat key> --node-config "partition-id=k num-partitions=n"``, the
same node config ``federation.py`` gives its SuperNodes, so the ClientApp trains partition k
of n. A key the SuperLink does not know is refused: Flower's SuperNode exits with code 1,
``Exit Code: 305`` and ``[code: 2004] Failed to activate SuperNode.`` (the SuperLink answers
``activate-node`` with HTTP 412, "No SuperNode found with the given public key").

``run`` (instructor, second terminal) waits until ``--min-nodes`` seats (default: all) are
online, then ``flwr run``s the app with ``fraction-train=1.0`` (every online laptop trains in
every round) and prints the per-round test accuracy, as ``make federation`` does.

When a laptop drops out (Flower 1.42, read from its source): each round, Flower's FedAvg
samples among the SuperNodes online at that moment, so a laptop that left is simply not
asked in the next round, and one that comes back (same command, same key) is asked again. A
laptop that leaves mid-round: stopped with Ctrl-C, its SuperNode tells the SuperLink at once;
lid closed or Wi-Fi lost, the SuperLink marks it offline after two missed heartbeats (about
60 s). Either way the SuperLink answers for it with an error reply ("Node Unavailable"), the
ServerApp logs ``aggregate_train: Received 2 results and 1 failures`` and averages the
replies it got. A laptop that stays online but never answers holds the round for up to the
strategy's timeout (3600 s): ask that learner to press Ctrl-C. Below two online nodes the
ServerApp waits ("Waiting for nodes to connect").

Not covered by node authentication: in Flower 1.42 the SuperLink serves its Control API
(``flwr run``, ``flwr supernode register``) on the same port as the Fleet API, without account
authentication unless Flower's OIDC plugin is installed. Anyone on the room's network who can
reach the port can submit an app (whose ClientApp then runs on every learner's laptop) or
register a key. Run it on a network you trust, and stop the SuperLink after the session.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

if str(Path(__file__).resolve().parent) not in sys.path:  # federation.py, beside this file
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from federation import (
    ANSI,
    FLWR_HOME,
    PROJECT_DIR,
    RUN_ID_LINE,
    Federation,
    _log_dir,
    _run_app,
    _tool,
    flower_env,
    free_ports,
    make_certificates,
    print_table,
    write_connection,
)

ROOM_DIR = PROJECT_DIR / "room"
CONNECTION = "ppml-room"
DEFAULT_PORT = 9092
#: every online laptop trains in every round (the app's default, 0.5, would leave half idle)
ROOM_RUN_CONFIG = "fraction-train=1.0"
HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


# ---------------------------------------------------------------- input
@dataclass(frozen=True)
class Address:
    """A SuperLink's ``host:port``."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_superlink(value: str) -> Address:
    """``SUPERLINK`` as the instructor's room-superlink printed it: ``host:port``.

    >>> str(parse_superlink("192.168.1.20:9092"))
    '192.168.1.20:9092'
    """
    usage = (f"SUPERLINK must be host:port, the instructor's address as `make room-superlink` printed it "
             f"(e.g. 192.168.1.20:{DEFAULT_PORT}), with no https://. Got {value!r}.")
    text = str(value).strip()
    if "://" in text or "/" in text:
        raise ValueError(usage)
    host, sep, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(usage)
    try:
        return Address(check_host(host), int(port))
    except ValueError:
        raise ValueError(usage) from None


def check_host(host: str, *, name: str = "--host") -> str:
    """An IP address or a DNS name, as a certificate's subject alternative name takes it."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        if HOSTNAME.match(host):
            return host.lower()
    raise ValueError(f"{name} must be an IP address (192.168.1.20) or a host name (teacher-laptop.local). "
                     f"Got {host!r}.")


def check_seats(seats) -> int:
    """``SEATS``: how many learner laptops (partitions); at least 2, Flower's strategies wait for 2 nodes."""
    n = _whole(seats, "SEATS")
    if n < 2:
        raise ValueError(f"SEATS must be at least 2: one seat per learner laptop, and Flower's strategies "
                         f"wait for 2 nodes. Got {seats!r}.")
    return n


def check_partition(partition, seats) -> int:
    """``PARTITION``: the learner's seat number, 0..SEATS-1."""
    n = check_seats(seats)
    k = _whole(partition, "PARTITION")
    if not 0 <= k < n:
        raise ValueError(f"PARTITION must be one of 0..{n - 1} (your seat number; SEATS={n} seats share the data). "
                         f"Got {partition!r}.")
    return k


def _whole(value, name: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"{name} must be a whole number. Got {value!r}.") from None


def check_key_file(path) -> Path:
    """``KEY``: the seat's private key, an EC key in OpenSSH format (what Flower's SuperNode reads)."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_ssh_private_key

    key = Path(str(path)).expanduser()
    if not str(path).strip() or not key.is_file():
        raise ValueError(f"KEY file {str(path)!r} does not exist: copy your seat's folder from the instructor "
                         "(room/seats/seat-k) into your course folder as room/seat-k and pass "
                         "KEY=room/seat-k/seat-k.key.")
    try:
        private = load_ssh_private_key(key.read_bytes(), password=None)
    except (ValueError, TypeError):
        private = None
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise ValueError(f"KEY {str(path)!r} is not an EC private key in OpenSSH format: pass seat-k.key "
                         "(not seat-k.key.pub, not ca.crt).")
    return key.resolve()


def check_ca_file(path) -> Path:
    """``CA``: the room's CA certificate (PEM), which the SuperLink's certificate must chain to."""
    from cryptography import x509

    ca = Path(str(path)).expanduser()
    if not ca.is_file():
        raise ValueError(f"CA file {str(path)!r} does not exist: it comes in your seat's folder (ca.crt beside "
                         "the key), or pass CA=<path to ca.crt>.")
    try:
        x509.load_pem_x509_certificate(ca.read_bytes())
    except ValueError:
        raise ValueError(f"CA {str(path)!r} is not a PEM certificate: pass the ca.crt of your seat's folder.") from None
    return ca.resolve()


def check_port(port, *, name: str = "ROOM_PORT (--port)") -> int:
    p = _whole(port, name)
    if not 1 <= p <= 65535:
        raise ValueError(f"{name} must be a TCP port, 1..65535. Got {port!r}.")
    return p


def room_run_config(run_config: str) -> str:
    """``run_config`` with ``fraction-train=1.0`` unless it sets fraction-train (a TOML file is used as is)."""
    from flwr.common.config import parse_config_args

    if run_config.strip().endswith(".toml"):
        return run_config
    if "fraction-train" in parse_config_args([run_config] if run_config.strip() else None):
        return run_config
    return f"{ROOM_RUN_CONFIG} {run_config}".strip()


def lan_address() -> str:
    """This machine's address on the network its default route uses (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: only selects the outgoing interface
            return s.getsockname()[0]
        except OSError:
            raise ValueError("could not find this machine's LAN address (no network route): pass --host "
                             "with the address learners reach this laptop at (ROOM_HOST=... with make).") from None


# ---------------------------------------------------------------- certificates and keys
@dataclass(frozen=True)
class Seat:
    """One learner's seat: its number, its key pair (OpenSSH format) and the folder to hand out."""

    index: int
    folder: Path

    @property
    def private_key(self) -> Path:
        return self.folder / f"seat-{self.index}.key"

    @property
    def public_key(self) -> Path:
        return self.folder / f"seat-{self.index}.key.pub"


def make_seat_keys(directory: Path, seats: int) -> list[Seat]:
    """An EC P-384 key pair per seat in ``directory/seat-k/`` (private key 0600, OpenSSH format as
    ``flower-supernode --auth-supernode-private-key`` and ``flwr supernode register`` read them);
    existing keys are kept, so the folders handed out the day before stay valid."""
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import ec

    result = []
    for k in range(check_seats(seats)):
        seat = Seat(k, directory / f"seat-{k}")
        seat.folder.mkdir(parents=True, exist_ok=True)
        seat.folder.chmod(0o700)
        if not (seat.private_key.exists() and seat.public_key.exists()):
            key = ec.generate_private_key(ec.SECP384R1())
            seat.private_key.write_bytes(key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.OpenSSH,
                                                           ser.NoEncryption()))
            seat.private_key.chmod(0o600)
            seat.public_key.write_bytes(key.public_key().public_bytes(ser.Encoding.OpenSSH, ser.PublicFormat.OpenSSH)
                                        + f" ppml-room-seat-{k}\n".encode())
        result.append(seat)
    return result


def learner_command(address: Address, seat: int, seats: int) -> str:
    """What the learner of ``seat`` types in their course folder, once the seat's folder is copied there."""
    return (f"make room-supernode SUPERLINK={address} PARTITION={seat} SEATS={seats} "
            f"KEY=room/seat-{seat}/seat-{seat}.key")


# ---------------------------------------------------------------- flwr CLI
def _flwr(fed: Federation, *args: str, timeout: float = 60) -> dict:
    """``flwr <args> --format json`` in the room's FLWR_HOME; its JSON, or ``RuntimeError``."""
    res = subprocess.run([_tool("flwr"), *args, "--format", "json"], capture_output=True, text=True,
                         env=flower_env(fed.flwr_home, fed.tag), timeout=timeout)
    try:
        reply = json.loads(res.stdout)
    except ValueError:
        reply = {}
    if not reply.get("success"):
        raise RuntimeError(f"flwr {' '.join(args)} failed: {reply.get('error-message') or res.stdout + res.stderr}")
    return reply


def online_nodes(fed: Federation, connection: str = CONNECTION) -> set[str]:
    """Node ids ``flwr supernode list`` reports online."""
    nodes = _flwr(fed, "supernode", "list", connection)["nodes"]
    return {str(n["node-id"]) for n in nodes if n["status"] == "online"}


def _seats_of(node_ids, manifest: dict) -> list[int]:
    return sorted(manifest["nodes"][n] for n in node_ids if n in manifest["nodes"])


# ---------------------------------------------------------------- roles
def serve(*, seats, hosts: Sequence[str] = (), port=DEFAULT_PORT, listen: str = "0.0.0.0",
          room_dir: Path = ROOM_DIR, watch_interval: float = 5.0, out=None) -> int:
    """The instructor's role: certificates, seat keys, SuperLink with node auth, keys registered,
    the learners' commands printed; then report seats joining and leaving until Ctrl-C (or
    SIGTERM) stops the SuperLink. Returns 1 if the SuperLink dies on its own."""
    n = check_seats(seats)
    port = check_port(port)
    hosts = [check_host(h) for h in hosts] or [lan_address()]
    try:
        listen = str(ipaddress.ip_address(str(listen).strip() or "0.0.0.0"))
    except ValueError:
        raise ValueError(f"--listen must be an IP address of this machine (0.0.0.0: all of them). "
                         f"Got {listen!r}.") from None
    local = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(listen, listen)
    with socket.socket(socket.AF_INET6 if ":" in listen else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            s.bind((listen, port))
        except OSError as err:
            raise ValueError(f"ROOM_PORT {port} is not free on {listen} ({err.strerror}): is a room-superlink already "
                             "running? Stop it, or choose another with ROOM_PORT=... (--port).") from None
    room_dir = Path(room_dir).resolve()
    names = list(dict.fromkeys([*hosts, local]))
    certs = make_certificates(room_dir / "tls", hosts=names)
    seat_list = make_seat_keys(room_dir / "seats", n)
    address = Address(hosts[0], port)
    for seat in seat_list:
        shutil.copyfile(certs.ca, seat.folder / "ca.crt")
        (seat.folder / "JOIN.txt").write_text(
            f"Seat {seat.index} of the room federation. Copy this folder into your course folder as "
            f"room/seat-{seat.index}/ and type there:\n\n    {learner_command(address, seat.index, n)}\n")
    flwr_home, log_dir = room_dir / "flwr", room_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    fed = Federation(flwr_home, log_dir)
    try:
        link = fed.start("superlink", [
            "flower-superlink", "--ssl-ca-certfile", str(certs.ca), "--ssl-certfile", str(certs.server_cert),
            "--ssl-keyfile", str(certs.server_key), "--enable-supernode-auth", "--host", listen, "--port", str(port),
            "--disable-runtime-dependency-installation"])
        _wait_listening(local, port, link, timeout=60)
        write_connection(flwr_home, CONNECTION, {"address": str(Address(local, port)), "root-certificates": str(certs.ca)})
        nodes = {}
        for seat in seat_list:
            reply = _flwr(fed, "supernode", "register", str(seat.public_key), CONNECTION, "--name", f"seat-{seat.index}")
            nodes[str(reply["node-id"])] = seat.index
        manifest = {"seats": n, "superlink": str(address), "certificate-names": names, "listen": listen,
                    "port": port, "nodes": nodes}
        (room_dir / "room.json").write_text(json.dumps(manifest, indent=2) + "\n")
        _print_handout(manifest, room_dir, out)
        return _watch(fed, link, manifest, watch_interval, out)
    finally:
        fed.stop()
        print("room SuperLink stopped", file=out, flush=True)


def _print_handout(manifest: dict, room_dir: Path, out) -> None:
    n, address = manifest["seats"], parse_superlink(manifest["superlink"])
    lines = [
        f"Room SuperLink on {manifest['listen']}:{manifest['port']}: TLS, SuperNode authentication on, "
        f"{n} seat keys registered. Its certificate names {', '.join(manifest['certificate-names'])}.",
        "",
        f"Hand each learner their seat's folder, {room_dir / 'seats'}/seat-k (ca.crt, seat-k.key, JOIN.txt), "
        "and nothing else: a seat's key is that laptop's identity.",
        "They copy it into their course folder as room/seat-k/ and type there:",
        "",
        *(f"  seat {k}: {learner_command(address, k, n)}" for k in range(n)),
        "",
        "Seats joining and leaving are reported below. When enough have joined, in a second terminal:",
        "  make room-run                 (waits for every seat; MIN_NODES=k starts with k)",
        "A laptop that drops out is left out of the next rounds and rejoins with the same command.",
        "Ctrl-C here stops the SuperLink; learners then stop their SuperNodes with Ctrl-C (until then they retry).",
        "",
    ]
    (room_dir / "learners.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines), file=out, flush=True)


def _watch(fed: Federation, link: psutil.Popen, manifest: dict, interval: float, out) -> int:
    online: set[str] = set()
    while True:
        if link.poll() is not None:
            print(f"the SuperLink exited with code {link.returncode}; see {fed.log_dir / 'superlink.log'}",
                  file=out, flush=True)
            return 1
        if interval > 0:
            try:
                now = online_nodes(fed)
            except (RuntimeError, subprocess.TimeoutExpired):
                now = online
            stamp = time.strftime("%H:%M:%S")
            for seat in _seats_of(now - online, manifest):
                print(f"[{stamp}] seat {seat} joined ({len(now)} of {manifest['seats']} online)", file=out, flush=True)
            for seat in _seats_of(online - now, manifest):
                print(f"[{stamp}] seat {seat} left ({len(now)} of {manifest['seats']} online)", file=out, flush=True)
            online = now
        time.sleep(max(interval, 1.0))


def _wait_listening(host: str, port: int, proc: psutil.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"flower-superlink exited with code {proc.returncode} before listening; "
                               f"see {Path(proc.log.name)}.")
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"flower-superlink did not listen on {host}:{port} within {timeout:.0f} s.")


#: what Flower's SuperNode prints when it fails, and what the learner can do about it
TLS_HINT = ("TLS failed: CA must be the room's ca.crt (from your seat's folder) and SUPERLINK's host one of the "
            "names the instructor's room-superlink printed (its certificate names them).")
HINTS = (
    ("Failed to activate SuperNode", "The SuperLink does not know this key. Check that KEY is your own seat's "
     "seat-k.key from this room (keys from an earlier room/ are void), and ask the instructor whether your "
     "seat number is below the SEATS their room-superlink registered."),
    ("SSL", TLS_HINT),
    ("certificate", TLS_HINT),
)
RETRYING = "Connection attempt failed, retrying"


def join(*, superlink: str, partition, seats, key, ca=None, flwr_home: Path = FLWR_HOME,
         out=None) -> int:
    """The learner's role: a SuperNode for seat ``partition`` of ``seats`` with the seat's key,
    trusting the room's CA, until Ctrl-C (exit 130) or until Flower's SuperNode exits (its exit
    code, with a hint for the usual causes). ``ValueError`` on bad input, before anything starts."""
    address = parse_superlink(superlink)
    k = check_partition(partition, seats)
    n = check_seats(seats)
    key = check_key_file(key)
    ca = check_ca_file(key.parent / "ca.crt" if ca is None or not str(ca).strip() else ca)
    flwr_home = Path(flwr_home).resolve()
    fed = Federation(flwr_home, _log_dir(flwr_home))
    [runtime_port] = free_ports(1)
    try:
        node = fed.start(f"room-supernode-{k}", [
            "flower-supernode", "--root-certificates", str(ca), "--superlink", str(address),
            "--auth-supernode-private-key", str(key),
            "--node-config", f"partition-id={k} num-partitions={n}",
            "--host", "127.0.0.1", "--port", str(runtime_port)])
        print(f"Joining the room at {address} as seat {k} of {n} (TLS, key {key.name}); "
              f"log in {node.log.name}", file=out, flush=True)
        return _follow(node, k, address, out)
    finally:
        fed.stop()


def _follow(node: psutil.Popen, seat: int, address: Address, out) -> int:
    """Echo the SuperNode's output with our own status lines; its exit code with a hint on failure."""
    lines: list[str] = []
    partial, retrying = "", False
    with open(node.log.name, encoding="utf-8", errors="replace") as f:
        while True:
            finished = node.poll() is not None
            *complete, partial = (partial + f.read()).split("\n")
            if finished and partial:
                complete, partial = [*complete, partial], ""
            for line in complete:
                lines.append(line)
                print(line, file=out, flush=True)
                if "SuperNode ID:" in line:
                    print(f"Joined the room as seat {seat}. Leave this terminal open: the instructor starts "
                          "the training, and your laptop trains on its partition each round. "
                          "Ctrl-C leaves the room.", file=out, flush=True)
                elif RETRYING in line and not retrying:
                    retrying = True
                    print(f"Cannot reach the SuperLink at {address} yet; still trying. Is the instructor's "
                          "room-superlink running, and is this laptop on the same network?", file=out, flush=True)
            if finished:
                break
            time.sleep(0.3)
    if node.returncode < 0:
        print(f"\nflower-supernode was stopped by signal {-node.returncode}; the same command rejoins the room.",
              file=out, flush=True)
    elif node.returncode != 0:
        text = "\n".join(lines)
        hint = next((h for marker, h in HINTS if marker in text),
                    "Check SUPERLINK, KEY and CA, and this laptop's clock (Flower refuses a node whose clock "
                    "runs more than 5 s ahead of the instructor's): see the lines above.")
        print(f"\nflower-supernode exited with code {node.returncode}. {hint}", file=out, flush=True)
    return node.returncode


def run_room(*, room_dir: Path = ROOM_DIR, min_nodes=None, run_config: str = "", wait: float = 600.0,
             timeout: float = 3600.0, out=None, federation: Federation | None = None) -> dict[str, dict[int, float]]:
    """The instructor's ``make room-run``: wait until ``min_nodes`` seats (default: all) are online,
    then run the app across the room with :func:`room_run_config`; return ``{strategy: {round: accuracy}}``.
    ``TimeoutError`` when too few seats join within ``wait`` s; ``RuntimeError`` when the run fails."""
    room_dir = Path(room_dir).resolve()
    path = room_dir / "room.json"
    if not path.exists():
        raise ValueError(f"no room in {room_dir}: start `make room-superlink SEATS=n` (in another terminal) first.")
    manifest = json.loads(path.read_text())
    n = manifest["seats"]
    need = n if min_nodes is None else _whole(min_nodes, "MIN_NODES")
    if not 2 <= need <= n:
        raise ValueError(f"MIN_NODES must be 2..{n} (the room has {n} seats; Flower's strategies wait for 2). "
                         f"Got {min_nodes!r}.")
    flwr_home = room_dir / "flwr"
    fed = federation or Federation(flwr_home, _log_dir(flwr_home))
    try:
        try:
            online = online_nodes(fed)
        except (RuntimeError, subprocess.TimeoutExpired) as err:
            raise RuntimeError(f"the room's SuperLink does not answer ({err}): is `make room-superlink` still "
                               "running?") from None
        deadline, shown = time.monotonic() + wait, None
        while len(online) < need:
            seats = _seats_of(online, manifest)
            if seats != shown:
                print(f"{len(seats)} of {n} seats online {seats}; waiting for {need}", file=out, flush=True)
                shown = seats
            if time.monotonic() > deadline:
                missing = sorted(set(range(n)) - set(seats))
                raise TimeoutError(f"only {len(seats)} of the {need} seats needed joined within {wait:.0f} s "
                                   f"(missing: {missing}). Start with those present: make room-run "
                                   f"MIN_NODES={max(len(seats), 2)}.")
            time.sleep(2)
            online = online_nodes(fed)
        config = room_run_config(run_config)
        (fed.log_dir / "flwr-run.log").unlink(missing_ok=True)  # _stop_run reads this run's id from it
        print(f"{len(online)} of {n} seats online {_seats_of(online, manifest)}: flwr run with {config!r}",
              file=out, flush=True)
        try:
            return _run_app(fed, CONNECTION, config, [], timeout=timeout, out=out)
        except (KeyboardInterrupt, SystemExit, TimeoutError):
            _stop_run(fed, out)  # the ServerApp runs under the SuperLink: stopping flwr run leaves it going
            raise
    finally:
        fed.stop()


def _stop_run(fed: Federation, out) -> None:
    """``flwr stop`` the run that ``flwr run`` started (its id is in flwr run's log), if any."""
    log = fed.log_dir / "flwr-run.log"
    text = ANSI.sub("", log.read_text(errors="replace")) if log.exists() else ""
    run_ids = RUN_ID_LINE.findall(text)
    if run_ids:
        try:
            _flwr(fed, "stop", run_ids[-1], CONNECTION)
            print(f"stopped run {run_ids[-1]} on the SuperLink", file=out, flush=True)
        except (RuntimeError, subprocess.TimeoutExpired) as err:
            print(f"could not stop run {run_ids[-1]} ({err}); Ctrl-C on room-superlink stops everything",
                  file=out, flush=True)


# ---------------------------------------------------------------- command line
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="role", required=True)
    link = sub.add_parser("superlink", help="instructor: certificates, seat keys, SuperLink with node auth")
    link.add_argument("--seats", required=True, help="learner laptops (each gets a key and a partition)")
    link.add_argument("--host", action="append", default=[],
                      help="address learners reach this laptop at, put in the certificate (repeatable; "
                           "default: this machine's LAN address); 127.0.0.1 and localhost are always added")
    link.add_argument("--port", default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    link.add_argument("--listen", default="0.0.0.0", help="address the SuperLink binds (default 0.0.0.0)")
    link.add_argument("--watch-interval", type=float, default=5.0, help="seconds between seat reports (0: none)")
    node = sub.add_parser("supernode", help="learner: join the room as a SuperNode")
    node.add_argument("--superlink", required=True, help="host:port, as the instructor's room-superlink printed")
    node.add_argument("--partition", required=True, help="your seat number, 0..SEATS-1")
    node.add_argument("--seats", required=True, help="the room's number of seats")
    node.add_argument("--key", required=True, help="your seat's private key, room/seat-k/seat-k.key")
    node.add_argument("--ca", default=None, help="the room's CA certificate (default: ca.crt beside the key)")
    node.add_argument("--flwr-home", type=Path, default=FLWR_HOME, help=f"default {FLWR_HOME}")
    run = sub.add_parser("run", help="instructor: train across the room once the seats have joined")
    run.add_argument("--min-nodes", default=None, help="seats to wait for (default: all)")
    run.add_argument("--run-config", default="", help='e.g. "num-server-rounds=5 train-examples=60000"')
    run.add_argument("--wait", type=float, default=600.0, help="seconds to wait for the seats")
    run.add_argument("--timeout", type=float, default=3600.0, help="seconds before the run is abandoned")
    for p in (link, run):
        p.add_argument("--room-dir", type=Path, default=ROOM_DIR, help=f"default {ROOM_DIR}")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the processes
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C, even when started with SIGINT ignored (`&`)
    try:
        if args.role == "superlink":
            return serve(seats=args.seats, hosts=args.host, port=args.port, listen=args.listen,
                         room_dir=args.room_dir, watch_interval=args.watch_interval)
        if args.role == "supernode":
            return join(superlink=args.superlink, partition=args.partition, seats=args.seats, key=args.key,
                        ca=args.ca, flwr_home=args.flwr_home)
        rounds = run_room(room_dir=args.room_dir, min_nodes=args.min_nodes, run_config=args.run_config,
                          wait=args.wait, timeout=args.timeout)
    except ValueError as err:
        print(f"room {args.role}: {err}", file=sys.stderr)
        return 2
    except (RuntimeError, TimeoutError, FileNotFoundError) as err:
        print(f"room {args.role} failed: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"room {args.role}: interrupted; every process it started was stopped", file=sys.stderr)
        return 130
    print_table(rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
