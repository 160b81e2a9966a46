"""Credentials in pasted text: every form seen in the wild is found, named and masked in place;
placeholders and masks people typed are left alone."""

from __future__ import annotations

import pytest

from bot.engine import secrets
from bot.engine.secrets import MASK, exposed_secrets, find, mask

# (text, the credential in it, the kind it is named as)
EXPOSED = [
    ("curl -u bob:Hunter2pw ftp://h/", "Hunter2pw", secrets.COMMAND_LINE),
    ("curl -ubob:Hunter2pw ftp://h/", "Hunter2pw", secrets.COMMAND_LINE),
    ("lftp -u bob,Hunter2pw files.example.com", "Hunter2pw", secrets.COMMAND_LINE),
    ("wget --password=Hunter2pw ftp://h/", "Hunter2pw", secrets.COMMAND_LINE),
    ("smbclient //srv/share -U bob%Hunter2pw", "Hunter2pw", secrets.COMMAND_LINE),
    ("sshpass -p Hunter2pw sftp bob@h", "Hunter2pw", secrets.COMMAND_LINE),
    ("sshpass -pHunter2pw sftp bob@h", "Hunter2pw", secrets.COMMAND_LINE),
    ("psftp -pw Hunter2pw bob@h", "Hunter2pw", secrets.COMMAND_LINE),
    ("password=pw", "pw", secrets.SETTING),
    ("db_password = Hunter2pw", "Hunter2pw", secrets.SETTING),
    ('{"password": "pw"}', "pw", secrets.SETTING),
    ("Password: hunter22", "hunter22", secrets.SETTING),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG", "wJalrXUtnFEMI/K7MDENG", secrets.SETTING),
    ("Authorization: Basic Ym9iOkh1bnRlcjJwdw==", "Ym9iOkh1bnRlcjJwdw==", secrets.AUTHORIZATION),
    ("-H 'Authorization: Bearer abc.def.ghi'", "abc.def.ghi", secrets.AUTHORIZATION),
    ("Command:\tPASS Hunter2pw", "Hunter2pw", secrets.PASS_COMMAND),
    ("ftp> pass Hunter2pw", "Hunter2pw", secrets.PASS_COMMAND),
    ("sftp://bob:Hunter2pw@files.example.com/x", "Hunter2pw", secrets.URL_PASSWORD),
    ("https://bob:pw@dav.example.com/", "pw", secrets.URL_PASSWORD),
    ("xoxb-1234567890-abcdefghij", "1234567890-abcdefghij", secrets.SLACK_TOKEN),
    ("ghp_" + "a1" * 18, "a1" * 18, secrets.GITHUB_TOKEN),
    ("github_pat_" + "B2" * 20, "B2" * 20, secrets.GITHUB_TOKEN),
    ("key AKIAIOSFODNN7EXAMPLE here", "IOSFODNN7EXAMPLE", secrets.AWS_KEY),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAKCA\n-----END RSA PRIVATE KEY-----",
        "MIIEow",
        secrets.PRIVATE_KEY,
    ),
]

NOT_SECRETS = [
    "Command:\tPASS ****",
    "Command:\tPASS ********",
    "password=$PASSWORD",
    "password=${FTP_PASS}",
    "password=<password>",
    "--password %FTP_PASS%",
    "Response: 331 Password required for bob",
    "the password: wrong again",
    "pass the test, then upload",
    "sftp://files.example.com/in/",
    "Error: 530 Login incorrect.",
]


@pytest.mark.parametrize(("text", "secret", "kind"), EXPOSED, ids=[e[0][:30] for e in EXPOSED])
def test_each_form_is_found_and_named(text: str, secret: str, kind: str) -> None:
    assert kind in exposed_secrets(text), f"{text!r} is not named {kind!r}"
    assert any(secret in text[s.start : s.end] for s in find(text)), f"{secret!r} not found"


@pytest.mark.parametrize(("text", "secret", "kind"), EXPOSED, ids=[e[0][:30] for e in EXPOSED])
def test_masking_hides_the_credential_and_keeps_offsets(text: str, secret: str, kind: str) -> None:
    masked = mask(text)
    assert secret not in masked
    assert len(masked) == len(text)
    assert masked.count("\n") == text.count("\n")


@pytest.mark.parametrize(("text", "secret", "kind"), EXPOSED, ids=[e[0][:30] for e in EXPOSED])
def test_a_masked_credential_is_still_named_as_exposed(text: str, secret: str, kind: str) -> None:
    assert kind in exposed_secrets(mask(text)), "the kind is lost once masked"


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_masks_placeholders_and_prose_are_not_secrets(text: str) -> None:
    assert exposed_secrets(text) == ()
    assert mask(text) == text


def test_masking_twice_changes_nothing_more() -> None:
    text = "curl -u bob:pw https://bob:pw@h/ -H 'Authorization: Basic Ym9i'"
    assert mask(mask(text)) == mask(text)
    assert MASK not in text
    assert MASK in mask(text)


def test_only_the_secret_is_masked_not_what_names_it() -> None:
    assert mask("xoxb-1234567890-abcdefghij").startswith("xoxb-")
    assert mask("Command: PASS Hunter2pw") == "Command: PASS " + MASK * 9


def test_a_huge_text_without_credentials_is_returned_as_is() -> None:
    text = "Response: 425 Can't open data connection.\n" * 50_000
    assert mask(text) is text
