"""Synthetic client logs: long FTP sessions of uploads and listings with one failure near the end.

Shaped like what people paste from FileZilla's message log and WinSCP's session log: a TLS login,
then transfer after transfer (CWD, TYPE, PASV, STOR/RETR/MLSD, 150/226, status lines), each
with its own file name, size and port, so no two blocks are identical (the engine looks at
distinct lines). A few lines before the end one transfer fails; the benchmark checks that the
engine names that failure. Seeded, so every run explains the same text.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

STYLES = ("filezilla", "winscp")
HOST = "ftp.example.net"
ADDRESS = "203.0.113.24"
START = datetime(2024, 5, 14, 9, 30, 0)
FAILURE_LINES = 8
# The mix of a session: 60% uploads, 25% downloads, the rest listings.
UPLOADS_BELOW = 0.6
DOWNLOADS_BELOW = 0.85


@dataclass(frozen=True)
class GeneratedLog:
    text: str
    lines: int
    failure_line: int  # 0-based index of the failing reply
    expected: tuple[str, str]  # (protocol, code) the engine should name

    @property
    def size(self) -> int:
        return len(self.text.encode("utf-8"))


class _Clock:
    """Log timestamps that move forward by a few milliseconds a line."""

    def __init__(self, rng: random.Random) -> None:
        self.now = START
        self.rng = rng

    def tick(self) -> str:
        self.now += timedelta(milliseconds=self.rng.randint(1, 90))
        return self.now.strftime("%Y-%m-%d %H:%M:%S.") + f"{self.now.microsecond // 1000:03d}"


def generate_log(lines: int, style: str = "filezilla", seed: int = 425) -> GeneratedLog:
    """A log of exactly `lines` lines whose only failure has three lines after it."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}")
    rng = random.Random(seed)
    clock = _Clock(rng)
    status, command, response = _writers(style, clock)
    body = _login(status, command, response)
    number = 0
    while len(body) < lines - FAILURE_LINES:
        number += 1
        body += _transfer(rng, number, status, command, response)
    body = body[: max(0, lines - FAILURE_LINES)]
    failing, failure_at = _failure(rng, style, status, command, response)
    all_lines = body + failing
    return GeneratedLog(
        text="\n".join(all_lines) + "\n",
        lines=len(all_lines),
        failure_line=len(body) + failure_at,
        expected=("ftp", "550"),
    )


Writer = Callable[[str], str]


def _writers(style: str, clock: _Clock) -> tuple[Writer, Writer, Writer]:
    """Line formats: FileZilla's 'Kind:<tab>text', WinSCP's '<marker> timestamp text'."""
    if style == "filezilla":
        return (
            lambda text: f"Status:\t{text}",
            lambda text: f"Command:\t{text}",
            lambda text: f"Response:\t{text}",
        )
    return (
        lambda text: f". {clock.tick()} {text}",
        lambda text: f"> {clock.tick()} {text}",
        lambda text: f"< {clock.tick()} {text}",
    )


def _login(status: Writer, command: Writer, response: Writer) -> list[str]:
    return [
        status(f"Resolving address of {HOST}"),
        status(f"Connecting to {ADDRESS}:21..."),
        status("Connection established, waiting for welcome message..."),
        response(f"220 ProFTPD Server (Example hosting) [{ADDRESS}]"),
        command("AUTH TLS"),
        response("234 AUTH TLS successful"),
        status("Initializing TLS..."),
        status("TLS connection established."),
        command("USER deploy"),
        response("331 Password required for deploy"),
        command("PASS ********"),
        response("230 User deploy logged in"),
        command("SYST"),
        response("215 UNIX Type: L8"),
        command("FEAT"),
        response("211-Features:"),
        response(" MDTM"),
        response(" SIZE"),
        response(" MLST type*;size*;modify*;perm*;"),
        response(" UTF8"),
        response("211 End"),
        command("OPTS UTF8 ON"),
        response("200 UTF8 set to on"),
        command("PBSZ 0"),
        response("200 PBSZ 0 successful"),
        command("PROT P"),
        response("200 Protection set to Private"),
        status("Logged in"),
    ]


def _pasv(rng: random.Random, command: Writer, response: Writer) -> list[str]:
    port = rng.randint(49152, 65534)
    return [
        command("PASV"),
        response(f"227 Entering Passive Mode (203,0,113,24,{port // 256},{port % 256})."),
    ]


def _transfer(
    rng: random.Random, number: int, status: Writer, command: Writer, response: Writer
) -> list[str]:
    """One upload, download or listing; each with its own names, sizes and ports."""
    folder = f"/public_html/{rng.choice(('img', 'css', 'js', 'docs', 'media'))}/{number // 40:03d}"
    name = f"{rng.choice(('photo', 'report', 'backup', 'asset', 'page'))}_{number:06d}"
    name += rng.choice((".jpg", ".png", ".pdf", ".html", ".zip"))
    size = rng.randint(800, 9_000_000)
    kind = rng.random()
    if kind < UPLOADS_BELOW:
        lines = [status(f"Starting upload of C:\\site\\export\\{name}")]
    elif kind < DOWNLOADS_BELOW:
        lines = [status(f"Starting download of {folder}/{name}")]
    else:
        lines = [status(f'Retrieving directory listing of "{folder}"...')]
    lines += [command(f"CWD {folder}"), response(f'250 CWD command successful: "{folder}"')]
    if kind < UPLOADS_BELOW:
        stamp = _modified(rng)
        lines += [command("TYPE I"), response("200 Type set to I")]
        lines += _pasv(rng, command, response)
        lines += [
            command(f"STOR {name}"),
            response(f"150 Opening BINARY mode data connection for {name}"),
            response(f"226 Transfer complete, {size} bytes"),
            command(f"MFMT {stamp} {name}"),
            response(f"213 Modify={stamp}; {name}"),
            status(
                f"File transfer successful, transferred {size:,} bytes in {size // 900_000 + 1} s"
            ),
        ]
    elif kind < DOWNLOADS_BELOW:
        lines += [command("TYPE I"), response("200 Type set to I")]
        lines += _pasv(rng, command, response)
        lines += [
            command(f"RETR {name}"),
            response(f"150 Opening BINARY mode data connection for {name} ({size} bytes)"),
            response("226 Transfer complete"),
            status(
                f"File transfer successful, transferred {size:,} bytes in {size // 900_000 + 1} s"
            ),
        ]
    else:
        lines += _pasv(rng, command, response)
        lines += [
            command("MLSD"),
            response("150 Opening ASCII mode data connection for MLSD"),
            response(f"226 Transfer complete, {rng.randint(3, 400)} entries"),
            status(f'Directory listing of "{folder}" successful'),
        ]
    return lines


def _modified(rng: random.Random) -> str:
    moment = START - timedelta(seconds=rng.randint(0, 30 * 86_400))
    return moment.strftime("%Y%m%d%H%M%S")


def _failure(
    rng: random.Random, style: str, status: Writer, command: Writer, response: Writer
) -> tuple[list[str], int]:
    """The upload that fails (the server refuses to write: 550 after STOR), and its index."""
    name = f"invoice_{rng.randint(100_000, 999_999)}.pdf"
    lines = [
        status(f"Starting upload of C:\\site\\export\\{name}"),
        *_pasv(rng, command, response),
        command(f"STOR {name}"),
    ]
    at = len(lines)
    lines.append(response(f"550 {name}: Permission denied"))
    if style == "filezilla":
        lines += ["Error:\tCritical file transfer error", status("Disconnected from server")]
    else:
        lines += [status("Copying files to remote side failed."), status("Closing connection.")]
    lines.append(status("Session closed"))
    return lines, at
