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
from bot.engine.recognize.finding import (
    STOPWORDS,
    Finding,
    cues_settle,
    line_end,
    line_start,
    normalize,
)
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
            r"[(\[{\"'`]?\s*(?P<code>-?\d{1,5})(?![\d.,:/]\d|\d|[A-Za-z])",
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
# SSH, TLS and curl numbers are small and clash with every other family ("alert 110" is TLS,
# "110 Restart marker" FTP; "curl: (7)" is not SFTP 7): they are read only from their own shapes.
SHAPE_ONLY_PROTOCOLS = frozenset({"ssh", "tls", "curl"})
# WinINet and Win32 numbers are other programs' numbers too (Oracle's "Error 12154"): a reading in
# these families with no word of theirs in the text is weaker by this factor.
CUE_NEEDING_PROTOCOLS = frozenset({"wininet", "windows"})
# How many words on each side of a number may hold its title's words ("timeout 504 Gateway").
TITLE_REACH_WORDS = 3
_UNCUED_FACTOR = 0.7
# The Win32 facility of an HRESULT: 0x8007xxxx carries a Win32 error number in its low 16 bits.
_WIN32_FACILITY = 0x8007
_LOW_16_BITS = 0xFFFF
_UNSIGNED_32 = 0xFFFFFFFF
# Win32 numbers that belong to other families' knowledge: WinINet, and the Winsock range.
_WININET_RANGE = range(12000, 12200)
_WINSOCK_RANGE = range(10000, 11100)
# The shapes of the layers' codes: (pattern, how to read the match, confidence, literals).
# A reader names the family or gives the number to resolve: "hresult", "win32", "gnutls".
_SHAPES = [
    (re.compile(r"\bcurl:\s*\((?P<code>\d{1,3})\)", _I), "curl", 0.97, ("curl",)),
    (
        re.compile(
            r"\bcurl(?:\s+error|\s+exit(?:\s+(?:code|status))?|\s+returned(?:\s+exit\s+code)?|"
            r"\s+failed\s+with\s+(?:exit\s+)?(?:code|status)|\s+code)\s*[:#=(]?\s*(?P<code>\d{1,3})\b",
            _I,
        ),
        "curl",
        0.95,
        ("curl",),
    ),
    # "GnuTLS error -15", and with the word left out, "errors in GnuTLS -15".
    (re.compile(r"\bGnuTLS\s+(?:error\s+)?(?P<code>-\d{1,3})", _I), "gnutls", 0.97, ("gnutls",)),
    (
        re.compile(
            r"\balert[ \t]*(?:(?:number|code)[ \t]*(?:is[ \t]+)?[:=#]?|#)?[ \t]*"
            r"(?P<code>\d{1,3})(?![\d.,:]\d|\d)|"
            r"\bReceived TLS alert from the (?:server|client):[^(\n]{0,80}\((?P<paren>\d{1,3})\)",
            _I,
        ),
        "tls",
        0.95,
        ("alert",),
    ),
    # "tls 48", "curl 28": the family named with a number ("TLS 1.2", "curl 7.68.0" are versions).
    (
        re.compile(r"\b(?:TLS|SSL)[ \t]+(?P<code>\d{1,3})(?![\d.,:]\d|\d)", _I),
        "tls",
        0.85,
        ("tls", "ssl"),
    ),
    (re.compile(r"\bcurl[ \t]+(?P<code>\d{1,3})(?![\d.,:]\d|\d)", _I), "curl", 0.85, ("curl",)),
    (
        re.compile(
            r"\bReceived disconnect from [^\n]{0,160}?:\s?(?P<code>\d{1,2}):|"
            r"\bSSH_MSG_DISCONNECT\W{1,3}(?P<msg>\d{1,2})\b|"
            r"\bdisconnect message\s+type\s+(?P<type>\d{1,2})\b|"
            r"\bdisconnect(?:ed)?,?\s+(?:reason|reason code)\s*[:=]?\s*(?P<reason>\d{1,2})\b",
            _I,
        ),
        "ssh",
        0.95,
        ("disconnect",),
    ),
    (re.compile(r"\bWinError\s*(?P<code>\d{1,5})\b", _I), "win32", 0.95, ("winerror",)),
    (
        re.compile(
            r"\bSystem error (?P<code>\d{1,5})\b|"
            r"\bERROR (?P<robocopy>\d{1,5}) \(0x[0-9A-Fa-f]{8}\)|"
            r"\b(?:Win32|GetLastError\(\))\s*(?:error|status|code)?\s*(?:[:=]|returned|is)?\s*"
            r"(?P<win32>\d{1,5})\b",
            _I,
        ),
        "win32",
        0.92,
        ("system error", "error", "win32", "getlasterror"),
    ),
    (
        re.compile(
            r"\b0x(?P<code>8[0-9A-Fa-f]{7})\b|\((?P<bare>8007[0-9A-Fa-f]{4}),\s*\d+\)|"
            r"(?<![\w.])(?P<decimal>-21474\d{5}|21(?:47|48)\d{6})(?!\d)",
            _I,
        ),
        "hresult",
        0.93,
        ("0x", "8007", "-2147", "2147", "2148"),
    ),
]
# Shapes whose number belongs to their family even when the knowledge does not have it.
_NUMBER_READERS = frozenset({"gnutls", "win32", "hresult"})
# An IIS FTP log line without its "#Fields:" header: method, path, status, Win32 status, substatus.
_IIS_FTP_LINE = re.compile(
    r"\b(?:USER|PASS|STOR|RETR|LIST|NLST|MLSD|CWD|MKD|DELE|RNFR|RNTO|APPE|SIZE|ControlChannel\w*|"
    r"DataChannel\w*) \S+ (?P<status>[1-5]\d\d) (?P<win32>\d{1,10}) \d{1,5}\b"
)

# Linux numbers only socket and network errors from here on; below, file systems share them.
_SOCKET_ERRNO_FROM = 88
# A file path after an errno's message: the error is the file system's.
_PATH_AFTER = re.compile(r"""[:,]\s*(?:u?['"])?(?:/|[A-Za-z]:\\|\.{1,2}/|~/|\\\\)""")

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
# A free-standing number that could be a code: three digits, or a five-digit socket or
# WinINet error (10004..11033, 12001..12199).
_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.,:/$#+@])(?<![\dA-Za-z]-)(?P<code>[1-6]\d\d|1[01]\d\d\d|12[01]\d\d)"
    r"(?![A-Za-z0-9_%]|[.,:/]\d)"
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
# Counted things, perhaps after a word that sizes them: "500 files", "500 small files".
_NOISE_AFTER = re.compile(
    r"^\s*(?:(?:small|large|big|tiny|huge|concurrent|parallel|simultaneous|active|open|idle|"
    r"separate|different|individual|more|other|new|old)\s+)?"
    r"(?:files?|bytes?|users?|items?|times?|lines?|rows?|characters?|chars?|pixels?|px|"
    r"[kmgt]i?b|kbps|mbps|ms|s|sec|secs|seconds?|milliseconds?|msecs?|mins?|minutes?|hours?|days?|connections?|"
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
        self._title_cache: dict[tuple[str, str], frozenset[str]] = {}
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
        shaped, shape_spans = self._shapes(text, lowered)
        findings += shaped
        # A number inside a layer's shape ("GnuTLS error -110", "0x80070005") is no other code.
        claimed.update(position for start, end in shape_spans for position in range(start, end))
        statuses = list(_w3c_statuses(text)) if "#Fields:" in text else []
        statuses += _iis_ftp_statuses(text)
        for protocol, start, end in statuses:
            if start in claimed:
                continue
            value = text[start:end]
            finding = (
                self._code_finding(text, value, start, end, protocol, 0.85, cues)
                if protocol != "windows"
                else self._layer_finding(self._win32(int(value)), start, end, value, 0.85)
            )
            if finding:
                claimed.add(start)
                findings.append(finding)
        for pattern, needs in _ERRNO:
            if not any(literal in lowered for literal in needs):
                continue
            for match in pattern.finditer(text):
                claimed.add(match.start("errno"))  # an errno is no other code, read or not
                finding = self._errno_finding(text, match, cues)
                if finding:
                    findings.append(finding)
        for explicit, forced, confidence, literals in _EXPLICIT:
            if not any(literal in lowered for literal in literals):
                continue
            for match in explicit.finditer(text):
                start = match.start("code")
                if start in claimed:
                    continue
                finding = self._code_finding(
                    text, match["code"], start, match.end("code"), forced, confidence, cues
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

    def _shapes(self, text: str, lowered: str) -> tuple[list[Finding], list[tuple[int, int]]]:
        findings = []
        spans = []
        for pattern, reader, confidence, needs in _SHAPES:
            if not any(literal in lowered for literal in needs):
                continue
            for match in pattern.finditer(text):
                group = next(name for name, value in match.groupdict().items() if value)
                value = match[group]
                key = self._read_shape(reader, group, value)
                finding = self._layer_finding(
                    key, match.start(group), match.end(group), match.group(0), confidence
                )
                if finding is not None:
                    findings.append(finding)
                # A GnuTLS or Windows number is theirs even when unknown; "alert 500" is no alert.
                if finding is not None or reader in _NUMBER_READERS:
                    spans.append(match.span())
        return findings, spans

    def _read_shape(self, reader: str, group: str, value: str) -> tuple[str, str] | None:
        if reader == "gnutls":
            entry = self.kb.by_name(f"gnutls {value}")
            return entry.key if entry is not None and entry.protocol == "tls" else None
        if reader == "win32":
            return self._win32(int(value))
        if reader == "hresult":
            number = int(value, 16) if group != "decimal" else int(value) & _UNSIGNED_32
            return self._hresult(number)
        return (reader, str(int(value)))

    def _win32(self, number: int) -> tuple[str, str] | None:
        """A Win32 error number, read in the family whose knowledge has it."""
        if number == 0:
            return None
        if number in _WININET_RANGE:
            return ("wininet", str(number))
        if number in _WINSOCK_RANGE:
            return ("winsock", str(number))
        if number > _LOW_16_BITS:
            return self._hresult(number)
        return ("windows", str(number))

    def _hresult(self, number: int) -> tuple[str, str] | None:
        if number >> 16 == _WIN32_FACILITY:
            return self._win32(number & _LOW_16_BITS)
        return ("windows", f"0x{number:08X}")

    def _layer_finding(
        self, key: tuple[str, str] | None, start: int, end: int, matched: str, confidence: float
    ) -> Finding | None:
        entry = self.kb.get(*key) if key is not None else None
        if entry is None:
            return None
        return Finding(entry, confidence, (start, end), "code", matched, (entry,))

    def _bare_confidence(
        self, text: str, start: int, end: int, asked: bool, error_talk: bool
    ) -> float:
        start_of_line = line_start(text, start)
        end_of_line = line_end(text, end)
        before = text[max(start_of_line, start - 40) : start]
        after = text[end : min(end_of_line, end + 40)]
        noise_after = _NOISE_AFTER.match(after) and not _REPLY_SENTENCE.match(after)
        # "[550]" standing alone is an index or an id; glued to a message ("denied.[550]") a code.
        bracketed_id = (
            before.endswith("[") and after.startswith("]") and not before[-2:-1].strip(" \t")
        )
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
        generic = None
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
        titled = None
        if matched_reading is None and len(readings) > 1:
            titled = self._titled_around(text, start, end, readings)
        if matched_reading is not None:
            chosen = matched_reading
            confidence = max(confidence, 0.8 + 0.15 * (text_score - 80) / 20)
        elif titled is not None:
            chosen = titled
        else:
            # A number FTP does not define takes no FTP prior: that prior says FTP replies are
            # common, not that an undefined one is ("Unexpected response: 403" is HTTP's).
            chosen = max(
                readings,
                key=lambda e: (
                    cues.protocols[e.protocol]
                    + (0.0 if e is generic else self.vocabulary.prior(e.protocol))
                ),
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
            elif chosen.protocol in CUE_NEEDING_PROTOCOLS and cues.protocols[chosen.protocol] == 0:
                confidence *= _UNCUED_FACTOR
        ordered = (chosen, *[r for r in readings if r is not chosen])
        settled = matched_reading is not None or cues_settle(chosen, readings, cues.protocols)
        return Finding(
            chosen,
            min(confidence, 0.99),
            (start, end),
            "code",
            code,
            ordered,
            reading_settled=settled,
        )

    def _readings(self, code: str, protocol: str | None) -> list[Entry]:
        if protocol is not None:
            entry = self.kb.get(protocol, code)
            return [entry] if entry else []
        readings = [e for e in self.kb.with_code(code) if e.protocol not in SHAPE_ONLY_PROTOCOLS]
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

    def _titled_around(
        self, text: str, start: int, end: int, readings: Iterable[Entry]
    ) -> Entry | None:
        """The one reading every word of whose title stands within a few words of the number
        ("timeout 504 Gateway", "Gateway Timeout (504)"): the words say which 504 it is."""
        before = normalize(text[max(line_start(text, start), start - 40) : start]).split()
        after = normalize(text[end : min(line_end(text, end), end + 40)]).split()
        near = set(before[-TITLE_REACH_WORDS:] + after[:TITLE_REACH_WORDS])
        titled = [
            entry for entry in readings if (words := self._title_words(entry)) and words <= near
        ]
        return titled[0] if len(titled) == 1 else None

    def _title_words(self, entry: Entry) -> frozenset[str]:
        """An entry's title as its telling words (none for a title of stop words), worked out
        once per entry."""
        cached = self._title_cache.get(entry.key)
        if cached is None:
            cached = frozenset(normalize(entry.title).split()) - STOPWORDS
            self._title_cache[entry.key] = cached
        return cached

    def _wordings(self, entry: Entry) -> tuple[str, ...]:
        """An entry's title, phrases and names, normalized once and kept."""
        cached = self._wording_cache.get(entry.key)
        if cached is None:
            wordings = (entry.title, *entry.phrases, *entry.names)
            cached = tuple(n for n in map(normalize, wordings) if len(n) >= 4)
            self._wording_cache[entry.key] = cached
        return cached

    def _errno_finding(self, text: str, match: re.Match[str], cues: Cues) -> Finding | None:
        number = int(match["errno"])
        span = (match.start(), match.end())
        after = text[match.end() : line_end(text, match.end())]
        if 0 <= number < _SOCKET_ERRNO_FROM and _PATH_AFTER.search(after):
            return None  # "[Errno 13] Permission denied: '/srv/in/a.csv'": a file's, not a socket's
        if 0 <= number < _SOCKET_ERRNO_FROM and cues.protocols["sftp"] > 0:
            return None  # paramiko raises IOError(errno.EACCES) for SFTP's own permission denial
        if number >= 10000 or number in (6, 8, 87, 995, 996, 997):
            entry = self.kb.get("winsock", str(number))
            confidence = 0.95
        else:
            entry = self._errno.get(number)
            # Low numbers (EACCES 13, EINVAL 22...) are file-system errors as often as socket
            # ones; from 88 on, Linux numbers only socket and network errors.
            confidence = 0.85 if number >= _SOCKET_ERRNO_FROM or number < 0 else 0.6
            if entry is None:
                entry = self._errno_macos.get(number)
                confidence = 0.6
        if entry is None:
            return None
        return Finding(entry, confidence, span, "errno", match.group(0), (entry,))


def _w3c_statuses(text: str) -> Iterator[tuple[str, int, int]]:
    """Status columns of a W3C extended log (IIS FTP and web logs): the "#Fields:" header names
    the columns, so sc-status is read where it stands, FTP or HTTP by the method beside it, and
    sc-win32-status, the Windows error behind it."""
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
                if "sc-win32-status" in columns:
                    win32 = values[columns.index("sc-win32-status")]
                    if win32.group(0).isdigit() and win32.group(0) != "0":
                        yield "windows", offset + win32.start(), offset + win32.end()
        offset += len(line) + 1


def _iis_ftp_statuses(text: str) -> list[tuple[str, int, int]]:
    """The FTP status and the Win32 status of IIS FTP log lines pasted without their header."""
    found = []
    for match in _IIS_FTP_LINE.finditer(text):
        found.append(("ftp", *match.span("status")))
        if match["win32"] != "0":
            found.append(("windows", *match.span("win32")))
    return found


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
