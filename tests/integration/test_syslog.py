#!/usr/bin/env python3
"""Syslog listener integration tests: syslog+udp, syslog+tcp (LF and octet-counted framing,
mixed, concurrent connections), syslog+tls (self-signed certificate made with the openssl
CLI; client certificates), bad peers (garbage, a 10 MB line, half frames, 1,000 idle
connections, max_conn, idle timeout), per-sender stats, kernel drop counting, usage errors.

Everything listens and connects on loopback only, with bounded loops and timeouts."""
import json
import os
import random
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Skip, build_dir, case, hm, run, tmpdir  # noqa: E402

RSS_LIMIT_KB = 200 * 1024


def sis_line(i, host="sis-app02"):
    return (f"<134>Mar 11 00:00:25 {host} sis[3301]: login failure user=u{i} src=10.30.2.44 "
            f"portal=teacher method=password reason=bad_password country=US")


def octet(msg):
    b = msg.encode() if isinstance(msg, str) else msg
    return str(len(b)).encode() + b" " + b


def free_port():
    """A port free for both TCP and UDP on 127.0.0.1."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise RuntimeError("no free port")


class Server:
    """build/hallmonitor run with one listener input; collects stdout/stderr in threads."""

    def __init__(self, uri, idle="2s", extra=()):
        self.uri = uri
        self.dir = tmpdir()
        self.dead = os.path.join(self.dir, "dead.jsonl")
        cmd = [os.path.join(build_dir(), "hallmonitor"), "run", "--input", uri, "--stats",
               "--year", "2024", "--workers", "2", "--dead-letter", self.dead, "--no-raw"]
        if idle:
            cmd += ["--exit-on-idle", idle]
        cmd += list(extra)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out, self.err = [], []
        self._t = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.out), daemon=True),
                   threading.Thread(target=self._pump, args=(self.proc.stderr, self.err), daemon=True)]
        for t in self._t:
            t.start()
        deadline = time.time() + 10
        while not any(b"listening on" in l for l in list(self.err)):
            if self.proc.poll() is not None or time.time() > deadline:
                self.proc.kill()
                self.finish()
                raise AssertionError(f"listener did not start: {self.stderr()}")
            time.sleep(0.02)

    @staticmethod
    def _pump(f, acc):
        for line in f:
            acc.append(line)

    def finish(self, timeout=30):
        try:
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"hallmonitor did not exit in {timeout}s: {self.stderr()[-2000:]}")
        for t in self._t:
            t.join(5)
        self.events = [json.loads(l) for l in self.out if l.strip()]
        self.deads = []
        if os.path.exists(self.dead):
            with open(self.dead, "rb") as f:
                self.deads = [json.loads(l) for l in f if l.strip()]
        stats = [json.loads(l) for l in self.err if l.startswith(b"{")]
        self.stats = stats[-1] if stats else None
        self.details = self.stats["input_details"][self.uri] if self.stats else None
        return self

    def peak_rss_kb(self):
        """VmHWM of the running server. (--stats max_rss_kb comes from getrusage, which on
        Linux also counts the forking parent's RSS from before exec: this one does not.)"""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def stderr(self):
        return b"".join(self.err).decode(errors="replace")

    def sigterm(self):
        self.proc.send_signal(signal.SIGTERM)


def ids_ok(events, origin_prefix):
    """Every id is ORIGIN:POS with a per-listener receive sequence: unique and increasing in
    output order."""
    pos = []
    for e in events:
        o, p = e["id"].rsplit(":", 1)
        assert o.startswith(origin_prefix), (o, origin_prefix)
        pos.append(int(p))
    assert pos == sorted(pos) and len(set(pos)) == len(pos), "positions not unique/increasing"
    return pos


def users(events):
    return [e.get("user") for e in events]


def send_all_chunked(sock, data, rnd, max_chunk=700):
    i = 0
    while i < len(data):
        n = rnd.randint(1, max_chunk)
        sock.sendall(data[i:i + n])
        i += n


def connect(port, host="127.0.0.1", timeout=5):
    s = socket.create_connection((host, port), timeout=timeout)
    return s


# ---------------------------------------------------------------------------------- UDP


@case
def udp_many_datagrams_two_senders():
    port = free_port()
    srv = Server(f"syslog+udp://127.0.0.1:{port}")
    n = 3000
    socks = []
    for src in ("127.0.0.1", "127.0.0.2"):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, 0))
        socks.append(s)
    for i in range(n):
        s = socks[i % 2]
        # some senders add a trailing LF: it is removed
        s.sendto((sis_line(i) + ("\n" if i % 3 == 0 else "")).encode(), ("127.0.0.1", port))
        if i % 200 == 199:
            time.sleep(0.005)
    for s in socks:
        s.close()
    srv.finish()
    assert srv.rc == 0, srv.stderr()
    d = srv.details
    drops = d["kernel_drops"]
    got = users(srv.events)
    assert len(got) + drops == n, (len(got), drops)
    assert len(set(got)) == len(got), "a datagram was emitted twice"
    assert all(e["decoder"] == "sis" for e in srv.events)
    assert drops == 0, f"{drops} kernel drops at a paced rate"
    ids_ok(srv.events, f"syslog+udp://127.0.0.1:{port}/127.0.0.")
    by_origin = {}
    for e in srv.events:
        by_origin.setdefault(e["id"].rsplit(":", 1)[0], []).append(int(e["user"][1:]))
    assert set(by_origin) == {f"syslog+udp://127.0.0.1:{port}/127.0.0.1",
                              f"syslog+udp://127.0.0.1:{port}/127.0.0.2"}, by_origin.keys()
    assert by_origin[f"syslog+udp://127.0.0.1:{port}/127.0.0.1"] == list(range(0, n, 2))
    assert d["senders"] == {"127.0.0.1": n // 2, "127.0.0.2": n // 2}, d["senders"]
    assert d["records"] == n and d["senders_distinct"] == 2
    assert srv.stats["inputs"][srv.uri] == n


@case
def udp_kernel_drops_are_counted():
    port = free_port()
    # a tiny receive buffer (SO_RCVBUFFORCE as root; else capped) and a blast of datagrams
    srv = Server(f"syslog+udp://127.0.0.1:{port}?rcvbuf=4096", extra=["--workers", "1"])
    n = 20000
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    msgs = [sis_line(i).encode() for i in range(n)]
    for m in msgs:
        s.sendto(m, ("127.0.0.1", port))
    # SO_RXQ_OVFL reports the drop count with the next datagram received: send a last one
    # once the queue has drained
    time.sleep(0.5)
    s.sendto(sis_line(n).encode(), ("127.0.0.1", port))
    s.close()
    srv.finish()
    d = srv.details
    got = len(srv.events)
    assert d["rcvbuf"] <= 65536, d
    assert "u%d" % n in users(srv.events)
    # every datagram is either decoded or counted as dropped by the kernel
    assert got + d["kernel_drops"] == n + 1, (got, d["kernel_drops"])
    if os.geteuid() == 0:
        assert d["kernel_drops"] > 0, "expected drops with a 4 KiB receive buffer"
    ids_ok(srv.events, f"syslog+udp://127.0.0.1:{port}/127.0.0.1")


@case
def udp_oversize_and_empty_datagrams():
    port = free_port()
    srv = Server(f"syslog+udp://127.0.0.1:{port}", extra=["--max-record", "1000"])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"", ("127.0.0.1", port))
    s.sendto(b"\n", ("127.0.0.1", port))
    s.sendto(sis_line(1).encode() + b" pad=" + b"x" * 5000, ("127.0.0.1", port))
    s.sendto(sis_line(2).encode(), ("127.0.0.1", port))
    s.close()
    srv.finish()
    assert users(srv.events) == ["u2"], users(srv.events)
    assert len(srv.deads) == 1 and srv.deads[0]["reason"] == "record exceeds --max-record"
    assert srv.details["empty_datagrams"] == 2
    assert srv.stats["oversize"] == 1
    assert srv.stderr().count("empty datagram") == 1, "an empty datagram cause logged more than once"


# ---------------------------------------------------------------------------------- TCP


def tcp_case(frames_for, nconn, per_conn, extra_uri=""):
    port = free_port()
    srv = Server(f"syslog+tcp://127.0.0.1:{port}{extra_uri}")
    errors = []

    def client(c):
        try:
            rnd = random.Random(c)
            s = connect(port)
            data = b"".join(frames_for(c * per_conn + i, i) for i in range(per_conn))
            send_all_chunked(s, data, rnd)
            s.close()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    ts = [threading.Thread(target=client, args=(c,)) for c in range(nconn)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    srv.finish()
    assert not errors, errors
    assert srv.rc == 0, srv.stderr()
    got = users(srv.events)
    want = nconn * per_conn
    assert len(got) == want and len(set(got)) == want, (len(got), len(set(got)), want, srv.deads[:3])
    assert all(e["decoder"] == "sis" for e in srv.events)
    ids_ok(srv.events, f"syslog+tcp://127.0.0.1:{port}/127.0.0.1")
    # per-connection order is kept
    for c in range(nconn):
        seq = [int(u[1:]) for u in got if c * per_conn <= int(u[1:]) < (c + 1) * per_conn]
        assert seq == sorted(seq), f"connection {c} out of order"
    d = srv.details
    assert d["senders"] == {"127.0.0.1": want}, d["senders"]
    assert d["connections_total"] == nconn and d["connections"] == 0, d
    assert d["bad_frames"] == 0 and d["incomplete_frames"] == 0 and d["truncated"] == 0, d
    assert not srv.deads, srv.deads[:3]
    return srv


@case
def tcp_lf_framing_concurrent_connections():
    tcp_case(lambda i, k: (sis_line(i) + ("\r\n" if k % 5 == 0 else "\n")).encode(), 4, 1500)


@case
def tcp_octet_counting():
    # count without trailer, with LF inside the count, and an LF trailer after the frame
    def frame(i, k):
        if k % 3 == 0:
            return octet(sis_line(i))
        if k % 3 == 1:
            return octet(sis_line(i) + "\n")
        return octet(sis_line(i)) + b"\n"
    tcp_case(frame, 3, 1500)


@case
def tcp_mixed_framing_per_frame():
    def frame(i, k):
        return octet(sis_line(i)) if (i * 7 + k) % 2 else (sis_line(i) + "\n").encode()
    tcp_case(frame, 3, 1000)


@case
def tcp_octet_frame_with_embedded_newline_is_one_record():
    port = free_port()
    srv = Server(f"syslog+tcp://127.0.0.1:{port}")
    s = connect(port)
    msg = sis_line(1) + "\nsecond-line-of-same-message"
    # a line starting with a number and a space is not an octet count (no '<' follows)
    s.sendall(octet(msg) + octet(sis_line(2)) + b"404 not found\n" + (sis_line(3) + "\n").encode())
    s.close()
    srv.finish()
    assert users(srv.events) == ["u1", "u2", "u3"], (users(srv.events), srv.deads)
    assert [d["raw"] for d in srv.deads] == ["404 not found"], srv.deads
    assert srv.details["records"] == 4 and srv.details["bad_frames"] == 0
    ids_ok(srv.events, f"syslog+tcp://127.0.0.1:{port}/127.0.0.1")


@case
def ipv6_loopback_udp_and_tcp():
    try:
        t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        t.bind(("::1", 0))
        port = t.getsockname()[1]
        t.close()
    except OSError:
        raise Skip("no IPv6 loopback")
    for proto in ("udp", "tcp"):
        srv = Server(f"syslog+{proto}://[::1]:{port}")
        if proto == "udp":
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.sendto(sis_line(1).encode(), ("::1", port))
        else:
            s = socket.create_connection(("::1", port), timeout=5)
            s.sendall((sis_line(1) + "\n").encode())
        s.close()
        srv.finish()
        assert [e["id"] for e in srv.events] == [f"syslog+{proto}://[::1]:{port}/::1:0"], srv.events
        assert srv.details["senders"] == {"::1": 1}


@case
def tcp_bad_peers_do_not_stop_the_listener():
    port = free_port()
    srv = Server(f"syslog+tcp://127.0.0.1:{port}", idle="3s")
    errors = []
    good_n = 600

    def good():
        try:
            s = connect(port)
            for i in range(good_n):
                s.sendall((sis_line(i) + "\n").encode())
                if i % 100 == 99:
                    time.sleep(0.05)
            s.close()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    def garbage():
        rnd = random.Random(7)
        s = connect(port)
        for _ in range(50):
            s.sendall(bytes(rnd.getrandbits(8) for _ in range(2000)))
        s.close()

    def ten_mb_line_then_good():
        s = connect(port)
        chunk = b"A" * (1 << 20)
        for _ in range(10):
            s.sendall(chunk)
        s.sendall(b"\n" + (sis_line(100000) + "\n").encode())
        s.close()

    def ten_mb_line_then_close():
        s = connect(port)
        chunk = b"B" * (1 << 20)
        for _ in range(10):
            s.sendall(chunk)
        s.close()

    def half_octet_frame():
        s = connect(port)
        s.sendall(octet(sis_line(200000))[:60])
        s.close()

    def half_lf_line():
        s = connect(port)
        s.sendall(sis_line(300000).encode())  # no LF: emitted at close as a normal record
        s.close()

    def huge_octet_count():
        s = connect(port)
        s.sendall(b"99999999999 <13>x\n" + b"999999999 <13>" + b"x" * 100)  # 2nd: > hard cap
        time.sleep(0.2)
        s.close()

    fns = [good, garbage, ten_mb_line_then_good, ten_mb_line_then_close, half_octet_frame,
           half_lf_line, huge_octet_count]
    ts = [threading.Thread(target=f) for f in fns]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    peak = srv.peak_rss_kb()
    srv.finish()
    assert not errors, errors
    assert srv.rc == 0, srv.stderr()
    assert peak < RSS_LIMIT_KB, f"peak RSS {peak} kB"
    got = set(users(srv.events))
    assert {f"u{i}" for i in range(good_n)} <= got, f"good client lost {good_n - len(got & {f'u{i}' for i in range(good_n)})}"
    assert "u100000" in got, "the line after a 10 MB line was lost"
    assert "u300000" in got, "an unterminated last line was not emitted at close"
    assert "u200000" not in got
    d = srv.details
    trunc = [x for x in srv.deads if x.get("truncated")]
    lengths = sorted(x["length"] for x in trunc)
    assert lengths == [10 << 20, 10 << 20], lengths
    assert all(len(x.get("raw", "")) <= 65536 for x in trunc)
    assert d["truncated"] >= 2, d
    assert d["incomplete_frames"] == 1, d
    assert d["bad_frames"] == 1, d  # the count above the hard cap; "99999999999" (11 digits) is a line
    assert srv.stats["max_rss_kb"] < RSS_LIMIT_KB, srv.stats["max_rss_kb"]
    err = srv.stderr()
    assert err.count("longer than 65536 bytes") == 1, "truncation logged more than once"
    assert err.count("ended inside an octet-counted frame") == 1
    ids_ok(srv.events, f"syslog+tcp://127.0.0.1:{port}/127.0.0.1")


@case
def tcp_thousand_idle_connections_and_a_good_client():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
        except (ValueError, OSError):
            raise Skip("cannot raise the open-file limit to 1,200")
    port = free_port()
    srv = Server(f"syslog+tcp://127.0.0.1:{port}?max_conn=1100", idle="3s")
    idle = []
    try:
        for _ in range(1000):
            idle.append(connect(port))
        s = connect(port)
        for i in range(300):
            s.sendall((sis_line(i) + "\n").encode())
        s.close()
        # the 1,000 connections are still open (not refused): a byte still gets through
        idle[500].sendall((sis_line(5000) + "\n").encode())
        time.sleep(0.3)
        peak = srv.peak_rss_kb()
        srv.finish()
    finally:
        for c in idle:
            c.close()
    assert srv.rc == 0, srv.stderr()
    got = users(srv.events)
    assert sorted(got) == sorted([f"u{i}" for i in range(300)] + ["u5000"]), len(got)
    d = srv.details
    assert d["connections_total"] == 1001 and d["refused"] == 0, d
    assert srv.stats["max_rss_kb"] < RSS_LIMIT_KB, srv.stats["max_rss_kb"]
    assert peak < RSS_LIMIT_KB, f"peak RSS {peak} kB"


@case
def tcp_max_conn_refused_and_idle_timeout():
    port = free_port()
    srv = Server(f"syslog+tcp://127.0.0.1:{port}?max_conn=3&idle=1s", idle="4s")
    kept = [connect(port) for _ in range(3)]
    time.sleep(0.3)
    refused = []
    for _ in range(4):
        c = connect(port)
        c.settimeout(3)
        try:
            data = c.recv(10)
        except (ConnectionResetError, socket.timeout) as e:
            data = e
        refused.append(data)
        c.close()
    assert all(r == b"" or isinstance(r, ConnectionResetError) for r in refused), refused
    # the idle timeout closes the three quiet connections
    closed = 0
    for c in kept:
        c.settimeout(4)
        try:
            if c.recv(10) == b"":
                closed += 1
        except ConnectionResetError:
            closed += 1
        c.close()
    assert closed == 3
    # and the slots are free again
    s = connect(port)
    s.sendall(b"".join((sis_line(i) + "\n").encode() for i in range(10)))
    s.sendall(sis_line(10).encode())  # idle-closed with half a line: emitted
    time.sleep(1.8)
    srv.finish()
    assert users(srv.events) == [f"u{i}" for i in range(11)], users(srv.events)
    d = srv.details
    assert d["refused"] == 4 and d["idle_closed"] >= 4 and d["connections_total"] == 4, d
    err = srv.stderr()
    assert err.count("refusing connection") == 1, "refusals logged more than once"
    assert "max_conn=3" in err


@case
def tcp_backpressure_slow_output_loses_nothing():
    """The output is a pipe nobody reads for a while: the engine runs out of batches, stops
    reading the socket, and TCP flow control holds the sender; nothing is lost."""
    port = free_port()
    uri = f"syslog+tcp://127.0.0.1:{port}"
    cmd = [os.path.join(build_dir(), "hallmonitor"), "run", "--input", uri, "--stats",
           "--year", "2024", "--workers", "1", "--batch", "64", "--exit-on-idle", "2s"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = []
    te = threading.Thread(target=lambda: err.extend(p.stderr), daemon=True)
    te.start()
    deadline = time.time() + 10
    while not any(b"listening on" in l for l in list(err)) and time.time() < deadline:
        time.sleep(0.02)
    n = 40000
    sent = threading.Event()

    def sender():
        s = connect(port, timeout=30)
        s.sendall(b"".join((sis_line(i) + "\n").encode() for i in range(n)))
        s.close()
        sent.set()

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    time.sleep(1.0)  # nobody reads stdout: output blocks, batches run out, reading stops
    out = p.stdout.read()
    p.wait(30)
    t.join(10)
    te.join(5)
    evs = [json.loads(l) for l in out.splitlines() if l.strip()]
    assert len(evs) == n and len({e["user"] for e in evs}) == n, len(evs)
    ids_ok(evs, f"{uri}/127.0.0.1")


# ---------------------------------------------------------------------------------- TLS


def make_cert(d, name):
    if not shutil.which("openssl"):
        raise Skip("openssl CLI not installed")
    crt, key = os.path.join(d, f"{name}.crt"), os.path.join(d, f"{name}.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "2", "-subj", f"/CN={name}",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return crt, key


def tls_client(port, certfile=None, keyfile=None, cafile=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cafile:
        ctx.load_verify_locations(cafile)
        ctx.check_hostname = False
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if certfile:
        ctx.load_cert_chain(certfile, keyfile)
    raw = connect(port)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


@case
def tls_octet_counting_and_lf_concurrent():
    d = tmpdir()
    crt, key = make_cert(d, "server")
    port = free_port()
    srv = Server(f"syslog+tls://127.0.0.1:{port}?cert={crt}&key={key}")
    errors = []
    per = 800

    def client(c):
        try:
            s = tls_client(port, cafile=crt)  # verifies the server certificate
            rnd = random.Random(c)
            if c == 0:  # RFC 5425: octet counting
                data = b"".join(octet(sis_line(c * per + i)) for i in range(per))
            else:       # LF framing over TLS, also accepted
                data = b"".join((sis_line(c * per + i) + "\n").encode() for i in range(per))
            send_all_chunked(s, data, rnd, 3000)
            s.close()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    def not_tls():
        s = connect(port)
        s.sendall((sis_line(999999) + "\n").encode() * 3)
        time.sleep(0.2)
        s.close()

    ts = [threading.Thread(target=client, args=(c,)) for c in range(3)] + [threading.Thread(target=not_tls)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    srv.finish()
    assert not errors, errors
    got = users(srv.events)
    assert sorted(got) == sorted(f"u{i}" for i in range(3 * per)), (len(got), srv.deads[:2])
    ids_ok(srv.events, f"syslog+tls://127.0.0.1:{port}/127.0.0.1")
    det = srv.details
    assert det["tls_failures"] == 1 and det["connections_total"] == 4, det
    assert det["senders"] == {"127.0.0.1": 3 * per}


@case
def tls_client_certificate_required_with_ca():
    d = tmpdir()
    crt, key = make_cert(d, "server")
    ccrt, ckey = make_cert(d, "client")
    port = free_port()
    srv = Server(f"syslog+tls://127.0.0.1:{port}?cert={crt}&key={key}&ca={ccrt}")
    # without a client certificate the handshake fails (TLS 1.3 reports it on first read)
    try:
        s = tls_client(port)
        s.sendall((sis_line(1) + "\n").encode())
        s.settimeout(3)
        s.recv(10)
        s.close()
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError, socket.timeout):
        pass
    s = tls_client(port, certfile=ccrt, keyfile=ckey)
    s.sendall(octet(sis_line(2)) + octet(sis_line(3)))
    s.close()
    srv.finish()
    assert users(srv.events) == ["u2", "u3"], (users(srv.events), srv.stderr()[-1500:])
    assert srv.details["tls_failures"] == 1, srv.details


# ------------------------------------------------------------------- the bench's sender


def sendlog(args, port):
    """Runs build/hm-sendlog with "-" as the address (it says "ready", then reads it)."""
    p = subprocess.Popen([os.path.join(build_dir(), "hm-sendlog")] + args, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stderr.readline().strip() == b"ready"
    out, err = p.communicate(f"127.0.0.1:{port}\n".encode(), timeout=60)
    assert p.returncode == 0, err
    return json.loads(out)


@case
def bench_sender_tcp_lf_octet_and_paced_udp():
    if not os.path.exists(os.path.join(build_dir(), "hm-sendlog")):
        raise Skip("hm-sendlog not built")
    n = 20000
    path = os.path.join(tmpdir(), "lines.log")
    with open(path, "wb") as f:
        for i in range(n):
            f.write((sis_line(i) + ("\r\n" if i % 7 == 0 else "\n")).encode())
            if i == 10:
                f.write(b"\n")  # empty lines are not sent
    for proto, args in (("tcp", []), ("tcp", ["--octet"]), ("udp", ["--rate", "40000"]),
                        ("tcp", ["--lines", str(n + 500)])):
        port = free_port()
        srv = Server(f"syslog+{proto}://127.0.0.1:{port}", idle="1s")
        r = sendlog([proto, "-", path] + args, port)
        srv.finish()
        assert srv.rc == 0, srv.stderr()
        want = n + 500 if "--lines" in args else n
        assert r["lines"] == want, r
        got = users(srv.events)
        assert len(got) == want, (proto, args, len(got), srv.details)
        assert not srv.deads, srv.deads[:2]
        if "--lines" not in args:  # --lines cycles through the file
            assert sorted(int(u[1:]) for u in got) == list(range(n))
        d = srv.details
        assert d["records"] == want, d
        # the listener's timing for the bench: active, CPU and pipeline-wait seconds
        assert d["active_s"] > 0 and d["cpu_s"] > 0 and d["wait_s"] >= 0, d
        if proto == "udp":
            assert r["elapsed_s"] >= 0.9 * n / 40000, r  # paced, not blasted
            assert d["kernel_drops"] == 0, d


# ------------------------------------------------------------------------- usage, help, stop


@case
def usage_errors_name_the_problem():
    d = tmpdir()
    bad = [
        ("syslog+tcp://127.0.0.1:1?bogus=1", "unknown option 'bogus'"),
        ("syslog+tcp://127.0.0.1:99999", "bad port"),
        ("syslog+tcp://127.0.0.1:1?idle=soon", "idle=soon"),
        ("syslog+tls://127.0.0.1:1", "needs ?cert=PATH&key=PATH"),
        (f"syslog+tls://127.0.0.1:1?cert={d}/nope.crt&key={d}/nope.key", "cannot load certificate"),
    ]
    for uri, msg in bad:
        p = hm("run", "--input", uri, check=False, timeout=20)
        assert p.returncode == 2, (uri, p.returncode, p.stderr)
        assert msg in p.stderr.decode(), (uri, p.stderr)
    # port already in use
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    p = hm("run", "--input", f"syslog+tcp://127.0.0.1:{port}", check=False, timeout=20)
    s.close()
    assert p.returncode == 2 and b"cannot bind" in p.stderr, p.stderr


@case
def help_lists_syslog_inputs():
    out = hm("run", "--help").stdout.decode()
    for s in ("syslog+udp://", "syslog+tcp://", "syslog+tls://"):
        assert s in out, s


@case
def sigterm_stops_an_idle_listener_promptly():
    port = free_port()
    srv = Server(f"syslog+tcp://127.0.0.1:{port}", idle=None)
    c = connect(port)  # an open connection does not hold shutdown
    t0 = time.time()
    srv.sigterm()
    srv.finish(timeout=10)
    c.close()
    assert srv.rc == 0 and time.time() - t0 < 3, (srv.rc, time.time() - t0)


if __name__ == "__main__":
    run("syslog")
