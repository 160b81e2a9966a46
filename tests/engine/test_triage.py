"""Log triage: the one decisive failure of a pasted log, and the context that changes the advice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.logs import generate_log
from bot.engine import model as model_module
from bot.engine import triage as triage_module
from bot.engine.knowledge import SITUATIONS
from bot.engine.secrets import exposed_secrets
from bot.engine.triage import MESSAGE_SITUATIONS, triage
from bot.engine.vocabulary import GuardedPattern, load_vocabulary
from tests.support import engine

# The project's own labelled sets: every clone has them.
OWN_CORPORA = Path(__file__).resolve().parents[1] / "corpus"

FILEZILLA_PASSIVE_TIMEOUT = """\
Status:\tConnecting to 192.0.2.10:21...
Status:\tConnection established, waiting for welcome message...
Response:\t220 (vsFTPd 3.0.5)
Command:\tUSER deploy
Response:\t331 Please specify the password.
Command:\tPASS ********
Response:\t230 Login successful.
Command:\tPWD
Response:\t257 "/" is the current directory
Command:\tTYPE I
Response:\t200 Switching to Binary mode.
Command:\tPASV
Response:\t227 Entering Passive Mode (192,0,2,10,195,80).
Command:\tMLSD
Error:\tConnection timed out after 20 seconds of inactivity
Error:\tFailed to retrieve directory listing
"""


def test_the_failing_reply_is_decisive_not_the_lines_around_it() -> None:
    answer = engine().explain(FILEZILLA_PASSIVE_TIMEOUT)
    assert answer.decisive is not None
    assert answer.decisive.key == ("winsock", "10060")
    assert answer.reply


def test_passive_mode_before_the_failure_is_seen() -> None:
    answer = engine().explain(FILEZILLA_PASSIVE_TIMEOUT)
    assert answer.failure.mode == "passive"
    assert answer.failure.command == "MLSD"


def test_passive_reply_then_425_gets_passive_advice_first() -> None:
    log = (
        "Command:\tPASV\nResponse:\t227 Entering Passive Mode (192,0,2,10,195,80).\n"
        "Command:\tLIST\nResponse:\t425 Can't open data connection."
    )
    answer = engine().explain(log)
    assert answer.decisive is not None
    assert answer.decisive.key == ("ftp", "425")
    assert answer.context_advice, "425 after PASV should bring passive-mode advice"
    assert answer.steps[0] == answer.context_advice[0]


def test_550_after_stor_reads_differently_from_550_after_cwd() -> None:
    after_stor = engine().explain("> STOR report.csv\n< 550 Permission denied.")
    after_cwd = engine().explain("> CWD /reports\n< 550 Permission denied.")
    assert after_stor.failure.command == "STOR"
    assert after_cwd.failure.command == "CWD"
    assert after_stor.context_advice != after_cwd.context_advice
    assert after_stor.steps[0] != after_cwd.steps[0]


def test_a_failed_probe_command_is_not_the_decisive_error() -> None:
    log = (
        "> FEAT\n< 500 Unknown command.\n> PASV\n< 227 Entering Passive Mode (192,0,2,1,4,1)\n"
        "> STOR a.txt\n< 553 Could not create file."
    )
    answer = engine().explain(log)
    assert answer.decisive is not None
    assert answer.decisive.key == ("ftp", "553")


def test_logs_inside_code_fences_are_triaged() -> None:
    log = "help??\n```\n> RETR big.iso\n< 426 Connection closed; transfer aborted.\n```"
    answer = engine().explain(log)
    assert answer.decisive is not None
    assert answer.decisive.key == ("ftp", "426")
    assert answer.failure.command == "RETR"


def test_tls_is_noticed() -> None:
    context = triage("AUTH TLS\n234 Using authentication type TLS\nPBSZ 0\nPROT P")
    assert context.at(len("AUTH TLS")).tls


def test_active_mode_is_noticed() -> None:
    log = "PORT 192,0,2,5,7,138\n200 PORT command successful. Consider using PASV.\nSTOR x\n"
    context = triage(log)
    assert context.at(len(log)).mode == "active"


def test_ftplib_traceback_names_the_failed_call() -> None:
    log = (
        'Traceback (most recent call last):\n  File "up.py", line 9, in <module>\n'
        "    ftp.storbinary('STOR x.zip', fh)\nftplib.error_perm: 553 Could not create file."
    )
    answer = engine().explain(log)
    assert answer.failure.command == "STOR"


def test_clear_text_password_is_flagged() -> None:
    secrets = exposed_secrets("USER deploy\n331 Password required\nPASS hunter2\n230 Logged in")
    assert secrets == ("a clear-text password (PASS command)",)


def test_masked_password_is_not_flagged() -> None:
    assert exposed_secrets("PASS ********\nPASS XXXX\nPASS ****") == ()


def test_password_in_url_is_flagged() -> None:
    secrets = exposed_secrets("curl ftp://deploy:s3cret@ftp.example.com/in/")
    assert secrets == ("a password inside a URL (user:password@host)",)


def test_slack_app_and_bot_tokens_are_flagged() -> None:
    assert exposed_secrets("SLACK_APP_TOKEN=xapp-1-A0123-4567-abcdef") == ("a Slack token",)


def test_a_sequence_error_after_a_failure_is_not_the_decisive_one() -> None:
    log = (
        "> RNFR tmp.part\n< 550 RNFR command failed.\n> RNTO final.csv\n< 503 RNFR required first."
    )
    answer = engine().explain(log)
    assert answer.decisive is not None
    assert answer.decisive.key == ("ftp", "550")


def test_the_original_exception_beats_what_happened_while_handling_it() -> None:
    log = (
        'Traceback (most recent call last):\n  File "push.py", line 9, in upload\n'
        "    ftp.storbinary('STOR report.zip', fh)\n"
        "ftplib.error_perm: 552 Disk quota exceeded\n\n"
        "During handling of the above exception, another exception occurred:\n\n"
        'Traceback (most recent call last):\n  File "push.py", line 12, in upload\n'
        "    ftp.quit()\nConnectionResetError: [Errno 104] Connection reset by peer"
    )
    answer = engine().explain(log)
    assert answer.decisive is not None
    assert answer.decisive.key == ("ftp", "552")


@pytest.mark.parametrize(
    ("text", "situation"),
    [
        ("From the office LAN only. From home the same script connects.", "works-elsewhere"),
        ("Only in the office. On my phone hotspot it resolves.", "works-elsewhere"),
        ("Only my laptop gets it, my colleagues download fine.", "works-for-others"),
        ("Everyone in our team can list the folder but on my PC it fails.", "works-for-others"),
        ("The web uploader handles the same file.", "works-in-other-client"),
        ("All 40 of our users get it since yesterday.", "fails-for-everyone"),
        (
            "Nobody here can connect, and the provider's other customers neither.",
            "fails-for-everyone",
        ),
        ("Same from three different companies, so it is not our network.", "fails-for-everyone"),
        ("Since the provider migrated us to the new server, uploads fail.", "server-changed"),
        ("The host ran updates last night.", "server-changed"),
        ("The bank only allows listed IP addresses.", "address-allowlist"),
        ("The partner confirmed that we are supposed to delete the files.", "access-expected"),
        ("/upload is the folder the bank gave us.", "access-expected"),
        ("My quota shows 15 GB of 15 GB used.", "own-quota-full"),
        (
            "Their admin says the disk of the server is at 100% since last night.",
            "server-disk-full",
        ),
        ("Working from home today without the VPN.", "vpn-off"),
        ("ssh: connect to host 10.20.0.15 port 22: No route to host", "private-target"),
        ("connect to [2001:db8:40::15]:21 failed: Network is unreachable", "ipv6"),
        ("java.net.SocketTimeoutException: Read timed out", "read-timeout"),
        ("java.net.ConnectException: Connection timed out: connect", "connect-timeout"),
    ],
)
def test_a_situation_the_message_states_is_seen(text: str, situation: str) -> None:
    situations = triage(text).at(len(text)).situations
    assert situation in situations, f"{situation} not seen in {text!r}: {sorted(situations)}"


@pytest.mark.parametrize(
    ("text", "situation"),
    [
        ("Everyone in the office gets it; from my phone's hotspot it works.", "fails-for-everyone"),
        ("There is an upload folder right there, am I supposed to use that?", "access-expected"),
        ("Our quota is 200 GB and we use 3 GB of 200 GB.", "own-quota-full"),
        ("Nobody has it open, all of us rebooted, the lock stays.", "server-changed"),
        ("socket.timeout: timed out", "read-timeout"),
        ("My colleagues see it too.", "works-for-others"),
    ],
)
def test_a_situation_the_message_does_not_state_is_not_seen(text: str, situation: str) -> None:
    situations = triage(text).at(len(text)).situations
    assert situation not in situations, f"{situation} wrongly seen in {text!r}"


def test_a_port_number_in_a_passive_connection_is_not_active_mode() -> None:
    log = (
        "---> EPSV\n<--- 229 Entering Extended Passive Mode (|||40112|)\n"
        "---- Connecting data socket to (203.0.113.17) port 40112\n"
        "<--- 425 Failed to establish connection."
    )
    assert triage(log).at(log.index("425")).mode == "passive"


def test_a_mode_named_after_the_error_is_the_mode() -> None:
    text = "425 Can't open data connection, but only when FileZilla is set to active mode."
    assert triage(text).at(0).mode == "active"


@pytest.mark.parametrize(
    ("log", "command"),
    [
        ("sftp> rename /in/a.csv /done/a.csv\nCouldn't rename file: Failure", "RENAME"),
        ("sftp> mkdir archive\nCouldn't create directory: Failure", "MKDIR"),
        ("curl -T backup.tar http://files.example.com/dav/\n< HTTP/1.1 301 Moved", "PUT"),
    ],
)
def test_the_command_of_an_interactive_client_is_seen(log: str, command: str) -> None:
    assert triage(log).at(len(log)).command == command


def test_a_session_that_goes_on_to_succeed_has_carried_on() -> None:
    log = (
        "Command:\tMLST /in/orders.csv\nResponse:\t502 Command not implemented.\n"
        "Command:\tSIZE /in/orders.csv\nResponse:\t213 1840\nStatus:\tFile transfer successful"
    )
    context = triage(log)
    assert "carried-on" in context.at(log.index("502")).situations
    assert "carried-on" not in context.at(len(log)).situations


def test_every_situation_of_the_vocabulary_is_one_triage_reads_and_cases_can_name() -> None:
    sections = {
        name.split(".")[1] for name in load_vocabulary().lists if name.startswith("situations.")
    }
    assert sections == set(MESSAGE_SITUATIONS), (
        f"sections and MESSAGE_SITUATIONS differ: {sections ^ set(MESSAGE_SITUATIONS)}"
    )
    assert sections <= SITUATIONS, f"situations cases cannot name: {sections - SITUATIONS}"


def test_a_command_on_a_log_line_is_marked_as_seen_in_the_log() -> None:
    context = triage("Command:\tSTOR a.csv\nResponse:\t550 Permission denied.").at(30)
    assert context.command == "STOR"
    assert context.command_from_log


def test_a_command_word_in_a_sentence_is_not_marked_as_seen_in_the_log() -> None:
    text = "site uploads fail, every STOR ends with 550 Permission denied"
    context = triage(text).at(text.index("550"))
    assert context.command == "STOR"
    assert not context.command_from_log


def test_mode_and_tls_named_in_a_sentence_are_not_marked_as_seen_in_the_log() -> None:
    text = "I use passive mode over FTPS and get 425 Can't open data connection"
    context = triage(text).at(text.index("425"))
    assert (context.mode, context.tls) == ("passive", True)
    assert not context.mode_from_log
    assert not context.tls_from_log


def test_mode_and_tls_on_log_lines_are_marked_as_seen_in_the_log() -> None:
    text = "> AUTH TLS\n< 234 Proceed\n> PASV\n< 227 Entering Passive Mode (192,0,2,1,4,1)\n< 425"
    context = triage(text).at(text.index("< 425"))
    assert context.mode_from_log
    assert context.tls_from_log


def test_every_guarded_pattern_finds_what_its_pattern_finds_in_the_labelled_messages() -> None:
    """The guards only skip texts no match can be in: on the project's own labelled sets and a
    generated log, each guarded pattern of triage and of the decision's features finds exactly
    what its plain pattern finds."""
    texts = [
        json.loads(line)["text"]
        for path in sorted(OWN_CORPORA.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    texts.append(generate_log(2000, "winscp").text)
    guarded = [
        value
        for module in (triage_module, model_module)
        for value in vars(module).values()
        if isinstance(value, GuardedPattern)
    ]
    assert len(guarded) >= 15, "triage guards its log patterns, the features theirs"
    for pattern in guarded:
        for text in texts:
            plain = [m.span() for m in pattern.pattern.finditer(text)]
            assert [m.span() for m in pattern.finditer(text, text.lower())] == plain, (
                pattern.pattern.pattern,
                text[:80],
            )
