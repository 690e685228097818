"""`autobeat hosts`: the running session hosts."""

from __future__ import annotations

import argparse

NAME = "hosts"
HELP = "list the running session hosts (bank, pid, clients, playing or not)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from autobeat_tui.host.client import running_hosts

    hosts = running_hosts()
    if not hosts:
        print("no host is running")
        return 0
    for h in hosts:
        clients = h.get("clients", 0)
        print(f"{h.get('bank')}  pid {h.get('pid')}  {clients} client"
              f"{'' if clients == 1 else 's'}  {'playing' if h.get('playing') else 'stopped'}"
              f"  slot {h.get('slot')}")
    return 0
