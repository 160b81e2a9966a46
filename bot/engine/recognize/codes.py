"""Numbers that are error codes: a number only becomes a finding where its surroundings say it
is a code (an error label, a reply line in a log, a status line, the code's own standard text
after it). Where a code has readings in several protocols, the text's cues pick one and the
others are kept as alternatives."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from rapidfuzz import fuzz

from bot.engine.knowledge import Entry, KnowledgeBase
from bot.engine.recognize.cues import Cues
from bot.engine.recognize.finding import Finding, line_end, line_start, normalize
from bot.engine.triage import FTP_VERBS
from bot.engine.unlisted import entry_from_digits
from bot.engine.vocabulary import Vocabulary

# At most this many free-standing numbers are weighed as possible codes.
MAX_NUMBERS = 2_000

# ASCII word boundaries: in "上传502" or "到nginx" the code and the name still stand alone.
_I = re.I | re.A

# Explicit ways of saying "this number is an error code". `protocol` forces a reading.
_EXPLICIT = [
    (re.compile(r"HTTP/\d(?:\.\d)?\"?\s+(?P<code>\d{3})(?!\d)"), "http", 0.92, ("http/",)),
    (
        re.compile(r"(?<![\w.])(?P<code>\d{3})\s+(?:Client|Server)\s+Error\b"),
        "http",
        0.92,
        ("t error",),
    ),
    (re.compile(r"\((?P<code>\d{3})\)\s+(?=[A-Z][a-z])"), None, 0.88, (")",)),
    (
        re.compile(
            r"\bHTTPS?(?:\s+(?:error|status|code|response))?\s*[:#]?\s*(?P<code>\d{3})(?!\d)",
            _I,
        ),
        "http",
        0.85,
        ("http",),
    ),
    (re.compile(r"returned error:\s*(?P<code>\d{3})(?!\d)", _I), "http", 0.9, ("returned",)),
    (re.compile(r"\bWinError\s*(?P<code>\d{4,5})\b", _I), "winsock", 0.95, ("winerror",)),
    (
        re.compile(r"\bsocket\s+error\s*(?:[=:]\s*)?#?\s*(?P<code>\d{4,5})\b", _I),
        "winsock",
        0.95,
        ("socket",),
    ),
    (
        re.compile(r"\berror_(?:perm|temp|reply|proto)\W{1,3}(?P<code>\d{3})\b"),
        "ftp",
        0.95,
        ("error_",),
    ),
    (
        re.compile(r"\bSocketException\W{0,3}\(?(?P<code>1\d{4})\)?"),
        "winsock",
        0.95,
        ("socketexception",),
    ),
    (
        re.compile(
            r"(?:\berror|\berr|(?<=[a-z])(?:error|exception)|\bfehler|\berreur|\berrore|\bошибка|"
            r"错误|錯誤|エラー|오류|에러|\bhata|\bbłąd|\bfailed|\bfailure)"
            r"(?:\s*(?:code|number|no\.?|nr\.?|#|码|碼|コード|코드|kodu))?"
            r"(?:\s+(?:which|that)\s+is|\s+is|\s+was|\s+of|\s+with)?\s*[:=#]?\s*"
            r"[(\[{\"'`]?\s*(?P<code>-?\d{1,5})(?![\d.,:/]\d|\d)",
            _I,
        ),
        None,
        0.85,
        (
            "err",
            "exception",
            "fehler",
            "ошибка",
            "错误",
            "錯誤",
            "エラー",
            "오류",
            "에러",
            "hata",
            "błąd",
            "fail",
        ),
    ),
    (
        re.compile(
            r"(?:код\s+ошибки|kod\s+błędu|codice\s+(?:di\s+)?errore|c[oó]digo\s+de\s+err(?:or|o)|"
            r"code\s+d'erreur|fehlercode|foutcode)\s*[:=#]?\s*(?P<code>-?\d{1,5})(?!\d)",
            _I,
        ),
        None,
        0.85,
        ("ошибки", "błędu", "errore", "digo", "erreur", "fehlercode", "foutcode"),
    ),
    (
        re.compile(
            r"\b(?:code|status(?:\s*code)?|reply(?:\s*code)?|response(?:\s*code)?|"
            r"return(?:ed|s)?(?:\s*code)?|rc|result(?:\s*code)?)\W{0,3}(?P<code>-?\d{1,5})"
            r"(?![\d.,:/]\d|\d|\s*;)",
            _I,
        ),
        None,
        0.8,
        ("code", "status", "reply", "response", "return", "rc", "result"),
    ),
]
# Each pattern with the literals (lower case) of which the text must hold one for it to match.
_ERRNO = [
    (re.compile(r"\[Errno\s*(?P<errno>-?\d{1,5})\]", _I), ("errno",)),
    (re.compile(r"\berrno\s*[:=]?\s*(?P<errno>-?\d{1,5})\b", _I), ("errno",)),
    (
        re.compile(
            r"\b(?:bind|connect|listen|accept|socket|recv|send|read|write|sendto|recvfrom|"
            r"select|poll|getaddrinfo)\(\)\s*(?:failed|error)\W{0,3}\(?(?P<errno>\d{1,5})\)?",
            _I,
        ),
        ("()",),
    ),
]
# A free-standing number that could be a code: three digits, or a five-digit socket error.
_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.,:/$#+@])(?<![\dA-Za-z]-)(?P<code>[1-6]\d\d|1[01]\d\d\d)(?![A-Za-z0-9_%]|[.,:/]\d)"
)
# What follows a reply code: its text (not more numbers, as in a table), or nothing.
_REPLY_TEXT = re.compile(r"[ \t-]+[^\d\s]|\s*$|\s*['\"`]")
_TIMESTAMP_END = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\s*(?:[AP]M)?$", _I)
_ERROR_WORD_AFTER = re.compile(
    r"^\s*(?:(?:or|and|/|,)\s*\d{3}\s*)?(?:[-:]\s*)?(?:errors?|error\s+code|fehler|erreur|errore|错误|錯誤|エラー|"
    r"response|reply|status|code|means?|meaning)\b",
    _I,
)
_REPORT_VERB_BEFORE = re.compile(
    r"\b(?:get|gets|got|getting|receiv\w*|return\w*|gives?|giving|throws?|shows?|says|is|"
    r"said|with|an?|the|fails?|failed|failing|hit|hitting|see|seeing|saw)\W{1,3}$|"
    r"\b(?:ftp|sftp|https?|nginx|apache|iis|cloudflare|webdav|winsock|socket)[\s:]{1,3}$",
    _I,
)
# "450 File is being written": a reply's text, not a count of files.
_REPLY_SENTENCE = re.compile(r"\s*[A-Z][a-z]+\s+[a-z]")
_NOISE_AFTER = re.compile(
    r"^\s*(?:files?|bytes?|users?|items?|times?|lines?|rows?|characters?|chars?|pixels?|px|"
    r"[kmgt]i?b|kbps|mbps|ms|s|sec|secs|seconds?|mins?|minutes?|hours?|days?|connections?|"
    r"uploads?|downloads?|requests?|messages?|records?|entries|x\b|%|percent|dollars?|euros?)\b|"
    # a fraction ("530 / 530" checks done), a list of codes ("502 503 504"), a config value
    r"^\s*/\s*\d|^\s+[1-5]\d\d\b|^\s*;",
    _I,
)
_NOISE_BEFORE = re.compile(
    r"(?:\bport|\bline|\bversion|\bver|\bv|\bpid|\bbuild|\bid|\bpage|\bstep|\bissue|\bpr|"
    r"\btotal|\bsize|\blength|\bcount|\bno\.|\bnumber|\bnr|\bcol|\bcolumn|\boffset|\bheight|\bwidth|"
    r"\bat|\bof|\babout|\bover|\bunder|\bthan|\bevery|\bapprox)\W{0,2}$|"
    r"\b[1-5]\d\d\s+$|/\s*$",
    _I,
)
# Error words in any language: a bare code in a message that speaks of an error is likelier one.
_ERROR_TALK = re.compile(
    r"\berror|\bfail|\bfehler|\berreur|\berrore|ошибк|错误|報錯|报错|出错|錯誤|失败|エラー|"
    r"\bproblem|\bissue",
    _I,
)
_ANY_DIGIT = re.compile(r"\d")


class CodeFinder:
    """Error codes, errno numbers and W3C log status columns."""

    def __init__(self, kb: KnowledgeBase, vocabulary: Vocabulary) -> None:
        self.kb = kb
        self.vocabulary = vocabulary
        self._errno: dict[int, Entry] = {}
        self._errno_macos: dict[int, Entry] = {}
        self._wording_cache: dict[tuple[str, str], tuple[str, ...]] = {}
        for entry in kb:
            if "linux" in entry.errno:
                self._errno.setdefault(entry.errno["linux"], entry)
            if "macos" in entry.errno:
                self._errno_macos.setdefault(entry.errno["macos"], entry)

    def find(self, text: str, cues: Cues, asked: bool) -> list[Finding]:
        if _ANY_DIGIT.search(text) is None:
            return []  # every code and errno pattern needs a digit: skip their dozen scans
        lowered = text.lower()
        findings: list[Finding] = []
        claimed: set[int] = set()
        if "#Fields:" in text:
            for protocol, start, end in _w3c_statuses(text):
                finding = self._code_finding(
                    text, text[start:end], start, end, protocol, 0.85, cues
                )
                if finding:
                    claimed.add(start)
                    findings.append(finding)
        for pattern, needs in _ERRNO:
            if not any(literal in lowered for literal in needs):
                continue
            for match in pattern.finditer(text):
                finding = self._errno_finding(match, cues)
                if finding:
                    claimed.add(match.start("errno"))
                    findings.append(finding)
        for pattern, protocol, confidence, needs in _EXPLICIT:
            if not any(literal in lowered for literal in needs):
                continue
            for match in pattern.finditer(text):
                start = match.start("code")
                if start in claimed:
                    continue
                finding = self._code_finding(
                    text, match["code"], start, match.end("code"), protocol, confidence, cues
                )
                if finding:
                    claimed.add(start)
                    findings.append(finding)
        error_talk = _ERROR_TALK.search(text, 0, 2000) is not None
        for match in _bounded(_NUMBER.finditer(text), MAX_NUMBERS):
            start = match.start("code")
            if start in claimed:
                continue
            base = self._bare_confidence(text, start, match.end("code"), asked, error_talk)
            if base <= 0:
                continue
            finding = self._code_finding(
                text, match["code"], start, match.end("code"), None, base, cues
            )
            if finding:
                findings.append(finding)
        return findings

    def _bare_confidence(
        self, text: str, start: int, end: int, asked: bool, error_talk: bool
    ) -> float:
        start_of_line = line_start(text, start)
        end_of_line = line_end(text, end)
        before = text[max(start_of_line, start - 40) : start]
        after = text[end : min(end_of_line, end + 40)]
        noise_after = _NOISE_AFTER.match(after) and not _REPLY_SENTENCE.match(after)
        bracketed_id = before.endswith("[") and after.startswith("]")
        if noise_after or bracketed_id or _NOISE_BEFORE.search(before):
            return 0.0
        if asked:
            return 0.9
        if _reply_positioned(text[start_of_line:start], after):
            return 0.75
        if _ERROR_WORD_AFTER.match(after):
            return 0.8
        if _REPORT_VERB_BEFORE.search(before) or error_talk:
            return 0.6
        return 0.45

    def _code_finding(
        self,
        text: str,
        code: str,
        start: int,
        end: int,
        protocol: str | None,
        confidence: float,
        cues: Cues,
    ) -> Finding | None:
        readings = self._readings(code, protocol)
        following = text[end : min(line_end(text, end), end + 120)]
        start_of_line = line_start(text, start)
        if (
            protocol is None
            and not any(r.protocol == "ftp" for r in readings)
            and _reply_positioned(text[start_of_line:start], following)
            and cues.protocols["ftp"] > 0
        ):
            generic = entry_from_digits("ftp", code)
            if generic is not None:
                readings = [*readings, generic]
                confidence = min(confidence, 0.7)
        if not readings:
            return None
        matched_reading, text_score = self._match_following(following, readings)
        if matched_reading is not None:
            chosen = matched_reading
            confidence = max(confidence, 0.8 + 0.15 * (text_score - 80) / 20)
        else:
            chosen = max(
                readings,
                key=lambda e: cues.protocols[e.protocol] + self.vocabulary.prior(e.protocol),
            )
            if (
                chosen.protocol == "sftp"
                and len(code.lstrip("-")) <= 2
                and cues.protocols["sftp"] == 0
            ):
                confidence *= 0.75
            if (
                chosen.protocol != "winsock"
                and cues.protocols[chosen.protocol] == 0
                and max(cues.protocols.values()) >= 3
            ):
                confidence *= 0.6
        ordered = (chosen, *[r for r in readings if r is not chosen])
        return Finding(chosen, min(confidence, 0.99), (start, end), "code", code, ordered)

    def _readings(self, code: str, protocol: str | None) -> list[Entry]:
        if protocol is not None:
            entry = self.kb.get(protocol, code)
            return [entry] if entry else []
        readings = self.kb.with_code(code)
        if len(code.lstrip("-")) <= 2:
            return [e for e in readings if e.protocol in ("sftp", "winsock")]
        return readings

    def _match_following(
        self, following: str, readings: Iterable[Entry]
    ) -> tuple[Entry | None, float]:
        """The reading whose standard text or known wording follows the number, if any."""
        norm = normalize(following)[:100]
        if len(norm) < 4:
            return None, 0.0
        best: tuple[Entry | None, float] = (None, 0.0)
        for entry in readings:
            for candidate in self._wordings(entry):
                size = min(len(candidate), len(norm))
                score = fuzz.ratio(candidate[:size], norm[:size], score_cutoff=80)
                if score > best[1]:
                    best = (entry, score)
        return best

    def _wordings(self, entry: Entry) -> tuple[str, ...]:
        """An entry's title, phrases and names, normalized once and kept."""
        cached = self._wording_cache.get(entry.key)
        if cached is None:
            wordings = (entry.title, *entry.phrases, *entry.names)
            cached = tuple(n for n in map(normalize, wordings) if len(n) >= 4)
            self._wording_cache[entry.key] = cached
        return cached

    def _errno_finding(self, match: re.Match[str], cues: Cues) -> Finding | None:
        number = int(match["errno"])
        span = (match.start(), match.end())
        if number >= 10000 or number in (6, 8, 87, 995, 996, 997):
            entry = self.kb.get("winsock", str(number))
            confidence = 0.95
        else:
            entry = self._errno.get(number)
            # Low numbers (EACCES 13, EINVAL 22...) are file-system errors as often as socket
            # ones; from 88 on, Linux numbers only socket and network errors.
            confidence = 0.85 if number >= 88 or number < 0 else 0.6
            if entry is None:
                entry = self._errno_macos.get(number)
                confidence = 0.6
        if entry is None:
            return None
        return Finding(entry, confidence, span, "errno", match.group(0), (entry,))


def _w3c_statuses(text: str) -> Iterator[tuple[str, int, int]]:
    """Status columns of a W3C extended log (IIS FTP and web logs): the "#Fields:" header names
    the columns, so sc-status is read where it stands, FTP or HTTP by the method beside it."""
    columns: list[str] = []
    offset = 0
    for line in text.split("\n"):
        if line.startswith("#Fields:"):
            columns = line.split()[1:]
        elif columns and "sc-status" in columns and not line.startswith("#"):
            values = list(re.finditer(r"\S+", line))
            if len(values) == len(columns):
                status = values[columns.index("sc-status")]
                method = (
                    values[columns.index("cs-method")].group(0) if "cs-method" in columns else ""
                )
                if status.group(0).isdigit() and len(status.group(0)) == 3:
                    protocol = "ftp" if method.upper() in FTP_VERBS else "http"
                    yield protocol, offset + status.start(), offset + status.end()
        offset += len(line) + 1


def _bounded(matches: Iterable[re.Match[str]], limit: int) -> list[re.Match[str]]:
    """At most `limit` matches: the first tenth and the rest from the end, where failures are."""
    kept = list(matches)
    if len(kept) <= limit:
        return kept
    head = limit // 10
    return kept[:head] + kept[-(limit - head) :]


def _reply_positioned(prefix: str, following: str) -> bool:
    """A number where a reply code stands in a log line: at the start, after a marker or time."""
    if following and not _REPLY_TEXT.match(following):
        return False
    if prefix.rstrip(" \t")[-1:] in ("'", '"', "`"):
        return True  # a quoted reply: "`550 Directory not empty`"
    stripped = prefix.rstrip(" \t'\"`")
    if not stripped:
        return True
    return not stripped[-1].isalnum() or _TIMESTAMP_END.search(stripped) is not None
