#!/usr/bin/env python3
"""The load and soak test of tests/soak/soak.py, shortened for every CI
run: 50,000 authentications over the auth-client socket with a mixed IP
set (every decision compared with an expectation computed from the
user's list with Python's ipaddress) and 50 concurrent IMAP connections
logging in and out, then auth-process RSS and fd counts checked for
growth. The full run (1,000,000 authentications, 200 connections) is
`tests/soak/soak.py`; SOAK_* variables given here override the short
defaults."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "soak"))
import soak                                                   # noqa: E402

SHORT = {"SOAK_AUTHS": "50000", "SOAK_IMAP_CONNS": "50",
         "SOAK_IMAP_ROUNDS": "6", "SOAK_USERS": "6000", "SOAK_SAMPLE": "2"}

if __name__ == "__main__":
    for key, value in SHORT.items():
        os.environ.setdefault(key, value)
    soak.main([])
