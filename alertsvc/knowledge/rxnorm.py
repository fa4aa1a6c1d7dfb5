"""RxNorm client: asks an RxNav REST server (public RxNav or a hospital's RxNav-in-a-Box) what a drug is.

The offline terminology resolves most terms from ``data/``; this client is what it may ask about the rest.
``client_from_settings`` builds it from ``Settings.rxnav_url`` (empty means offline: no client at all).

Every look-up is bounded: one ``resolve()`` (several requests, retries included) or one endpoint call
costs at most ``timeout`` seconds, then gives up. requests' own timeouts bound each socket read, not the
whole call (a server dripping one byte at a time would hold it for ever), so a watchdog shuts the socket
down at the deadline (see ``alertsvc.deadline_http``). Failures inside the client raise
``TerminologyUnavailable``; ``resolve()`` turns them into an unresolved ``Resolution`` saying why.

Requests go out at most 20 per second (RxNav's terms), 5xx answers and refused connections are retried
with exponential backoff while time remains, a 403 (rate limit exceeded) stops all requests for a
cool-down, and answers are cached with a time-to-live (see ``rxnorm_cache``): answers about a public
RxNorm concept (keyed by an RxCUI or class id, and naming one) in SQLite; answers to a term someone wrote
(a name, an NDC, an approximate match) in memory only, until ``forget_terms()`` (every purge).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from contextlib import closing
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import requests
from urllib3.exceptions import HTTPError as Urllib3Error

from alertsvc.config import Settings
from alertsvc.deadline_http import Watchdog, watched_session
from alertsvc.errors import ConfigError, TerminologyUnavailable, UnknownDrug
from alertsvc.knowledge.model import Ingredient, Resolution
from alertsvc.knowledge.rxnav_json import (
    RXCUI_PATTERN,
    Candidate,
    ClassMember,
    ClassMembership,
    Concept,
    parse_approximate,
    parse_class_members,
    parse_classes,
    parse_concept_groups,
    parse_id_group,
    parse_properties,
)
from alertsvc.knowledge.rxnorm_cache import AnswerCache, RateLimiter

__all__ = [
    "Candidate",
    "ClassMember",
    "ClassMembership",
    "Concept",
    "RxNormClient",
    "cache_path_for",
    "client_from_settings",
]


MAX_ANSWER_BYTES = 8 * 1024 * 1024
"""Larger answers are refused: no RxNav answer a normaliser asks for comes near this."""

T = TypeVar("T")

_NDC = re.compile(r"^(\d{11}|\d{4}-\d{4}-\d{2}|\d{5}-\d{3}-\d{2}|\d{5}-\d{4}-\d{1,2})$")
_RXCUI = RXCUI_PATTERN


class _Retryable(Exception):
    """An attempt failed in a way worth trying again (5xx, connection refused or reset)."""


class RxNormClient:
    """A client of one RxNav REST base URL; implements ``model.OnlineTerminology``.

    ``clock`` and ``sleep`` drive the rate limiter only; deadlines always use ``time.monotonic`` because
    the network they bound is real. Close the client (or use it as a context manager) when done.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 3.0,
        connect_timeout: float = 1.0,
        cache: AnswerCache | None = None,
        max_per_second: int = 20,
        retries: int = 2,
        backoff: float = 0.1,
        cool_down: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"RxNav URL {base_url!r} is not an http(s) URL")
        if timeout <= 0:
            raise ConfigError(f"RxNav timeout must be positive, not {timeout}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.cache = cache
        self.retries = retries
        self.backoff = backoff
        self.cool_down_seconds = cool_down
        self.limiter = RateLimiter(max_per_second, 1.0, clock=clock, sleep=sleep)
        self._session = session or watched_session()
        self._session.headers.update({"Accept": "application/json", "User-Agent": "alertsvc-rxnorm-client"})

    def __enter__(self) -> RxNormClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session and the cache's connections."""
        self._session.close()
        if self.cache is not None:
            self.cache.close()

    def forget_terms(self) -> None:
        """Forget every cached answer to a term someone wrote (the service calls this at each purge)."""
        if self.cache is not None:
            self.cache.forget_terms()

    # ----- endpoints ------------------------------------------------------------------------------
    # Each takes an optional ``deadline`` (a time.monotonic() value) so that resolve() can share one
    # deadline between its requests; by default each call gets ``timeout`` seconds of its own.

    def rxcui_by_name(self, name: str, search: int = 0, *, deadline: float | None = None) -> tuple[str, ...]:
        """RxCUIs of active concepts named ``name``: search 0 exact, 1 normalised, 2 exact then normalised."""
        params = {"name": name, "search": str(search)}
        return self._get("rxcui.json", params, deadline, lambda d: parse_id_group(d, "rxcui.json"))

    def rxcui_by_ndc(self, ndc: str, *, deadline: float | None = None) -> tuple[str, ...]:
        """RxCUIs of the product with National Drug Code ``ndc`` (11 digits or a hyphenated form)."""
        params = {"idtype": "NDC", "id": ndc}
        return self._get("rxcui.json", params, deadline, lambda d: parse_id_group(d, "rxcui.json?idtype=NDC"))

    def approximate(
        self, term: str, max_entries: int = 5, *, deadline: float | None = None
    ) -> tuple[Candidate, ...]:
        """Approximate matches of ``term`` in active concepts, best-ranked first."""
        params = {"term": term, "maxEntries": str(max_entries), "option": "1"}
        return self._get("approximateTerm.json", params, deadline, parse_approximate)

    def related(
        self, rxcui: str, ttys: tuple[str, ...] = ("IN", "PIN", "MIN"), *, deadline: float | None = None
    ) -> tuple[Concept, ...]:
        """Concepts of term types ``ttys`` related to ``rxcui`` (getRelatedByType)."""
        path = f"rxcui/{_checked_rxcui(rxcui)}/related.json"
        parse = partial(parse_concept_groups, group_key="relatedGroup", what=path)
        return self._get(path, {"tty": " ".join(ttys)}, deadline, parse, concept=True)

    def all_related(self, rxcui: str, *, deadline: float | None = None) -> tuple[Concept, ...]:
        """Every concept related to ``rxcui`` by RxNav's default paths, the concept itself included."""
        path = f"rxcui/{_checked_rxcui(rxcui)}/allrelated.json"
        parse = partial(parse_concept_groups, group_key="allRelatedGroup", what=path)
        return self._get(path, {}, deadline, parse, concept=True)

    def properties(self, rxcui: str, *, deadline: float | None = None) -> Concept | None:
        """Name and term type of ``rxcui``, or None when it is not an active concept."""
        path = f"rxcui/{_checked_rxcui(rxcui)}/properties.json"
        return self._get(path, {}, deadline, lambda d: parse_properties(d, path), concept=True)

    def classes_of(
        self, rxcui: str, rela_source: str = "", *, deadline: float | None = None
    ) -> tuple[ClassMembership, ...]:
        """RxClass classes directly containing ``rxcui`` (optionally from one source, e.g. "ATC")."""
        params = {"rxcui": _checked_rxcui(rxcui)}
        if rela_source:
            params["relaSource"] = rela_source
        return self._get("rxclass/class/byRxcui.json", params, deadline, parse_classes, concept=True)

    def class_members(
        self, class_id: str, rela_source: str, *, deadline: float | None = None
    ) -> tuple[ClassMember, ...]:
        """Drug members of RxClass class ``class_id`` as asserted by ``rela_source``."""
        params = {"classId": class_id, "relaSource": rela_source}
        return self._get("rxclass/classMembers.json", params, deadline, parse_class_members, concept=True)

    # ----- OnlineTerminology ----------------------------------------------------------------------

    def resolve(self, term: str, *, deadline: float | None = None) -> Resolution:
        """Ingredients of ``term`` (RxCUI, NDC or name) according to RxNav, or unresolved with the reason.

        All digits is an RxCUI; 11 digits or a hyphenated NDC is an NDC; anything else is a name, tried
        exact, then normalised, then approximately (best-ranked candidate). Never raises for a slow, dead,
        rate-limiting or garbled server: the whole look-up costs at most ``timeout`` seconds, and ends by
        ``deadline`` (a time.monotonic() value: a request's deadline for all its look-ups) if that is sooner.
        """
        text = term.strip()
        if not text:
            return Resolution(term, (), unresolved="empty term", via="rxnav")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return Resolution(term, (), unresolved="term is not valid Unicode text", via="rxnav")
        own = time.monotonic() + self.timeout
        deadline = own if deadline is None else min(own, deadline)
        try:
            rxcui = self._concept_for(text, deadline)
            ingredients = self._ingredients_of(rxcui, deadline)
        except (TerminologyUnavailable, UnknownDrug) as exc:
            return Resolution(term, (), unresolved=str(exc), via="rxnav")
        return Resolution(term, ingredients, via="rxnav")

    def _concept_for(self, text: str, deadline: float) -> str:
        if _NDC.match(text):
            found = self.rxcui_by_ndc(text, deadline=deadline)
            if not found:
                raise UnknownDrug(f"RxNav knows no product with NDC {text}")
            return found[0]
        if _RXCUI.match(text):
            return text
        for search in (0, 1):
            found = self.rxcui_by_name(text, search, deadline=deadline)
            if found:
                return found[0]
        candidates = self.approximate(text, deadline=deadline)
        if not candidates:
            raise UnknownDrug(f"RxNav finds no drug named {text!r}, exactly, normalised or approximately")
        return min(candidates, key=lambda c: c.rank).rxcui

    def _ingredients_of(self, rxcui: str, deadline: float) -> tuple[Ingredient, ...]:
        related = self.related(rxcui, deadline=deadline)
        ingredients = {c.rxcui: c for c in related if c.tty == "IN"}
        if not ingredients:
            # A salt (PIN) relates to its ingredient; an ingredient has no IN besides itself.
            for salt in (c for c in related if c.tty == "PIN"):
                for c in self.related(salt.rxcui, ("IN",), deadline=deadline):
                    ingredients.setdefault(c.rxcui, c)
        if not ingredients:
            concept = self.properties(rxcui, deadline=deadline)
            if concept is None:
                raise UnknownDrug(f"RxCUI {rxcui} is not an active RxNorm concept")
            if concept.tty == "IN":
                ingredients[concept.rxcui] = concept
            elif concept.tty == "PIN":
                for c in self.related(rxcui, ("IN",), deadline=deadline):
                    ingredients.setdefault(c.rxcui, c)
            if not ingredients:
                raise UnknownDrug(f"RxCUI {rxcui} ({concept.name}, {concept.tty}) has no RxNorm ingredient")
        return tuple(
            sorted((Ingredient(c.rxcui, c.name.lower()) for c in ingredients.values()), key=lambda i: i.name)
        )

    # ----- transport ------------------------------------------------------------------------------

    def _get(
        self,
        path: str,
        params: Mapping[str, str],
        deadline: float | None,
        parse: Callable[[Any], T],
        *,
        concept: bool = False,
    ) -> T:
        """``parse`` of the JSON answer to GET ``path?params``: from the cache, or fetched within the
        deadline. ``concept``: the request is keyed by a public concept (an RxCUI or class id), not by
        a term someone wrote; its answer is kept on disk only when it names a concept (see rxnorm_cache).
        """
        if deadline is None:
            deadline = time.monotonic() + self.timeout
        url = f"{self.base_url}/{path}"
        key = f"{url}?{urlencode(sorted(params.items()))}"
        if self.cache is not None:
            cached = self.cache.get(key, concept=concept)
            if cached is not None:
                return parse(_parse_json(cached.encode(), path))
        attempts = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TerminologyUnavailable(f"RxNav did not answer {path} within {self.timeout:g} s")
            self.limiter.acquire(remaining)
            attempts += 1
            try:
                body = self._fetch(url, path, params, deadline)
            except _Retryable as exc:
                failure = str(exc)
            else:
                data = _parse_json(body, path)
                parsed = parse(data)  # an answer in a shape RxNav never sends is refused, not cached
                if self.cache is not None and (parsed or not concept):
                    self.cache.put(key, json.dumps(data), concept=concept)
                return parsed
            if attempts > self.retries:
                raise TerminologyUnavailable(f"RxNav failed {attempts} times on {path}: {failure}")
            pause = self.backoff * 2 ** (attempts - 1)
            if time.monotonic() + pause >= deadline:
                raise TerminologyUnavailable(
                    f"RxNav failed on {path} ({failure}); no time left to retry within {self.timeout:g} s"
                )
            time.sleep(pause)

    def _fetch(self, url: str, path: str, params: Mapping[str, str], deadline: float) -> bytes:
        """One attempt: the body of a 200 answer, cut off by the watchdog when the deadline passes."""
        late = TerminologyUnavailable(f"RxNav did not answer {path} within {self.timeout:g} s")
        with Watchdog(deadline) as watchdog:
            try:
                return self._attempt(url, path, params, deadline)
            except _Retryable as exc:
                if watchdog.expired or time.monotonic() >= deadline:
                    raise late from exc
                raise
            finally:
                if watchdog.expired:  # whatever was read, the answer may be cut short: refuse it
                    raise late

    def _attempt(self, url: str, path: str, params: Mapping[str, str], deadline: float) -> bytes:
        remaining = deadline - time.monotonic()
        try:
            response = self._session.get(
                url,
                params=dict(params),
                timeout=(min(self.connect_timeout, remaining), remaining),
                stream=True,
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise TerminologyUnavailable(f"RxNav did not answer {path} within {self.timeout:g} s") from exc
        except requests.ConnectionError as exc:
            raise _Retryable(f"cannot connect to {self.base_url} ({_root_cause(exc)})") from exc
        except requests.RequestException as exc:
            raise TerminologyUnavailable(f"request for {path} failed ({_root_cause(exc)})") from exc
        with closing(response):
            status = response.status_code
            if status == 403:
                self.limiter.cool_down(self.cool_down_seconds)
                raise TerminologyUnavailable(
                    f"RxNav refused {path} with HTTP 403 (over its rate limit); "
                    f"not asking again for {self.cool_down_seconds:g} s"
                )
            if status >= 500:
                raise _Retryable(f"HTTP {status}")
            if status != 200:
                raise TerminologyUnavailable(f"RxNav answered {path} with HTTP {status}")
            chunks: list[bytes] = []
            size = 0
            while chunk := self._read_some(response, path):
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise TerminologyUnavailable(f"RxNav's answer to {path} is over {MAX_ANSWER_BYTES} bytes")
                chunks.append(chunk)
            return b"".join(chunks)

    @staticmethod
    def _read_some(response: requests.Response, path: str) -> bytes:
        try:
            return response.raw.read1(65536)
        except (Urllib3Error, OSError) as exc:
            raise _Retryable(f"connection broken while reading {path} ({exc})") from exc


def client_from_settings(settings: Settings) -> RxNormClient | None:
    """The RxNav client ``settings`` ask for, or None when ``rxnav_url`` is empty (offline only).

    Its cache lives next to the service database, in ``<db name>.rxnav-cache.db``.
    """
    if not settings.rxnav_url.strip():
        return None
    cache_path = cache_path_for(settings.db_path)
    return RxNormClient(
        settings.rxnav_url.strip(),
        timeout=settings.rxnav_timeout,
        cache=AnswerCache(cache_path, ttl=settings.rxnav_cache_ttl),
    )


def cache_path_for(db_path: Path) -> Path:
    """Where the RxNav answer cache of the service database ``db_path`` lives."""
    return db_path.with_name(f"{db_path.stem}.rxnav-cache.db")


def _checked_rxcui(rxcui: str) -> str:
    if not _RXCUI.match(rxcui):
        raise UnknownDrug(f"{rxcui!r} is not an RxCUI (digits only)")
    return rxcui


def _parse_json(body: bytes, path: str) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TerminologyUnavailable(
            f"RxNav answered {path} with something that is not JSON ({exc})"
        ) from exc


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return str(exc) or type(exc).__name__
