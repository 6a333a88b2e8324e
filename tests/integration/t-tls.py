#!/usr/bin/env python3
"""TLS everywhere (issue 15, item 3): IMAPS and STARTTLS with a test CA
made here, and ssl = required. The denial's reason must reach the client
intact through TLS, a wrong password keeps the plain failure, and a
cleartext LOGIN under ssl = required is refused by Dovecot before any
passdb (so before ipallow) runs.

The CA and the server certificate (mail.test, 127.0.0.1) are made with
openssl(1) in the instance's directory; the client verifies the chain
and the name."""

import os
import socket
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import (                                      # noqa: E402
    DOVECOT_API, LOOPBACK, TIMEOUT, ImapClient, LineClient, Suite,
    free_port)
from ipallow_fixtures import (                                # noqa: E402
    ALERT, AUTH_FAILED, DEBUG_EVENT_CONF, IMAP_OK, PASSWORD, WRONG, Outside,
    check_log, check_reply, decision_line, ipallow_dovecot)

PEER = "127.0.0.1"
NAME = "mail.test"
# Dovecot counts a client whose address is the server's own as secured
# (like one from login_trusted_networks): the direct clients below
# connect from another loopback address
CLIENT = "127.0.0.2"

TLS_CONF = """\
ssl = required
# 2.4 refuses cleartext auth settings that ssl = required makes moot
disable_plaintext_auth = yes
ssl_cert = <{dir}/server.pem
ssl_key = <{dir}/server.key
service imap-login {{
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}
}}
"""


def make_certs(directory):
    """A CA and a server certificate signed by it (RSA 2048, 2 days)."""
    def run(*args):
        subprocess.run(["openssl"] + list(args), cwd=directory, check=True,
                       stdin=subprocess.DEVNULL, capture_output=True)
    # the extensions a strict verifier wants (Python 3.13 sets
    # VERIFY_X509_STRICT): CA key usage, key identifiers, server usage
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=ipallow test CA", "-keyout", "ca.key", "-out",
        "ca.pem", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-addext", "subjectKeyIdentifier=hash")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + NAME,
        "-keyout", "server.key", "-out", "server.csr")
    with open(os.path.join(directory, "san.ext"), "w") as f:
        f.write("subjectAltName = DNS:%s, IP:127.0.0.1\n"
                "basicConstraints = critical, CA:FALSE\n"
                "keyUsage = critical, digitalSignature, keyEncipherment\n"
                "extendedKeyUsage = serverAuth\n"
                "subjectKeyIdentifier = hash\n"
                "authorityKeyIdentifier = keyid, issuer\n" % NAME)
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey",
        "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.ext",
        "-out", "server.pem")
    os.chmod(os.path.join(directory, "server.key"), 0o600)


class TlsImap(ImapClient):
    """IMAP over implicit TLS (IMAPS), or plain until starttls()."""

    def __init__(self, port, context, implicit, source=None):
        if source is None:
            LineClient.__init__(self, port)
        else:
            self.sock = socket.create_connection(
                (LOOPBACK, port), timeout=TIMEOUT,
                source_address=(source, 0))
            self.buf = b""
            self.transcript = []
        self.context = context
        if implicit:
            self.sock = context.wrap_socket(self.sock,
                                            server_hostname=NAME)
        self.greeting = self.readline()
        self._tag = 0

    def starttls(self):
        reply = self.command("STARTTLS")[1]
        if " OK " in reply:
            self.sock = self.context.wrap_socket(self.sock,
                                                 server_hostname=NAME)
        return reply

    def cipher(self):
        return self.sock.cipher() if hasattr(self.sock, "cipher") else None


def login(port, context, implicit, user, password, ip):
    """ID forwarding ip, then LOGIN; (tagged reply, TLS in use)."""
    with TlsImap(port, context, implicit) as c:
        if not implicit:
            r = c.starttls()
            if " OK " not in r:
                return "STARTTLS failed: " + r, False
        r = c.forward_ip(ip)
        if not c.id_accepted(r):
            return "ID failed: " + r, False
        reply = c.login(user, password)
        tls = c.cipher() is not None
        if " OK " in reply:
            c.logout()
        return reply, tls


def tls_dovecot(suite_name, port, extra="", policy=None):
    kwargs = {} if policy is None else {"policy": policy}
    dc = ipallow_dovecot(suite_name, extra_conf=TLS_CONF.replace(
        "{port}", str(port)).replace("{{", "{").replace("}}", "}") +
        DEBUG_EVENT_CONF + extra, **kwargs)
    make_certs(dc.dir)
    return dc, ssl.create_default_context(cafile=dc.path("ca.pem"))


def forwarded(suite, out):
    """A webmail front end on a trusted network, over TLS."""
    port = free_port()
    dc, context = tls_dovecot("tls", port)
    with dc:
        for mode, implicit, p in (("IMAPS", True, port),
                                  ("STARTTLS", False, dc.ports["imap"])):
            cases = [
                ("alice inside", "alice", PASSWORD, "203.0.113.7",
                 "re:" + IMAP_OK % "b",
                 decision_line("allow", "alice", "imap", "203.0.113.7",
                               PEER, "in allow_nets")),
                ("alice outside", "alice", PASSWORD, None, ALERT, "deny"),
                ("alice wrong password", "alice", WRONG, None, AUTH_FAILED,
                 None),
            ]
            for what, user, password, ip, want, log in cases:
                ip = ip or out.v4()
                if log == "deny":
                    log = decision_line("deny", user, "imap", ip, PEER,
                                        "not in allow_nets")
                name = "%s %s" % (mode, what)
                mark = dc.log.mark()
                res = suite.run(name, login, p, context, implicit, user,
                                password, ip)
                reply, tls = res if res else ("", False)
                suite.ok(name + ": TLS in use, certificate verified", tls)
                check_reply(suite, name, reply, want)
                if log:
                    check_log(suite, dc, name, mark, log)


def direct(suite):
    """Clients that connect themselves (from 127.0.0.2: not trusted, not
    the server's own address, so not secured; loopback not exempt): ssl = required refuses
    a cleartext login before any passdb runs; over TLS, ipallow decides
    on the client's own address."""
    port = free_port()
    dc, context = tls_dovecot(
        "tls-direct", port, "login_trusted_networks = 127.0.0.3/32\n",
        policy="exempt:\n  networks: []\n")
    with dc:
        mark = dc.log.mark()
        with TlsImap(dc.ports["imap"], None, False, CLIENT) as c:
            suite.match("plain port, untrusted client: LOGINDISABLED",
                        c.greeting, r"LOGINDISABLED")
            reply = c.login("alice", PASSWORD)
        suite.match("cleartext LOGIN under ssl = required: refused", reply,
                    r"^b NO \[PRIVACYREQUIRED\] ")
        suite.ok("cleartext LOGIN: ipallow never asked",
                 dc.log.absent(r"ipallow: .*user=alice ", mark))
        for mode, implicit, p in (("IMAPS", True, port),
                                  ("STARTTLS", False, dc.ports["imap"])):
            name = "%s direct alice from %s" % (mode, CLIENT)
            mark = dc.log.mark()
            with TlsImap(p, context, implicit, CLIENT) as c:
                if not implicit:
                    c.starttls()
                reply = c.login("alice", PASSWORD)
            check_reply(suite, name, reply, ALERT)
            check_log(suite, dc, name, mark, decision_line(
                "deny", "alice", "imap", CLIENT, None,
                "not in allow_nets"))


def main():
    suite = Suite("tls")
    print("# Dovecot %s" % DOVECOT_API)
    out = Outside()
    suite.run("forwarded", forwarded, suite, out)
    suite.run("direct", direct, suite)
    suite.finish()


if __name__ == "__main__":
    main()
