"""Search latency over HTTP on a synthetic archive of N articles.

    python -m bench.search --n 1000000      # default N; smaller N for a quick look

1. Builds (or reuses) ``build/bench-search-N.db`` with the real schema (``open_db``):
   N articles of synthetic but realistic Vietnamese news text (place names with
   diacritics and đ, provincial-news sentence templates), deterministic seed, bulk
   inserted through the store (``bulk_insert_articles``: the FTS indexes built once
   at the end).
2. Serves it with the real command (``archive.publish.datasette_args``).
3. Times table search (``?_search=``, the page a journalist sees, with its count and
   facets) and the ranked ``search`` canned query, and prints p50/p95.
4. Writes the numbers to the "Search" section of ``docs/benchmarks.md``, leaving any
   other section (e.g. "Extraction") as it is.

Every loop is bounded: at most ``--repeat`` timed requests per scenario and at most
``--budget`` seconds per scenario.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from archive import store
from archive.fts import fts_query
from archive.publish import datasette_args
from vnnews.localsite import free_port

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "benchmarks.md"
SEED = 20250701

# --- Vocabulary -------------------------------------------------------------------

SITES = [  # (registry name, province, relative size)
    ("baocaobang", "Cao Bằng", 14),
    ("baoquangninh", "Quảng Ninh", 18),
    ("baolangson", "Lạng Sơn", 12),
    ("baohagiang", "Hà Giang", 8),
    ("baotuyenquang", "Tuyên Quang", 9),
    ("baodaklak", "Đắk Lắk", 11),
    ("baothainguyen", "Thái Nguyên", 10),
    ("baolaocai", "Lào Cai", 9),
    ("baobackan", "Bắc Kạn", 4),
    ("baophutho", "Phú Thọ", 10),
    ("baosonla", "Sơn La", 7),
    ("baodienbienphu", "Điện Biên", 6),
]
PLACES = [
    "Hà Quảng",
    "Trùng Khánh",
    "Đàm Thủy",
    "Bảo Lạc",
    "Nguyên Bình",
    "Hòa An",
    "Quảng Hòa",
    "Thạch An",
    "Hạ Long",
    "Cẩm Phả",
    "Móng Cái",
    "Đông Triều",
    "Vân Đồn",
    "Cô Tô",
    "Đồng Văn",
    "Mèo Vạc",
    "Yên Minh",
    "Bắc Mê",
    "Đình Lập",
    "Cao Lộc",
    "Tràng Định",
    "Buôn Ma Thuột",
    "Ea Kar",
    "Krông Pắc",
    "Định Hóa",
    "Đại Từ",
    "Phổ Yên",
    "Sa Pa",
    "Bát Xát",
    "Bảo Thắng",
    "Ba Bể",
    "Chợ Đồn",
    "Việt Trì",
    "Thanh Sơn",
    "Đoan Hùng",
    "Mộc Châu",
    "Mường La",
    "Điện Biên Phủ",
    "Mường Nhé",
    "Tủa Chùa",
    "Na Hang",
    "Lâm Bình",
]
ACTORS = [
    "UBND tỉnh",
    "Tỉnh ủy",
    "Hội đồng nhân dân tỉnh",
    "Sở Nông nghiệp và Phát triển nông thôn",
    "Sở Y tế",
    "Sở Giáo dục và Đào tạo",
    "Công an tỉnh",
    "Bộ đội Biên phòng tỉnh",
    "Hội Nông dân tỉnh",
    "Đoàn Thanh niên",
    "Hội Liên hiệp Phụ nữ",
    "Mặt trận Tổ quốc",
    "Ban Quản lý dự án",
    "Trung tâm Y tế huyện",
    "Liên đoàn Lao động tỉnh",
    "Đồn Biên phòng",
]
LEADERS = [
    "đồng chí Nguyễn Văn Đức",
    "đồng chí Hoàng Thị Dung",
    "đồng chí Đinh Văn Hải",
    "đồng chí Lê Thị Hồng",
    "đồng chí Trần Đình Thắng",
    "đồng chí Nông Văn Đông",
    "đồng chí Bế Thị Điệp",
    "đồng chí Phạm Minh Đạo",
    "đồng chí Lục Văn Dũng",
]
ACTIONS = [
    "tổ chức hội nghị triển khai",
    "kiểm tra tiến độ thực hiện",
    "sơ kết 6 tháng thực hiện",
    "tổng kết công tác",
    "phát động phong trào",
    "trao tặng quà cho",
    "làm việc về",
    "đẩy mạnh",
    "hướng dẫn người dân thực hiện",
    "ký kết chương trình phối hợp về",
    "giám sát việc thực hiện",
    "tuyên truyền, phổ biến",
    "đầu tư xây dựng",
    "hỗ trợ vốn cho",
]
OBJECTS = [
    "chương trình xây dựng nông thôn mới",
    "mô hình trồng cây ăn quả",
    "kế hoạch phát triển kinh tế - xã hội",
    "công tác phòng, chống thiên tai",
    "chương trình mục tiêu quốc gia giảm nghèo bền vững",
    "dự án đường giao thông liên xã",
    "phong trào toàn dân đoàn kết xây dựng đời sống văn hóa",
    "công tác chăm sóc sức khỏe nhân dân",
    "chuyển đổi số",
    "du lịch cộng đồng",
    "bảo vệ và phát triển rừng",
    "công tác phòng, chống ma túy",
    "cải cách hành chính",
    "hộ nghèo, hộ cận nghèo",
    "học sinh có hoàn cảnh khó khăn",
    "lễ hội đình làng",
    "bảo tồn di sản văn hóa",
    "tiêm chủng mở rộng",
    "sản xuất vụ đông",
    "đàn gia súc",
    "cây thuốc lá",
    "cây hồi",
    "thạch đen",
    "hạt dẻ",
    "chè Shan tuyết",
    "cá hồi",
]
TAILS = [
    "tại {place}",
    "trên địa bàn huyện {place}",
    "ở xã {place}",
    "tại thị trấn {place}",
    "năm {year}",
    "giai đoạn {year}-{year2}",
    "trong quý {quarter}",
    "đợt {n}",
]
SENTENCES = [
    "{actor} {action} {object} {tail}.",
    "Ngày {day}/{month}, {actor} {action} {object} {tail}.",
    "Theo {actor}, đến nay toàn tỉnh có {n} hộ tham gia {object}, tăng {pct}% so với cùng kỳ.",
    "Phát biểu tại buổi làm việc, {leader} đề nghị các địa phương tiếp tục {action} {object}.",
    "Huyện {place} hiện có {n} ha {object}, cho thu nhập bình quân {money} triệu đồng/ha.",
    "Tổng kinh phí thực hiện hơn {money} tỷ đồng, trong đó ngân sách nhà nước hỗ trợ {pct}%.",
    "Người dân xã {place} phấn khởi khi {object} mang lại hiệu quả rõ rệt.",
    "Dịp này, {actor} trao {n} suất quà, mỗi suất trị giá {money}00.000 đồng.",
    "Trong thời gian tới, {actor} sẽ tập trung {action} {object}, phấn đấu hoàn thành kế hoạch năm {year}.",
    "Đến dự có {leader}, đại diện lãnh đạo các sở, ngành và {n} đại biểu.",
    "Năm {year}, tỉnh đón hơn {n}.000 lượt khách du lịch, doanh thu đạt {money} tỷ đồng.",
    "Lực lượng chức năng đã phát hiện, xử lý {n} vụ vi phạm, thu giữ nhiều tang vật.",
]
TITLES = [
    "{place}: {action} {object}",
    "{actor} {action} {object}",
    "Đẩy mạnh {object} ở {place}",
    "{place} phát triển {object}",
    "Hiệu quả từ {object} tại {place}",
    "Nâng cao chất lượng {object}",
    "{leader} {action} {object} tại {place}",
]
CATEGORIES = [
    "Thời sự",
    "Chính trị",
    "Kinh tế",
    "Xã hội",
    "Văn hóa",
    "Giáo dục",
    "Thể thao",
    "Sức khỏe",
    "Quốc phòng - An ninh",
    "Pháp luật",
]
AUTHORS = ["Bảo Bình", "Minh Đức", "Thu Hà", "Đình Tuấn", "Lan Anh", "Văn Dũng", "Nhóm PV", None]
RARE_PHRASE = "đỉnh Phja Oắc"  # in 1 article out of RARE_EVERY
RARE_EVERY = 5000
FIRST_DAY = datetime(2015, 1, 1, tzinfo=UTC)
DAYS = 3834  # to mid-2025


def fill(template: str, rng: random.Random) -> str:
    """One template with random slot values (unused slots cost nothing)."""
    year = rng.randint(2015, 2025)
    return template.format(
        actor=rng.choice(ACTORS),
        action=rng.choice(ACTIONS),
        object=rng.choice(OBJECTS),
        place=rng.choice(PLACES),
        leader=rng.choice(LEADERS),
        tail=rng.choice(TAILS).format(
            place=rng.choice(PLACES),
            year=year,
            year2=year + 5,
            quarter=rng.choice(["I", "II", "III", "IV"]),
            n=rng.randint(1, 9),
        ),
        day=rng.randint(1, 28),
        month=rng.randint(1, 12),
        year=year,
        n=rng.randint(2, 950),
        pct=rng.randint(3, 95),
        money=rng.randint(2, 900),
    )


def generate(n: int, seed: int = SEED) -> Iterator[dict]:
    """N article rows, deterministic. Sentences come from a pre-filled pool (filling
    templates per sentence would dominate the build time) mixed per article."""
    rng = random.Random(seed)
    pool = [fill(rng.choice(SENTENCES), rng) for _ in range(60_000)]
    titles = [fill(rng.choice(TITLES), rng) for _ in range(30_000)]
    sites = [s[0] for s in SITES]
    weights = [s[2] for s in SITES]
    site_choices = rng.choices(sites, weights, k=n)
    vn = timedelta(hours=7)
    for i in range(n):
        site = site_choices[i]
        sentences = rng.choices(pool, k=rng.randint(8, 16))
        if i % RARE_EVERY == 0:
            sentences[rng.randrange(len(sentences))] = (
                f"Đoàn công tác đã khảo sát tuyến đường lên {RARE_PHRASE}."
            )
        paragraphs = [" ".join(sentences[j : j + 3]) for j in range(1, len(sentences), 3)]
        moment = FIRST_DAY + timedelta(days=rng.randrange(DAYS), minutes=rng.randrange(1440))
        local = (moment + vn).replace(tzinfo=None)
        published_at = local.strftime("%Y-%m-%dT%H:%M:00+07:00")
        title = titles[rng.randrange(len(titles))]
        body = "\n\n".join(paragraphs)
        yield {
            "url": f"https://{site}.vn/bai-viet-{i}.html",
            "site": site,
            "title": title,
            "lead": sentences[0],
            "body": body,
            "author": rng.choice(AUTHORS),
            "published_at": published_at,
            "published_date": published_at[:10],
            "category": rng.choice(CATEGORIES),
            "tags": "[]",
            "language": "vi",
            "word_count": len(sentences[0].split()) + len(body.split()),
            "first_seen_at": "2025-07-01T00:00:00+00:00",
            "fetched_at": "2025-07-01T00:00:00+00:00",
            "updated_at": "2025-07-01T00:00:00+00:00",
        }


def build(path: Path, n: int) -> float:
    """Create the archive with the real schema; return the build time in seconds."""
    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = store.open_db(path)
    db.execute("PRAGMA synchronous=OFF")  # a throwaway file: no need to survive a crash
    db.execute("PRAGMA cache_size=-400000")
    for name, province, _ in SITES:
        store.save_site(db, {"name": name, "title": f"Báo {province}", "province": province})

    def progress(done: int) -> None:
        if done % 100_000 == 0 or done == n:
            print(f"  {done:>9,} rows  {time.perf_counter() - started:6.0f} s", flush=True)
        if done == n:
            print("  building the full-text index…", flush=True)

    store.bulk_insert_articles(db, generate(n), batch=5_000, progress=progress)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return time.perf_counter() - started


# --- Measuring ----------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    path: str
    params: dict[str, str]
    # How many articles match, for the report: store.count_articles's filters.
    counted: dict = field(default_factory=dict)
    next_page: bool = False  # time the page that the first page's "next" link opens


@dataclass
class Result:
    scenario: Scenario
    matches: int
    samples: list[float]
    statuses: set[int]
    timeouts: int = 0
    facets_timed_out: str = ""
    many_matches: bool = False  # the page said "hơn 10.000": no count, no facets
    first: float = 0.0  # the very first request: cold caches (and the front page's)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def scenarios() -> list[Scenario]:
    common, rare, medium = "tinh", "phja oac", "dam thuy"
    site = "baocaobang"
    date_from, date_to = "2021-01-01", "2021-12-31"
    table, ranked = "/archive/articles", "/archive/search"

    def words(q: str, **filters: object) -> dict:
        return {"match": fts_query(q), **filters}

    return [
        Scenario("table ?_search= common term", table, {"_search": common}, words(common)),
        Scenario("table ?_search= rare term", table, {"_search": rare}, words(rare)),
        Scenario(
            "table ?_search= đ-expanded (dam thuy)", table, {"_search": medium}, words(medium)
        ),
        Scenario(
            "table ?_search= common + site filter",
            table,
            {"_search": common, "site": site},
            words(common, sites=(site,)),
        ),
        Scenario(
            "table ?_search= common term, page 2",
            table,
            {"_search": common},
            words(common),
            next_page=True,
        ),
        Scenario(
            "table JSON, common, _nocount _nofacet",
            table + ".json",
            {"_search": common, "_nocount": "1", "_nofacet": "1"},
            words(common),
        ),
        Scenario("ranked search common term", ranked, {"q": common}, words(common)),
        Scenario("ranked search rare term", ranked, {"q": rare}, words(rare)),
        Scenario("ranked search đ-expanded (dam thuy)", ranked, {"q": medium}, words(medium)),
        Scenario("ranked search with marks (tỉnh)", ranked, {"q": "tỉnh"}, words("tỉnh")),
        Scenario(
            "ranked search common, sorted by date",
            ranked,
            {"q": common, "sort": "date"},
            words(common),
        ),
        Scenario(
            "ranked search common, page 500",
            ranked,
            {"q": common, "page": "500"},
            words(common),
        ),
        Scenario(
            "ranked search common + date range (1 year)",
            ranked,
            {"q": common, "date_from": date_from, "date_to": date_to},
            words(common, since=date_from, until=date_to),
        ),
        Scenario(
            "ranked search common + site filter",
            ranked,
            {"q": common, "site": site},
            words(common, sites=(site,)),
        ),
        Scenario("front page (figures cached 60 s)", "/", {}),
    ]


def count_matches(db_path: Path, scenario: Scenario) -> int:
    conn = store.connect_readonly(db_path)
    try:
        return store.count_articles(conn, **scenario.counted)
    finally:
        conn.close()


def measure(client: httpx.Client, scenario: Scenario, repeat: int, budget: float) -> Result:
    """Two warm-up requests (the first one timed on its own: cold), then up to
    `repeat` timed ones within `budget` seconds."""
    result = Result(scenario, 0, [], set())
    path, params = scenario.path, scenario.params
    if scenario.next_page:  # the same page, one "next" link further
        first = client.get(path + ".json", params={**params, "_shape": "objects"}).json()
        url = httpx.URL(first["next_url"])
        params = {k: v for k, v in url.params.items() if k != "_shape"}
    started = time.perf_counter()
    client.get(path, params=params)
    result.first = time.perf_counter() - started
    client.get(path, params=params)
    deadline = time.monotonic() + budget
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, params=params)
        result.samples.append(time.perf_counter() - started)
        result.statuses.add(response.status_code)
        if "interrupted" in response.text.lower():
            result.timeouts += 1
        facets = re.search(r"These facets timed out: ([^<]*)", response.text)
        result.facets_timed_out = facets.group(1).strip() if facets else ""
        result.many_matches = "vn-many-matches" in response.text
        if time.monotonic() > deadline and len(result.samples) >= 3:
            break
    return result


def serve(db_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        datasette_args(db_path, "127.0.0.1", port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):  # 60 s at most
        try:
            if httpx.get(base + "/archive.json", timeout=5).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("datasette did not start")


# --- Reporting ----------------------------------------------------------------------


def table(results: list[Result]) -> str:
    lines = [
        "| scenario | matching articles | first ms | p50 ms | p95 ms | requests | notes |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        notes = []
        if r.statuses != {200}:
            notes.append("HTTP " + ",".join(map(str, sorted(r.statuses))))
        if r.timeouts:
            notes.append(f"query interrupted in {r.timeouts}/{len(r.samples)}")
        if r.facets_timed_out:
            notes.append(f"facets timed out: {r.facets_timed_out}")
        if r.many_matches:
            notes.append("over 10,000 matches: no count, no facets")
        lines.append(
            f"| {r.scenario.name} | {r.matches:,} | {r.first * 1000:,.0f} "
            f"| {r.percentile(0.5) * 1000:,.0f} "
            f"| {r.percentile(0.95) * 1000:,.0f} | {len(r.samples)} | {'; '.join(notes)} |"
        )
    return "\n".join(lines)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )


def write_doc(section: str) -> None:
    """Replace the "## Search" section of docs/benchmarks.md, keeping the others."""
    DOC.parent.mkdir(exist_ok=True)
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(r"^## Search\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text.rstrip("\n") + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of articles")
    parser.add_argument("--db", type=Path, help="archive file (default build/bench-search-N.db)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild even if the file exists")
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per scenario")
    parser.add_argument("--budget", type=float, default=45.0, help="seconds per scenario")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--note", default="", help="extra sentence for the doc")
    args = parser.parse_args()

    db_path = args.db or REPO / "build" / f"bench-search-{args.n}.db"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    build_note = db_path.with_suffix(".build-seconds")
    if args.rebuild or not db_path.exists():
        print(f"Building {db_path} with {args.n:,} articles…", flush=True)
        build_note.unlink(missing_ok=True)
        build_note.write_text(f"{build(db_path, args.n):.0f}")
        print(f"Built in {build_note.read_text()} s", flush=True)
    build_seconds = float(build_note.read_text()) if build_note.exists() else None
    size_mb = db_path.stat().st_size / 1e6

    proc, base = serve(db_path)
    results = []
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            for scenario in scenarios():
                result = measure(client, scenario, args.repeat, args.budget)
                result.matches = count_matches(db_path, scenario)
                print(
                    f"{scenario.name:45} p50 {result.percentile(0.5) * 1000:7.0f} ms"
                    f"  p95 {result.percentile(0.95) * 1000:7.0f} ms  ({result.matches:,} matches)",
                    flush=True,
                )
                results.append(result)
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    load = os.getloadavg()[0]  # other work on a shared machine shows up here
    report = table(results)
    print("\n" + report)
    if args.no_doc:
        return
    built = f" (built in {build_seconds / 60:.1f} min)" if build_seconds else ""
    section = f"""## Search

`python -m bench.search --n {args.n}` on {datetime.now(UTC):%Y-%m-%d}: {args.n:,} synthetic
articles (8–16 template sentences each, {len(SITES)} newspapers, 2015–2025), database
{size_mb:,.0f} MB{built}.

- Machine: {machine()}; 1-minute load average {load:.1f} at the end of the run
  (the machine is shared: other work adds noise).
- Datasette 0.65.5 served over HTTP on loopback by the real `vnnews serve` command
  line (settings from `archive/publish.py`: `sql_time_limit_ms` 3000,
  `facet_time_limit_ms` 500, 4 SQL threads, suggested facets off); one client,
  requests in sequence.
- "first" is the first request of each scenario (colder caches; for the front page
  its figures computed rather than cached); p50/p95 come from the requests after two
  warm-up ones.
- Terms: common = `tinh` (in 98% of articles), rare = `phja oac` (1 in 5,000),
  `dam thuy` = expanded to `("dam" OR "đam") AND "thuy"`. Table pages are the HTML a
  journalist sees (`/archive/articles?_search=…`, newest first, with the row count and
  the three facets unless the term is in more than 10,000 articles, see below); "page
  2" follows the first page's "Next page" link; "ranked search" is `/archive/search`
  (archive/search.py: tiers, 20 per page, a total, snippets; facets up to 10,000
  matches).

{report}

What the code does because of these measurements:

- **Ranked search ranks in tiers, not by BM25.** `MATCH` alone is cheap (tens of ms
  even for a term in almost every article), but `bm25()` over every match of a common
  term took 1.6 s at 1M articles, so the old canned query ranked only the 50,000
  newest matches. Now the order is the newsroom's (exact marks, then title, lead,
  text; newest first within each), each tier an FTS5 query that excludes the ones
  above it (`NOT`): counting a tier is a walk of the index, and a page is cut from the
  tiers it spans, every match reachable. A tier of more than 20,000 rows is read in
  date order from the `published_at` index (`+rowid in (…)`, stopping when the page is
  full); a smaller one is sorted. `snippet()` runs for the page's rows only.
- **Suggested facets are off** (`suggest_facets off`): they try a `GROUP BY` on every
  column of every table page; at 20,000 articles they made a search page take 1.0 s
  instead of 0.13 s.
- **Table search (`?_search=`) skips the count and the facets for common terms.**
  Datasette writes the table page's SQL: `rowid in (select rowid from articles_fts …)`,
  which SQLite always runs as one row lookup per match (it guesses 25 rows for any
  `IN (SELECT …)`). For `tinh` that was a million lookups for each of the row query
  (1.1 s, to sort them all by `published_at`), the count (0.8 s) and each facet
  (1.1 s, so they timed out): at 1M articles, 3.4 s a page, 0.8 s for `dam thuy`,
  2.4 s with a site filter. Now the plugin first asks FTS5 whether the term is in more than 10,000
  articles (FTS5 stops at the 10,001st match: under 1 ms). If it is, the plugin adds
  `_nocount=auto&_nofacet=auto`, the page says "hơn 10.000 bài báo" instead of a
  count, and the row query becomes `+rowid in (…)`: the unary plus rules out the
  rowid lookup, so SQLite reads the `published_at` index newest first, keeps the rows
  in the list of matching rowids and stops at the 51st. Same rows, 0.14 s, most of it
  spent building that list. Below 10,000 matches nothing changes (a few thousand
  lookups are fast), so rare and specific terms keep their count and facets. New
  indexes on `(site, published_at)` and `(category, published_at)` give a search
  filtered by paper or section the same early stop (and the row query of `?site=…`
  without a search now reads 51 rows instead of sorting 117,000: 0.8 s before). They
  add about 100 MB at 1M articles, and this bulk build took 3.8 min instead of 3.1.
- **The trade-off:** a common term gets no total and no facets (the JSON has
  `filtered_table_rows_count: null`), even when other filters leave few rows. Its
  next pages stay slow (page 2 above, now the row query alone): there Datasette adds
  `published_at < … or published_at is null or …`, and with `+rowid` SQLite turns
  that OR into three index searches over half the table (7 s), so pages after the
  first keep the rowid-lookup plan. So does a sort on another column. To rank by
  relevance, use the ranked search; the front page's search box goes there.
{args.note}
"""
    write_doc(section)
    print(f"\nWrote the Search section of {DOC.relative_to(REPO)}")


if __name__ == "__main__":
    main()
