"""Tests for archive.dates: publication dates out of Vietnamese news page text."""

from __future__ import annotations

import dataclasses
import time
import unicodedata
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from archive.dates import VN_TZ, FoundDate, find_date, find_dates, parse_date, to_iso

# A Saturday, noon in Vietnam: the crawl time relative phrases count back from.
BASE = datetime(2024, 6, 1, 12, 0, tzinfo=ZoneInfo(VN_TZ))

CASES: list[tuple[str, datetime | None, str | None]] = [
    # --- docs/domain.md: phrasings dateparser alone fails on or that broke other crawlers ---
    ("Cập nhật: Thứ sáu, 26/10/2012 | 9:55:29 AM", None, "2012-10-26T09:55:29+07:00"),
    ("Thứ Ba, 30/05/2023 08:15 [Lượt xem: 312]", None, "2023-05-30T08:15:00+07:00"),
    ("21 tháng 09 năm 2025", None, "2025-09-21T00:00:00+07:00"),
    ("17:54, 08/04/2024", None, "2024-04-08T17:54:00+07:00"),
    ("Thứ Tư, 27/3/2019 15:54'(GMT+7)", None, "2019-03-27T15:54:00+07:00"),
    ("thứ 5 tuần trước", BASE, "2024-05-23T00:00:00+07:00"),
    ("thứ 5 tuần trước", None, None),
    ("chiều 29/5", None, None),
    ("08/01/2026 - 18:21", None, "2026-01-08T18:21:00+07:00"),
    ("2025-06-17T13:43:02+0700", None, "2025-06-17T13:43:02+07:00"),
    ("12.12.2023 | 08:00", None, "2023-12-12T08:00:00+07:00"),
    ("12/12/2023 08:00 [GMT+7]", None, "2023-12-12T08:00:00+07:00"),
    # --- site families and common CMS shapes ---
    ("Thứ hai, 12/02/2024, 07:30 (GMT+7)", None, "2024-02-12T07:30:00+07:00"),
    ("Đăng lúc: 10:20 - 03/04/2023", None, "2023-04-03T10:20:00+07:00"),
    ("10:20-03/04/2023", None, "2023-04-03T10:20:00+07:00"),
    ("Cập nhật lúc 14:05 ngày 01/12/2024", None, "2024-12-01T14:05:00+07:00"),
    ("Chủ nhật, 5/1/2025 - 6:30 PM", None, "2025-01-05T18:30:00+07:00"),
    ("05/06/2024 14:22:10", None, "2024-06-05T14:22:10+07:00"),
    ("THỨ BẢY, 01/06/2024 - 09:05", None, "2024-06-01T09:05:00+07:00"),
    ("CN, 02/06/2024 20:00", None, "2024-06-02T20:00:00+07:00"),
    ("T2, 03/06/2024 07:00", None, "2024-06-03T07:00:00+07:00"),
    ("Thứ 6, 07/06/2024 | 16:45 (GMT+7)", None, "2024-06-07T16:45:00+07:00"),
    ("Thứ Sáu, 07/06/2024 lúc 16:45", None, "2024-06-07T16:45:00+07:00"),
    ("Cập nhật: 08:15 - Thứ Ba, 30/05/2023", None, "2023-05-30T08:15:00+07:00"),
    ("9:55:29 AM | Thứ sáu, 26/10/2012", None, "2012-10-26T09:55:29+07:00"),
    ("Thứ Tư, 27/03/2019 - 15:54:07", None, "2019-03-27T15:54:07+07:00"),
    ("Thứ năm, 06/06/2024 10:05 (GMT+07:00)", None, "2024-06-06T10:05:00+07:00"),
    ("05/06/2024 14:22 (UTC+07:00)", None, "2024-06-05T14:22:00+07:00"),
    ("05-06-2024 14:22", None, "2024-06-05T14:22:00+07:00"),
    ("05 / 06 / 2024", None, "2024-06-05T00:00:00+07:00"),
    ("Ngày đăng: 05/06/2024", None, "2024-06-05T00:00:00+07:00"),
    # --- Vietnamese words for dates and times ---
    ("ngày 5 tháng 6 năm 2024", None, "2024-06-05T00:00:00+07:00"),
    ("5 tháng 6, 2024", None, "2024-06-05T00:00:00+07:00"),
    (unicodedata.normalize("NFD", "Ngày 5 tháng 6 năm 2024"), None, "2024-06-05T00:00:00+07:00"),
    ("15h30, 08/04/2024", None, "2024-04-08T15:30:00+07:00"),
    ("15g30 ngày 08/04/2024", None, "2024-04-08T15:30:00+07:00"),
    ("Lúc 10 giờ 20 phút ngày 03/04/2023", None, "2023-04-03T10:20:00+07:00"),
    ("14h ngày 01/12/2024", None, "2024-12-01T14:00:00+07:00"),
    # --- 12-hour clocks ---
    ("26/10/2012 9:55:29 CH", None, "2012-10-26T21:55:29+07:00"),
    ("Đăng ngày: 03/04/2023 10:20:30 SA", None, "2023-04-03T10:20:30+07:00"),
    ("26/10/2012 12:05 AM", None, "2012-10-26T00:05:00+07:00"),
    ("26/10/2012 12:05 PM", None, "2012-10-26T12:05:00+07:00"),
    ("8:30 tối 05/06/2024", None, "2024-06-05T20:30:00+07:00"),
    ("09:30 sáng, 05/06/2024", None, "2024-06-05T09:30:00+07:00"),
    # --- ISO 8601 and explicit offsets (the offset decides the instant) ---
    ("2025-06-17T06:43:02Z", None, "2025-06-17T13:43:02+07:00"),
    ("2025-06-17T20:00:00Z", None, "2025-06-18T03:00:00+07:00"),
    ("2025-06-17T13:43:02.123+07:00", None, "2025-06-17T13:43:02+07:00"),
    ("2025-06-17 13:43:02", None, "2025-06-17T13:43:02+07:00"),
    ('"datePublished": "2025-06-17"', None, "2025-06-17T00:00:00+07:00"),
    ("2024/06/05 14:22", None, "2024-06-05T14:22:00+07:00"),
    ("05/06/2024 07:22 +0000", None, "2024-06-05T14:22:00+07:00"),
    ("05/06/2024 14:22 -05:00", None, "2024-06-06T02:22:00+07:00"),
    # --- relative phrases: only with an explicit base ---
    ("2 giờ trước", BASE, "2024-06-01T10:00:00+07:00"),
    ("30 phút trước", BASE, "2024-06-01T11:30:00+07:00"),
    ("2 tiếng trước", BASE, "2024-06-01T10:00:00+07:00"),
    ("3 ngày trước", BASE, "2024-05-29T00:00:00+07:00"),
    ("1 tuần trước", BASE, "2024-05-25T00:00:00+07:00"),
    ("2 tháng trước", BASE, "2024-04-01T00:00:00+07:00"),
    ("hôm qua", BASE, "2024-05-31T00:00:00+07:00"),
    ("Hôm qua lúc 10:20", BASE, "2024-05-31T10:20:00+07:00"),
    ("hôm kia", BASE, "2024-05-30T00:00:00+07:00"),
    ("08:15 hôm nay", BASE, "2024-06-01T08:15:00+07:00"),
    ("Chủ nhật tuần trước", BASE, "2024-05-26T00:00:00+07:00"),
    ("Cập nhật: 2 giờ trước", None, None),
    ("hôm qua", None, None),
    # --- what must not become a date ---
    ("Sáng 29/5, đoàn công tác của tỉnh đã đến thăm", None, None),
    ("31/02/2024", None, None),
    ("31/02/2024 08:00 hoặc 01/03/2024 09:00", None, "2024-03-01T09:00:00+07:00"),
    ("12/12/1985", None, None),
    ("12/12/2101", None, None),
    ("12/12/23", None, None),
    ("[Lượt xem: 312]", None, None),
    ("Điện thoại 0206.3852.125, giá 1.500.000 đồng", None, None),
    ("", None, None),
    # An impossible time drops the time, not the date.
    ("Tin 24h 08/04/2024", None, "2024-04-08T00:00:00+07:00"),
]


@pytest.mark.parametrize(
    ("text", "base", "expected"), CASES, ids=[c[0] or "<empty>" for c in CASES]
)
def test_real_world_phrasings(text: str, base: datetime | None, expected: str | None) -> None:
    found = find_date(text, relative_base=base)
    assert (to_iso(found.value) if found else None) == expected


def test_case_table_is_large_enough() -> None:
    assert len(CASES) >= 50


def test_value_is_aware_in_requested_zone() -> None:
    value = parse_date("Thứ Ba, 30/05/2023 08:15")
    assert value is not None
    assert value.utcoffset() is not None
    assert value.tzinfo == ZoneInfo(VN_TZ)


@pytest.mark.parametrize(
    ("text", "has_time"),
    [
        ("21 tháng 09 năm 2025", False),
        ("Ngày đăng: 05/06/2024", False),
        ("2025-06-17", False),
        ("Thứ Ba, 30/05/2023 08:15", True),
        ("2025-06-17T13:43:02+0700", True),
        ("10 giờ 20 phút ngày 03/04/2023", True),
    ],
)
def test_has_time(text: str, has_time: bool) -> None:
    found = find_date(text)
    assert found is not None
    assert found.has_time is has_time
    if not has_time:
        assert (found.value.hour, found.value.minute, found.value.second) == (0, 0, 0)


def test_has_time_for_relative_phrases() -> None:
    hours_ago = find_date("2 giờ trước", relative_base=BASE)
    yesterday = find_date("hôm qua", relative_base=BASE)
    assert hours_ago is not None and hours_ago.has_time
    assert yesterday is not None and not yesterday.has_time


@pytest.mark.parametrize(
    "text",
    ["2 giờ trước", "30 phút trước", "hôm qua", "hôm nay", "3 ngày trước", "thứ 5 tuần trước"],
)
def test_relative_without_base_is_none(text: str) -> None:
    # Never fall back to "now": an unknown date is stored as unknown.
    assert find_date(text) is None
    assert parse_date(text) is None
    assert find_dates(text) == []


def test_relative_base_naive_or_other_zone() -> None:
    naive = datetime(2024, 6, 1, 12, 0)
    assert to_iso(parse_date("2 giờ trước", relative_base=naive)) == "2024-06-01T10:00:00+07:00"
    # 20:00 UTC on 31 May is already 1 June in Vietnam: "hôm qua" is 31 May.
    utc_base = datetime(2024, 5, 31, 20, 0, tzinfo=UTC)
    assert to_iso(parse_date("hôm qua", relative_base=utc_base)) == "2024-05-31T00:00:00+07:00"


@pytest.mark.parametrize(
    "text",
    [
        "chiều 29/5",
        "Sáng 29/5, Ban Thường vụ Tỉnh ủy làm việc với huyện Hà Quảng.",
        "Từ ngày 29/5 đến 2/6, tỉnh tổ chức tuần lễ văn hóa.",
        "lúc 14h ngày 29/5",
    ],
)
def test_event_dates_without_year_are_not_dates(text: str) -> None:
    assert find_date(text) is None


def test_event_date_in_lead_does_not_hide_the_real_date() -> None:
    text = "Chiều 29/5, đoàn công tác đến thăm xã. Cập nhật: Thứ Ba, 30/05/2023 08:15"
    assert to_iso(parse_date(text)) == "2023-05-30T08:15:00+07:00"


def test_find_dates_in_order() -> None:
    text = "Đăng: 10:20 03/04/2023 - Cập nhật: 04/04/2023 11:00 [Lượt xem: 312]"
    found = find_dates(text)
    assert [to_iso(f.value) for f in found] == [
        "2023-04-03T10:20:00+07:00",
        "2023-04-04T11:00:00+07:00",
    ]
    assert [f.phrase for f in found] == ["10:20 03/04/2023", "04/04/2023 11:00"]
    assert find_date(text) == found[0]


def test_find_dates_mixed_kinds() -> None:
    text = "2 giờ trước · Thứ hai, 12/02/2024, 07:30 (GMT+7) · 2025-06-17T13:43:02+0700"
    assert [to_iso(f.value) for f in find_dates(text, relative_base=BASE)] == [
        "2024-06-01T10:00:00+07:00",
        "2024-02-12T07:30:00+07:00",
        "2025-06-17T13:43:02+07:00",
    ]
    # Without a base the relative phrase is simply left out.
    assert len(find_dates(text)) == 2


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("05/06/2024 14:22", "UTC", "2024-06-05T14:22:00+00:00"),
        ("05/06/2024 14:22", "Asia/Tokyo", "2024-06-05T14:22:00+09:00"),
        ("21 tháng 09 năm 2025", "Europe/Paris", "2025-09-21T00:00:00+02:00"),
        # An explicit offset wins over tz; the value is expressed in tz.
        ("Thứ hai, 12/02/2024, 07:30 (GMT+7)", "UTC", "2024-02-12T00:30:00+00:00"),
        ("2025-06-17T13:43:02+0700", "UTC", "2025-06-17T06:43:02+00:00"),
        ("26/10/2012 9:55:29 PM", "UTC", "2012-10-26T21:55:29+00:00"),
    ],
)
def test_other_time_zone(text: str, tz: str, expected: str) -> None:
    assert to_iso(parse_date(text, tz=tz)) == expected


def test_relative_in_other_time_zone() -> None:
    base = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    assert to_iso(parse_date("2 giờ trước", tz="UTC", relative_base=base)) == (
        "2024-06-01T10:00:00+00:00"
    )


def test_unknown_time_zone_raises() -> None:
    with pytest.raises(ValueError):
        find_date("05/06/2024 14:22", tz="Mars/Olympus_Mons")


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "abc",
        "Đăng nhập",
        "Thống kê truy cập: 1234567",
        "99/99/9999",
        "1/2",
        "{{date}}",
    ],
)
def test_garbage_is_none(text: str) -> None:
    assert find_date(text) is None
    assert find_dates(text) == []
    assert parse_date(text) is None


def test_phrase_is_the_cut_substring() -> None:
    text = "Cập nhật: Thứ sáu, 26/10/2012 | 9:55:29 AM"
    found = find_date(text)
    assert found is not None
    assert found.phrase == "26/10/2012 | 9:55:29 AM"
    assert found.phrase in text


def test_found_date_is_frozen() -> None:
    found = find_date("17:54, 08/04/2024")
    assert isinstance(found, FoundDate)
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.has_time = False  # type: ignore[misc]


def test_to_iso() -> None:
    value = datetime(2023, 5, 30, 9, 42, 0, 123456, tzinfo=ZoneInfo(VN_TZ))
    assert to_iso(value) == "2023-05-30T09:42:00+07:00"
    with pytest.raises(ValueError):
        to_iso(datetime(2023, 5, 30, 9, 42))


def test_common_shapes_are_fast() -> None:
    # The common shapes take a fast path (a few µs); dateparser costs ~1 ms a call.
    # The bound is generous so that a loaded machine does not fail it.
    shapes = ["Thứ Ba, 30/05/2023 08:15", "17:54, 08/04/2024", "2025-06-17T13:43:02+0700"]
    for shape in shapes:
        find_date(shape)
    calls = 300
    start = time.perf_counter()
    for _ in range(calls):
        for shape in shapes:
            find_date(shape)
    per_call = (time.perf_counter() - start) / (calls * len(shapes))
    assert per_call < 300e-6
