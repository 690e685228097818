"""An sshd of the test's own on 127.0.0.1 (tests only): a throwaway host key, a throwaway
client key, a high port, everything in a temporary folder. It never listens on another
interface and never reads or writes /etc/ssh or ~/.ssh."""

from __future__ import annotations

import getpass
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
SSH = shutil.which("ssh")
SSH_KEYGEN = shutil.which("ssh-keygen")
PRIVSEP_DIR = Path("/run/sshd")  # Debian's sshd wants it when started as root


def missing() -> str:
    """Why no loopback sshd can run here ("" if it can)."""
    if not (SSHD and SSH and SSH_KEYGEN):
        return "openssh-server and openssh-client are not installed"
    return ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackSshd:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="ab-sshd-"))
        self.dir.chmod(0o700)
        self.port = _free_port()
        self.host_key = self.dir / "host_ed25519"
        self.client_key = self.dir / "client_ed25519"
        for key in (self.host_key, self.client_key):
            subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "autobeat-test",
                            "-f", str(key)], check=True, capture_output=True)
        authorized = self.dir / "authorized_keys"
        authorized.write_text(self.client_key.with_suffix(".pub").read_text())
        authorized.chmod(0o600)
        config = self.dir / "sshd_config"
        config.write_text("\n".join([
            "ListenAddress 127.0.0.1",
            f"Port {self.port}",
            f"HostKey {self.host_key}",
            f"AuthorizedKeysFile {authorized}",
            f"PidFile {self.dir / 'sshd.pid'}",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes",
            "PermitRootLogin prohibit-password",
            "StrictModes no",  # the temporary folder is not the user's home
            "UsePAM no",
            "PrintMotd no",
            "X11Forwarding no",
            "AllowTcpForwarding no",
            "ClientAliveInterval 1",  # a dropped client is noticed within seconds
            "ClientAliveCountMax 2",
            "",
        ]))
        if os.geteuid() == 0 and not PRIVSEP_DIR.exists():
            PRIVSEP_DIR.mkdir(mode=0o755)
        self.log = self.dir / "sshd.log"
        self.process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)],
                                        stdout=subprocess.DEVNULL,
                                        stderr=open(self.log, "wb"))  # noqa: SIM115
        end = time.monotonic() + 10
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd did not start: {self.log.read_text()[-500:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > end:
                    raise RuntimeError("sshd did not listen within 10 s") from None
                time.sleep(0.05)

    def ssh_argv(self, command: str) -> list[str]:
        """`ssh -tt` to this sshd, running `command` there (a shell line)."""
        return [SSH, "-tt", "-F", "/dev/null", "-p", str(self.port),
                "-i", str(self.client_key), "-o", "IdentitiesOnly=yes",
                "-o", "StrictHostKeyChecking=no",
                "-o", f"UserKnownHostsFile={self.dir / 'known_hosts'}",
                "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
                f"{getpass.getuser()}@127.0.0.1", command]

    def ssh_line(self, command: str) -> str:
        return shlex.join(self.ssh_argv(command))

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> LoopbackSshd:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
