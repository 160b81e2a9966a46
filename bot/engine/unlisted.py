"""Codes the knowledge base has no entry for, explained from the structure of their digits.

FTP reply codes are built by rule (RFC 959 section 4.2): the first digit says whether the
command succeeded, failed for now, or failed for good; the second says what the reply is
about. So a server's non-standard "520" can still be read with some confidence.
"""

from __future__ import annotations

from functools import cache

from bot.engine.knowledge import Entry, Verdict

FTP_CODE_DIGITS = 3

# The first digit: the verdict it implies on its own (None: the second digit decides), and why.
_FTP_CLASSES: dict[str, tuple[Verdict | None, str]] = {
    "1": ("info", "The server has started the action and will send another reply when done."),
    "2": ("info", "The server completed the action."),
    "3": ("info", "The server accepted the command and waits for the next one."),
    "4": (None, "The server could not complete the action this time; trying again may work."),
    "5": (None, "The server refused the action, and repeating it unchanged will fail again."),
    "6": ("info", "The reply is protected (encrypted or signed) by a security extension."),
}
_FTP_GROUPS: dict[str, tuple[Verdict, str]] = {
    "0": ("you", "the command itself: its syntax, or a command the server does not support"),
    "1": ("info", "a request for information, such as status or help"),
    "2": ("isp", "the control or data connection"),
    "3": ("you", "logging in and accounting"),
    "4": ("admin", "a matter the standard leaves unspecified"),
    "5": ("you", "the file system: a file or folder, its name or its permissions"),
}
_GROUP_STEPS: dict[Verdict, tuple[str, ...]] = {
    "you": (
        "Compare the client's settings (host, port, protocol, user name) with what the server "
        "expects, and retry.",
        "Send the full log to whoever runs the server if it keeps failing: a non-standard code "
        "is specific to that server software.",
    ),
    "isp": (
        "Retry the transfer; if it fails again, switch between passive and active mode in the "
        "client.",
        "Check that firewalls on both sides allow the FTP data connection (port 21 and the "
        "server's passive port range).",
    ),
    "admin": (
        "Send the full log to whoever runs the server: a non-standard code is specific to that "
        "server software.",
    ),
}


@cache
def entry_from_digits(protocol: str, code: str) -> Entry | None:
    """A stand-in entry for an FTP reply code outside the standards, read from its digits."""
    if protocol != "ftp" or len(code) != FTP_CODE_DIGITS or code[0] not in _FTP_CLASSES:
        return None
    class_verdict, class_meaning = _FTP_CLASSES[code[0]]
    group = _FTP_GROUPS.get(code[1])
    if group is None:
        return None
    group_verdict, group_subject = group
    verdict = class_verdict or group_verdict
    return Entry(
        protocol="ftp",
        code=code,
        title="Non-standard FTP reply",
        meaning=(
            f"{code} is not a reply code defined by the FTP standards, so this server uses it "
            f"for its own purpose. Read by its digits: {class_meaning} The reply is about "
            f"{group_subject}."
        ),
        verdict=verdict,
        steps=() if verdict == "info" else _GROUP_STEPS[verdict],
        source="(derived from the code's digits)",
    )
