"""Many authentications in flight on Dovecot's auth-client socket, and the
process probes the load and failure scenarios need (Python 3 standard
library only).

    with AuthPipeline(dc.auth_socket_path, window=4000) as pipe:
        stats = pipe.run(requests, window=4000)

requests yields AuthRequest tuples; every reply is compared with the
request's expectation. Dovecot answers failures from a 500 ms timer even
with auth_failure_delay = 0, so throughput depends on keeping thousands
of requests in flight, not on waiting for each reply.

Used by t-soak-short.py, t-reload.py and tests/soak/soak.py.
"""

import base64
import collections
import errno
import os
import selectors
import socket
import time

# One authentication. want is "OK", "DENY" (FAIL with
# code=user_disabled), "FAIL" (a plain failure: wrong password),
# "FAIL-ANY" (any FAIL: the decision must not be OK) or "FAIL-ANY-OR-OK"
# (anything but a malformed reply: while the auth side fails under load,
# a request that wants OK may be refused).
AuthRequest = collections.namedtuple(
    "AuthRequest", "user password service rip want")


def plain_resp(user, password):
    return base64.b64encode(("\0%s\0%s" % (user, password)).encode()) \
        .decode()


def classify(line):
    """Reply line -> (id, verdict) with verdict OK, DENY (user_disabled),
    TEMPFAIL (temp_fail), FAIL (anything else), or CONT."""
    parts = line.split("\t")
    if len(parts) < 2:
        return None, "BAD"
    try:
        rid = int(parts[1])
    except ValueError:
        return None, "BAD"
    if parts[0] == "OK":
        return rid, "OK"
    if parts[0] == "CONT":
        return rid, "CONT"
    if parts[0] != "FAIL":
        return rid, "BAD"
    if "code=temp_fail" in parts[2:]:
        return rid, "TEMPFAIL"
    if "code=user_disabled" in parts[2:]:
        return rid, "DENY"
    return rid, "FAIL"


def verdict_matches(want, verdict):
    if want == "FAIL-ANY":
        return verdict in ("DENY", "FAIL", "TEMPFAIL")
    if want == "FAIL-ANY-OR-OK":
        return verdict in ("OK", "DENY", "FAIL", "TEMPFAIL")
    return want == verdict


class PipelineStats:
    def __init__(self):
        self.sent = 0
        self.replies = 0
        self.verdicts = collections.Counter()
        # (want, verdict) -> count, for replies that did not match
        self.mismatches = collections.Counter()
        # the first few mismatching requests with their reply line
        self.examples = []
        # replies that said OK where the request wanted a refusal: the
        # one kind of mismatch that must never happen
        self.wrong_allows = 0
        self.unanswered = 0
        self.seconds = 0.0
        self.closed = False

    @property
    def wrong(self):
        return sum(self.mismatches.values())

    def summary(self):
        rate = self.replies / self.seconds if self.seconds else 0
        return ("%d sent, %d answered (%s), %d mismatches %s, %d wrong "
                "allows, %d unanswered, %.1f s, %.0f/s" % (
                    self.sent, self.replies,
                    ", ".join("%s %d" % kv for kv in
                              sorted(self.verdicts.items())),
                    self.wrong, dict(self.mismatches), self.wrong_allows,
                    self.unanswered, self.seconds, rate))


# Dovecot 2.3's auth process stops reading a client connection while more
# than 50 KiB of its replies wait unsent (OUTBUF_THROTTLE_SIZE in
# auth-client-connection.c) and, seen here under load, does not always
# start reading again: the connection stalls with requests unanswered.
# So each connection keeps at most PER_CONN_WINDOW requests in flight,
# whose replies (about 120 bytes for a refusal with the default reason)
# stay under that, and a large window is spread over several
# connections, as Dovecot's login processes do.
PER_CONN_WINDOW = 350


class _Conn:
    def __init__(self, path, timeout):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.sock.sendall(b"VERSION\t1\t2\nCPID\t%d\n" % os.getpid())
        self.inbuf = b""
        while True:
            line = self._readline_blocking()
            if line == "DONE":
                break
        self.sock.setblocking(False)
        self.out = bytearray()
        self.pending = {}
        self.closed = False

    def _readline_blocking(self):
        while b"\n" not in self.inbuf:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("auth socket closed in handshake")
            self.inbuf += data
        line, _, self.inbuf = self.inbuf.partition(b"\n")
        return line.decode("utf-8", "replace")


class AuthPipeline:
    """Connections to the auth-client socket that keep up to window
    requests in flight between them (AUTH ... PLAIN with an initial
    response), at most PER_CONN_WINDOW on each."""

    def __init__(self, path, timeout=30.0, no_penalty=True, conns=None,
                 window=None):
        if conns is None:
            conns = max(1, -(-(window or PER_CONN_WINDOW) //
                             PER_CONN_WINDOW))
        self.conns = [_Conn(path, timeout) for _ in range(conns)]
        self.timeout = timeout
        self.no_penalty = no_penalty
        self.next_id = 0
        self._resp = {}

    def close(self):
        for c in self.conns:
            c.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _line(self, rid, req):
        key = (req.user, req.password)
        resp = self._resp.get(key)
        if resp is None:
            resp = self._resp[key] = plain_resp(req.user, req.password)
        fields = ["AUTH", str(rid), "PLAIN", "service=" + req.service]
        if req.rip is not None:
            fields.append("rip=" + req.rip)
        if self.no_penalty:
            fields.append("no-penalty")
        fields.append("resp=" + resp)
        return "\t".join(fields) + "\n"

    def run(self, requests, window=2000, stats=None, progress=None,
            progress_every=10.0, max_examples=20):
        """Sends every request, keeping up to window unanswered (spread
        over the connections, PER_CONN_WINDOW at most on each), and
        compares each reply with its request's want. A connection closed
        by the server stops getting requests; what was in flight on it
        counts as unanswered. No reply for timeout seconds ends the run.
        progress(stats) is called every progress_every seconds. Returns
        stats."""
        stats = stats or PipelineStats()
        per_conn = max(1, min(PER_CONN_WINDOW,
                              -(-window // len(self.conns))))
        it = iter(requests)
        exhausted = False
        sel = selectors.DefaultSelector()
        for c in self.conns:
            if not c.closed:
                sel.register(c.sock, selectors.EVENT_READ, c)
        started = time.monotonic()
        base_seconds = stats.seconds        # a stats object may be reused
        last_reply = started
        next_progress = started + progress_every
        try:
            while True:
                live = [c for c in self.conns if not c.closed]
                for c in live:
                    while not exhausted and len(c.pending) < per_conn:
                        try:
                            req = next(it)
                        except StopIteration:
                            exhausted = True
                            break
                        self.next_id += 1
                        c.pending[self.next_id] = req
                        c.out += self._line(self.next_id, req).encode()
                        stats.sent += 1
                if not any(c.pending for c in live) and \
                        (exhausted or not live):
                    break
                for c in live:
                    if not c.out:
                        continue
                    try:
                        n = c.sock.send(c.out)
                        del c.out[:n]
                    except BlockingIOError:
                        pass
                    except OSError as e:
                        if e.errno not in (errno.EPIPE, errno.ECONNRESET):
                            raise
                        self._lost(c, sel, stats)
                busy = any(c.out for c in live if not c.closed)
                events = sel.select(0.02 if busy else 0.5)
                now = time.monotonic()
                for key, _ in events:
                    c = key.data
                    try:
                        data = c.sock.recv(1 << 20)
                    except BlockingIOError:
                        continue
                    except ConnectionResetError:
                        data = b""
                    if not data:
                        self._lost(c, sel, stats)
                        continue
                    last_reply = now
                    c.inbuf += data
                    *lines, c.inbuf = c.inbuf.split(b"\n")
                    for raw in lines:
                        self._reply(raw.decode("utf-8", "replace"),
                                    c.pending, stats, max_examples)
                if now - last_reply > self.timeout:
                    break
                if progress is not None and now >= next_progress:
                    stats.seconds = base_seconds + now - started
                    progress(stats)
                    next_progress = now + progress_every
        finally:
            sel.close()
        for c in self.conns:
            stats.unanswered += len(c.pending)
            c.pending.clear()
        stats.seconds = base_seconds + time.monotonic() - started
        return stats

    def _lost(self, c, sel, stats):
        c.closed = True
        stats.closed = True
        try:
            sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass

    def _reply(self, line, pending, stats, max_examples):
        rid, verdict = classify(line)
        req = pending.pop(rid, None)
        if req is None:
            verdict = "UNEXPECTED"
            stats.verdicts[verdict] += 1
            if len(stats.examples) < max_examples:
                stats.examples.append((None, line))
            return
        if verdict == "CONT":
            # PLAIN with an initial response never continues
            verdict = "BAD"
        stats.replies += 1
        stats.verdicts[verdict] += 1
        if not verdict_matches(req.want, verdict):
            stats.mismatches[(req.want, verdict)] += 1
            if verdict == "OK":
                stats.wrong_allows += 1
            if len(stats.examples) < max_examples:
                stats.examples.append((req, line))


# --------------------------------------------------------------------------
# Processes of one Dovecot instance (children of the master we started)

def children(ppid):
    """[(pid, cmdline)] of the direct children of ppid."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
            # the command may hold spaces and parentheses: split after ')'
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[1]) != ppid:
                continue
            with open("/proc/%s/cmdline" % name, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(
                    "utf-8", "replace").strip()
        except (OSError, ValueError):
            continue
        found.append((int(name), cmd))
    return found


def auth_pids(dc, worker=False):
    """Pids of the instance's auth process(es) (worker=False) or auth
    workers (worker=True), told apart by their process titles
    ("<instance>/auth", "<instance>/auth-worker ..."; "auth -w" under a
    wrapper)."""
    pids = []
    for pid, cmd in children(dc.proc.pid):
        words = cmd.split()
        if not words:
            continue
        base = words[0].rsplit("/", 1)[-1]
        if base.startswith("auth-worker") or \
                (base == "auth" and "-w" in words[1:]):
            kind_worker = True
        elif base == "auth":
            kind_worker = False
        else:
            continue
        if kind_worker == worker:
            pids.append(pid)
    return sorted(pids)


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        return stat[stat.rindex(")") + 2] != "Z"
    except OSError:
        return False


# --------------------------------------------------------------------------
# A batch of authentications whose replies are wanted one by one

def auth_many(path, requests, timeout=30.0):
    """Sends every (user, password, service, params) on one auth-client
    connection at once (params: {"rip": ...} etc., True for a flag) and
    returns the reply lines in request order, each with its id replaced
    by 1 as AuthClient does. Denials are answered together from Dovecot's
    500 ms failure timer, so a batch costs about as much as one."""
    conn = _Conn(path, timeout)
    conn.sock.setblocking(True)
    conn.sock.settimeout(timeout)
    lines = []
    for i, (user, password, service, params) in enumerate(requests, 1):
        fields = ["AUTH", str(i), "PLAIN", "service=" + service]
        for k, v in params.items():
            fields.append(k if v is True else "%s=%s" % (k, v))
        fields.append("resp=" + plain_resp(user, password))
        lines.append("\t".join(fields) + "\n")
    replies = {}
    try:
        conn.sock.sendall("".join(lines).encode())
        while len(replies) < len(lines):
            data = conn.sock.recv(65536)
            if not data:
                break
            conn.inbuf += data
            *got, conn.inbuf = conn.inbuf.split(b"\n")
            for raw in got:
                parts = raw.decode("utf-8", "replace").split("\t")
                if len(parts) > 1 and parts[1].isdigit():
                    rid = int(parts[1])
                    parts[1] = "1"
                    replies[rid] = "\t".join(parts)
    except socket.timeout:
        pass
    finally:
        conn.sock.close()
    return [replies.get(i, "(no reply)") for i in range(1, len(lines) + 1)]


# --------------------------------------------------------------------------
# doveadm reload

def reload_dovecot(dc, timeout=15.0, wait_old=True):
    """doveadm reload for the instance, then waits until the auth
    processes that ran before it have exited and a new one (Dovecot
    starts it on the next connection) has answered a handshake, so that
    the next login is served with the new configuration. Returns (doveadm
    exit code, old auth pids, whether all that happened in time).

    An old auth process goes on serving the connections it has until
    they close; wait_old=False does not wait for that."""
    # an auth process still starting when the reload comes is replaced
    # under the feet of whoever connects to it: first let one serve a
    # handshake
    _Conn(dc.auth_socket_path, timeout).sock.close()
    old = auth_pids(dc)
    mark = dc.log.mark()
    rc, _, _ = dc.doveadm("reload")
    dc.log.wait(r"master: Warning: SIGHUP received - reloading", mark,
                timeout=timeout)
    deadline = time.monotonic() + timeout
    while wait_old and time.monotonic() < deadline and \
            any(pid_alive(p) for p in old):
        time.sleep(0.02)
    # The master replaces its listeners after the log line: until then a
    # connection may find no socket or be reset. Ready when a handshake
    # succeeds with an auth process that is not an old one.
    ready = False
    while not ready and time.monotonic() < deadline:
        try:
            _Conn(dc.auth_socket_path, 2.0).sock.close()
            ready = any(p not in old for p in auth_pids(dc))
        except OSError:
            pass
        if not ready:
            time.sleep(0.05)
    return rc, old, ready and not (wait_old and
                                   any(pid_alive(p) for p in old))
