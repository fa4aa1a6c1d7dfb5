"""The RxNorm client against a real HTTP server on 127.0.0.1 serving recorded RxNav answers.

Failure modes (slow, dripping, 403, 500, garbage, closed port) must each cost at most the timeout plus a
small margin and end as an unresolved Resolution saying why; answers are cached; requests are paced.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alertsvc.config import Settings
from alertsvc.errors import ConfigError, TerminologyUnavailable
from alertsvc.knowledge.model import Ingredient, OnlineTerminology, Resolution
from alertsvc.knowledge.rxnorm import (
    Candidate,
    ClassMember,
    Concept,
    RxNormClient,
    cache_path_for,
    client_from_settings,
)
from alertsvc.knowledge.rxnorm_cache import AnswerCache, RateLimiter
from tests.knowledge.rxnav_server import RxNavServer, rxnav_server

__all__ = ["rxnav_server"]  # the module-scoped fixture, imported for this module's tests

TIMEOUT = 0.5
MARGIN = 0.35  # scheduling noise on two shared cores; a hang or a retry past the deadline is far more

WARFARIN = Ingredient("11289", "warfarin")
SIMVASTATIN = Ingredient("36567", "simvastatin")
HCTZ = Ingredient("5487", "hydrochlorothiazide")
LISINOPRIL = Ingredient("29046", "lisinopril")
ATENOLOL = Ingredient("1202", "atenolol")


@pytest.fixture
def server(rxnav_server: RxNavServer) -> RxNavServer:
    rxnav_server.clear()
    return rxnav_server


@pytest.fixture
def client(server: RxNavServer) -> Iterator[RxNormClient]:
    with RxNormClient(server.url(), timeout=TIMEOUT, backoff=0.05) as c:
        yield c


def timed_resolve(client: RxNormClient, term: str) -> tuple[Resolution, float]:
    started = time.monotonic()
    resolution = client.resolve(term)
    return resolution, time.monotonic() - started


# ----- endpoints ----------------------------------------------------------------------------------


def test_rxcui_by_name_exact_and_normalised(client: RxNormClient) -> None:
    assert client.rxcui_by_name("warfarin") == ("11289",)
    assert client.rxcui_by_name("hctz", search=0) == ()
    assert client.rxcui_by_name("hctz", search=1) == ("5487",)


@pytest.mark.parametrize("ndc", ["0781-1506-10", "00781150610"])
def test_rxcui_by_ndc(client: RxNormClient, ndc: str) -> None:
    assert client.rxcui_by_ndc(ndc) == ("197381",)


def test_approximate_candidates_best_rank_first(client: RxNormClient) -> None:
    candidates = client.approximate("zoco")
    assert candidates[0] == Candidate("196503", 1, pytest.approx(10.566277503967285), "Zocor")
    assert [c.rank for c in candidates] == sorted(c.rank for c in candidates)
    assert client.approximate("xqzt") == ()


def test_related_and_all_related(client: RxNormClient) -> None:
    related = client.related("855332")
    assert Concept("11289", "warfarin", "IN") in related
    assert Concept("114194", "warfarin sodium", "PIN") in related
    everything = client.all_related("855332")
    assert Concept("855332", "warfarin sodium 5 MG Oral Tablet", "SCD") in everything
    assert Concept("317541", "Oral Tablet", "DF") in everything
    assert Concept("405155", "Jantoven", "BN") in everything


def test_properties(client: RxNormClient) -> None:
    assert client.properties("36567") == Concept("36567", "simvastatin", "IN")
    assert client.properties("99999999") is None


def test_rxclass_classes_and_members(client: RxNormClient) -> None:
    (membership,) = client.classes_of("29046", "ATC")
    assert (membership.class_id, membership.class_name, membership.class_type) == (
        "C09AA",
        "ACE inhibitors, plain",
        "ATC1-4",
    )
    assert membership.drug == Concept("29046", "lisinopril", "IN")
    assert membership.rela_source == "ATC"
    assert client.classes_of("99999999", "ATC") == ()
    members = client.class_members("C09AA", "ATC")
    assert len(members) == 10
    assert ClassMember(Concept("29046", "lisinopril", "IN"), "C09AA03", "DIRECT") in members
    assert client.class_members("Z99ZZ", "ATC") == ()


# ----- resolve ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        pytest.param("warfarin", (WARFARIN,), id="name-exact-ingredient"),
        pytest.param("Zocor", (SIMVASTATIN,), id="brand-exact"),
        pytest.param("hctz", (HCTZ,), id="abbreviation-normalised"),
        pytest.param("zoco", (SIMVASTATIN,), id="misspelt-brand-approximate"),
        pytest.param("855332", (WARFARIN,), id="rxcui-clinical-drug"),
        pytest.param("114194", (WARFARIN,), id="rxcui-salt-to-ingredient"),
        pytest.param("36567", (SIMVASTATIN,), id="rxcui-ingredient-itself"),
        pytest.param("197885", (HCTZ, LISINOPRIL), id="rxcui-combination-product"),
        pytest.param("0781-1506-10", (ATENOLOL,), id="ndc-hyphenated"),
        pytest.param(" 00781150610 ", (ATENOLOL,), id="ndc-11-digits"),
    ],
)
def test_resolve_to_ingredients(client: RxNormClient, term: str, expected: tuple[Ingredient, ...]) -> None:
    assert client.resolve(term) == Resolution(term, expected, via="rxnav")


@pytest.mark.parametrize(
    ("term", "reason"),
    [
        pytest.param("xqzt", "finds no drug named 'xqzt'", id="unknown-name"),
        pytest.param("99999999", "RxCUI 99999999 is not an active RxNorm concept", id="unknown-rxcui"),
        pytest.param("99999-9999-99", "no product with NDC 99999-9999-99", id="unknown-ndc"),
        pytest.param("   ", "empty term", id="empty"),
        pytest.param("warf\ud800rin", "not valid Unicode", id="lone-surrogate"),
    ],
)
def test_resolve_unknown_says_why(client: RxNormClient, term: str, reason: str) -> None:
    resolution = client.resolve(term)
    assert resolution.ingredients == ()
    assert resolution.via == "rxnav"
    assert resolution.unresolved is not None and reason in resolution.unresolved


def test_client_is_an_online_terminology(client: RxNormClient) -> None:
    terminology: OnlineTerminology = client
    assert terminology.resolve("warfarin").ingredients == (WARFARIN,)


# ----- failures cost at most the timeout ----------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "reason", "requests"),
    [
        pytest.param("slow", f"did not answer rxcui.json within {TIMEOUT:g} s", 1, id="slow-server"),
        pytest.param("drip", f"did not answer rxcui.json within {TIMEOUT:g} s", 1, id="dripping-server"),
        pytest.param("trickle", f"did not answer rxcui.json within {TIMEOUT:g} s", 1, id="trickling-headers"),
        pytest.param("forbidden", "HTTP 403", 1, id="rate-limited-403"),
        pytest.param("error", "RxNav failed 3 times on rxcui.json: HTTP 500", 3, id="server-error-500"),
        pytest.param("garbage", "something that is not JSON", 1, id="garbage-json"),
        pytest.param("shape", "unexpected shape (idGroup is a list", 1, id="wrong-shape-json"),
    ],
)
def test_failure_is_unresolved_within_the_timeout(
    server: RxNavServer, mode: str, reason: str, requests: int
) -> None:
    with RxNormClient(server.url(mode), timeout=TIMEOUT, backoff=0.05) as client:
        resolution, elapsed = timed_resolve(client, "warfarin")
    assert resolution.ingredients == ()
    assert resolution.unresolved is not None and reason in resolution.unresolved, resolution.unresolved
    assert elapsed < TIMEOUT + MARGIN
    assert server.count(mode=mode) == requests


def test_dripping_server_is_cut_by_the_deadline_on_a_direct_call(server: RxNavServer) -> None:
    with RxNormClient(server.url("drip"), timeout=TIMEOUT) as client:
        started = time.monotonic()
        with pytest.raises(TerminologyUnavailable, match="did not answer"):
            client.all_related("855332")
        assert time.monotonic() - started < TIMEOUT + MARGIN


def test_closed_port_is_unresolved_within_the_timeout(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with RxNormClient(f"http://127.0.0.1:{port}/REST", timeout=TIMEOUT, backoff=0.05) as client:
        resolution, elapsed = timed_resolve(client, "warfarin")
    assert resolution.unresolved is not None and "cannot connect" in resolution.unresolved
    assert "failed 3 times" in resolution.unresolved
    assert elapsed < TIMEOUT + MARGIN


def test_500_then_200_succeeds_on_retry(server: RxNavServer) -> None:
    with RxNormClient(server.url("flaky"), timeout=2.0, backoff=0.05) as client:
        resolution = client.resolve("warfarin")
    assert resolution == Resolution("warfarin", (WARFARIN,), via="rxnav")
    # rxcui.json, related of warfarin, related of warfarin sodium: each failed once, then answered
    assert server.count(mode="flaky") == 6


def test_403_backs_off_without_asking_again(server: RxNavServer) -> None:
    with RxNormClient(server.url("forbidden"), timeout=TIMEOUT, cool_down=30.0) as client:
        first = client.resolve("warfarin")
        second, elapsed = timed_resolve(client, "Zocor")
    assert first.unresolved is not None and "HTTP 403" in first.unresolved
    assert second.unresolved is not None and "not asking again" in second.unresolved
    assert server.count(mode="forbidden") == 1
    assert elapsed < MARGIN


# ----- cache --------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_cache_answers_a_second_call_and_refetches_when_expired(server: RxNavServer, tmp_path: Path) -> None:
    wall = FakeClock()
    cache = AnswerCache(tmp_path / "rxnav-cache.db", ttl=3600.0, clock=wall)
    with RxNormClient(server.url(), timeout=TIMEOUT, cache=cache) as client:
        first = client.resolve("warfarin")
        fetched = server.count()
        assert fetched == 3 and first.ingredients == (WARFARIN,)
        assert client.resolve("warfarin") == first
        assert server.count() == fetched  # no request: all from the cache
        wall.now += 3599.0
        client.resolve("warfarin")
        assert server.count() == fetched
        wall.now += 1.0
        assert client.resolve("warfarin") == first
        assert server.count() == 2 * fetched  # expired: fetched again


def test_cache_survives_a_new_client_and_keeps_no_failures(server: RxNavServer, tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    with RxNormClient(server.url("garbage"), timeout=TIMEOUT, cache=AnswerCache(path, 60.0)) as client:
        client.resolve("warfarin")
        client.resolve("warfarin")
    assert server.count(mode="garbage") == 2  # a garbled answer is not cached
    with RxNormClient(server.url(), timeout=TIMEOUT, cache=AnswerCache(path, 60.0)) as client:
        client.resolve("Zocor")
    assert server.count(mode="") == 2  # rxcui.json?name=Zocor, then related.json of its RxCUI
    with RxNormClient(server.url(), timeout=TIMEOUT, cache=AnswerCache(path, 60.0)) as client:
        assert client.resolve("Zocor").ingredients == (SIMVASTATIN,)
    # The concept's answer came from the file; the name, which someone wrote, was kept in memory only.
    assert [r.path for r in server.requests if r.mode == ""][2:] == ["rxcui.json"]


def test_an_unreadable_cache_is_a_miss_not_a_failure(server: RxNavServer, tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    path.write_bytes(b"this is not an SQLite database\n" * 200)
    with RxNormClient(server.url(), timeout=TIMEOUT, cache=AnswerCache(path, 60.0)) as client:
        assert client.resolve("Zocor").ingredients == (SIMVASTATIN,)
        assert client.resolve("Zocor").ingredients == (SIMVASTATIN,)
    # rxcui.json once (its answer, to a name, is kept in memory), related.json twice: the file failed
    assert [r.path for r in server.requests] == ["rxcui.json", *["rxcui/196503/related.json"] * 2]


def test_only_answers_naming_a_public_concept_reach_the_cache_file(
    server: RxNavServer, tmp_path: Path
) -> None:
    """Names, NDCs and approximate terms (what someone wrote) stay in memory until forgotten; an RxCUI
    that names no concept is not kept at all; answers about RxNorm's own concepts go to the file."""
    cache = AnswerCache(tmp_path / "cache.db", ttl=3600.0)
    terms = ["xqzt", "zoco", "0781-1506-10", "99999999"]

    def asked(run: Callable[[], object]) -> list[str]:
        before = len(server.requests)
        run()
        return [r.path for r in server.requests[before:]]

    unknown = ["rxcui/99999999/related.json", "rxcui/99999999/properties.json"]
    by_term = ["rxcui.json", "rxcui.json", "approximateTerm.json"]
    with RxNormClient(server.url(), timeout=TIMEOUT, cache=cache) as client:
        first = [client.resolve(t) for t in terms]
        again = asked(lambda: [client.resolve(t) for t in terms])
        stored = b"".join(p.read_bytes() for p in tmp_path.iterdir()).lower()
        assert cache.forget_terms() == 7
        forgotten = asked(lambda: [client.resolve(t) for t in terms])
    assert first[1].ingredients == (SIMVASTATIN,) and first[0].unresolved and first[3].unresolved
    assert again == unknown  # everything else was cached
    assert forgotten == [*by_term, *by_term, "rxcui.json", *unknown]  # concepts' answers from the file
    for written in (b"xqzt", b"zoco", b"0781-1506-10", b"99999999"):
        assert written not in stored
    assert b"simvastatin" in stored and b"/rxcui/196503/related.json" in stored


def test_cache_from_many_threads(server: RxNavServer, tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path / "cache.db", ttl=60.0)
    terms = ["warfarin", "Zocor", "hctz", "855332", "197885", "0781-1506-10"] * 4
    with (
        RxNormClient(server.url(), timeout=5.0, cache=cache) as client,
        ThreadPoolExecutor(max_workers=4) as pool,
    ):
        results = list(pool.map(client.resolve, terms))
    assert all(r.unresolved is None for r in results), [r.unresolved for r in results]
    assert results[0].ingredients == (WARFARIN,) and results[-1].ingredients == (ATENOLOL,)


# ----- rate limit ---------------------------------------------------------------------------------


def most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t - start < window) for i, start in enumerate(times))


def test_a_burst_of_30_calls_is_spread_to_20_per_second(server: RxNavServer) -> None:
    with RxNormClient(server.url(), timeout=5.0) as client, ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: client.rxcui_by_name("warfarin"), range(30)))
    assert answers == [("11289",)] * 30
    arrivals = [r.at for r in server.requests]
    assert len(arrivals) == 30
    # 0.9 s rather than 1 s leaves room for jitter between the client's clock and the arrivals
    assert most_in_any_window(arrivals, 0.9) <= 20
    assert max(arrivals) - min(arrivals) >= 0.9


def test_rate_limiter_with_an_injected_clock() -> None:
    clock = FakeClock()
    limiter = RateLimiter(20, 1.0, clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(30):
        limiter.acquire(budget=10.0)
        sent.append(clock.now)
    assert sent[:20] == [sent[0]] * 20
    assert sent[20] - sent[0] == pytest.approx(1.0)
    assert most_in_any_window(sent, 1.0) == 20


def test_rate_limiter_refuses_a_wait_past_the_budget_and_during_a_cool_down() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, 1.0, clock=clock, sleep=clock.sleep)
    limiter.acquire(0.0)
    limiter.acquire(0.0)
    with pytest.raises(TerminologyUnavailable, match="past its deadline"):
        limiter.acquire(0.5)
    assert clock.now == 1_000_000.0  # refused at once, without sleeping
    clock.now += 1.0
    limiter.cool_down(2.0)
    with pytest.raises(TerminologyUnavailable, match="HTTP 403"):
        limiter.acquire(10.0)
    clock.now += 2.0
    limiter.acquire(0.0)


def test_one_callers_wait_does_not_hold_up_another() -> None:
    limiter = RateLimiter(1, 0.5)
    limiter.acquire(0.0)
    waiter = threading.Thread(target=limiter.acquire, args=(5.0,))  # reserves the next slot, sleeps 0.5 s
    waiter.start()
    time.sleep(0.05)
    started = time.monotonic()
    with pytest.raises(TerminologyUnavailable, match="past its deadline"):
        limiter.acquire(0.1)  # its slot would be a whole period after the waiter's
    assert time.monotonic() - started < 0.1
    waiter.join()


# ----- configuration ------------------------------------------------------------------------------


def test_client_from_settings(tmp_path: Path) -> None:
    offline = Settings(db_path=tmp_path / "alertsvc.db")
    assert client_from_settings(offline) is None
    online = Settings(
        db_path=tmp_path / "alertsvc.db", rxnav_url="http://127.0.0.1:4000/REST", rxnav_timeout=1.5
    )
    client = client_from_settings(online)
    assert client is not None
    with client:
        assert client.base_url == "http://127.0.0.1:4000/REST"
        assert client.timeout == 1.5
        assert client.cache is not None and client.cache.path == tmp_path / "alertsvc.rxnav-cache.db"
        assert client.cache.ttl == online.rxnav_cache_ttl
    assert cache_path_for(Path("/var/lib/alertsvc/service.db")) == Path(
        "/var/lib/alertsvc/service.rxnav-cache.db"
    )


@pytest.mark.parametrize("url", ["rxnav.nlm.nih.gov/REST", "ftp://example.org/REST", "http://"])
def test_bad_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="not an http"):
        RxNormClient(url)


# ----- never raises -------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(term=st.one_of(st.text(max_size=30), st.from_regex(r"\d{1,12}", fullmatch=True)))
def test_resolve_never_raises(server: RxNavServer, term: str) -> None:
    with RxNormClient(server.url(), timeout=TIMEOUT, max_per_second=1000) as client:
        resolution = client.resolve(term)
    assert resolution.term == term and resolution.via == "rxnav"
    assert (resolution.unresolved is None) == bool(resolution.ingredients)
