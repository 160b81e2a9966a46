"""Text -> findings: every error code, symbolic name and known phrase, with span and confidence.

The same number means different things in FTP and HTTP, and most numbers in a message are not
error codes at all (ports, sizes, versions, dates). So a number only becomes a finding where
its surroundings say it is a code: an error label, a reply line in a log, a status line, the
code's own standard text after it. Where a code has readings in several protocols, cues in
the text (FTP commands, HTTP status lines, sftp/ssh, socket wording) pick the reading and the
others are kept as alternatives.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from rapidfuzz import fuzz, process

from bot.engine.knowledge import Entry, KnowledgeBase
from bot.engine.logs import FTP_VERBS, FailureContext
from bot.engine.source import read
from bot.engine.unlisted import entry_from_digits

# At most this many distinct lines are searched for phrases (the last ones, plus error-ish ones).
MAX_PHRASE_LINES = 3_000
PHRASE_WINDOW = 320
FUZZY_CUTOFF = 86.0
ASKED_FUZZY_CUTOFF = 80.0
# Wordings shorter than this must appear exactly; up to three words, only a typo is forgiven.
SHORT_PHRASE_CHARS = 12
SHORT_FUZZY_CUTOFF = 92.0
# A fuzzy match with one of its anchor words absent from the line must score this much.
MISSING_WORD_CUTOFF = 93.0
# At most this many free-standing numbers are weighed as possible codes.
MAX_NUMBERS = 2_000

# ASCII word boundaries: in "上传502" or "到nginx" the code and the name still stand alone.
_I = re.I | re.A

PROTOCOL_PRIOR = {"ftp": 0.3, "http": 0.2, "sftp": 0.1, "winsock": 0.1}

# Words that say which protocol a text is about, looked up token by token (one dictionary
# lookup a word, far cheaper than scanning with a regular expression per protocol).
_CUE_WORDS = {
    "ftp": (
        "ftp ftps ftpes ftpd vsftpd proftpd pureftpd filezilla ftplib cuteftp lftp fluentftp "
        "jsftp eqftp fireftp ftpwebrequest ftpcommandexception pasv epsv stor retr mlsd cwd "
        "nlst appe mkd rnfr error_perm error_temp login"
    ),
    "sftp": "sftp ssh ssh2 paramiko jsch sftp_client sftpstatuserror openssh winscp",
    "http": (
        "http https nginx apache webdav dav html nextcloud owncloud s3 cloudflare proxy "
        "iis php webserver webapp api browser web website webui page portal"
    ),
    "winsock": "socket winsock winerror errno connectex etimedout getaddrinfo enotfound",
}
_CUE_BY_WORD = {word: protocol for protocol, words in _CUE_WORDS.items() for word in words.split()}
# Symbolic-name families, by how their (lower-cased) tokens start.
_CUE_PREFIXES = (("ssh_fx_", "sftp"), ("ssh2_fx_", "sftp"), ("wsa", "winsock"), ("ftp_", "ftp"),
                 ("econn", "winsock"), ("eaddr", "winsock"))  # fmt: skip
# Upper-case only: "PUT" is a request method, "put" an English verb.
_CUE_PREFIX_STARTS = frozenset(start[:3] for start, _ in _CUE_PREFIXES)
_CUE_METHODS = frozenset({"PUT", "POST", "GET", "PROPFIND", "MKCOL"})
# Cues of several words or with punctuation, counted in the lower-cased text.
_CUE_STRINGS = (
    ("passive mode", "ftp"), ("active mode", "ftp"), ("data connection", "ftp"),
    ("control connection", "ftp"), ("response:", "ftp"), ("command:", "ftp"),
    ("logged in", "ftp"), ("ftp://", "ftp"), ("port 22", "sftp"), (":22", "sftp"),
    ("ssh.net", "sftp"), ("http/1", "http"), ("http/2", "http"), ("requests.", "http"),
    ("status code", "http"), ("client error", "http"), ("server error", "http"),
    ("web server", "http"),
)  # fmt: skip
_CUE_SCAN_CHARS = 65_536
_WORD = re.compile(r"[A-Za-z0-9_]+")

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
# Replies that only say an earlier command failed ("503 RNFR required first").
_CONSEQUENCES = frozenset({("ftp", "503")})
# A code defined rather than met: "10061 oznacza...", "499 means...", "10054 es ..., 10053 es".
_DEFINITION = re.compile(
    r"(?<![\w.])(?:[1-6]\d\d|1[01]\d{3})\s+(?:(?:just |simply |basically )?(?:means|meaning|"
    r"oznacza|znaczy|significa|signifie|bedeutet|heißt|betekent|означает|anlam[ıi]na))\b|"
    # a name defined: "ECONNREFUSED is 111 on Linux", "WSAECONNRESET means ..." (upper case)
    r"(?-i:\b(?:E[A-Z]{4,}|WSAE[A-Z]+|SSH2?_FX_[A-Z_]+)\s+(?:is|means|=)\s)",
    _I,
)
# Cheap substring checks that a text can match the patterns above at all.
_RESOLVED_WORDS = (
    "fyi", "for anyone", "turned out", "root cause", "fixed", "solved", "resolved", "nit:",
    "lgtm", "changelog", "release note", "what's new", "releas", "gone", "no longer", "this pr",
    "it was", "whoever", "closing", "stopped", "baseline", "normal", "ok", "succeeded",
    "successful", "worked", "- ", "* ",
)  # fmt: skip
_DEFINITION_WORDS = (
    "mean", "oznacza", "znaczy", "signif", "bedeutet", "heißt", "betekent", "означает", "anlam",
    " is ", " = ",
)  # fmt: skip
_COPULA_AFTER_CODE = re.compile(
    r"(?<![\w.])(?P<code>[1-6]\d\d|1[01]\d{3})\s+(?:is|es|est|ist|è|é|to|jest)\s", _I
)
# Sentences that talk about an error rather than report one.
_DISCUSSION = re.compile(
    r"\bif you\b|\bwould\b|\b(?:i|we|you|they)'d\b|\bretr(?:y|ies|ying)\b[^.\n]{0,20}\bon\b|"
    r"\bshould\b[^.?!\n]{0,40}\b(?:be|return|send|respond|answer|give|get|use|treat|map)\b|"
    r"\bmeans\b|\binstead of\b|\bwhether\b|\bdifference between\b|\bfix(?:es|ed)\b|"
    r"\bmaps?\b[^.\n]{0,60}\bto\b|\btreat\b[^.\n]{0,40}\bas\b|\bI agree\b|#define\b|"
    r"\bfor example\b|"
    r"\be\.g\.|\bstartswith\(|\bresp(?:onse)?\.status|\bstatus_code\s*==",
    _I,
)
# Anywhere in a message: the writer reports a resolution or reviews code, not a live error.
_RESOLVED = re.compile(
    r"\bfyi\b|\bfor anyone (?:searching|reading|finding|hitting|landing)|\bturned out\b|"
    r"\broot cause (?:was|is)\b|\b(?:fixed|solved|resolved) (?:it |this )?by\b|^\s*nit:|"
    r"\blgtm\b|\bchangelog\b|\brelease notes?\b|\bwhat's new\b|\breleased?\s+v?\d+\.\d|"
    r"\b(?:is|are) (?:gone|fixed|solved|resolved)\b|\bno longer\b|\bthis pr\b|"
    r"\bit was (?:the|a|an|our|my)\b|\bfor whoever\b|"
    r"\bclosing (?:the|this) (?:thread|issue|ticket)|"
    r"\b(?:errors?|failures?|resets?|timeouts?) (?:have |has )?stopped\b|^\W*\[?resolved\b|"
    r"\bback to (?:baseline|normal)\b|"
    r"\b(?:retry|attempt)\b[^.\n]{0,20}\b(?:ok|succeeded|successful|worked)\b|"
    # a changelog or to-do list: bullets that start with what the change does
    r"^\s*[-*]\s+(?:handle[sd]?|add(?:s|ed)?|fix(?:es|ed)?|treat|prefer|retry|map|support|"
    r"bump|update|remove)\b",
    _I | re.M,
)
# A config value: a key whose value is a list of codes or names ("on_errno: [ECONNRESET, ...]").
_CONFIG_LIST = re.compile(r"^\s*[\"']?[\w.-]+[\"']?\s*[:=]\s*\[[^\]\n]*,", re.M)
# Error words in any language: a bare code in a message that speaks of an error is likelier one.
_ERROR_TALK = re.compile(
    r"\berror|\bfail|\bfehler|\berreur|\berrore|ошибк|错误|報錯|报错|出错|錯誤|失败|エラー|"
    r"\bproblem|\bissue",
    _I,
)
_ERRORISH_LINE = re.compile(
    r"(?im)^.*(?:error|fail|denied|refused|reset|timed? ?out|unable|cannot|can't|could ?n[o']t|"
    r"not found|no such|abort|closed|exceed|invalid|forbidden|unauthori|incorrect|full|"
    r"quota|lost|broken|unreachable|unknown|exception|warn).*$"
)
_TOKEN = re.compile(r"\w+")
_ANY_DIGIT = re.compile(r"\d")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SYMBOL = re.compile(r"[A-Za-z][\w.]*\w")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_STOPWORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "on",
        "for",
        "is",
        "was",
        "be",
        "by",
        "it",
        "this",
        "that",
        "and",
        "or",
        "not",
        "no",
        "with",
        "from",
        "at",
        "as",
        "are",
        "your",
        "you",
        "has",
        "have",
        "had",
        "been",
        "can",
        "could",
        "may",
        "will",
        "any",
        "all",
        "its",
    ]
)


@dataclass(frozen=True)
class Finding:
    """One error seen in a text: what it is, where, how sure, and the command around it."""

    entry: Entry
    confidence: float
    span: tuple[int, int]
    kind: str
    matched: str
    readings: tuple[Entry, ...] = ()
    failure: FailureContext = field(default_factory=FailureContext)
    mentions: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.entry.protocol,
            "code": self.entry.code,
            "title": self.entry.title,
            "confidence": round(self.confidence, 3),
            "span": list(self.span),
            "kind": self.kind,
            "matched": self.matched,
        }


@dataclass(frozen=True)
class _Phrase:
    norm: str
    entries: tuple[Entry, ...]
    exact: bool
    # Entries for which this wording is only an HTTP reason phrase: alone ("Connection timed
    # out", without the number) it is weak evidence of that status.
    weak: frozenset[tuple[str, str]] = frozenset()

    @property
    def only_weak(self) -> bool:
        return all(entry.key in self.weak for entry in self.entries)

    @cached_property
    def floor(self) -> float:
        """Short wordings forgive a typo, not a different word."""
        return SHORT_FUZZY_CUTOFF if self.norm.count(" ") < 3 else 0.0

    @cached_property
    def numbers(self) -> frozenset[str]:
        """Numbers in a wording must match exactly: "error code 520" is not "error code 3"."""
        return frozenset(token for token in self.norm.split() if token.isdigit())


def prepare(text: str) -> str:
    """The text as recognition reads it (see `source.read`)."""
    return read(text).text


def normalize(text: str) -> str:
    """Lower case words only: 'FileNotFound' and "file not found." compare equal."""
    return " ".join(_TOKEN.findall(_CAMEL.sub(" ", text).casefold()))


class Recognizer:
    """Built once per knowledge base; `recognize` is then cheap per message."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._symbols: dict[str, Entry] = {}
        self._weak_symbols: set[str] = set()
        # Python's HTTPStatus names that are plain words (FORBIDDEN, CONFLICT) count only in
        # upper case: "forbidden" in a sentence is a word. ECONNRESET typed in lower case counts.
        self._upper_only: set[str] = set()
        self._words: dict[str, Entry] = {}
        self._errno: dict[int, Entry] = {}
        self._errno_macos: dict[int, Entry] = {}
        phrase_entries: dict[str, list[Entry]] = defaultdict(list)
        from_phrases: set[tuple[str, tuple[str, str]]] = set()
        for entry in kb:
            for name in entry.names:
                if " " not in name and (
                    "." in name or "_" in name or not (name.islower() or name.istitle())
                ):
                    self._symbols.setdefault(name.casefold(), entry)
                    if entry.protocol == "http" and name.isalpha() and name.isupper():
                        self._upper_only.add(name.casefold())
                    if _ambiguous_errno_name(name, entry):
                        self._weak_symbols.add(name.casefold())
                elif " " not in name:
                    self._words.setdefault(name.casefold(), entry)
                else:
                    phrase_entries[normalize(name)].append(entry)
            if " " not in normalize(entry.title):
                self._words.setdefault(normalize(entry.title), entry)
            for phrase in (*entry.phrases, entry.title):
                for norm in _variants(phrase):
                    if entry not in phrase_entries[norm]:
                        phrase_entries[norm].append(entry)
            from_phrases.update((normalize(phrase), entry.key) for phrase in entry.phrases)
            if "linux" in entry.errno:
                self._errno.setdefault(entry.errno["linux"], entry)
            if "macos" in entry.errno:
                self._errno_macos.setdefault(entry.errno["macos"], entry)
        self._phrases: list[_Phrase] = []
        self._cjk_phrases: list[_Phrase] = []
        for norm, entries in phrase_entries.items():
            tokens = norm.split()
            weak = frozenset(
                e.key for e in entries if e.protocol == "http" and (norm, e.key) not in from_phrases
            )
            if _CJK.search(norm):
                self._cjk_phrases.append(_Phrase(norm, tuple(entries), True, weak))
                continue
            if len(tokens) == 1:
                continue  # single words are names: matched only next to an error label
            exact = len(norm) < SHORT_PHRASE_CHARS
            self._phrases.append(_Phrase(norm, tuple(entries), exact, weak))
        self._postings, self._anchors, self._anchors_needed = self._build_anchor_index()
        self._wording_cache: dict[tuple[str, str], tuple[str, ...]] = {}
        # (phrase, protocol) -> twin entry: phrases and protocols are few, so this stays small.
        self._twin_cache: dict[tuple[str, str], Entry | None] = {}
        self._single_titles = self._build_single_title_pattern()

    def _build_anchor_index(
        self,
    ) -> tuple[dict[str, list[int]], list[frozenset[str]], list[int]]:
        """Each phrase has up to three anchors, its rarest words (by 5-letter prefix, to survive
        typos), and is only compared with a line that holds enough of them: all for an exact
        wording, all but one for a fuzzy one. It is posted under as few anchors as can still
        find it (the rarest one; the two rarest when one may be missing), so a common word in
        a line does not wake up hundreds of phrases."""
        frequency: dict[str, int] = defaultdict(int)
        for phrase in self._phrases:
            for key in _anchor_keys(phrase.norm):
                frequency[key] += 1
        postings: dict[str, list[int]] = defaultdict(list)
        anchor_sets: list[frozenset[str]] = []
        needed = []
        for position, phrase in enumerate(self._phrases):
            keys = sorted(_anchor_keys(phrase.norm), key=lambda k: (frequency[k], -len(k)))
            anchors = keys[:3] or [_anchor_key(phrase.norm.split()[0])]
            required = len(anchors) if phrase.exact else max(1, len(anchors) - 1)
            for key in anchors[: len(anchors) - required + 1]:
                postings[key].append(position)
            anchor_sets.append(frozenset(anchors))
            needed.append(required)
        return dict(postings), anchor_sets, needed

    def _build_single_title_pattern(self) -> re.Pattern[str] | None:
        """One-word titles ("Failure", "Forbidden") count only right after an error label."""
        words = sorted(self._words, key=len, reverse=True)
        if not words:
            return None
        alternation = "|".join(re.escape(word) for word in words)
        return re.compile(
            r"(?:error|exception|err|status|fatal|mkdir|rmdir|rename|stat|lstat|open|opendir|"
            r"readdir|realpath|remove|unlink|put|get|fastput|fastget|upload|download|setstat)"
            r"\w*\W{1,4}[\"'`(]?(?P<word>" + alternation + r")\b",
            _I,
        )

    # ---------------------------------------------------------------- recognition

    def recognize(self, text: str, asked: bool = False) -> list[Finding]:
        """Findings in a text already passed through `prepare` (spans index that text), in
        order; their `failure` context is attached by the caller, who triages only if needed."""
        cues = _Cues(text)
        found: list[Finding] = []
        found += self._codes(text, cues, asked)
        found += self._symbols_in(text, cues)
        found += self._phrases_in(text, cues, asked)
        found = _drop_phrases_on_explained_lines(text, found)
        return sorted(_merge(found), key=lambda f: f.span[0])

    def decisive(self, findings: list[Finding], text: str = "") -> Finding | None:
        """The one error the person needs explained: errors before info; probes, and errors
        that only follow from an earlier one, last."""
        if not findings:
            return None
        first_failure = min((f.span[0] for f in findings if f.entry.is_failure), default=len(text))
        # Python names the original exception first: what follows this line is a consequence.
        aftermath = text.find("During handling of the above exception")

        def weight(finding: Finding) -> tuple[bool, bool, float, int]:
            score = finding.confidence
            if finding.failure.probe and finding.entry.is_failure:
                score -= 0.35
            if finding.entry.key in _CONSEQUENCES and finding.span[0] > first_failure:
                score -= 0.3
            if 0 <= aftermath < finding.span[0]:
                score -= 0.2
            score += min(finding.mentions - 1, 3) * 0.02
            entry = finding.entry
            return (entry.is_failure, entry.verdict != "info", score, -finding.span[0])

        return max(findings, key=weight)

    def search(self, query: str, limit: int = 3) -> list[Finding]:
        """Closest entries to a short free-text question, for lookups nothing else matched."""
        norm = normalize(query)
        if len(norm) < 4:
            return []
        scored: dict[tuple[str, str], tuple[Entry, float, float]] = {}
        for entry in self.kb:
            for wording in (entry.title, *entry.phrases, *entry.names):
                candidate = normalize(wording)
                # One word must be a whole wording ("Forbidden"), not any wording holding it:
                # "status" or "list" would otherwise find whatever mentions them.
                scorer = fuzz.token_set_ratio if " " in norm else fuzz.ratio
                score = scorer(norm, candidate, score_cutoff=85)
                closeness = fuzz.ratio(norm, candidate)  # breaks ties: the nearest wording
                if score and (score, closeness) > scored.get(entry.key, (entry, 0.0, 0.0))[1:]:
                    scored[entry.key] = (entry, score, closeness)
        ranked = sorted(scored.values(), key=lambda item: (-item[1], -item[2]))
        span = (0, len(query))
        return [
            Finding(entry, score / 100 * 0.8, span, "search", query, (entry,))
            for entry, score, _ in ranked[:limit]
        ]

    def discussed(self, text: str, finding: Finding, findings: Iterable[Finding] = ()) -> bool:
        """Whether the message talks about the error (explains, documents, configures, closes
        it) rather than reports meeting it: the sentence holding it, and the message."""
        start, end = finding.span
        low = max(0, start - 200)
        left = max(text.rfind(".", low, start), text.rfind("\n", low, start), low - 1)
        stops = [
            i for i in (text.find(".", end, end + 200), text.find("\n", end, end + 200)) if i != -1
        ]
        right = min([*stops, end + 200])
        if _DISCUSSION.search(text, left + 1, right) is not None:
            return True
        lowered = text.lower()
        if any(word in lowered for word in _RESOLVED_WORDS) and _RESOLVED.search(text):
            return True
        if any(word in lowered for word in _DEFINITION_WORDS) and _DEFINITION.search(text):
            return True
        defined = {m["code"] for m in _COPULA_AFTER_CODE.finditer(text)}
        if len(defined) >= 2:  # a glossary: "10054 is ..., 10053 is ..."
            return True
        if "[" in text and _CONFIG_LIST.search(text):
            return True
        # A list or table of four different errors is a reference, not one failure met.
        return len({f.entry.key for f in findings if f.entry.is_failure}) >= 4

    # ---------------------------------------------------------------- numbers

    def _codes(self, text: str, cues: Mapping[str, float], asked: bool) -> list[Finding]:
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
        line_start = _line_start(text, start)
        line_end = _line_end(text, end)
        before = text[max(line_start, start - 40) : start]
        after = text[end : min(line_end, end + 40)]
        noise_after = _NOISE_AFTER.match(after) and not _REPLY_SENTENCE.match(after)
        bracketed_id = before.endswith("[") and after.startswith("]")
        if noise_after or bracketed_id or _NOISE_BEFORE.search(before):
            return 0.0
        if asked:
            return 0.9
        if _reply_positioned(text[line_start:start], after):
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
        cues: Mapping[str, float],
    ) -> Finding | None:
        readings = self._readings(code, protocol)
        following = text[end : min(_line_end(text, end), end + 120)]
        line_start = _line_start(text, start)
        if (
            protocol is None
            and not any(r.protocol == "ftp" for r in readings)
            and _reply_positioned(text[line_start:start], following)
            and cues["ftp"] > 0
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
                key=lambda e: cues.get(e.protocol, 0) + PROTOCOL_PRIOR[e.protocol],
            )
            if chosen.protocol == "sftp" and len(code.lstrip("-")) <= 2 and cues["sftp"] == 0:
                confidence *= 0.75
            if (
                chosen.protocol != "winsock"
                and cues[chosen.protocol] == 0
                and max(cues.values()) >= 3
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

    def _errno_finding(self, match: re.Match[str], cues: Mapping[str, float]) -> Finding | None:
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

    # ---------------------------------------------------------------- names

    def _symbols_in(self, text: str, cues: Mapping[str, float]) -> list[Finding]:
        findings = []
        known = {}
        for word in set(_SYMBOL.findall(text)):  # distinct words first: most texts have none
            folded = word.casefold()
            entry = self._symbols.get(folded) or self._symbols.get(folded.rpartition(".")[2])
            if entry is not None and (folded not in self._upper_only or word.isupper()):
                known[word] = entry
        if known:
            for match in _SYMBOL.finditer(text):
                word = match.group(0)
                entry = known.get(word)
                if entry is not None:
                    folded = word.casefold()
                    weak = folded if folded in self._symbols else folded.rpartition(".")[2]
                    confidence = 0.6 if weak in self._weak_symbols else 0.9
                    findings.append(
                        Finding(entry, confidence, match.span(), "name", word, (entry,))
                    )
        lowered = text.lower()
        if self._single_titles is not None and any(word in lowered for word in self._words):
            for match in self._single_titles.finditer(text):
                entry = self._words[match["word"].casefold()]
                findings.append(
                    Finding(entry, 0.7, match.span("word"), "name", match["word"], (entry,))
                )
        return findings

    # ---------------------------------------------------------------- phrases

    def _phrases_in(self, text: str, cues: Mapping[str, float], asked: bool) -> list[Finding]:
        cutoff = ASKED_FUZZY_CUTOFF if asked else FUZZY_CUTOFF
        findings = []
        for start, line in _phrase_lines(text):
            norm = normalize(line)
            if not norm:
                continue
            span = (start, start + len(line))
            hits = self._phrase_hits(norm, cutoff)
            for phrase, score in hits:
                if any(
                    phrase.norm in other.norm and phrase is not other and other_score >= 97
                    for other, other_score in hits
                ):
                    continue  # a longer wording found on the same line says it more precisely
                words = len(phrase.norm.split())
                confidence = 0.55 + 0.05 * min(words, 7) - (100 - score) / 100
                if phrase.only_weak:
                    confidence = min(confidence, 0.5)
                findings.append(self._phrase_finding(phrase, confidence, span, cues))
        return findings

    def _phrase_hits(self, norm: str, cutoff: float) -> list[tuple[_Phrase, float]]:
        hits = [(phrase, 100.0) for phrase in self._cjk_phrases if phrase.norm in norm]
        tokens = set(norm.split())
        keys = {_anchor_key(token) for token in tokens}
        candidates = {p for key in keys for p in self._postings.get(key, ())}
        padded = f" {norm} "
        fuzzy: list[_Phrase] = []
        floors: list[float] = []
        for position in sorted(candidates):
            if len(self._anchors[position] & keys) < self._anchors_needed[position]:
                continue
            phrase = self._phrases[position]
            if phrase.exact:
                if f" {phrase.norm} " in padded:
                    hits.append((phrase, 100.0))
            elif len(norm) >= len(phrase.norm) - 4 and phrase.numbers <= tokens:
                fuzzy.append(phrase)
                # A word missing altogether (not mistyped) must be made up for by the rest.
                complete = self._anchors[position] <= keys
                floors.append(phrase.floor if complete else max(phrase.floor, MISSING_WORD_CUTOFF))
        if fuzzy:
            hits += self._fuzzy_hits(norm, fuzzy, floors, cutoff)
        return hits

    @staticmethod
    def _fuzzy_hits(
        norm: str, phrases: list[_Phrase], floors: list[float], cutoff: float
    ) -> list[tuple[_Phrase, float]]:
        """Score all candidates in one call; a short line holding every word of a wording, with
        a host name or path in between, counts as well."""
        choices = [phrase.norm for phrase in phrases]
        scored = {
            index: score
            for _, score, index in process.extract(
                norm, choices, scorer=fuzz.partial_ratio, score_cutoff=cutoff, limit=None
            )
        }
        hits = [
            (phrases[index], float(score))
            for index, score in scored.items()
            if score >= floors[index]
        ]
        rest = [
            index
            for index, phrase in enumerate(phrases)
            if index not in scored and len(norm) <= 2 * len(phrase.norm)
        ]
        if rest:
            whole = process.extract(
                norm,
                [choices[index] for index in rest],
                scorer=fuzz.token_set_ratio,
                score_cutoff=97,
                limit=None,
            )
            hits += [(phrases[rest[position]], float(score)) for _, score, position in whole]
        return hits

    def _phrase_finding(
        self, phrase: _Phrase, confidence: float, span: tuple[int, int], cues: Mapping[str, float]
    ) -> Finding:
        """Pick the reading the text is about; a wording borrowed from another protocol is
        carried over to the entry of the protocol the text is about, when one fits."""
        readings = sorted(
            phrase.entries,
            key=lambda e: (
                e.key in phrase.weak,
                -(cues.get(e.protocol, 0) + PROTOCOL_PRIOR[e.protocol]),
            ),
        )
        chosen = readings[0]
        strongest = max(cues, key=lambda p: cues[p])
        # Socket errors happen under every protocol: no other protocol's cue argues against them.
        if chosen.protocol != "winsock" and cues[chosen.protocol] == 0 and cues[strongest] >= 2:
            twin = self._twin(phrase.norm, strongest)
            if twin is not None:
                chosen, readings = twin, [twin, *readings]
            else:
                confidence *= 0.7
        return Finding(chosen, confidence, span, "phrase", phrase.norm, tuple(readings))

    def _twin(self, norm: str, protocol: str) -> Entry | None:
        """Computed once per (phrase, protocol): it depends on nothing else."""
        key = (norm, protocol)
        if key not in self._twin_cache:
            self._twin_cache[key] = self._find_twin(norm, protocol)
        return self._twin_cache[key]

    def _find_twin(self, norm: str, protocol: str) -> Entry | None:
        best: tuple[Entry | None, float] = (None, 0.0)
        for entry in self.kb.for_protocol(protocol):
            if not entry.is_failure:
                continue
            for wording in (entry.title, *entry.phrases, *entry.names):
                score = fuzz.token_set_ratio(norm, normalize(wording), score_cutoff=90)
                if score > best[1]:
                    best = (entry, score)
        return best[0]


def _ambiguous_errno_name(name: str, entry: Entry) -> bool:
    """EACCES, EINVAL, EBADF...: POSIX names of errors that file systems raise as often as
    sockets (Linux numbers them below 88), so alone they are weak evidence of a socket error."""
    linux = entry.errno.get("linux")
    return name.isupper() and name.startswith("E") and linux is not None and 0 <= linux < 88


def _variants(phrase: str) -> list[str]:
    """A wording, and its head before a parenthesis when that part alone is telling enough."""
    norm = normalize(phrase)
    head = normalize(phrase.split("(", 1)[0])
    if head != norm and len(head.split()) >= 4:
        return [norm, head]
    return [norm] if norm else []


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


def _anchor_keys(norm: str) -> set[str]:
    """Words that lead to a phrase: not stop words, and not numbers (those must match exactly)."""
    return {_anchor_key(t) for t in norm.split() if t not in _STOPWORDS and not t.isdigit()}


def _anchor_key(token: str) -> str:
    return token[:5]


def _phrase_lines(text: str) -> list[tuple[int, str]]:
    """Distinct lines (cut into windows), bounded: for big texts the last and error-ish ones."""
    lines: dict[str, int] = {}
    offset = 0
    for line in text.split("\n"):
        if line.strip() and line not in lines:
            lines[line] = offset
        offset += len(line) + 1
    if len(lines) > MAX_PHRASE_LINES:
        errorish = {m.group(0) for m in _ERRORISH_LINE.finditer(text)}
        keep = [item for item in lines.items() if item[0] in errorish]
        keep = keep[-MAX_PHRASE_LINES // 2 :] + list(lines.items())[-MAX_PHRASE_LINES // 2 :]
        lines = dict(keep)
    windows = []
    for line, start in lines.items():
        if len(line) <= PHRASE_WINDOW:
            windows.append((start, line))
            continue
        step = PHRASE_WINDOW - 80
        for cut in range(0, min(len(line), 20 * step), step):
            windows.append((start + cut, line[cut : cut + PHRASE_WINDOW]))
    return windows


class _Cues(Mapping[str, float]):
    """How often each protocol's cues occur, scanned only once a reading has to be chosen."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._counts: dict[str, float] | None = None

    def _loaded(self) -> dict[str, float]:
        if self._counts is None:
            self._counts = _protocol_cues(self._text)
        return self._counts

    def __getitem__(self, protocol: str) -> float:
        return self._loaded()[protocol]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(_CUE_WORDS)


def _protocol_cues(text: str) -> dict[str, float]:
    counts = dict.fromkeys(_CUE_WORDS, 0.0)
    text = text[:_CUE_SCAN_CHARS]
    for word in _WORD.findall(text):
        lowered = word.lower()
        protocol = _CUE_BY_WORD.get(lowered)
        if protocol is None:
            if word in _CUE_METHODS:
                protocol = "http"
            elif lowered[:3] in _CUE_PREFIX_STARTS:
                protocol = next(
                    (p for start, p in _CUE_PREFIXES if lowered.startswith(start)), None
                )
        if protocol is not None:
            counts[protocol] += 1
    lowered_text = text.lower()
    for cue, protocol in _CUE_STRINGS:
        counts[protocol] += lowered_text.count(cue)
    return counts


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


# How far to look for the ends of a line: a megabyte-long line must not be scanned per number.
_LINE_REACH = 512


def _line_start(text: str, position: int) -> int:
    low = max(0, position - _LINE_REACH)
    found = text.rfind("\n", low, position)
    return found + 1 if found != -1 else low


def _line_end(text: str, position: int) -> int:
    high = position + _LINE_REACH
    found = text.find("\n", position, high)
    return found if found != -1 else min(len(text), high)


def _drop_phrases_on_explained_lines(text: str, findings: list[Finding]) -> list[Finding]:
    """A phrase on the same line as a code is that code's reply text, not a second error."""
    code_lines = {
        _line_start(text, f.span[0])
        for f in findings
        if f.kind in ("code", "errno") and f.confidence >= 0.7 and f.entry.is_failure
    }
    return [
        f for f in findings if f.kind != "phrase" or _line_start(text, f.span[0]) not in code_lines
    ]


def _merge(findings: list[Finding]) -> list[Finding]:
    """One finding per entry: the surest mention, counting how often it was seen. A number and
    a wording that agree ("Error code: 18" and "Directory not empty") are independent evidence
    and count for more than the same one seen twice."""
    best: dict[tuple[str, str], Finding] = {}
    counts: dict[tuple[str, str], int] = defaultdict(int)
    kinds: dict[tuple[str, str], set[str]] = defaultdict(set)
    first: dict[tuple[str, str], tuple[int, int]] = {}
    for finding in findings:
        key = finding.entry.key
        counts[key] += 1
        kinds[key].add("number" if finding.kind in ("code", "errno") else "wording")
        if key not in first or finding.span[0] < first[key][0]:
            first[key] = finding.span
        if key not in best or finding.confidence > best[key].confidence:
            best[key] = finding
    merged = []
    for key, finding in best.items():
        bonus = 0.1 if len(kinds[key]) > 1 else 0.05 if counts[key] > 1 else 0.0
        merged.append(
            replace(
                finding,
                confidence=min(0.99, finding.confidence + bonus),
                span=first[key],
                mentions=counts[key],
            )
        )
    return merged
