"""Block Kit rendering: content, Slack's limits, fallback text and escaping of user text."""

from __future__ import annotations

import json
from typing import Any

from bot.engine import Answer, Engine, Entry, Finding
from bot.render import blocks as render
from bot.render.blocks import (
    ACTION_HELPFUL,
    ACTION_MORE,
    ACTION_NOT_IT,
    ACTION_SHARE,
    FEEDBACK_BLOCK,
    MAX_BLOCKS,
    MAX_HEADER,
    MAX_SECTION,
    VOTES_BLOCK,
)
from tests.fake_slack import texts

HOSTILE = "<!channel> *bold* _it_ `tick` <https://evil.example|click> & <@U0BOSS01>"


def entry(**fields: Any) -> Entry:
    base = {
        "protocol": "ftp",
        "code": "550",
        "title": "Requested action not taken",
        "meaning": "The server refused the file operation.",
        "verdict": "you",
        "steps": ("Check the path.", "Check the permissions."),
    }
    return Entry(**{**base, **fields})


def answer_for(decisive: Entry | None = None, **fields: Any) -> Answer:
    decisive = decisive or entry()
    return Answer(
        query=fields.pop("query", "550 Permission denied"),
        decisive=decisive,
        confidence=0.9,
        verdict=fields.pop("verdict", decisive.verdict),
        steps=fields.pop("steps", decisive.steps),
        **fields,
    )


def finding(decisive: Entry, *readings: Entry, settled: bool = False, **fields: Any) -> Finding:
    """A code finding for `decisive`, the other `readings` of its number beside it."""
    return Finding(
        entry=decisive,
        confidence=fields.pop("confidence", 0.9),
        span=fields.pop("span", (0, 3)),
        kind="code",
        matched=decisive.code,
        readings=(decisive, *readings),
        reading_settled=settled,
    )


def buttons(message: render.Message) -> dict[str, dict[str, Any]]:
    return {element["action_id"]: element for element in message.blocks[-1]["elements"]}


def shown_steps(message: render.Message) -> list[str]:
    return [
        line for text in texts(message.blocks) for line in text.splitlines() if line[:1].isdigit()
    ]


def all_text(message: render.Message) -> str:
    return "\n".join([message.text, *texts(message.blocks)])


def test_the_reply_has_header_meaning_verdict_steps_and_buttons() -> None:
    message = render.render_answer(answer_for())
    header = message.blocks[0]
    assert header["type"] == "header"
    assert header["text"]["text"] == "FTP 550: Requested action not taken"
    body = all_text(message)
    assert "The server refused the file operation." in body
    assert "You can fix this yourself." in body
    assert "1. Check the path." in body
    assert "2. Check the permissions." in body
    actions = message.blocks[-1]
    assert actions["type"] == "actions"
    assert actions["block_id"] == FEEDBACK_BLOCK
    assert [e["action_id"] for e in actions["elements"]] == [ACTION_HELPFUL, ACTION_NOT_IT]
    assert all(e["value"] == "ftp 550" for e in actions["elements"])


def test_fallback_text_names_the_error_and_who_fixes_it() -> None:
    message = render.render_answer(answer_for(entry(title="Can't open data connection.")))
    assert message.text == "FTP 550: Can't open data connection. You can fix this yourself."


def test_context_specific_steps_come_first_under_their_own_title() -> None:
    advice = "On upload: you may not write in this folder."
    answer = answer_for(steps=(advice, "Check the path."), context_advice=(advice,))
    body = all_text(render.render_answer(answer))
    assert body.index("*For this case*") < body.index(advice) < body.index("*In general*")
    assert body.index("*In general*") < body.index("2. Check the path.")


def test_the_other_reading_of_a_code_nothing_chose_between_is_offered() -> None:
    other = entry(protocol="http", code="500", title="Internal Server Error", verdict="admin")
    ftp = entry(code="500", title="Syntax error")
    answer = answer_for(ftp, alternatives=(other,), findings=(finding(ftp, other),))
    assert "*Could also be:* HTTP 500: Internal Server Error" in all_text(
        render.render_answer(answer)
    )


def test_the_other_reading_is_not_offered_when_the_text_chose_one() -> None:
    other = entry(protocol="http", code="421", title="Misdirected Request", verdict="admin")
    ftp = entry(code="421", title="Service not available")
    chosen = finding(ftp, other, settled=True)
    answer = answer_for(ftp, alternatives=(other,), findings=(chosen,))
    assert "Could also be" not in all_text(render.render_answer(answer))


def test_could_also_be_is_absent_for_331_in_a_login_log(engine: Engine) -> None:
    log = (
        "Command:\tUSER alice\nResponse:\t331 Password required for alice\n"
        "Command:\tPASS ********\nResponse:\t530 Login incorrect."
    )
    answer = engine.explain(log)
    assert answer.decisive is not None
    assert answer.decisive.key == ("ftp", "530")
    assert any(e.key == ("ftp", "331") for e in answer.alternatives), "the engine's readings"
    assert "Could also be" not in all_text(render.render_answer(answer))


def test_a_bare_ambiguous_code_offers_both_readings(engine: Engine) -> None:
    body = all_text(render.render_answer(engine.lookup("500"), asked="500"))
    assert "*Could also be:* HTTP 500" in body


def test_at_most_three_steps_then_more_steps_expands() -> None:
    many = entry(steps=tuple(f"Step number {n}." for n in range(1, 8)))
    message = render.render_answer(answer_for(many), asked="550")
    assert shown_steps(message) == ["1. Step number 1.", "2. Step number 2.", "3. Step number 3."]
    more = buttons(message)[ACTION_MORE]
    assert more["text"]["text"] == "More steps (4)"
    assert render.read_more_value(more["value"]) == render.Expansion(query="550")
    full = render.render_answer(answer_for(many), asked="550", full=True)
    assert len(shown_steps(full)) == 7
    assert ACTION_MORE not in buttons(full)


OWN = ("Ask the administrator to set the external address.", "Until then, use the host.")
GENERAL = ("Check the path.", "Check the permissions.")


def test_where_the_situation_changed_the_fixer_only_its_own_steps_come_first() -> None:
    answer = answer_for(steps=(*OWN, *GENERAL), context_advice=OWN, because="it is behind NAT")
    message = render.render_answer(answer, explained=render.Explained("1.1", "1.2"))
    assert shown_steps(message) == [f"1. {OWN[0]}", f"2. {OWN[1]}"]
    value = buttons(message)[ACTION_MORE]["value"]
    assert render.read_more_value(value) == render.Expansion(
        explained=render.Explained("1.1", "1.2")
    )
    assert "Check the path" not in value  # the button names the message, never its text


def test_otherwise_the_situations_own_steps_lead_and_general_ones_follow() -> None:
    answer = answer_for(steps=(*OWN, *GENERAL), context_advice=OWN)
    message = render.render_answer(answer, asked="550")
    assert shown_steps(message) == [f"1. {OWN[0]}", f"2. {OWN[1]}", f"3. {GENERAL[0]}"]


def test_an_answer_that_cannot_be_asked_again_holds_nothing_back() -> None:
    many = entry(steps=tuple(f"Step number {n}." for n in range(1, 8)))
    message = render.render_answer(answer_for(many))
    assert len(shown_steps(message)) == 7
    assert ACTION_MORE not in buttons(message)


def test_no_step_is_shown_twice() -> None:
    steps = ("Check the path.", "check  the path", "Check the permissions.")
    assert shown_steps(render.render_answer(answer_for(steps=steps), asked="550")) == [
        "1. Check the path.",
        "2. Check the permissions.",
    ]


def test_the_because_line_names_what_decided_the_verdict(engine: Engine) -> None:
    answer = engine.explain("421 Too many connections (8) from this IP")
    assert answer.because, "a context case decided this verdict"
    verdict = next(t for t in texts(render.render_answer(answer).blocks) if "Who can fix it" in t)
    assert verdict.endswith(f"_Because {answer.because}._"), verdict


def test_no_because_line_where_no_situation_decided() -> None:
    body = all_text(render.render_answer(answer_for()))
    assert "Because" not in body


def test_exposed_secrets_get_a_warning_near_the_top_and_in_the_fallback() -> None:
    answer = answer_for(secrets=("a clear-text password (PASS command)",))
    message = render.render_answer(answer)
    warning = message.blocks[1]["text"]["text"]
    assert ":warning:" in warning
    assert "Delete the message" in warning
    assert "Delete the message" in message.text
    assert "clear-text password" in message.text


def test_a_message_with_a_secret_is_not_quoted_back() -> None:
    query = "PASS hunter22\n550 Permission denied"
    answer = answer_for(query=query, secrets=("a clear-text password (PASS command)",))
    assert "hunter22" not in all_text(render.render_answer(answer))


def test_user_text_is_escaped_and_shown_as_code() -> None:
    query = f"Status: connected\nResponse: 550 Permission denied {HOSTILE}\nStatus: done"
    start = query.index("550")
    finding = Finding(
        entry=entry(), confidence=0.9, span=(start, start + 3), kind="code", matched="550"
    )
    body = all_text(render.render_answer(answer_for(query=query, findings=(finding,))))
    for raw in ("<!channel>", "<https://", "<@U0BOSS01>", " & "):
        assert raw not in body
    assert "&lt;!channel&gt;" in body
    quote = next(line for line in body.splitlines() if line.startswith("Seen in the message"))
    assert "Response: 550 Permission denied" in quote  # the line that holds the error, only
    assert "Status" not in quote
    assert "*bold*" in quote  # inside a code span: shown, not formatted
    assert quote.count("`") == 2  # the user's own backtick cannot close the span early


def test_a_real_answer_with_hostile_text_renders_safely(engine: Engine) -> None:
    answer = engine.explain(f"Response: 550 Permission denied {HOSTILE}")
    assert answer.decisive is not None
    body = all_text(render.render_answer(answer))
    for raw in ("<!channel>", "<https://", "<@U0BOSS01>"):
        assert raw not in body


def test_a_query_with_a_secret_is_not_echoed_and_shares_only_its_code() -> None:
    query = "ftp://bob:hunter22@files.example.com 550"
    answer = answer_for(query=query, secrets=("a password inside a URL (user:password@host)",))
    message = render.render_answer(answer, asked=query, shareable=True)
    body = all_text(message)
    assert "hunter22" not in json.dumps(message.blocks)
    assert "hunter22" not in message.text
    assert "not repeated here: it holds a secret" in body
    assert "Delete the message" in body
    share = message.blocks[-1]["elements"][0]
    assert share["action_id"] == ACTION_SHARE
    assert render.read_share_value(share["value"]) == render.Expansion(query="ftp 550")


def test_nothing_found_with_a_secret_warns_and_does_not_echo() -> None:
    secrets = ("a password inside a URL (user:password@host)",)
    asked = "check ftp://bob:hunter22@files.example.com"
    for message in (
        render.render_nothing_found(asked, secrets),
        render.render_nothing_found(secrets=secrets),
        render.render_answer(Answer(query=asked, secrets=secrets), asked=asked),
    ):
        body = all_text(message)
        assert "hunter22" not in body
        assert "Delete the message" in body
        assert "/errcode 425" in body


def test_the_asked_query_is_echoed_escaped() -> None:
    message = render.render_answer(answer_for(), asked=HOSTILE, shareable=True)
    body = all_text(message)
    assert "<!channel>" not in body
    assert "&lt;!channel&gt;" in body


def test_shareable_answers_carry_a_share_button_whose_value_round_trips() -> None:
    message = render.render_answer(answer_for(), asked="sftp 3", shareable=True)
    share = message.blocks[-1]["elements"][0]
    assert share["action_id"] == ACTION_SHARE
    assert share["style"] == "primary"
    assert render.read_share_value(share["value"]) == render.Expansion(query="sftp 3")
    plain = render.render_answer(answer_for())
    assert ACTION_SHARE not in json.dumps(plain.blocks)


def test_a_query_too_long_for_a_button_is_shared_by_its_code() -> None:
    value = render.share_value("x" * 5000, entry())
    assert len(value) <= render.MAX_BUTTON_VALUE
    assert render.read_share_value(value) == render.Expansion(query="ftp 550")
    assert render.read_share_value("not json") is None
    assert render.read_share_value('{"q": 3}') is None


PICKED = render.Explained("1700000000.000100", "1700000000.000200")


def test_a_picked_message_is_not_echoed_as_a_command() -> None:
    message = render.render_answer(
        answer_for(), asked="550 Permission denied", shareable=True, picked=PICKED
    )
    assert "/errcode" not in all_text(message), "the picked message was never a /errcode query"


def test_a_picked_message_is_shared_in_its_thread() -> None:
    message = render.render_answer(
        answer_for(), asked="550 Permission denied", shareable=True, picked=PICKED
    )
    value = buttons(message)[ACTION_SHARE]["value"]
    assert render.read_share_value(value) == render.Expansion(
        query="550 Permission denied", picked=PICKED
    )


def test_more_steps_of_a_picked_message_keeps_its_thread() -> None:
    many = entry(steps=tuple(f"Step number {n}." for n in range(1, 8)))
    message = render.render_answer(
        answer_for(many), asked="550 Permission denied", shareable=True, picked=PICKED
    )
    expansion = render.read_more_value(buttons(message)[ACTION_MORE]["value"])
    assert expansion == render.Expansion(query="550 Permission denied", picked=PICKED)


def test_a_picked_message_holding_a_secret_is_shared_by_its_code_in_its_thread() -> None:
    text = "ftp://bob:hunter22@files.example.com 550"
    answer = answer_for(query=text, secrets=("a password inside a URL (user:password@host)",))
    message = render.render_answer(answer, asked=text, shareable=True, picked=PICKED)
    assert "hunter22" not in json.dumps(message.blocks)
    share = render.read_share_value(buttons(message)[ACTION_SHARE]["value"])
    assert share == render.Expansion(query="ftp 550", picked=PICKED)


def test_shared_answers_credit_the_user() -> None:
    message = render.render_answer(answer_for(), asked="550", shared_by="U0HUMAN01")
    assert "Shared by <@U0HUMAN01>" in all_text(message)
    forged = render.render_answer(answer_for(), asked="550", shared_by="<!channel>")
    assert "Shared by" not in all_text(forged)


def test_limits_hold_for_huge_entries_and_answers() -> None:
    huge = entry(
        title="T" * 400 + " <&>",
        meaning="M & <m> " * 1000,
        steps=tuple(f"Step {n} " + "s & " * 900 for n in range(30)),
    )
    others = tuple(entry(code=str(400 + n), title="Other " * 50) for n in range(3))
    message = render.render_answer(
        answer_for(huge, query="<!here> " * 5000, alternatives=others), asked="<!here> " * 5000
    )
    assert len(message.blocks) <= MAX_BLOCKS
    assert len(message.blocks[0]["text"]["text"]) <= MAX_HEADER
    for block in message.blocks:
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= MAX_SECTION
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
            assert all(len(e["text"]) <= MAX_SECTION for e in block["elements"])
    assert 0 < len(message.text) <= render.MAX_FALLBACK
    assert message.blocks[-1]["type"] == "actions"
    for text in texts(message.blocks):
        assert "&amp" not in text[-5:] or text.endswith(";")  # no entity cut in half


def test_header_cut_never_leaves_a_broken_entity() -> None:
    header = render.render_answer(answer_for(entry(title="&" * 300))).blocks[0]["text"]["text"]
    assert len(header) <= MAX_HEADER
    assert header.endswith("&amp;…")


def test_nothing_found_says_how_to_use_errcode() -> None:
    message = render.render_nothing_found()
    assert "/errcode 425" in message.text
    assert "list ftp 5xx" in message.text
    asked = render.render_nothing_found(HOSTILE)
    assert "<!channel>" not in all_text(asked)


def test_nothing_found_answer_renders_as_nothing_found() -> None:
    message = render.render_answer(Answer(query="hello"))
    assert "/errcode" in message.text
    assert message.blocks[-1]["type"] == "section"


def test_usage_lists_the_ways_to_ask() -> None:
    body = all_text(render.render_usage())
    for example in ("/errcode 425", "/errcode sftp 3", "/errcode WSAETIMEDOUT", "list ftp 5xx"):
        assert example in body


def test_family_listing_fits_the_limits() -> None:
    entries = [entry(code=str(500 + n), title=f"Title {n} " * 20) for n in range(300)]
    message = render.render_family("list ftp 5xx", entries)
    assert message.blocks[0]["text"]["text"] == "list ftp 5xx: 300 codes"
    assert len(message.blocks) <= MAX_BLOCKS
    assert all(len(t) <= MAX_SECTION for t in texts(message.blocks))
    assert "FTP 500" in message.text
    assert len(message.text) <= render.MAX_FALLBACK
    empty = render.render_family("list ftp 9xx", [])
    assert "No codes" in empty.text


def test_votes_are_shown_once_under_the_buttons() -> None:
    blocks = render.render_answer(answer_for()).blocks
    first = render.with_votes(blocks, "helpful", {"helpful": 1, "not_it": 0})
    second = render.with_votes(first, "not_it", {"helpful": 1, "not_it": 1})
    tallies = [b for b in second if b.get("block_id") == VOTES_BLOCK]
    assert len(tallies) == 1
    assert second.index(tallies[0]) == len(second) - 1
    assert second[-2]["block_id"] == FEEDBACK_BLOCK  # the buttons stay for others
    note = tallies[0]["elements"][0]["text"]
    assert "Not it" in note
    assert "Helpful: 1" in note
    assert "Not it: 1" in note


def test_escape_handles_the_three_control_characters() -> None:
    assert render.escape("a & <b> c") == "a &amp; &lt;b&gt; c"


def test_reply_says_which_command_failed_and_in_which_mode(engine: Engine) -> None:
    log = (
        "> PASV\n< 227 Entering Passive Mode (192,0,2,1,4,1)\n"
        "> RETR a.zip\n< 425 Can't open data connection."
    )
    blocks = render.render_answer(engine.explain(log)).blocks
    contexts = [
        element["text"]
        for block in blocks
        if block["type"] == "context"
        for element in block["elements"]
    ]
    assert any("after RETR, in passive mode" in text for text in contexts), contexts


def test_reply_names_the_codes_worth_reading_next(engine: Engine) -> None:
    answer = engine.explain("Response: 425 Can't open data connection.")
    blocks = render.render_answer(answer).blocks
    contexts = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    assert any("FTP 426" in text for text in contexts if "Worth reading next" in text), contexts


def test_a_picked_message_too_long_for_a_button_is_read_again_from_where_it_is() -> None:
    value = render.share_value("425 Can't open data connection. " * 200, entry(), PICKED)
    assert len(value) <= render.MAX_BUTTON_VALUE
    assert render.read_share_value(value) == render.Expansion(picked=PICKED), (
        "the same answer, not the code's generic one, is shared"
    )


def test_the_vote_buttons_of_a_thread_reply_name_the_message_it_explains() -> None:
    explained = render.Explained("1700000100.000100", "1700000100.000200")
    message = render.render_answer(answer_for(), explained=explained)
    for action in (ACTION_HELPFUL, ACTION_NOT_IT):
        value = buttons(message)[action]["value"]
        assert render.read_feedback_value(value) == ("ftp 550", explained), value


def test_a_vote_value_that_is_not_ours_reads_as_no_entry() -> None:
    for value in ("{not json", json.dumps({"entry": "x" * 65}), json.dumps([1]), ""):
        assert render.read_feedback_value(value) == ("?", None), value


def test_button_values_nested_too_deeply_read_as_not_ours() -> None:
    deep = '{"q": ' + "[" * 1_000 + "]" * 1_000 + "}"
    assert render.read_more_value(deep) is None
    assert render.read_share_value(deep) is None
    assert render.read_feedback_value(deep) == ("?", None)
