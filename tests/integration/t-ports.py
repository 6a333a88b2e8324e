#!/usr/bin/env python3
"""The harness itself (issue 10 item 8): one Dovecot's listeners never get
the same port, and a port taken by someone else between our choice and
Dovecot's bind() (another test run on the machine) only makes start()
pick new ports and try again, instead of failing the scenario with
"duplicate listener" or "Address already in use"."""

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import LOOPBACK, Suite, free_port, port_accepts  # noqa: E402
from ipallow_fixtures import PASSWORD, ipallow_dovecot          # noqa: E402


def distinct_ports(suite):
    seen, dup_in_instance, dup_across = set(), 0, 0
    for _ in range(300):
        dc_ports = [free_port() for _ in range(7)]
        if len(set(dc_ports)) != len(dc_ports):
            dup_in_instance += 1
        dup_across += len(seen & set(dc_ports))
        seen.update(dc_ports)
    suite.eq("300 x 7 ports: no port twice within one instance",
             dup_in_instance, 0)
    suite.eq("300 x 7 ports: no port handed out twice by this process",
             dup_across, 0)


def taken_port(suite):
    dc = ipallow_dovecot("ports", "passwd-file")
    squatter = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    taken = dc.ports["imap"]
    squatter.bind((LOOPBACK, taken))
    squatter.listen(1)
    try:
        try:
            dc.start()
            started = True
        except RuntimeError as e:
            started = False
            print("# start failed: %s" % str(e).splitlines()[0])
        suite.ok("imap port taken before start: Dovecot still starts",
                 started)
        if started:
            suite.ok("imap moved to another port", dc.ports["imap"] != taken,
                     "still %d" % taken)
            suite.ok("new imap port accepts", port_accepts(dc.ports["imap"]))
            with dc.imap() as c:
                c.forward_ip("203.0.113.7")
                suite.match("login on the new port works",
                            c.login("alice", PASSWORD), r"^b OK ")
    finally:
        squatter.close()
        dc.stop()


def main():
    suite = Suite("ports")
    suite.run("distinct ports", distinct_ports, suite)
    suite.run("taken port", taken_port, suite)
    suite.finish()


if __name__ == "__main__":
    main()
