#!/usr/bin/env python3
"""Front ends that forward the client's address, seen from outside.

1. HAProxy PROXY protocol v1 and v2 (TCP4, TCP6, LOCAL) sent by a small
   client of our own to Dovecot's `haproxy = yes` listener: from a trusted
   address the forwarded address is the one checked (reply, log line with
   peer=); from an address outside haproxy_trusted_networks Dovecot drops
   the connection before the greeting and no login happens.
2. Debian's haproxy on loopback (send-proxy and send-proxy-v2) in front of
   the same listener.
3. A Dovecot proxy (passdb field proxy=y) in front of a Dovecot backend
   with the ipallow passdb: the proxy forwards the client's address (IMAP
   ID, POP3 XCLIENT), the backend trusts the proxy in
   login_trusted_networks and enforces the list on that address; the
   client sees the backend's refusal through the proxy. A proxy route the
   backend does not trust shows what happens when that is forgotten.

Loopback is private address space, exempt by default, so these instances
use a policy with exempt.networks: [] and users whose lists name loopback
addresses: only 127.0.0.1 is trusted (haproxy_trusted_networks,
login_trusted_networks), every other 127.0.0.x plays an outside client."""

import collections
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import (                                      # noqa: E402
    DOVECOT_API, LOOPBACK, TIMEOUT, Dovecot, ImapClient, Pop3Client, Suite,
    free_port, port_accepts, stop_process, wait_until)
from ipallow_fixtures import (                                # noqa: E402
    ALERT, AUTH_FAILED, DEBUG_EVENT_CONF, IMAP_OK, PASSWORD, REASON,
    STATS_CONF, USERS, WRONG, check_log, check_reply, decision_line,
    ipallow_dovecot, stats_counts)

HAPROXY = shutil.which("haproxy")

# Nothing exempt by network: loopback clients are checked like any other.
POLICY = """\
exempt:
  networks: []
sets:
  office: [192.0.2.0/24, "2001:db8:100::/48"]
"""

# "loop" may log in from 127.0.0.64/27 only (127.0.0.64 - 127.0.0.95).
PROXY_USERS = dict(USERS, loop=("127.0.0.64/27", None))

TRUSTED = "127.0.0.1"
TRUST_ONLY_LOCALHOST = """\
login_trusted_networks = 127.0.0.1/32
haproxy_trusted_networks = 127.0.0.1/32
"""

IMAP_OK_B = "re:" + IMAP_OK % "b"
POP3_ALERT = "-ERR [AUTH] " + REASON


# --------------------------------------------------------------------------
# PROXY protocol headers (haproxy's doc/proxy-protocol.txt)

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def proxy_v1(src, dst, sport, dport):
    fam = "TCP6" if ":" in src else "TCP4"
    if fam == "TCP6" and ":" not in dst:
        dst = "::ffff:" + dst
    return ("PROXY %s %s %s %d %d\r\n" % (fam, src, dst, sport,
                                          dport)).encode()


def proxy_v2(src, dst, sport, dport):
    """Binary header, command PROXY over TCP (0x21; family 0x11 TCP4 or
    0x21 TCP6); src None: command LOCAL (0x20), the receiver uses the
    connection's own addresses."""
    if src is None:
        return V2_SIGNATURE + struct.pack("!BBH", 0x20, 0x00, 0)
    if ":" in src:
        if ":" not in dst:
            dst = "::ffff:" + dst
        fam, af = 0x21, socket.AF_INET6
    else:
        fam, af = 0x11, socket.AF_INET
    addrs = (socket.inet_pton(af, src) + socket.inet_pton(af, dst) +
             struct.pack("!HH", sport, dport))
    return V2_SIGNATURE + struct.pack("!BBH", 0x21, fam, len(addrs)) + addrs


def connect_from(port, source=None, header=None):
    """A TCP connection to 127.0.0.1:port from source (another loopback
    address plays another host), sending header first. Retries briefly:
    a busy machine may be slow to accept."""
    last = None
    for _ in range(20):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT)
        try:
            if source is not None:
                s.bind((source, 0))
            s.connect((LOOPBACK, port))
            if header is not None:
                s.sendall(header)
            return s
        except OSError as e:
            s.close()
            last = e
            time.sleep(0.1)
    raise last


class Imap(ImapClient):
    """The harness's IMAP client on a socket of ours (bound source
    address, header sent first), hence no super().__init__()."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.transcript = []
        self.greeting = self.readline()
        self._tag = 0


class Pop3(Pop3Client):
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.transcript = []
        self.greeting = self.readline()


def imap_login(port, user, password, source=None, header=None,
               forward=None):
    """One IMAP LOGIN; forward: an address sent with ID x-originating-ip
    first. Returns the tagged reply."""
    with Imap(connect_from(port, source, header)) as c:
        if forward is not None:
            r = c.forward_ip(forward)
            if not c.id_accepted(r):
                return "ID failed: " + r
        reply = c.login(user, password)
        if " OK " in reply:
            c.logout()
        return reply


def pop3_login(port, user, password, source=None):
    with Pop3(connect_from(port, source)) as c:
        reply = c.user_pass(user, password)
        if reply.startswith("+OK"):
            c.command("QUIT")
        return reply


def dropped_before_greeting(port, source, header):
    """(True if Dovecot closed the connection without a greeting, what
    it sent)."""
    s = connect_from(port, source, header)
    try:
        data = b""
        while True:
            try:
                chunk = s.recv(4096)
            except ConnectionResetError:
                return data == b"", data
            if not chunk:
                return data == b"", data
            data += chunk
    except socket.timeout:
        return False, data
    finally:
        s.close()


# ipallow_check_finished events each instance should have counted,
# {Dovecot: Counter({"ipallow_<result>_<rule>_<service>": n})}
EVENTS = collections.defaultdict(collections.Counter)
RULES = {"in allow_nets": "in_list", "not in allow_nets": "not_in_list"}
DECISION = re.compile(r"ipallow: (\w+) user=\S+ service=(\S+) .*\((.*)\)$")


def login_case(suite, dc, name, fn, args, want, log, kwargs=None):
    """Runs one login, checks the reply and the exact log line, and
    expects the event that goes with the line."""
    mark = dc.log.mark()
    reply = suite.run(name, fn, *args, **(kwargs or {}))
    if reply is None:
        return None
    print("#   client read: %s" % reply)
    check_reply(suite, name, reply, want)
    if log is not None:
        check_log(suite, dc, name, mark, log)
        verb, service, rule = DECISION.search(log).groups()
        EVENTS[dc]["ipallow_%s_%s_%s" % (verb, RULES[rule], service)] += 1
    return reply


def check_events(suite, dc, label):
    """The third observable: every decision above was one event."""
    counts = stats_counts(dc)
    want = EVENTS[dc]
    full = set(k for k in counts if k.endswith(("_imap", "_pop3")))
    for key in sorted(set(want) | full):
        suite.eq("%s: event %s" % (label, key), counts.get(key), want.get(key))
    suite.eq("%s: events in total" % label, counts.get("ipallow"),
             sum(want.values()))


def line(verb, user, ip, peer, rule, service="imap"):
    return decision_line(verb, user, service, ip, peer, rule)


# --------------------------------------------------------------------------
# 1. Our own PROXY-header client

def proxy_protocol(suite, dc):
    port = dc.ports["imap_haproxy"]
    cases = [
        # what, header builder, forwarded src, user, reply, verb, rule
        ("v1 TCP4 inside", proxy_v1, "203.0.113.7", "alice", IMAP_OK_B,
         "allow", "in allow_nets"),
        ("v1 TCP4 outside", proxy_v1, "198.51.100.31", "alice", ALERT,
         "deny", "not in allow_nets"),
        ("v1 TCP6 inside", proxy_v1, "2001:db8:42::31", "alice",
         IMAP_OK_B, "allow", "in allow_nets"),
        ("v1 TCP6 outside", proxy_v1, "2001:db8:8031::1", "alice", ALERT,
         "deny", "not in allow_nets"),
        ("v2 TCP4 inside", proxy_v2, "203.0.113.32", "alice", IMAP_OK_B,
         "allow", "in allow_nets"),
        ("v2 TCP4 outside", proxy_v2, "198.51.100.32", "alice", ALERT,
         "deny", "not in allow_nets"),
        ("v2 TCP6 inside", proxy_v2, "2001:db8:42::32", "alice",
         IMAP_OK_B, "allow", "in allow_nets"),
        ("v2 TCP6 outside", proxy_v2, "2001:db8:8032::1", "alice", ALERT,
         "deny", "not in allow_nets"),
        ("v2 TCP4 loopback client", proxy_v2, "127.0.0.65", "loop",
         IMAP_OK_B, "allow", "in allow_nets"),
        ("v2 TCP4 outside, another user", proxy_v2, "198.51.100.33",
         "loop", ALERT, "deny", "not in allow_nets"),
    ]
    for what, build, src, user, want, verb, rule in cases:
        name = "PROXY %s %s" % (what, user)
        header = build(src, LOOPBACK, 40000, port)
        login_case(suite, dc, name, imap_login, (port, user, PASSWORD),
                   want, line(verb, user, src, TRUSTED, rule),
                   dict(source=TRUSTED, header=header))

    # LOCAL: the proxy's own health check; the connection's addresses
    # count, so the check sees 127.0.0.1 itself and no peer=.
    name = "PROXY v2 LOCAL alice"
    login_case(suite, dc, name, imap_login, (port, "alice", PASSWORD),
               ALERT, line("deny", "alice", TRUSTED, None,
                           "not in allow_nets"),
               dict(source=TRUSTED, header=proxy_v2(None, None, 0, 0)))

    # A wrong password behind the proxy is the usual failure.
    name = "PROXY v2 wrong password alice"
    login_case(suite, dc, name, imap_login, (port, "alice", WRONG),
               AUTH_FAILED, None,
               dict(source=TRUSTED,
                    header=proxy_v2("203.0.113.34", LOOPBACK, 40000, port)))

    # The client behind the proxy is not the front end: its own ID
    # x-originating-ip is not trusted, whatever it claims.
    name = "PROXY v1 then ID claiming an inside address"
    login_case(suite, dc, name, imap_login, (port, "alice", PASSWORD),
               ALERT, line("deny", "alice", "198.51.100.35", TRUSTED,
                           "not in allow_nets"),
               dict(source=TRUSTED, forward="203.0.113.35",
                    header=proxy_v1("198.51.100.35", LOOPBACK, 40000,
                                    port)))

    # Dovecot decides trust for ID on the address it ends up with: a
    # PROXY header naming a login_trusted_networks address (127.0.0.1
    # here) lets that client forward yet another address.
    name = "PROXY v1 from a trusted address, then ID"
    login_case(suite, dc, name, imap_login, (port, "alice", PASSWORD),
               ALERT, line("deny", "alice", "198.51.100.38", TRUSTED,
                           "not in allow_nets"),
               dict(source=TRUSTED, forward="198.51.100.38",
                    header=proxy_v1(TRUSTED, LOOPBACK, 40000, port)))

    # From outside haproxy_trusted_networks the header is refused: no
    # greeting, no login, nothing for ipallow to decide.
    for version, build in (("v1", proxy_v1), ("v2", proxy_v2)):
        name = "PROXY %s from untrusted 127.0.0.2" % version
        mark = dc.log.mark()
        res = suite.run(name, dropped_before_greeting, port, "127.0.0.2",
                        build("203.0.113.36", LOOPBACK, 40000, port))
        if res is None:
            continue
        dropped, data = res
        suite.ok(name + ": dropped before the greeting", dropped,
                 repr(data))
        found = dc.log.wait(r"imap-login: Warning: haproxy: Client not "
                            r"trusted \(rip=127\.0\.0\.2\)$", mark)
        suite.ok(name + ": log", found is not None, dc.log.read(mark))
        suite.ok(name + ": no ipallow decision",
                 dc.log.absent(r"ipallow: .*ip=203\.0\.113\.36", mark),
                 dc.log.read(mark))

    # The plain listener takes no header: a PROXY line there is an IMAP
    # command from 127.0.0.1 like any other.
    name = "PROXY header on a listener without haproxy = yes"
    res = suite.run(name, lambda: _plain_listener_reply(dc))
    if res is not None:
        suite.match(name + ": not accepted", res, r"^PROXY BAD ")


def _plain_listener_reply(dc):
    s = connect_from(dc.ports["imap"], TRUSTED)
    with Imap(s) as c:
        c.send(proxy_v1("203.0.113.37", LOOPBACK, 40000,
                        dc.ports["imap"]).decode().rstrip("\r\n"))
        return c.readline()


# --------------------------------------------------------------------------
# 2. Debian's haproxy

HAPROXY_CONF = """\
global
  nbthread 1
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend imap_v1
  bind 127.0.0.1:{v1}
  default_backend dovecot_v1
frontend imap_v2
  bind 127.0.0.1:{v2}
  default_backend dovecot_v2
backend dovecot_v1
  server dovecot 127.0.0.1:{dovecot} source 127.0.0.1 send-proxy
backend dovecot_v2
  server dovecot 127.0.0.1:{dovecot} source 127.0.0.1 send-proxy-v2
"""


class Haproxy:
    def __init__(self, dovecot_port):
        self.dir = tempfile.mkdtemp(prefix="haproxy-it-")
        self.ports = {"v1": free_port(), "v2": free_port()}
        self.conf = os.path.join(self.dir, "haproxy.cfg")
        with open(self.conf, "w") as f:
            f.write(HAPROXY_CONF.format(dovecot=dovecot_port, **self.ports))
        self.proc = None

    def start(self):
        self.out = open(os.path.join(self.dir, "haproxy.out"), "w")
        # -db: stay in the foreground, our child, so its pid is known
        self.proc = subprocess.Popen([HAPROXY, "-db", "-f", self.conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=self.out)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("haproxy exited: %s" % self.output())
            return all(port_accepts(p) for p in self.ports.values())
        if not wait_until(ready, TIMEOUT):
            raise RuntimeError("haproxy did not listen: %s" % self.output())
        return self

    def output(self):
        with open(os.path.join(self.dir, "haproxy.out")) as f:
            return f.read()

    def stop(self):
        stop_process(self.proc)
        self.proc = None
        self.out.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def real_haproxy(suite, dc):
    if not suite.ok("haproxy installed", HAPROXY is not None,
                    "apt-get install haproxy"):
        return
    hp = Haproxy(dc.ports["imap_haproxy"])
    if suite.run("haproxy starts", hp.start) is None:
        hp.stop()
        return
    try:
        cases = [
            # version, client source, user, reply, verb, rule
            ("v1", "127.0.0.66", "loop", IMAP_OK_B, "allow",
             "in allow_nets"),
            ("v1", "127.0.0.101", "loop", ALERT, "deny",
             "not in allow_nets"),
            ("v2", "127.0.0.67", "loop", IMAP_OK_B, "allow",
             "in allow_nets"),
            ("v2", "127.0.0.102", "alice", ALERT, "deny",
             "not in allow_nets"),
        ]
        for version, src, user, want, verb, rule in cases:
            name = "haproxy send-proxy%s from %s %s" % (
                "" if version == "v1" else "-v2", src, user)
            login_case(suite, dc, name, imap_login,
                       (hp.ports[version], user, PASSWORD), want,
                       line(verb, user, src, TRUSTED, rule),
                       dict(source=src))
    finally:
        hp.stop()


# --------------------------------------------------------------------------
# 3. Dovecot proxy -> Dovecot backend

# The proxy knows no passwords (nopassword=y): it hands the login to the
# backend, which verifies it and runs the ipallow passdb. carol's route
# leaves from 127.0.0.2, an address the backend does not trust.
FRONT_AUTH = """\
passdb {
  driver = passwd-file
  args = {dir}/proxy.passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home={dir}/home/%u
}
"""


def proxy_passwd(backend):
    if DOVECOT_API == "2.4":
        # 2.4's %-expansion: a filter instead of 2.3's %{if;...}
        # (no spaces: passwd-file splits extra fields at them)
        port = "%%{protocol|if('eq','pop3','%d','%d')}"
    else:
        port = "%%{if;%%s;eq;pop3;%d;%d}"
    route = ("proxy=y nopassword=y host=127.0.0.1 port=" +
             port % (backend.ports["pop3"], backend.ports["imap"]))
    lines = []
    for user in PROXY_USERS:
        extra = route + (" source_ip=127.0.0.2" if user == "carol" else "")
        lines.append("%s:::::::%s" % (user, extra))
    return "\n".join(lines) + "\n"


def dovecot_proxy(suite):
    backend = ipallow_dovecot("proxy-backend", policy=POLICY,
                              users=PROXY_USERS,
                              extra_conf=TRUST_ONLY_LOCALHOST +
                              DEBUG_EVENT_CONF + STATS_CONF)
    try:
        backend.start()
    except Exception:
        backend.stop()
        raise
    front = Dovecot("proxy-front", FRONT_AUTH,
                    extra_conf=TRUST_ONLY_LOCALHOST)
    front.write_file("proxy.passwd", proxy_passwd(backend))
    try:
        front.start()
        run_dovecot_proxy(suite, front, backend)
    finally:
        front.stop()
        backend.stop()


def run_dovecot_proxy(suite, front, backend):
    imap, pop3 = front.ports["imap"], front.ports["pop3"]
    # IMAP reply lines through the proxy, as the client reads them
    cases = [
        # what, fn, args, kwargs, reply, backend log line
        ("webmail forwards an outside address", imap_login,
         (imap, "alice", PASSWORD), dict(source=TRUSTED,
                                         forward="198.51.100.41"),
         ALERT, line("deny", "alice", "198.51.100.41", TRUSTED,
                     "not in allow_nets")),
        ("webmail forwards an inside address", imap_login,
         (imap, "alice", PASSWORD), dict(source=TRUSTED,
                                         forward="203.0.113.41"),
         IMAP_OK_B, line("allow", "alice", "203.0.113.41", TRUSTED,
                         "in allow_nets")),
        ("direct client outside", imap_login, (imap, "alice", PASSWORD),
         dict(source="127.0.0.103"), ALERT,
         line("deny", "alice", "127.0.0.103", TRUSTED,
              "not in allow_nets")),
        ("direct client inside", imap_login, (imap, "loop", PASSWORD),
         dict(source="127.0.0.68"), IMAP_OK_B,
         line("allow", "loop", "127.0.0.68", TRUSTED, "in allow_nets")),
        ("untrusted client's own ID is ignored", imap_login,
         (imap, "alice", PASSWORD),
         dict(source="127.0.0.104", forward="203.0.113.42"), ALERT,
         line("deny", "alice", "127.0.0.104", TRUSTED,
              "not in allow_nets")),
        ("wrong password", imap_login, (imap, "alice", WRONG),
         dict(source="127.0.0.69"), AUTH_FAILED, None),
        ("POP3 direct client outside (XCLIENT)", pop3_login,
         (pop3, "alice", PASSWORD), dict(source="127.0.0.105"), POP3_ALERT,
         line("deny", "alice", "127.0.0.105", TRUSTED,
              "not in allow_nets", "pop3")),
        ("POP3 direct client inside (XCLIENT)", pop3_login,
         (pop3, "loop", PASSWORD), dict(source="127.0.0.70"), "re:^\\+OK",
         line("allow", "loop", "127.0.0.70", TRUSTED, "in allow_nets",
              "pop3")),
        # The backend does not trust 127.0.0.2: the forwarded address is
        # ignored and the proxy's own address is checked.
        ("route from an untrusted proxy address", imap_login,
         (imap, "carol", PASSWORD), dict(source=TRUSTED,
                                         forward="192.0.2.41"),
         ALERT, line("deny", "carol", "127.0.0.2", None,
                     "not in allow_nets")),
    ]
    for what, fn, args, kwargs, want, log in cases:
        name = "Dovecot proxy: %s" % what
        login_case(suite, backend, name, fn, args, want, log, kwargs)
    check_events(suite, backend, "Dovecot proxy backend")


def main():
    suite = Suite("proxy")
    dc = ipallow_dovecot("proxy", policy=POLICY, users=PROXY_USERS,
                         extra_conf=TRUST_ONLY_LOCALHOST + DEBUG_EVENT_CONF +
                         STATS_CONF)
    try:
        suite.run("start", dc.start)
        if dc.proc is not None and dc.proc.poll() is None:
            suite.run("PROXY protocol", proxy_protocol, suite, dc)
            suite.run("haproxy", real_haproxy, suite, dc)
            suite.run("events", check_events, suite, dc, "PROXY")
    finally:
        dc.stop()
    suite.run("Dovecot proxy", dovecot_proxy, suite)
    suite.finish()


if __name__ == "__main__":
    main()
