"""When the nightly summary is due (`summarize.due`, pure): the slot passing, DST gaps and repeated hours in
Berlin and New York, a machine asleep through the slot, a daemon down for days, failure backoff, and
"exactly once" however often the cron job and the catch-up timer ask, and a summary made while its day was
still going not counting as the final one. Some records come from `summarize.summarize` itself, so the two
agree on what a record means."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fixtures_openclaw import assistant, dumps, user

from memory_syncd import summarize
from memory_syncd.config import LLMConfig
from memory_syncd.content import assemble as content
from memory_syncd.errors import LLMUnavailable
from memory_syncd.write import narratives

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"
# (zone, spring-forward day, the hour that is missing, fall-back day, the hour that repeats)
TRANSITIONS = [(BERLIN, date(2026, 3, 29), time(2, 30), date(2026, 10, 25), time(2, 30)),
               (NEW_YORK, date(2026, 3, 8), time(2, 30), date(2026, 11, 1), time(1, 30))]


def local(zone: str, text: str, fold: int = 0) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone), fold=fold)


def shift(when: datetime, **delta: float) -> datetime:
    """`when` moved by real elapsed time (aware arithmetic in Python moves the wall clock instead)."""
    return (when.astimezone(UTC) + timedelta(**delta)).astimezone(when.tzinfo)


def days(first: str, last: str) -> set[date]:
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return {a + timedelta(days=i) for i in range((b - a).days + 1)}


class Records:
    """Per-day records as `summarize` keeps them, in memory."""

    def __init__(self) -> None:
        self.by_day: dict[date, dict[str, Any]] = {}

    def __call__(self, day: date) -> dict[str, Any] | None:
        return self.by_day.get(day)

    def ok(self, day: date, now: datetime) -> None:
        self.by_day[day] = {"hash": "h", "text": "summary", "error": None, "at": now.timestamp()}

    def failed(self, day: date, now: datetime) -> None:
        old = self.by_day.get(day) or {}
        self.by_day[day] = {"hash": None, "text": None, "error": "529", "attempts": old.get("attempts", 0) + 1,
                            "at": now.timestamp()}


def due(now: datetime, slot: str, have: set[date], records: Records | None = None) -> list[date]:
    hh, mm = slot.split(":")
    return summarize.due(now, time(int(hh), int(mm)), have, records or Records())


# --- the slot ---


@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK, "UTC"])
def test_yesterday_is_due_from_the_slot_on(zone: str) -> None:
    have = days("2026-06-10", "2026-06-15")
    assert due(local(zone, "2026-06-15T02:59:59"), "03:00", have) == [date(2026, 6, 11), date(2026, 6, 12),
                                                                        date(2026, 6, 13)]
    assert due(local(zone, "2026-06-15T03:00:00"), "03:00", have) == [date(2026, 6, 12), date(2026, 6, 13),
                                                                        date(2026, 6, 14)]
    assert due(local(zone, "2026-06-15T23:59:59"), "03:00", have)[-1] == date(2026, 6, 14)  # never today


def test_days_without_messages_are_never_due() -> None:
    now = local(BERLIN, "2026-06-15T09:00")
    assert due(now, "03:00", set()) == []
    assert due(now, "03:00", {date(2026, 6, 13)}) == [date(2026, 6, 13)]
    assert due(now, "03:00", {date(2026, 6, 15), date(2026, 6, 16)}) == []  # today, and a clock gone wrong


@pytest.mark.parametrize(("zone", "spring", "missing", "fall", "repeated"), TRANSITIONS)
def test_a_slot_in_the_missing_hour_fires_once_the_clock_is_past_it(zone: str, spring: date, missing: time,
                                                                    fall: date, repeated: time) -> None:
    z = ZoneInfo(zone)
    slot = missing.strftime("%H:%M")
    eve = spring - timedelta(days=1)
    have = {eve}
    # Walk real time across the gap: the last standard-time second, then the first summer-time one.
    gap_utc = datetime.combine(spring, time(missing.hour)).replace(tzinfo=z).astimezone(UTC)  # fold 0: before
    before = (gap_utc - timedelta(seconds=1)).astimezone(z)
    after = gap_utc.astimezone(z)
    assert before.time() < time(missing.hour) and after.time() >= time(missing.hour + 1), (before, after)
    assert due(before, slot, have) == []
    assert due(after, slot, have) == [eve]
    assert due(after, "03:30", have) == []  # a slot after the gap: not yet


@pytest.mark.parametrize(("zone", "spring", "missing", "fall", "repeated"), TRANSITIONS)
def test_a_slot_in_the_repeated_hour_summarizes_once(zone: str, spring: date, missing: time, fall: date,
                                                     repeated: time) -> None:
    slot = repeated.strftime("%H:%M")
    eve = fall - timedelta(days=1)
    first = local(zone, f"{fall}T{slot}", fold=0)
    second = local(zone, f"{fall}T{slot}", fold=1)
    assert second.timestamp() - first.timestamp() == 3600  # the same wall time, an hour later
    records = Records()
    assert due(shift(first, minutes=-1), slot, {eve}, records) == []
    assert due(first, slot, {eve}, records) == [eve]
    records.ok(eve, first)
    assert due(second, slot, {eve}, records) == []  # APScheduler fires again here; nothing is asked
    # If the first try failed, the repeated hour is simply the retry an hour later.
    records = Records()
    records.failed(eve, first)
    assert due(shift(second, seconds=-1), slot, {eve}, records) == []
    assert due(second, slot, {eve}, records) == [eve]


def walk(zone: str, start: date, stop: date, slot: str, *, step_minutes: int = 5,
         fails: int = 0) -> tuple[dict[date, list[datetime]], Records]:
    """Run the catch-up timer every `step_minutes` of real time from `start` to `stop` (local midnights),
    summarizing whatever is due (the first `fails` tries of each day fail). Days all have messages."""
    z = ZoneInfo(zone)
    have = {start - timedelta(days=5) + timedelta(days=i) for i in range((stop - start).days + 6)}
    records = Records()
    asked: dict[date, list[datetime]] = {}
    t = datetime.combine(start, time()).replace(tzinfo=z).astimezone(UTC)
    end = datetime.combine(stop, time()).replace(tzinfo=z).astimezone(UTC)
    while t < end:
        now = t.astimezone(z)
        for day in due(now, slot, {d for d in have if d < now.date()}, records):
            asked.setdefault(day, []).append(now)
            if len(asked[day]) <= fails:
                records.failed(day, now)
            else:
                records.ok(day, now)
        t += timedelta(minutes=step_minutes)
    return asked, records


def transition_days() -> Iterator[tuple[str, date]]:
    for zone, spring, _, fall, _ in TRANSITIONS:
        yield zone, spring
        yield zone, fall


@pytest.mark.parametrize(("zone", "transition"), list(transition_days()))
@pytest.mark.parametrize("slot", ["00:00", "01:30", "02:30", "03:00", "03:30", "23:45"])
def test_exactly_once_across_dst_however_often_it_is_asked(zone: str, transition: date, slot: str) -> None:
    asked, _ = walk(zone, transition - timedelta(days=2), transition + timedelta(days=3), slot)
    hh, mm = map(int, slot.split(":"))
    start = transition - timedelta(days=2)
    for day in sorted(d for d in asked if d >= start):
        (when,) = asked[day]  # exactly once
        assert when.date() == day + timedelta(days=1), (day, when)  # the next local day ...
        assert when.time() >= time(hh, mm), (day, when)  # ... once its clock showed the slot
        late = datetime.combine(day, when.time()) - datetime.combine(day, time(hh, mm))  # on the wall clock
        assert late < timedelta(minutes=65), (day, when)  # and soon after (a gap moves it by the lost hour)
    assert {d for d in asked if d >= start} == {start + timedelta(days=i) for i in range(4)}
    # The days before the walk began are caught up once too: CATCH_UP_DAYS back from the first check,
    # then the eve of the first day at its slot.
    earlier = sorted(d for d in asked if d < start)
    assert earlier[0] >= start - timedelta(days=summarize.CATCH_UP_DAYS + 1)
    assert all(len(asked[d]) == 1 for d in earlier)


def test_failures_are_retried_after_the_backoff_at_most_max_attempts() -> None:
    asked, records = walk(BERLIN, date(2026, 10, 24), date(2026, 10, 29), "02:30", fails=99)
    for day in (date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)):
        tries = asked[day]
        assert len(tries) == summarize.MAX_ATTEMPTS, (day, tries)
        gaps = [(b.timestamp() - a.timestamp()) for a, b in itertools.pairwise(tries)]
        assert all(summarize.RETRY_SECONDS <= g < summarize.RETRY_SECONDS + 301 for g in gaps), gaps
        assert records(day) is not None and records(day)["attempts"] == summarize.MAX_ATTEMPTS  # type: ignore[index]


def test_a_success_after_failures_stops_the_retries() -> None:
    asked, records = walk(NEW_YORK, date(2026, 3, 7), date(2026, 3, 11), "02:30", fails=1)
    for day in (date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)):
        assert len(asked[day]) == 2
        assert records(day)["text"] == "summary"  # type: ignore[index]


# --- missed nights ---


def test_a_machine_asleep_through_the_slot_catches_up_on_waking() -> None:
    have = days("2026-03-25", "2026-03-31")
    records = Records()
    for day in days("2026-03-25", "2026-03-28"):
        records.ok(day, local(BERLIN, "2026-03-29T03:05"))
    # asleep from 23:00 on the 29th (after the DST switch) until 08:40 on the 30th: the cron slot was missed
    woke = local(BERLIN, "2026-03-30T08:40")
    assert due(woke, "03:00", have, records) == [date(2026, 3, 29)]
    # asleep for two nights: both days, oldest first
    woke = local(BERLIN, "2026-03-31T07:00")
    assert due(woke, "03:00", have, records) == [date(2026, 3, 29), date(2026, 3, 30)]


def test_a_daemon_down_for_days_catches_up_only_the_last_few() -> None:
    have = days("2026-10-20", "2026-11-05")
    now = local(NEW_YORK, "2026-11-05T12:00")  # down since before the fall-back
    got = due(now, "03:00", have)
    assert len(got) == summarize.CATCH_UP_DAYS
    assert got == [date(2026, 11, 5) - timedelta(days=summarize.CATCH_UP_DAYS - i) for i in range(len(got))]
    early = local(NEW_YORK, "2026-11-05T01:00")  # before the slot: yesterday is not due yet
    assert due(early, "03:00", have) == [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]


# --- the records summarize writes ---


def snap(day: date, exchanges: int = 1) -> content.DaySnapshot:
    """A day with `exchanges` questions and answers (a day without any is never sent)."""
    noon = int(datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(BERLIN)).timestamp() * 1000)
    lines = [("s", dumps(r)) for i in range(exchanges)
             for r in (user(noon + i * 60_000, f"question {i}"), assistant(noon + i * 60_000 + 5, f"answer {i}"))]
    return content.build("main", day, ZoneInfo(BERLIN), lines, len(lines), {})


def test_summarize_records_drive_backoff_and_stop_after_success(tmp_path: Path) -> None:
    zone = ZoneInfo(BERLIN)
    day = datetime.now(zone).date() - timedelta(days=1)  # records carry the real time they were made
    cfg = LLMConfig()
    slot = time(0, 0)

    def record(d: date) -> dict[str, Any] | None:
        return narratives.stored_record(tmp_path, "main", d)

    def made(rec: dict[str, Any] | None, **delta: float) -> datetime:
        assert rec is not None
        return shift(datetime.fromtimestamp(rec["at"], zone), **delta)

    def failing(system: str, user: str) -> str:
        raise LLMUnavailable("Anthropic API error 529: overloaded_error: Overloaded")

    assert summarize.due(datetime.now(zone), slot, {day}, record) == [day]
    for attempt in range(1, summarize.MAX_ATTEMPTS + 1):
        with pytest.raises(LLMUnavailable):
            summarize.summarize(snap(day), cfg, failing, tmp_path)
        rec = record(day)
        assert rec is not None and rec["attempts"] == attempt and rec["text"] is None and "529" in rec["error"]
        assert summarize.due(made(rec, minutes=59), slot, {day}, record) == []
        retry = summarize.due(made(rec, seconds=summarize.RETRY_SECONDS + 0.01), slot, {day}, record)
        assert retry == ([day] if attempt < summarize.MAX_ATTEMPTS else [])
    assert summarize.due(made(record(day), hours=20), slot, {day}, record) == []

    # `summarize --date` by hand succeeds later: the record is complete, and it stays done
    summarize.summarize(snap(day), cfg, lambda system, user: "Done by hand.", tmp_path)
    assert narratives.stored_text(tmp_path, "main", day) == "Done by hand."
    with pytest.raises(LLMUnavailable):  # a failing re-ask keeps the good summary
        summarize.summarize(snap(day), cfg, failing, tmp_path, force=True)
    assert narratives.stored_text(tmp_path, "main", day) == "Done by hand."
    for hours in range(0, 48, 2):
        assert summarize.due(made(record(day), hours=hours), slot, {day}, record) == []


def test_a_reply_without_text_is_a_failure_not_a_success(tmp_path: Path) -> None:
    """An empty reply stored as a success would leave the day without a summary and, having no attempts
    count, be retried every hour forever."""
    day = date(2026, 10, 24)
    with pytest.raises(LLMUnavailable):
        summarize.summarize(snap(day), LLMConfig(), lambda system, user: "  \n", tmp_path)
    rec = narratives.stored_record(tmp_path, "main", day)
    assert rec is not None and rec["text"] is None and rec["attempts"] == 1


# --- a summary made while its day was still going ---


def test_a_summary_made_during_the_day_is_not_the_final_one() -> None:
    day = date(2026, 11, 1)  # New York falls back that night
    records = Records()
    records.ok(day, local(NEW_YORK, "2026-11-01T15:00"))  # `summarize --date 2026-11-01` in the afternoon
    assert due(local(NEW_YORK, "2026-11-02T03:00"), "03:00", {day}, records) == [day]
    records.ok(day, local(NEW_YORK, "2026-11-02T00:00:01"))
    assert due(local(NEW_YORK, "2026-11-02T03:00"), "03:00", {day}, records) == []
    records.ok(day, local(NEW_YORK, "2026-11-01T23:59:59"))
    assert due(local(NEW_YORK, "2026-11-02T03:00"), "03:00", {day}, records) == [day]


def test_the_final_summary_of_an_unchanged_day_costs_no_request(tmp_path: Path) -> None:
    day = datetime.now(ZoneInfo(BERLIN)).date() - timedelta(days=1)
    sent: list[str] = []

    def send(system: str, user: str) -> str:
        sent.append(user)
        return f"Summary {len(sent)}."

    def record(d: date) -> dict[str, Any] | None:
        return narratives.stored_record(tmp_path, "main", d)

    summarize.summarize(snap(day), LLMConfig(), send, tmp_path)
    # as if it had been made at 18:00 that day, while the day was still going
    rec = record(day)
    assert rec is not None
    path = narratives.record_path(tmp_path, "main", day)
    path.write_text(json.dumps({**rec, "at": local(BERLIN, f"{day}T18:00").timestamp()}))
    now = datetime.now(ZoneInfo(BERLIN))
    assert summarize.due(now, time(0, 0), {day}, record) == [day]
    out = summarize.summarize(snap(day), LLMConfig(), send, tmp_path)  # the nightly run: input unchanged
    assert out.skipped and out.text == "Summary 1." and len(sent) == 1
    assert summarize.due(now, time(0, 0), {day}, record) == []  # now it is final

    path.write_text(json.dumps({**rec, "at": local(BERLIN, f"{day}T18:00").timestamp()}))
    later = snap(day, 2)  # more messages came after 18:00
    out = summarize.summarize(later, LLMConfig(), send, tmp_path)
    assert not out.skipped and out.text == "Summary 2." and len(sent) == 2
    assert summarize.due(now, time(0, 0), {day}, record) == []
