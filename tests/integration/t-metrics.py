#!/usr/bin/env python3
"""The shipped metric (conf.d/ipallow-metrics.conf.ext) through Dovecot's
OpenMetrics exporter: a known mix of logins over IMAP, POP3, submission
and the auth socket, then GET /metrics from the stats process's http
listener on 127.0.0.1 and the exact count of every (result, service)
pair. A second instance in mode: report counts report results.

Logging stays at Dovecot's defaults (auth_verbose = no, auth_debug = no,
no log_debug filter): allow, exempt and unrestricted decisions are not
logged at all, yet their events must reach the stats process, which asks
for every event a metric filter matches."""

import collections
import os
import re
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_it import TIMEOUT, Suite, free_port, wait_until  # noqa: E402
from ipallow_fixtures import (                                # noqa: E402
    PASSWORD, WRONG, imap_login, ipallow_dovecot, pop3_login,
    submission_login)

SNIPPET = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "..", "conf.d", "ipallow-metrics.conf.ext")
METRIC = "dovecot_ipallow_checks"

HTTP_LISTENER = """\
service stats {
  inet_listener http {
    address = 127.0.0.1
    port = %d
  }
}
"""

# The list cache's hit rate (issue 13): a second metric on the event's
# list_cache field.
CACHE_METRIC = "dovecot_ipallow_list_cache"
CACHE_CONF = """\
metric ipallow_list_cache {
  filter = event=ipallow_check_finished
  group_by = list_cache
}
"""
CACHE_ROW = re.compile(r'^%s_total\{list_cache="([^"]*)"\} (\d+)$' %
                       CACHE_METRIC)

ROW = re.compile(r'^%s_total\{result="([^"]*)",service="([^"]*)"\} (\d+)$' %
                 METRIC)
# Dovecot 2.3 also exports one row per first group_by level alone
RESULT_ROW = re.compile(r'^%s_total\{result="([^"]*)"\} (\d+)$' % METRIC)


def metrics_conf(port):
    with open(SNIPPET) as f:
        return f.read() + "\n" + CACHE_CONF + HTTP_LISTENER % port


def cache_counts_of(text):
    """{"hit"|"miss"|"none": n} from the list-cache metric."""
    counts = {}
    for line in text.splitlines():
        m = CACHE_ROW.match(line)
        if m:
            counts[m.group(1)] = int(m.group(2))
    return counts


def scrape(port):
    """GET /metrics; retries briefly while the listener comes up."""
    url = "http://127.0.0.1:%d/metrics" % port

    def get():
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as r:
                return r.status, r.headers.get("Content-Type", ""), \
                    r.read().decode()
        except OSError:
            return None
    got = wait_until(get, TIMEOUT, 0.2)
    if got is None:
        raise RuntimeError("no answer from %s" % url)
    return got


def counts_of(text):
    """{(result, service): n} from the rows with both labels, and the
    _count total."""
    counts = {}
    total = None
    for line in text.splitlines():
        m = ROW.match(line)
        if m:
            counts[m.group(1), m.group(2)] = int(m.group(3))
        m = RESULT_ROW.match(line)
        if m:
            counts[m.group(1), None] = int(m.group(2))
        elif line.startswith(METRIC + "_count "):
            total = int(line.split()[1])
    return counts, total


def wait_counts(port, want_total):
    """Scrapes until the total reaches want_total (events travel from the
    auth process to stats asynchronously), then once more after a short
    pause so a late extra event is seen too."""
    seen = {}

    def reached():
        seen["scrape"] = scrape(port)
        total = counts_of(seen["scrape"][2])[1]
        return total is not None and total >= want_total
    wait_until(reached, TIMEOUT, 0.2)
    time.sleep(0.5)
    return scrape(port)


def auth_socket_login(dc, user, password, service, **params):
    with dc.auth_client() as a:
        return a.auth_plain(user, password, service, **params)


# what, login function, args, expected reply prefix, (result, service)
# counted or None (a wrong password never reaches the check)
ENFORCE_MIX = [
    ("imap inside", imap_login, ("alice", PASSWORD, "203.0.113.7"),
     "b OK ", ("allow", "imap")),
    ("imap named set inside", imap_login, ("carol", PASSWORD, "192.0.2.5"),
     "b OK ", ("allow", "imap")),
    ("imap outside", imap_login, ("alice", PASSWORD, "198.51.100.61"),
     "b NO [ALERT] ", ("deny", "imap")),
    ("imap outside IPv6", imap_login,
     ("alice", PASSWORD, "2001:db8:8061::1"), "b NO [ALERT] ",
     ("deny", "imap")),
    ("imap invalid list", imap_login, ("bob", PASSWORD, "198.51.100.62"),
     "b NO [ALERT] ", ("deny", "imap")),
    ("imap exempt network", imap_login, ("alice", PASSWORD, "10.1.2.3"),
     "b OK ", ("exempt", "imap")),
    ("imap no list", imap_login, ("erin", PASSWORD, "198.51.100.63"),
     "b OK ", ("unrestricted", "imap")),
    ("imap empty list", imap_login, ("dave", PASSWORD, "198.51.100.64"),
     "b OK ", ("unrestricted", "imap")),
    ("imap wrong password", imap_login, ("alice", WRONG, "198.51.100.65"),
     "b NO [AUTHENTICATIONFAILED] ", None),
    ("pop3 inside", pop3_login, ("alice", PASSWORD, "203.0.113.8"),
     "+OK Logged in.", ("allow", "pop3")),
    ("pop3 outside", pop3_login, ("alice", PASSWORD, "198.51.100.66"),
     "-ERR [AUTH] ", ("deny", "pop3")),
    ("submission outside", submission_login,
     ("alice", PASSWORD, "198.51.100.67"), "535 ", ("deny", "submission")),
    ("submission inside", submission_login,
     ("alice", PASSWORD, "203.0.113.9"), "235 ", ("allow", "submission")),
    ("auth socket radicale", auth_socket_login,
     ("alice", PASSWORD, "radicale"), "OK\t", ("exempt", "radicale")),
    ("auth socket smtp outside", auth_socket_login,
     ("alice", PASSWORD, "smtp"), "FAIL\t", ("deny", "smtp")),
    ("auth socket smtp without rip", auth_socket_login,
     ("frank", PASSWORD, "smtp"), "OK\t", ("exempt", "smtp")),
]
# The list_cache field of each counted row: one auth process, one cache;
# a list is compiled ("miss") at its first use and found ("hit") after,
# valid or not; no list looked up (exempt, no list, empty list): "none".
LIST_CACHE = {
    "enforce": {
        "imap inside": "miss", "imap named set inside": "miss",
        "imap outside": "hit", "imap outside IPv6": "hit",
        "imap invalid list": "miss", "imap exempt network": "none",
        "imap no list": "none", "imap empty list": "none",
        "pop3 inside": "hit", "pop3 outside": "hit",
        "submission outside": "hit", "submission inside": "hit",
        "auth socket radicale": "none", "auth socket smtp outside": "hit",
        "auth socket smtp without rip": "none",
    },
    "report": {
        "imap outside": "miss", "imap invalid list": "miss",
        "imap inside": "hit", "pop3 outside": "miss",
    },
}

# rip for the auth-socket smtp login from outside
PARAMS = {"auth socket smtp outside": {"rip": "198.51.100.68"}}

REPORT_MIX = [
    ("imap outside", imap_login, ("alice", PASSWORD, "198.51.100.71"),
     "b OK ", ("report", "imap")),
    ("imap invalid list", imap_login, ("bob", PASSWORD, "198.51.100.72"),
     "b OK ", ("report", "imap")),
    ("imap inside", imap_login, ("alice", PASSWORD, "203.0.113.71"),
     "b OK ", ("allow", "imap")),
    ("pop3 outside", pop3_login, ("frank", PASSWORD, "203.0.113.72"),
     "+OK Logged in.", ("report", "pop3")),
]


def run_mix(suite, label, policy, mix):
    port = free_port()
    dc = ipallow_dovecot("metrics-" + label, policy=policy,
                         extra_conf=metrics_conf(port))
    want = collections.Counter()
    want_cache = collections.Counter()
    try:
        dc.start()
        rc, out, _ = dc.doveadm("config", "-h", "auth_debug")
        suite.eq("%s: auth_debug is off" % label, out.strip(), "no")
        for what, fn, args, prefix, counted in mix:
            name = "%s: %s" % (label, what)
            reply = suite.run(name, fn, dc, *args,
                              **PARAMS.get(what, {}))
            if reply is None:
                continue
            suite.ok(name + ": reply", reply.startswith(prefix),
                     "got %r, want %r..." % (reply, prefix))
            if counted is not None:
                want[counted] += 1
                want_cache[LIST_CACHE[label][what]] += 1
        status, ctype, text = wait_counts(port, sum(want.values()))
        print("# %s: scraped /metrics:" % label)
        for line in text.splitlines():
            if line.startswith((METRIC + "_", CACHE_METRIC + "_")):
                print("#   " + line)
        suite.eq("%s: HTTP status" % label, status, 200)
        suite.ok("%s: OpenMetrics content type" % label,
                 ctype.startswith("application/openmetrics-text"), ctype)
        got, total = counts_of(text)
        by_result = collections.Counter()
        for (result, _), n in want.items():
            by_result[result, None] += n
        for key in sorted(by_result, key=str):
            suite.eq("%s: %s_total{result=\"%s\"} (all services)" % (
                label, METRIC, key[0]), got.pop(key, None), by_result[key])
        for key in sorted(set(want) | set(got), key=str):
            suite.eq("%s: %s_total{result=\"%s\",service=\"%s\"}" % (
                label, METRIC, key[0], key[1]), got.get(key), want.get(key))
        suite.eq("%s: %s_count" % (label, METRIC), total,
                 sum(want.values()))
        got_cache = cache_counts_of(text)
        for key in sorted(set(want_cache) | set(got_cache)):
            suite.eq("%s: %s_total{list_cache=\"%s\"}" % (
                label, CACHE_METRIC, key), got_cache.get(key),
                want_cache.get(key))
        # Not logged at default settings, counted all the same.
        suite.ok("%s: allow/exempt/unrestricted not logged" % label,
                 dc.log.find(r"ipallow: (allow|exempt|unrestricted) ")
                 is None, dc.log.find(r"ipallow: (allow|exempt|unrest)")
                 or "")
    finally:
        dc.stop()


def main():
    suite = Suite("metrics")
    suite.run("enforce", run_mix, suite, "enforce",
              "sets:\n  office: [192.0.2.0/24]\n", ENFORCE_MIX)
    suite.run("report", run_mix, suite, "report", "mode: report\n",
              REPORT_MIX)
    suite.finish()


if __name__ == "__main__":
    main()
