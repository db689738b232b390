"""Publishing: the real `datasette serve` command over a real archive, asserted over HTTP.

A small archive is built with the storage API (open_db + save_article), served by the
exact command `archive.publish.datasette_args` builds, on a free loopback port. The
file is deliberately not called archive.db: the plugin must serve it as /archive.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from archive.datasette_plugin import article_path, highlight, paragraphs, vn_datetime
from archive.fts import fts_query
from archive.models import Article
from archive.publish import SETTINGS, TEMPLATES_DIR, datasette_args, is_loopback
from archive.store import open_db, save_article
from tests.sample_archive import ARTICLES, BODY_DAM_THUY


@pytest.fixture(scope="module")
def server(archive_server: str) -> str:
    return archive_server


@pytest.fixture(scope="module")
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=10) as c:
        yield c


def search_urls(client: httpx.Client, q: str) -> set[str]:
    response = client.get("/archive/articles.json", params={"_search": q, "_shape": "array"})
    assert response.status_code == 200, response.text
    return {row["url"] for row in response.json()}


def urls_with(text: str) -> set[str]:
    return {a.url for a in ARTICLES if text in " ".join(filter(None, [a.title, a.lead, a.body]))}


# ---------------------------------------------------------------------------
# fts_query and template helpers (no server)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("dam thuy", '("dam thuy" OR "đam thuy")'),
        ("lu quet lao cai", '"lu" AND "quet" AND "lao" AND "cai"'),
        ("xa dam thuy hom nay", '"xa" AND ("dam" OR "đam") AND "thuy" AND "hom" AND "nay"'),
        ("dinh", '("dinh" OR "đinh")'),
        ("Dinh", '("Dinh" OR "đinh")'),
        ("ha quang", '"ha quang"'),
        ("Đình", '"Đình"'),
        ('"ho chi minh"', '"ho chi minh"'),
        ('"dinh thu', '("dinh thu" OR "đinh thu")'),  # unclosed quote: still a phrase
        ("", '""'),
        ("   ", '""'),
        ('"', '""'),
        ("*", '""'),
        ("NEAR(", '"NEAR("'),
        ("a*b", '"a*b"'),
        ('say "x', '"say" AND "x"'),
    ],
)
def test_fts_query(typed: str, expected: str) -> None:
    assert fts_query(typed) == expected


def test_short_queries_are_phrases_in_sqlite() -> None:
    """ "dam thuy" is the name Đàm Thủy, not "đàm" and "thủy" anywhere in the text."""
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "create virtual table t using fts5(body, tokenize='unicode61 remove_diacritics 2')"
    )
    texts = ["Xã Đàm Thủy đón khách", "Hội đàm về thủy lợi", "Thủy và Đàm"]
    conn.executemany("insert into t(body) values (?)", [(t,) for t in texts])
    found = [
        r[0] for r in conn.execute("select body from t where t match ?", [fts_query("dam thuy")])
    ]
    assert found == ["Xã Đàm Thủy đón khách"]


def test_fts_query_none_and_decomposed_input() -> None:
    assert fts_query(None) == '""'
    # macOS keyboards may send decomposed letters; the index holds NFC
    assert fts_query("Ha\u0300") == '"Hà"'


def test_fts_query_expands_every_d_but_caps_variants() -> None:
    assert fts_query("dd") == '("dd" OR "dđ" OR "đd" OR "đđ")'
    query = fts_query("dddddd")
    assert query.count(" OR ") == 7  # 2**3 variants, not 2**6


def test_fts_query_caps_terms() -> None:
    assert fts_query(" ".join(f"w{i}" for i in range(100))).count(" AND ") == 31


@pytest.mark.parametrize(
    "typed",
    ['"', "AND (", "*", "NEAR(", "OR", "a OR", "(", ")", '""""', "-x", "x:y", "^a", "'", "\\"],
)
def test_fts_query_never_raises_in_sqlite(typed: str) -> None:
    import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.execute("create virtual table t using fts5(x, tokenize='unicode61 remove_diacritics 2')")
    conn.execute("insert into t values ('Đình làng AND near x y')")
    conn.execute("select * from t where t match ?", [fts_query(typed)]).fetchall()


def test_highlight_keeps_only_mark() -> None:
    html = highlight("a <script>x</script> <mark>Đàm</mark> <b>b</b> <mark>open")
    assert html == (
        "a &lt;script&gt;x&lt;/script&gt; <mark>Đàm</mark> &lt;b&gt;b&lt;/b&gt; <mark>open</mark>"
    )
    assert highlight(None) == ""
    assert highlight("</mark>x") == "x"  # a stray closing tag is dropped


def test_paragraphs_and_dates() -> None:
    assert paragraphs("a\n\n b \n \nc\nd") == ["a", "b", "c\nd"]
    assert paragraphs(None) == []
    assert vn_datetime("2023-05-30T09:42:00+07:00") == "30/05/2023 09:42 (GMT+7)"
    assert vn_datetime("2023-05-30") == "30/05/2023"
    assert vn_datetime("hôm qua") == "hôm qua"
    assert vn_datetime(None) == ""


def test_datasette_args_is_a_safe_serve_command(tmp_path: Path) -> None:
    args = datasette_args(tmp_path / "x.db", "127.0.0.1", 8123)
    assert args[1:4] == ["-m", "datasette", "serve"]
    assert "-i" not in args and "--immutable" not in args  # a crawler may be writing
    assert args[args.index("--template-dir") + 1] == str(TEMPLATES_DIR)
    assert Path(args[args.index("--metadata") + 1]).name == "metadata.yml"
    settings = {args[i + 1]: args[i + 2] for i, a in enumerate(args) if a == "--setting"}
    assert settings == SETTINGS
    assert settings["sql_time_limit_ms"] == "3000" and settings["allow_download"] == "off"
    public = datasette_args(tmp_path / "x.db", "0.0.0.0", 80, public=True)
    public_settings = {
        public[i + 1]: public[i + 2] for i, a in enumerate(public) if a == "--setting"
    }
    assert public_settings["allow_csv_stream"] == "off"
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and not is_loopback("0.0.0.0")


# ---------------------------------------------------------------------------
# Over HTTP


def test_served_as_archive_whatever_the_file_name(client: httpx.Client) -> None:
    databases = client.get("/.json").json()
    assert "archive" in databases and "my-archive" not in databases


def test_search_dam_thuy_finds_exactly_dam_thuy(client: httpx.Client) -> None:
    expected = urls_with("Đàm Thủy")
    assert len(expected) == 2
    assert search_urls(client, "dam thuy") == expected
    assert search_urls(client, "Đàm Thủy") == expected
    assert search_urls(client, "DAM THUY") == expected


@pytest.mark.parametrize(
    ("typed", "text"),
    [("ha quang", "Hà Quảng"), ("dinh", "Đình"), ("ho chi minh", "Hồ Chí Minh")],
)
def test_search_ignores_diacritics(client: httpx.Client, typed: str, text: str) -> None:
    assert search_urls(client, typed) == urls_with(text)


def test_dinh_also_finds_lowercase_dinh(client: httpx.Client) -> None:
    assert "https://baoquangninh.vn/le-hoi-dinh-lang-67890.html" in search_urls(client, "dinh")


@pytest.mark.parametrize("hostile", ['"', "AND (", "*", "NEAR(", "a OR", ")(", "title:x", "'"])
def test_hostile_queries_do_not_error(client: httpx.Client, hostile: str) -> None:
    assert client.get("/archive/articles", params={"_search": hostile}).status_code == 200
    assert client.get("/archive/articles.json", params={"_search": hostile}).status_code == 200
    assert client.get("/archive/search", params={"q": hostile}).status_code == 200
    assert client.get("/archive/search.json", params={"q": hostile}).status_code == 200
    assert client.get("/archive/term_over_time.json", params={"term": hostile}).status_code == 200


def test_blank_search_means_no_search(client: httpx.Client) -> None:
    rows = client.get(
        "/archive/articles.json",
        params={"_search": " ", "category": "Kinh tế", "_shape": "array"},
    ).json()
    assert {r["url"] for r in rows} == {a.url for a in ARTICLES if a.category == "Kinh tế"}


def test_raw_search_mode_errors_are_client_errors(client: httpx.Client) -> None:
    # ?_searchmode=raw hands FTS syntax to SQLite as typed: a bad query is a 400
    response = client.get(
        "/archive/articles.json", params={"_search": "NEAR(", "_searchmode": "raw"}
    )
    assert response.status_code == 400


def test_ranked_search_returns_marks_best_first(client: httpx.Client) -> None:
    rows = client.get("/archive/search.json", params={"q": "dam thuy", "_shape": "array"}).json()
    assert {r["url"] for r in rows} == urls_with("Đàm Thủy")
    # the article with Đàm Thủy in its title ranks first
    assert rows[0]["url"] == ARTICLES[0].url
    assert all("<mark>" in r["snippet"] for r in rows)
    assert "<mark>Đàm Thủy</mark>" in rows[0]["snippet"]  # the phrase, highlighted whole


def test_ranked_search_filters(client: httpx.Client) -> None:
    def urls(**params: str) -> set[str]:
        rows = client.get("/archive/search.json", params={**params, "_shape": "array"}).json()
        return {r["url"] for r in rows}

    assert urls(q="kinh") == set()  # no such word; "Kinh tế" is a category, not text
    assert urls(q="nguoi dan") == {ARTICLES[0].url, ARTICLES[3].url}
    assert urls(q="nguoi dan", site="baoquangninh") == {ARTICLES[3].url}
    assert urls(q="nguoi dan", date_from="2024-01-01") == {ARTICLES[3].url}
    assert urls(q="nguoi dan", date_to="2023-12-31") == {ARTICLES[0].url}
    assert urls(q="nguoi dan", date_from="2023-05-30", date_to="2023-05-30") == {ARTICLES[0].url}
    assert urls(q="nguoi dan", category="Kinh tế") == {ARTICLES[0].url, ARTICLES[3].url}
    assert urls(q="nguoi dan", category="Văn hóa") == set()
    form = client.get("/archive/search").text
    assert '<option value="Văn hóa">Văn hóa</option>' in form


def test_search_page_escapes_everything_but_mark(client: httpx.Client) -> None:
    html = client.get("/archive/search", params={"q": "alert"}).text
    assert "<mark>alert</mark>" in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html
    html = client.get("/archive/search", params={"q": "<script>"}).text
    assert "<script>" not in html.split("</form>", 1)[0].split("<form", 1)[1]


def test_search_page_renders_results(client: httpx.Client) -> None:
    html = client.get("/archive/search", params={"q": "dam thuy"}).text
    assert "Xã Đàm Thủy phát triển du lịch cộng đồng" in html
    assert "Báo Cao Bằng" in html
    assert "30/05/2023 09:42 (GMT+7)" in html
    assert f'href="/archive/articles/{article_path(ARTICLES[0].url)}"' in html


def test_front_page_shows_counts(client: httpx.Client) -> None:
    html = client.get("/").text
    assert "Kho lưu trữ báo chí địa phương Việt Nam" in html
    assert "Báo Cao Bằng" in html and "Báo Quảng Ninh" in html
    assert f"<strong>{len(ARTICLES)}</strong> bài báo" in html
    assert "<strong>2</strong> tờ báo" in html
    assert 'action="/archive/search"' in html and 'name="q"' in html
    assert "finished" in html  # the last crawl


def test_article_page_shows_paragraphs(client: httpx.Client) -> None:
    html = client.get(f"/archive/articles/{article_path(ARTICLES[0].url)}").text
    assert "<h1>Xã Đàm Thủy phát triển du lịch cộng đồng</h1>" in html
    for para in BODY_DAM_THUY.split("\n\n"):
        assert f"<p>{para}</p>" in html
    assert f'href="{ARTICLES[0].url}"' in html  # link to the original
    assert "Bảo Bình" in html and "Báo Cao Bằng" in html and "Kinh tế" in html
    assert "30/05/2023 09:42 (GMT+7)" in html


def test_article_page_escapes_user_text(client: httpx.Client) -> None:
    html = client.get(f"/archive/articles/{article_path(ARTICLES[-1].url)}").text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in html
    assert "&lt;b&gt;in đậm&lt;/b&gt;" in html
    assert "không rõ ngày đăng" in html


@pytest.mark.parametrize(
    "path",
    [
        "/-/versions",
        "/-/versions.json",
        "/-/databases.json",
        "/-/threads",
        "/-/settings.json",
        "/-/plugins",
        "/-/config",
        "/-/metadata.json",
        "/-/actor.json",
    ],
)
def test_sensitive_pages_are_closed(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "my-archive" not in response.text


def test_static_and_download(client: httpx.Client) -> None:
    assert client.get("/-/static/app.css").status_code == 200  # only sensitive pages close
    assert client.get("/archive.db").status_code in (403, 404)  # allow_download off


def test_robots_txt_disallows_all(client: httpx.Client) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert "User-agent: *" in response.text and "Disallow: /" in response.text


def test_sql_is_read_only_and_time_limited(client: httpx.Client) -> None:
    response = client.get("/archive.json", params={"sql": "delete from articles"})
    assert response.status_code == 400
    slow = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
    response = client.get("/archive.json", params={"sql": slow})
    assert response.status_code == 400 and "interrupted" in response.text.lower()
    assert client.get("/archive/articles.json", params={"_shape": "array"}).status_code == 200


def test_pages_blob_hidden_by_default(client: httpx.Client) -> None:
    rows = client.get("/archive/pages.json", params={"_shape": "array"}).json()
    assert rows and "html_gz" not in rows[0] and rows[0]["status"] == 200
    rows = client.get("/archive/pages.json", params={"_shape": "array", "_col": "html_gz"}).json()
    assert "html_gz" in rows[0]


def test_canned_queries(client: httpx.Client) -> None:
    rows = client.get(
        "/archive/articles_per_month.json", params={"_shape": "array", "site": "baocaobang"}
    ).json()
    assert {(r["month"], r["articles"]) for r in rows} == {
        ("2023-05", 2),
        ("2023-06", 1),
        ("2024-02", 1),
    }
    rows = client.get(
        "/archive/term_over_time.json", params={"_shape": "array", "term": "dam thuy"}
    ).json()
    by_month = {r["month"]: r for r in rows}
    assert by_month["2023-05"]["articles_mentioning"] == 2
    assert by_month["2023-05"]["percent"] == 100.0
    assert by_month["2024-01"]["articles_mentioning"] == 0


def test_metadata_documents_every_column(client: httpx.Client) -> None:
    import yaml

    from archive.store import ARTICLE_COLUMNS

    meta = yaml.safe_load((Path(__file__).parent.parent / "metadata.yml").read_text())
    tables = meta["databases"]["archive"]["tables"]
    assert set(tables["articles"]["columns"]) == set(ARTICLE_COLUMNS)
    schema = client.get(
        "/archive.json",
        params={
            "sql": "select m.name as t, p.name as c from sqlite_master m "
            "join pragma_table_info(m.name) p where m.type = 'table' "
            "and m.name not like 'articles_fts%' and m.name not like 'articles_exact%'",
            "_shape": "array",
        },
    ).json()
    for row in schema:
        assert row["c"] in tables[row["t"]]["columns"], row


def test_archive_timestamps_shown_in_vietnam_time() -> None:
    assert vn_datetime("2024-05-01T20:30:00+00:00", vietnam_time=True) == "02/05/2024 03:30 (GMT+7)"
    assert vn_datetime("2024-05-01T20:30:00+00:00") == "01/05/2024 20:30 (GMT+0)"


def test_table_page_folds_column_descriptions(client: httpx.Client) -> None:
    html = client.get("/archive/articles").text
    assert 'class="column-descriptions"' in html and "Column descriptions" in html


# ---------------------------------------------------------------------------
# Table search for a word in more than MANY_MATCHES articles (datasette_plugin.py)


@pytest.fixture(scope="module")
def big_archive(tmp_path_factory: pytest.TempPathFactory, datasette) -> tuple[str, Path]:
    """12,000 synthetic articles (bench/search.py): `tinh` is in ~98% of them."""
    from bench.search import build

    db_path = tmp_path_factory.mktemp("big") / "big.db"
    build(db_path, 12_000)
    return datasette(db_path), db_path


def test_common_word_table_search_skips_count_and_facets(big_archive: tuple[str, Path]) -> None:
    from archive.datasette_plugin import MANY_MATCHES

    base, db_path = big_archive
    conn = sqlite3.connect(db_path)
    conn.create_function("escape_fts", 1, fts_query)
    matching = conn.execute(
        "select published_at, url from articles where rowid in (select rowid from "
        "articles_fts where articles_fts match escape_fts('tinh')) order by published_at desc"
    ).fetchall()
    conn.close()
    assert len(matching) > MANY_MATCHES
    with httpx.Client(base_url=base, timeout=30) as c:
        html = " ".join(c.get("/archive/articles", params={"_search": "tinh"}).text.split())
        assert "hơn 10.000 bài báo" in html and 'class="facet-results"' not in html
        data = c.get(
            "/archive/articles.json", params={"_search": "tinh", "_shape": "objects"}
        ).json()
        assert data["filtered_table_rows_count"] is None and data["facet_results"] == {}
        assert "+rowid in (select rowid from articles_fts" in data["query"]["sql"]
        # The same rows as the usual plan: newest first (ties may come in any order).
        assert [r["published_at"] for r in data["rows"]] == [p for p, _ in matching[:50]]
        assert {r["url"] for r in data["rows"]} <= {u for _, u in matching}
        # The "auto" flags come back in the next-page link, and page 2 follows on.
        assert "_nocount=auto" in data["next_url"]
        page2 = c.get(data["next_url"]).json()["rows"]
        assert [r["published_at"] for r in page2] == [p for p, _ in matching[50:100]]
        # A rare word reached from that page's form gets its count and facets back.
        rare = c.get(
            "/archive/articles.json",
            params={"_search": "phja oac", "_nocount": "auto", "_nofacet": "auto"},
        ).json()
        assert rare["filtered_table_rows_count"] == 3 and rare["facet_results"]
        assert "+rowid" not in rare["query"]["sql"]
        # A reader's own _nocount=1 is kept.
        mine = c.get("/archive/articles.json", params={"_search": "phja oac", "_nocount": "1"})
        assert mine.json()["filtered_table_rows_count"] is None


def test_front_page_shows_mergers_and_silent_papers(tmp_path: Path, datasette) -> None:
    """The whole registry in `sites`: a reader sees that Báo Hà Giang's archive now sits
    with Tuyên Quang, and an operator sees the paper whose crawls stopped yielding."""
    from archive.sites import SITES
    from archive.store import save_sites

    db = open_db(tmp_path / "archive.db")
    save_sites(db, SITES.values())
    for site, host in (("baohagiang", "baohagiang.vn"), ("baotuyenquang", "baotuyenquang.vn")):
        save_article(db, Article(url=f"https://{host}/a/202401/bai-1/", site=site,
                                 title=f"Bài của {site}", body="Nội dung. " * 20))  # fmt: skip
    for day in range(1, 7):
        for hour in (0, 6, 12, 18):
            started = f"2026-03-{day:02d}T{hour:02d}:00:00+00:00"
            db["crawls"].insert({"site": "baohagiang", "started_at": started, "status": "ok",
                                 "finished_at": started, "new": 4 if day <= 3 else 0})  # fmt: skip
    db.close()
    base = datasette(tmp_path / "archive.db")
    html = httpx.get(base + "/", timeout=10).text
    row = httpx.get(
        base + "/archive/sites/baohagiang.json", params={"_shape": "objects"}, timeout=10
    ).json()["rows"][0]
    assert "Hà Giang <span" in html and "(nay thuộc Tuyên Quang)" in html
    assert "Sáp nhập năm 2025 vào" in html
    assert "Báo và Phát thanh, Truyền hình Tuyên Quang</a>" in html
    assert "Trước năm 2025: Báo Tuyên Quang." in html
    assert html.count("⚠") == 1 and "12 lần thu thập gần đây không có bài mới" in html
    assert (row["province"], row["province_now"], row["status"], row["merged_into"]) == (
        "Hà Giang", "Tuyên Quang", "merged", "baotuyenquang",
    )  # fmt: skip


def test_the_plugins_store_queries_run_under_the_sql_time_limit(tmp_path: Path) -> None:
    """The plugin's pages read through store functions (`read`), on Datasette's SQL
    threads and under its SQL time limit, as the `db.execute` calls they replaced
    did: a query over the limit is cut (QueryInterrupted), not left to run."""
    import asyncio

    from datasette.app import Datasette
    from datasette.database import QueryInterrupted

    from archive import store
    from archive.datasette_plugin import read
    from tests.sample_archive import build_archive

    ds = Datasette([str(build_archive(tmp_path / "a.db"))], settings={"sql_time_limit_ms": 50})
    db = ds.get_database()

    def slow(conn: sqlite3.Connection) -> int:  # seconds of work without a limit
        sql = "with recursive n(i) as (select 1 union all select i + 1 from n limit 1e9) "
        return conn.execute(sql + "select count(*) from n").fetchone()[0]

    async def run() -> None:
        titles = await read(db, store.site_titles)
        assert titles == {"baocaobang": "Báo Cao Bằng", "baoquangninh": "Báo Quảng Ninh"}
        with pytest.raises(QueryInterrupted):
            await read(db, slow)

    asyncio.run(run())
