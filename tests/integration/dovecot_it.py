"""Real-Dovecot integration test harness (Python 3 standard library only).

Generic on purpose: it knows how to start a throw-away Dovecot from a
generated configuration in a temporary directory, talk to it over every
login protocol and the auth socket, and watch its log. Nothing in here is
specific to the ipallow passdb; ipallow_fixtures.py holds that.

    suite = Suite("imap")
    dc = Dovecot(suite="imap", auth_conf=..., extra_conf=...)
    dc.start()                      # returns when every listener accepts
    mark = dc.log.mark()
    with dc.imap() as c:
        c.forward_ip("198.51.100.7")
        tagged = c.login("alice", "secret")
    suite.eq("deny reply", tagged, "b NO [ALERT] ...")
    suite.ok("deny log", dc.log.wait("ipallow: deny user=alice", mark))
    dc.stop()                       # SIGTERM to the pid we started
    suite.finish()                  # prints "N passed, N failed"

Everything listens on 127.0.0.1 only, on free high ports picked at start.
Failed logins take about half a second even with auth_failure_delay = 0:
Dovecot flushes delayed failures from a 500 ms timer.
"""

import base64
import contextlib
import hashlib
import hmac
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

import dovecot24

DOVECOT = os.environ.get("DOVECOT", "/usr/sbin/dovecot")
DOVEADM = os.environ.get("DOVEADM", "/usr/bin/doveadm")
DOVECONF = os.environ.get("DOVECONF", "/usr/bin/doveconf")
LOOPBACK = "127.0.0.1"
TIMEOUT = float(os.environ.get("IT_TIMEOUT", "10"))
KEEP = os.environ.get("IT_KEEP", "") not in ("", "0")
VERBOSE = os.environ.get("IT_VERBOSE", "") not in ("", "0")
# IT_AUTH_EXECUTABLE=/path/wrapper runs the auth process (and "wrapper -w"
# the auth workers) through a wrapper, e.g. under ASan or valgrind
# (tests/integration/memcheck.sh); vsz_limit is lifted for them.
AUTH_EXECUTABLE = os.environ.get("IT_AUTH_EXECUTABLE", "")
REPO_CONFD = os.path.realpath(os.path.join(os.path.dirname(__file__),
                                           "..", "..", "conf.d"))


def dovecot_api():
    """"2.3" or "2.4": the Dovecot the suite runs against. Scenarios are
    written in 2.3's configuration syntax; on 2.4, dovecot24.py translates
    each generated configuration."""
    out = subprocess.run([DOVECOT, "--version"], capture_output=True,
                         text=True).stdout
    m = re.match(r"(\d+\.\d+)\.", out)
    return m.group(1) if m else "unknown"


DOVECOT_API = dovecot_api() if os.path.exists(DOVECOT) else "none"

# The start of an auth process log line about one request: 2.3 writes
# "auth: Warning: ipallow(alice,...): ...", 2.4 "auth(alice,198.51.100.7,
# sasl:plain)<session>: Warning: ipallow: ...". Process-wide lines
# ("auth: Fatal: ...") are the same on both.
AUTH_REQUEST_PREFIX = r"auth(?:\([^)]*\)(?:<[^>]*>)?)?"


def auth_level_re(level):
    """Regex for the auth process's "<prefix>: <level>: " on both
    versions."""
    return AUTH_REQUEST_PREFIX + ": " + level + ": "


def db_line_re(db, user, ip):
    """Regex for the start of passdb db's log line about user from ip:
    2.3 "db(user,ip,...)", 2.4 "auth(user,ip,...)<session>: Level: db: "."""
    return r"(?:%s|auth)\(%s,%s[,)]" % (re.escape(db), re.escape(user),
                                         re.escape(ip))


# --------------------------------------------------------------------------
# Results

class Suite:
    """Counts checks; each prints one line. finish() prints the closing
    "N passed, N failed" line and exits 1 if anything failed."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.started = time.monotonic()

    def ok(self, what, cond, detail=""):
        if cond:
            self.passed += 1
            print("ok   %s: %s" % (self.name, what), flush=True)
        else:
            self.failed += 1
            print("FAIL %s: %s%s" % (self.name, what,
                                     "\n     " + detail if detail else ""),
                  flush=True)
        return bool(cond)

    def eq(self, what, got, want):
        return self.ok(what, got == want,
                       "got:  %r\n     want: %r" % (got, want))

    def match(self, what, got, regex):
        return self.ok(what, got is not None and re.search(regex, got),
                       "got:  %r\n     want: /%s/" % (got, regex))

    def run(self, what, fn, *args, **kwargs):
        """Runs fn; an exception counts as one failure, not a crash."""
        try:
            return fn(*args, **kwargs)
        except Exception as e:                  # noqa: BLE001
            self.ok(what, False, "%s: %s\n%s" % (
                type(e).__name__, e, traceback.format_exc()))
            return None

    def finish(self):
        print("# %s: %.1f s" % (self.name, time.monotonic() - self.started))
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        sys.exit(1 if self.failed else 0)


# --------------------------------------------------------------------------
# Ports, waiting

# Ports are picked at random below the kernel's ephemeral range (where
# outgoing connections and other runs' kernel-picked ports live), checked
# by binding, and never handed out twice by one process. free_ports()
# holds every socket until all its ports are chosen, so one instance's
# listeners are always distinct. Another process can still take a port
# between our check and Dovecot's bind; Dovecot.start() retries then.
PORT_RANGE = (20000, 32000)
_handed_out = set()
_rng = random.Random(os.getpid() ^ int(time.time() * 1000))


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1, chosen together."""
    held, ports = [], []
    try:
        for _ in range(2000):
            if len(ports) == n:
                break
            port = _rng.randrange(*PORT_RANGE)
            if port in _handed_out or port in ports:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((LOOPBACK, port))
            except OSError:
                s.close()
                continue
            held.append(s)
            ports.append(port)
        if len(ports) != n:
            raise RuntimeError("no %d free ports in %s" % (n, PORT_RANGE))
    finally:
        for s in held:
            s.close()
    _handed_out.update(ports)
    return ports


def free_port():
    """A free TCP port on 127.0.0.1, never one handed out before."""
    return free_ports(1)[0]


# What Dovecot says when a port was taken after we picked it (a listener
# clash at config time, or bind() failing in the master).
PORT_CLASH = re.compile(r"duplicate listener|Address already in use|"
                        r"port clash")
START_ATTEMPTS = 4


def wait_until(cond, timeout=TIMEOUT, interval=0.02):
    """Polls cond() until it returns something true; returns that or None."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def stop_process(proc, timeout=None):
    """SIGTERM to a child we started, SIGKILL if it has not exited after
    timeout seconds (default TIMEOUT); waits for it either way. None or
    an exited child: nothing to do."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(TIMEOUT if timeout is None else timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def port_accepts(port, host=LOOPBACK):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _listen_inodes(port):
    """Inodes of the TCP sockets listening on port (IPv4 and IPv6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if (len(fields) > 9 and fields[3] == "0A" and
                    int(fields[1].rsplit(":", 1)[1], 16) == port):
                inodes.add(fields[9])
    return inodes


def port_owned_by(pid, port):
    """True when process pid holds a socket listening on port (Linux
    /proc): tells our listener from another process's on the same port."""
    inodes = _listen_inodes(port)
    fd_dir = "/proc/%d/fd" % pid
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return False
    for fd in fds:
        try:
            link = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            return True
    return False


def unix_accepts(path):
    if not os.path.exists(path):
        return False
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(0.5)
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


# --------------------------------------------------------------------------
# The log

class Log:
    """Dovecot's log file. mark() remembers where we are; wait() polls for
    a line matching a regular expression written after a mark."""

    def __init__(self, path):
        self.path = path

    def _complete(self, since=0):
        """The bytes after since up to the last newline: the log process
        writes a line in more than one write() when it is long or the
        machine is loaded, and a reader must never match half a line."""
        try:
            with open(self.path, "rb") as f:
                f.seek(since)
                data = f.read()
        except FileNotFoundError:
            return b""
        return data[:data.rfind(b"\n") + 1]

    def read(self, since=0):
        return self._complete(since).decode("utf-8", "replace")

    def mark(self):
        """The end of the last complete line: a line still being written
        belongs to what comes after the mark."""
        return len(self._complete())

    def find(self, regex, since=0):
        for line in self.read(since).splitlines():
            if re.search(regex, line):
                return line
        return None

    def find_all(self, regex, since=0):
        return [line for line in self.read(since).splitlines()
                if re.search(regex, line)]

    def wait(self, regex, since=0, timeout=TIMEOUT):
        """The first matching line after since, or None after timeout
        (IT_TIMEOUT: the log process writes asynchronously, and a loaded
        machine delays it; a line that is there returns at once)."""
        return wait_until(lambda: self.find(regex, since), timeout)

    def wait_literal(self, text, since=0, timeout=TIMEOUT):
        return self.wait(re.escape(text), since, timeout)

    def absent(self, regex, since=0, settle=0.7):
        """True if no line matches after waiting settle seconds (the log
        process writes asynchronously)."""
        time.sleep(settle)
        return self.find(regex, since) is None

    def tail(self, n=30):
        return "\n".join(self.read().splitlines()[-n:])


# --------------------------------------------------------------------------
# Dovecot

BASE_CONF = """\
# Generated by tests/integration/dovecot_it.py for one test run.
base_dir = {dir}/run
state_dir = {dir}/state
instance_name = {instance}
log_path = {dir}/dovecot.log
protocols = {protocols}
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
haproxy_trusted_networks = 127.0.0.0/8
mail_uid = {mail_uid}
mail_gid = {mail_gid}
first_valid_uid = 1
mail_home = {dir}/home/%u
mail_location = maildir:~/Maildir
submission_relay_host = 127.0.0.1
submission_relay_port = {relay_port}
submission_relay_trusted = yes
# no mail leaves this host: the relay port is closed
{sieve_plugin}

service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port_imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
  inet_listener imap_haproxy {{
    address = 127.0.0.1
    port = {port_imap_haproxy}
    haproxy = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {port_pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submission {{
    address = 127.0.0.1
    port = {port_submission}
  }}
}}
{sieve_service}
service auth {{
  unix_listener auth-client {{
    mode = 0600
  }}
  unix_listener auth-userdb {{
    mode = 0600
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
}}

{auth_conf}

{extra_conf}
"""

SIEVE_PLUGIN = """\
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
}"""

SIEVE_SERVICE = """\
service managesieve-login {{
  inet_listener sieve {{
    address = 127.0.0.1
    port = {port_sieve}
  }}
  inet_listener sieve_haproxy {{
    address = 127.0.0.1
    port = {port_sieve_haproxy}
    haproxy = yes
  }}
}}"""

AUTH_WRAPPER_CONF = """
# IT_AUTH_EXECUTABLE
service auth {{
  executable = {exe}
  vsz_limit = 0
}}
service auth-worker {{
  executable = {exe} -w
  vsz_limit = 0
}}
"""

DEFAULT_MECHANISMS = "plain login cram-md5 scram-sha-1 scram-sha-256"


def have_managesieve():
    return os.path.exists("/usr/lib/dovecot/managesieve-login")


class Dovecot:
    """One Dovecot instance in its own temporary directory.

    auth_conf:  the passdb/userdb blocks (and any auth_* settings)
    extra_conf: anything else, appended last (later settings win)
    files:      {relative name: text} written into the directory before
                start; "{dir}" in texts and configs is the directory
    """

    _count = 0

    def __init__(self, suite, auth_conf, extra_conf="", files=None,
                 protocols=None, mechanisms=DEFAULT_MECHANISMS,
                 mail_user="nobody"):
        if not isinstance(suite, str):
            # the name goes into the temp dir and the instance name
            raise TypeError("Dovecot(suite=...) takes the scenario's name, "
                            "not %r" % (suite,))
        Dovecot._count += 1
        self.dir = tempfile.mkdtemp(prefix="dovecot-it-%s-" % suite)
        # login processes run as dovenull and mail processes as
        # mail_user: both must reach into the directory
        os.chmod(self.dir, 0o755)
        self.instance = "it-%s-%d-%d" % (suite, os.getpid(), Dovecot._count)
        self.conf_path = os.path.join(self.dir, "dovecot.conf")
        self.log = Log(os.path.join(self.dir, "dovecot.log"))
        self.proc = None
        self.sieve = have_managesieve()
        if protocols is None:
            protocols = "imap pop3 submission" + (" sieve" if self.sieve
                                                  else "")
        import pwd
        pw = pwd.getpwnam(mail_user)
        self.mail_uid, self.mail_gid = pw.pw_uid, pw.pw_gid
        for sub in ("run", "state", "home", "mail"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        os.chown(os.path.join(self.dir, "home"), self.mail_uid,
                 self.mail_gid)
        os.chown(os.path.join(self.dir, "mail"), self.mail_uid,
                 self.mail_gid)
        for name, text in (files or {}).items():
            self.write_file(name, text)
        self._conf_args = (protocols, mechanisms, auth_conf, extra_conf)
        self.write_conf()

    def write_conf(self):
        """Picks this instance's ports (all together) and writes
        dovecot.conf; start() calls it again when a port was taken."""
        protocols, mechanisms, auth_conf, extra_conf = self._conf_args
        names = ("imap", "imap_haproxy", "pop3", "submission", "sieve",
                 "sieve_haproxy", "relay")
        self.ports = dict(zip(names, free_ports(len(names))))
        fmt = dict(dir=self.dir, instance=self.instance,
                   protocols=protocols, mechanisms=mechanisms,
                   mail_uid=self.mail_uid, mail_gid=self.mail_gid,
                   relay_port=self.ports["relay"],
                   port_imap=self.ports["imap"],
                   port_imap_haproxy=self.ports["imap_haproxy"],
                   port_pop3=self.ports["pop3"],
                   port_submission=self.ports["submission"],
                   sieve_plugin=SIEVE_PLUGIN if self.sieve else "",
                   sieve_service=SIEVE_SERVICE.format(
                       port_sieve=self.ports["sieve"],
                       port_sieve_haproxy=self.ports["sieve_haproxy"])
                   if self.sieve else "",
                   auth_conf=self.subst(auth_conf),
                   extra_conf=self.subst(extra_conf))
        text = BASE_CONF.format(**fmt)
        if AUTH_EXECUTABLE:
            text += AUTH_WRAPPER_CONF.format(exe=AUTH_EXECUTABLE)
        if DOVECOT_API == "2.4":
            text = dovecot24.translate(text, REPO_CONFD)
        with open(self.conf_path, "w") as f:
            f.write(text)

    def subst(self, text):
        return text.replace("{dir}", self.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write_file(self, name, text, mode=0o644):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(self.subst(text))
        os.chmod(p, mode)
        return p

    # -- life cycle --------------------------------------------------------

    def start(self, wait=True):
        """Starts the master in the foreground (-F) as our child, so its
        pid is known; returns when all listeners accept connections.
        When another process took one of our ports in the meantime
        (Dovecot exits with "Address already in use" or "duplicate
        listener"), picks new ports and starts again. A start that fails
        otherwise stops the master it spawned before raising: "with dc:"
        never calls __exit__ when __enter__ raised, and a master that
        did not get ready can still be running. With wait=False the
        caller sees the first attempt whatever happens."""
        for attempt in range(START_ATTEMPTS):
            self._spawn()
            if not wait:
                return self
            try:
                self.wait_ready()
                return self
            except RuntimeError as e:
                if (not PORT_CLASH.search(str(e)) or
                        attempt == START_ATTEMPTS - 1):
                    self.stop()
                    raise
            if VERBOSE:
                print("# port clash, starting again with new ports")
            stop_process(self.proc)
            self.proc = None
            self.stderr.close()
            # the next attempt's log starts clean
            open(self.log.path, "w").close()
            self.write_conf()
        return self

    def _spawn(self):
        self.stderr = open(self.path("master.stderr"), "w")
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", self.conf_path],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.stderr, stderr=self.stderr)
        if VERBOSE:
            print("# started dovecot pid %d in %s" % (self.proc.pid,
                                                        self.dir))

    def wait_ready(self):
        ports = [self.ports[p] for p in ("imap", "pop3", "submission")]
        if self.sieve:
            ports.append(self.ports["sieve"])

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError(
                    "dovecot exited with %s:\n%s\n%s" % (
                        self.proc.returncode, self.read("master.stderr"),
                        self.log.tail()))
            return (all(port_accepts(p) for p in ports) and
                    os.path.exists(self.auth_socket_path))
        if not wait_until(ready, TIMEOUT):
            raise RuntimeError("dovecot did not start listening:\n%s" %
                               self.log.tail())
        # Someone else listening on one of our ports also "accepts", and
        # a master that failed to bind another port may not have exited
        # yet: every listening socket must be our master's.
        for p in ports:
            if not port_owned_by(self.proc.pid, p):
                raise RuntimeError(
                    "port clash: port %d is not our Dovecot's (taken by "
                    "another process?)\n%s" % (p, self.log.tail()))

    def stop(self):
        """SIGTERM to the master we started, then wait for it. The master
        stops its own children."""
        if self.proc is None:
            return
        stop_process(self.proc)
        self.proc = None
        self.stderr.close()
        if not KEEP:
            shutil.rmtree(self.dir, ignore_errors=True)
        elif VERBOSE:
            print("# kept %s" % self.dir)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def read(self, name):
        try:
            with open(self.path(name)) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    @property
    def auth_socket_path(self):
        return self.path("run/auth-client")

    # -- clients -----------------------------------------------------------

    def imap(self, proxy_from=None):
        """IMAP client; proxy_from sends a HAProxy v1 header on the
        haproxy listener claiming that source address."""
        if proxy_from is not None:
            return ImapClient(self.ports["imap_haproxy"], proxy_from)
        return ImapClient(self.ports["imap"])

    def pop3(self):
        return Pop3Client(self.ports["pop3"])

    def submission(self):
        return SmtpClient(self.ports["submission"])

    def managesieve(self, proxy_from=None):
        if proxy_from is not None:
            return SieveClient(self.ports["sieve_haproxy"], proxy_from)
        return SieveClient(self.ports["sieve"])

    def auth_client(self):
        return AuthClient(self.auth_socket_path)

    def doveadm(self, *args, timeout=TIMEOUT):
        """Runs doveadm against this instance: (exit code, stdout, stderr)."""
        p = subprocess.run([DOVEADM, "-c", self.conf_path] + list(args),
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def doveconf(self, *args, timeout=TIMEOUT):
        """Runs doveconf on this instance's configuration: (exit code,
        stdout, stderr)."""
        p = subprocess.run([DOVECONF, "-c", self.conf_path] + list(args),
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr


# --------------------------------------------------------------------------
# Line-based clients

class LineClient:
    def __init__(self, port, proxy_from=None, host=LOOPBACK):
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.buf = b""
        self.transcript = []
        if proxy_from is not None:
            self.send_proxy_header(proxy_from, host, port)

    def send_proxy_header(self, src, dst, dport):
        fam = "TCP6" if ":" in src else "TCP4"
        if fam == "TCP6" and ":" not in dst:
            dst = "::ffff:" + dst
        self.sock.sendall(("PROXY %s %s %s 40000 %d\r\n" %
                           (fam, src, dst, dport)).encode())

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, line):
        self.transcript.append("C: " + line)
        self.sock.sendall(line.encode() + b"\r\n")

    def readline(self):
        while b"\r\n" not in self.buf and b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                if self.buf:
                    line, self.buf = self.buf, b""
                    return line.decode("utf-8", "replace")
                raise ConnectionError("connection closed; transcript:\n" +
                                      "\n".join(self.transcript))
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        line = line.rstrip(b"\r").decode("utf-8", "replace")
        self.transcript.append("S: " + line)
        return line


class ImapClient(LineClient):
    def __init__(self, port, proxy_from=None):
        super().__init__(port, proxy_from)
        self.greeting = self.readline()
        self._tag = 0

    def next_tag(self):
        self._tag += 1
        return "a%d" % self._tag

    def command(self, text, tag=None):
        """Sends one command; returns (untagged lines, tagged reply)."""
        tag = tag or self.next_tag()
        self.send("%s %s" % (tag, text))
        return self.read_until_tagged(tag)

    def read_until_tagged(self, tag):
        untagged = []
        while True:
            line = self.readline()
            if line.startswith(tag + " "):
                return untagged, line
            untagged.append(line)

    def forward_ip(self, ip, port=40000):
        """IMAP ID forwarding as a webmail front end does (accepted only
        from login_trusted_networks)."""
        return self.command('ID ("x-originating-ip" "%s" '
                            '"x-originating-port" "%d" '
                            '"x-connected-ip" "127.0.0.1" '
                            '"x-connected-port" "143")' % (ip, port))[1]

    @staticmethod
    def id_accepted(reply):
        """The tagged reply to forward_ip(): 2.3 says "OK ID completed.",
        2.4 "OK Trusted ID completed." when the forwarding was accepted
        from a trusted network."""
        return re.search(r" OK (Trusted )?ID completed\.$", reply) is not None

    def login(self, user, password, tag="b"):
        return self.command('LOGIN "%s" "%s"' % (user, password), tag)[1]

    def authenticate_plain(self, user, password, tag="c", authz=""):
        resp = b64("%s\0%s\0%s" % (authz, user, password))
        return self.command("AUTHENTICATE PLAIN %s" % resp, tag)[1]

    def authenticate_sasl(self, mech, client, tag="d"):
        """Runs a SASL exchange. client is a generator (see sasl_*): its
        first value is the initial response or None, then it receives each
        server challenge (bytes) and yields the answer (bytes)."""
        first = next(client)
        self.send("%s AUTHENTICATE %s" % (tag, mech))
        while True:
            line = self.readline()
            if line.startswith(tag + " "):
                return line
            if not line.startswith("+"):
                continue
            challenge = base64.b64decode(line[1:].strip() or "")
            if first is not None:
                answer, first = first, None
            else:
                try:
                    answer = client.send(challenge) or b""
                except StopIteration:
                    answer = b""
            self.send(base64.b64encode(answer).decode())

    def logout(self):
        try:
            self.command("LOGOUT")
        except (ConnectionError, OSError):
            pass


class Pop3Client(LineClient):
    def __init__(self, port, proxy_from=None):
        super().__init__(port, proxy_from)
        self.greeting = self.readline()

    def command(self, text):
        self.send(text)
        return self.readline()

    def xclient(self, ip, port=40000):
        return self.command("XCLIENT ADDR=%s PORT=%d" % (ip, port))

    def user_pass(self, user, password):
        r = self.command("USER %s" % user)
        if not r.startswith("+OK"):
            return r
        return self.command("PASS %s" % password)

    def auth_plain(self, user, password):
        return self.command("AUTH PLAIN %s" % b64("\0%s\0%s" %
                                                   (user, password)))


class SmtpClient(LineClient):
    def __init__(self, port, proxy_from=None):
        super().__init__(port, proxy_from)
        self.greeting = self.read_reply()

    def read_reply(self):
        """One (possibly multi-line) reply as a list of lines."""
        lines = []
        while True:
            line = self.readline()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return lines

    def command(self, text):
        self.send(text)
        return self.read_reply()

    def ehlo(self, name="client.example"):
        return self.command("EHLO %s" % name)

    def xclient(self, ip, port=40000):
        """XCLIENT resets the session; the server greets again (220) and
        wants a new EHLO, which this sends."""
        r = self.command("XCLIENT ADDR=%s PORT=%d" % (ip, port))
        if r and r[-1].startswith("220"):
            self.ehlo()
        return r

    def auth_plain(self, user, password):
        return self.command("AUTH PLAIN %s" % b64("\0%s\0%s" %
                                                   (user, password)))[-1]


class SieveClient(LineClient):
    def __init__(self, port, proxy_from=None):
        super().__init__(port, proxy_from)
        self.capabilities = self.read_response()

    def read_response(self):
        """Lines up to and including the OK/NO/BYE line."""
        lines = []
        while True:
            line = self.readline()
            lines.append(line)
            if re.match(r'^(OK|NO|BYE)\b', line):
                return lines

    def authenticate_plain(self, user, password):
        self.send('AUTHENTICATE "PLAIN" "%s"' % b64("\0%s\0%s" %
                                                    (user, password)))
        return self.read_response()[-1]

    def logout(self):
        try:
            self.send("LOGOUT")
            self.read_response()
        except (ConnectionError, OSError):
            pass


class AuthClient:
    """Dovecot's auth-client protocol on the auth-client socket, as Postfix
    and DAV servers use it."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(path)
        self.buf = b""
        self.sock.sendall(b"VERSION\t1\t2\nCPID\t%d\n" % os.getpid())
        self.handshake = []
        while True:
            line = self.readline()
            self.handshake.append(line)
            if line == "DONE":
                break
        self._id = 0

    def readline(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("auth socket closed")
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode("utf-8", "replace")

    def mechanisms(self):
        return [l.split("\t")[1] for l in self.handshake
                if l.startswith("MECH\t")]

    def auth_plain(self, user, password, service, **params):
        """AUTH PLAIN with an initial response; params are added as
        key=value (rip=..., lip=..., secured, ...). Returns the reply line
        with the request id replaced by 1, e.g. "FAIL\t1\tuser=alice"."""
        self._id += 1
        fields = ["AUTH", str(self._id), "PLAIN", "service=%s" % service]
        for k, v in params.items():
            fields.append(k if v is True else "%s=%s" % (k, v))
        fields.append("resp=%s" % b64("\0%s\0%s" % (user, password)))
        self.sock.sendall(("\t".join(fields) + "\n").encode())
        return self._reply()

    def auth_sasl(self, mech, service, client, **params):
        """Like auth_plain for any mechanism, with a sasl_* generator."""
        self._id += 1
        first = next(client)
        fields = ["AUTH", str(self._id), mech, "service=%s" % service]
        for k, v in params.items():
            fields.append(k if v is True else "%s=%s" % (k, v))
        if first is not None:
            fields.append("resp=%s" % base64.b64encode(first).decode())
        self.sock.sendall(("\t".join(fields) + "\n").encode())
        while True:
            line = self.readline()
            parts = line.split("\t")
            if parts[0] != "CONT":
                return self._normalise(line)
            challenge = base64.b64decode(parts[2] if len(parts) > 2 else "")
            try:
                answer = client.send(challenge) or b""
            except StopIteration:
                answer = b""
            self.sock.sendall(("CONT\t%d\t%s\n" % (
                self._id, base64.b64encode(answer).decode())).encode())

    def _reply(self):
        return self._normalise(self.readline())

    def _normalise(self, line):
        parts = line.split("\t")
        if len(parts) > 1 and parts[1] == str(self._id):
            parts[1] = "1"
        return "\t".join(parts)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------------------
# SASL clients (generators: receive challenge bytes, yield responses)

def b64(text):
    return base64.b64encode(text.encode()).decode()


def sasl_cram_md5(user, password):
    """CRAM-MD5 (RFC 2195): no initial response, answers the challenge."""
    challenge = yield None
    digest = hmac.new(password.encode(), challenge, hashlib.md5).hexdigest()
    yield ("%s %s" % (user, digest)).encode()


def sasl_plain(user, password, authz=""):
    yield ("%s\0%s\0%s" % (authz, user, password)).encode()


def sasl_scram(user, password, hash_name="sha256"):
    """SCRAM-SHA-1 / SCRAM-SHA-256 client (RFC 5802), no channel binding."""
    nonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = "n=%s,r=%s" % (user.replace("=", "=3D")
                                .replace(",", "=2C"), nonce)
    server_first = (yield ("n,," + first_bare).encode()).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    salt = base64.b64decode(attrs["s"])
    iterations = int(attrs["i"])
    salted = hashlib.pbkdf2_hmac(hash_name, password.encode(), salt,
                                 iterations)
    client_key = hmac.new(salted, b"Client Key", hash_name).digest()
    stored_key = hashlib.new(hash_name, client_key).digest()
    final_no_proof = "c=biws,r=%s" % attrs["r"]
    auth_message = ",".join([first_bare, server_first, final_no_proof])
    signature = hmac.new(stored_key, auth_message.encode(),
                         hash_name).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    yield ("%s,p=%s" % (final_no_proof,
                        base64.b64encode(proof).decode())).encode()
    yield b""                       # acknowledge the server's final message


@contextlib.contextmanager
def running(dovecot):
    """with running(Dovecot(...)) as dc: ... stops it whatever happens."""
    dovecot.start()
    try:
        yield dovecot
    finally:
        dovecot.stop()
