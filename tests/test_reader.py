"""What a Vietnamese journalist meets past the front page (issue 13), over HTTP against
the real Datasette command: Vietnamese table, row and error pages, ranked search with
totals and paging, Atom feeds, places, and exports a spreadsheet opens."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from archive.datasette_plugin import article_path
from archive.models import Article
from archive.places import tag_places
from archive.store import open_db, save_article, save_site
from tests.sample_archive import ARTICLES
from tests.sitegen import SiteSpec, build_site
from vnnews.localsite import LocalSite

# English Datasette phrases a reader must never meet on the reader's pages.
FORBIDDEN = (
    "rows sorted by",
    "sorted by",
    "This data as",
    "Apply",
    "Record not found",
    "Next page",
    "Powered by",
    "Data license",
    "Data source",
    "Advanced export",
    "remove filter",
    "Error 404",
    "0 records",
    "Links from other tables",
)
ATOM = "{http://www.w3.org/2005/Atom}"


def english_left(html: str) -> list[str]:
    return [phrase for phrase in FORBIDDEN if phrase in html]


@pytest.fixture(scope="module")
def client(archive_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=archive_server, timeout=15) as c:
        yield c


READER_PAGES = [
    "/",
    "/archive/articles",
    "/archive/articles?site=baocaobang",
    "/archive/articles?_search=dam+thuy",
    f"/archive/articles/{article_path(ARTICLES[0].url)}",
    "/archive/articles/khong-co-bai-nay",
    "/archive/sites",
    "/archive/article_tags",
    "/archive/article_places",
    "/archive/search?q=dam+thuy",
    "/archive/search?q=khongcotu",
    "/bao/baocaobang",
    "/tac-gia/Bảo Bình",
    "/tu-khoa/du lịch",
    "/dia-danh/Hà Quảng",
    "/tu-khoa-theo-thoi-gian?q=dam+thuy",
    "/bieu-do",
]


@pytest.mark.parametrize("path", READER_PAGES)
def test_reader_pages_have_no_english_datasette_phrases(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (200, 404)
    assert english_left(response.text) == []
    assert ">home</a>" not in response.text  # Datasette's breadcrumb


def test_table_page_is_compact_with_paper_names_and_month_facets(client: httpx.Client) -> None:
    html = client.get("/archive/articles").text
    assert "Báo Cao Bằng" in html and "Báo Quảng Ninh" in html  # rows and facets
    facets = html.split('class="facet-results"', 1)[1]
    assert ">Báo Cao Bằng</a>" in facets and ">baocaobang</a>" not in facets
    assert "(theo tháng)" in facets and "2024-06" in facets and "2024-06-01" not in facets
    assert BODY_WORDS not in html  # the body is on the article page, not in the rows
    assert "Tiêu đề" in html and "Thời gian đăng" in html


BODY_WORDS = "mỗi năm đón hàng trăm nghìn lượt khách"


def test_missing_article_is_a_vietnamese_404(client: httpx.Client) -> None:
    response = client.get("/archive/articles/khong-co-bai-nay")
    assert response.status_code == 404 and "Không tìm thấy" in response.text


def test_article_page_links_author_tags_places_photo_and_citation(client: httpx.Client) -> None:
    html = client.get(f"/archive/articles/{article_path(ARTICLES[0].url)}").text
    assert 'href="/tac-gia/B%E1%BA%A3o%20B%C3%ACnh"' in html
    assert 'href="/tu-khoa/du%20l%E1%BB%8Bch"' in html
    assert 'href="/dia-danh/%C4%90%C3%A0m%20Th%E1%BB%A7y"' in html
    assert '<img src="http://127.0.0.1:9/thac-ban-gioc.jpg"' in html
    assert 'referrerpolicy="no-referrer"' in html
    assert "<figcaption>Thác Bản Giốc mùa nước đầy</figcaption>" in html
    cite = html.split('class="cite-text">', 1)[1].split("</span>", 1)[0]
    assert cite.startswith("Báo Cao Bằng. “Xã Đàm Thủy phát triển du lịch cộng đồng”. 30/05/2023")
    assert ARTICLES[0].url in cite and "Truy cập ngày" in cite


def test_author_tag_and_place_pages_list_their_articles(client: httpx.Client) -> None:
    for path in ("/tac-gia/Bảo Bình", "/tu-khoa/du lịch", "/dia-danh/Đàm Thủy"):
        rows = client.get(path + ".json").json()["rows"]
        assert ARTICLES[0].url in {r["url"] for r in rows}, path
    html = client.get("/tac-gia/Bảo Bình").text
    assert "Tác giả: Bảo Bình" in html and ARTICLES[0].title in html


def test_exports_open_as_vietnamese(client: httpx.Client) -> None:
    table_csv = client.get("/archive/articles.csv").content
    assert table_csv.startswith("\ufeff".encode())
    search_csv = client.get("/archive/search.csv", params={"q": "dam thuy"}).content
    assert search_csv.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(search_csv.decode("utf-8-sig"))))
    assert rows[0]["title"] == ARTICLES[0].title and rows[0]["paper"] == "Báo Cao Bằng"
    assert rows[0]["body"] == ARTICLES[0].body and "<mark>" not in search_csv.decode()
    raw_json = client.get("/archive/articles.json").text
    assert "\\u" not in raw_json and "Đàm Thủy" in raw_json


def test_term_over_time_is_a_chart_per_paper(client: httpx.Client) -> None:
    html = client.get("/tu-khoa-theo-thoi-gian", params={"q": "dam thuy"}).text
    assert html.count('class="vn-term-chart"') == 1  # only Báo Cao Bằng mentions it
    assert "<h2>Báo Cao Bằng" in html and "<rect" in html


# ---------------------------------------------------------------------------
# Ranking and paging on an archive built for it


@pytest.fixture(scope="module")
def ranked(tmp_path_factory: pytest.TempPathFactory, datasette) -> str:
    """Sixty articles that say "định" (folded like "Đình") and, older and in the body
    only, two that say "Đình"; one newer with "Đình" in its title."""
    db = open_db(tmp_path_factory.mktemp("ranked") / "archive.db")
    save_site(db, {"name": "baocaobang", "title": "Báo Cao Bằng", "province": "Cao Bằng"})
    for n in range(60):
        save_article(db, Article(
            url=f"https://baocaobang.vn/quyet-dinh-{n}.html", site="baocaobang",
            title=f"Quyết định số {n} của tỉnh", body="Ổn định sản xuất. " * 5,
            published_at=f"2024-03-{1 + n % 28:02d}T08:{n:02d}:00+07:00",
        ))  # fmt: skip
    for n in range(2):
        save_article(db, Article(
            url=f"https://baocaobang.vn/le-hoi-{n}.html", site="baocaobang",
            title=f"Lễ hội mùa xuân {n}", body="Đình làng Phúc Hòa mở hội.",
            published_at=f"2020-01-0{n + 1}T08:00:00+07:00",
        ))  # fmt: skip
    save_article(db, Article(
        url="https://baocaobang.vn/dinh-lang.html", site="baocaobang",
        title="Đình làng Phúc Hòa", body="Một ngôi đình cổ.",
        published_at="2019-05-05T08:00:00+07:00",
    ))  # fmt: skip
    db.close()
    return datasette(tmp_path_factory.getbasetemp() / "ranked0" / "archive.db")


def test_accented_query_ranks_exact_marks_first_title_first(ranked: str) -> None:
    body = httpx.get(ranked + "/archive/search.json", params={"q": "Đình"}).json()
    urls = [r["url"] for r in body["rows"]]
    assert body["total"] == 63
    assert urls[:3] == [
        "https://baocaobang.vn/dinh-lang.html",  # exact, in the title (the oldest, still first)
        "https://baocaobang.vn/le-hoi-1.html",  # exact, in the text, newest first
        "https://baocaobang.vn/le-hoi-0.html",
    ]
    assert all("quyet-dinh" in u for u in urls[3:])  # then "định", folded


def test_unaccented_query_puts_title_matches_first(ranked: str) -> None:
    rows = httpx.get(ranked + "/archive/search.json", params={"q": "dinh", "_shape": "array"})
    urls = [r["url"] for r in rows.json()]
    titled = [u for u in urls if "le-hoi" not in u]
    assert urls[: len(titled)] == titled  # every title match before the body-only ones


def test_more_than_fifty_hits_show_the_total_and_page_to_the_last(ranked: str) -> None:
    html = httpx.get(ranked + "/archive/search", params={"q": "dinh"}).text
    assert "<strong>63</strong> bài" in html and "trang 1/4" in html
    seen: list[str] = []
    url = ranked + "/archive/search.json?q=dinh"
    while url:
        body = httpx.get(url).json()
        seen += [r["url"] for r in body["rows"]]
        url = ranked + body["next_url"] if body["next_url"] else None
    assert len(seen) == 63 == len(set(seen))
    last = httpx.get(ranked + "/archive/search", params={"q": "dinh", "page": 4}).text
    assert "Trang sau" not in last and "Trang trước" in last
    by_date = httpx.get(ranked + "/archive/search.json", params={"q": "dinh", "sort": "date"})
    dates = [r["published_at"] for r in by_date.json()["rows"]]
    assert dates == sorted(dates, reverse=True)


def test_atom_feed_of_a_search_lists_the_newest_matches(ranked: str) -> None:
    response = httpx.get(ranked + "/archive/search.atom", params={"q": "Đình"})
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == ATOM + "feed"
    assert feed.find(ATOM + "id").text and feed.find(ATOM + "updated").text
    entries = feed.findall(ATOM + "entry")
    assert len(entries) == 30
    published = [e.find(ATOM + "published").text for e in entries]
    assert published == sorted(published, reverse=True)
    first = entries[0]
    assert first.find(ATOM + "title").text.startswith("Quyết định số")
    links = {link.get("rel"): link.get("href") for link in first.findall(ATOM + "link")}
    assert links["alternate"].startswith(ranked + "/archive/articles/")
    assert links["via"].startswith("https://baocaobang.vn/")


# ---------------------------------------------------------------------------
# Places, from a crawl with no profile


ARTICLE_PAGE = """<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:type" content="article"></head><body>
<header><a href="/">Tin Miền Núi</a></header><main><article>
<h1>{title}</h1><div class="date">Thứ Hai, {day}/03/2025 08:30</div>
<div class="detail">{paragraphs}</div></article></main>
<footer>Tòa soạn: 01 đường Trần Phú.</footer></body></html>"""
PLACE_ARTICLES = [
    (
        "/ha-quang-don-tet-1001.html",
        "Hà Quảng đón Tết an toàn",
        [
            "Huyện Hà Quảng tổ chức nhiều hoạt động vui xuân cho người dân các xã vùng cao.",
            "Tại xã Trường Hà, bà con gói bánh chưng xanh, thi đấu thể thao và hát then.",
            "Các lực lượng chức năng tăng cường tuần tra, bảo đảm an ninh trật tự dịp Tết.",
        ],
    ),
    (
        "/vung-cao-trong-rung-1002.html",
        "Các huyện vùng cao trồng rừng mùa xuân",
        [
            "Bảo Lâm, Bảo Lạc và Nguyên Bình ra quân trồng rừng đầu năm với hàng nghìn cây giống.",
            "Người dân các xã được hỗ trợ cây giống, phân bón và hướng dẫn kỹ thuật chăm sóc.",
            "Năm nay toàn tỉnh phấn đấu trồng mới hơn ba nghìn héc-ta rừng sản xuất.",
        ],
    ),
]


def test_a_crawl_without_profile_tags_cao_bang_places(tmp_path: Path) -> None:
    pages = [
        (path, title, ARTICLE_PAGE.format(title=title, day=10 + i,
                                          paragraphs="".join(f"<p>{p}</p>" for p in paras)))
        for i, (path, title, paras) in enumerate(PLACE_ARTICLES)
    ]  # fmt: skip
    site = LocalSite(build_site(tmp_path / "site", pages, SiteSpec())).start()
    try:
        vnnews = str(Path(sys.executable).with_name("vnnews"))
        db_path = tmp_path / "archive.db"
        result = subprocess.run(
            [vnnews, "crawl", site.url + "/", "--db", str(db_path), "--delay", "0"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    finally:
        site.stop()
    db = open_db(db_path)
    places = {
        (r["url"].rsplit("/", 1)[1], r["name"]): r for r in db.query("select * from article_places")
    }
    db.close()
    ha_quang = places[("ha-quang-don-tet-1001.html", "Hà Quảng")]
    assert (ha_quang["level"], ha_quang["province"], ha_quang["province_now"]) == (
        "district", "Cao Bằng", "Cao Bằng",
    )  # fmt: skip
    assert places[("ha-quang-don-tet-1001.html", "Trường Hà")]["district"] == "Hà Quảng"
    bao_lam = places[("vung-cao-trong-rung-1002.html", "Bảo Lâm")]
    assert (bao_lam["level"], bao_lam["province"]) == ("district", "Cao Bằng")  # not Lâm Đồng


def test_an_ambiguous_place_alone_is_not_guessed() -> None:
    assert tag_places("Bảo Lâm có nhiều chè.") == []
    assert [p.province for p in tag_places("Bảo Lâm có nhiều chè.", "Lâm Đồng")] == ["Lâm Đồng"]


def test_a_province_today_includes_what_merged_into_it() -> None:
    [ha_giang] = tag_places("Tỉnh Hà Giang có cao nguyên đá Đồng Văn.", None)[:1]
    assert (ha_giang.province, ha_giang.province_now) == ("Hà Giang", "Tuyên Quang")


# ---------------------------------------------------------------------------
# A spreadsheet opens the CSV


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(
    SOFFICE is None,
    reason="LibreOffice is missing: apt-get install -y libreoffice-calc-nogui (make test does)",
)
def test_csv_export_opens_in_libreoffice_with_vietnamese(
    client: httpx.Client, tmp_path: Path
) -> None:
    (tmp_path / "ket-qua.csv").write_bytes(
        client.get("/archive/search.csv", params={"q": "dam thuy"}).content
    )
    profile = f"-env:UserInstallation=file://{tmp_path}/lo-profile"
    # Headless LibreOffice reads a CSV in the system's 8-bit charset unless told (it
    # ignores the BOM then; its import dialog and Excel go by the BOM): say UTF-8, and
    # check that the BOM does not end up inside the first header cell.
    subprocess.run(
        [SOFFICE, profile, "--headless", "--infilter=CSV:44,34,UTF8", "--convert-to", "xlsx",
         "--outdir", str(tmp_path), str(tmp_path / "ket-qua.csv")],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    subprocess.run(
        [SOFFICE, profile, "--headless", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76",
         "--outdir", str(tmp_path / "back"), str(tmp_path / "ket-qua.xlsx")],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    text = (tmp_path / "back" / "ket-qua.csv").read_text(encoding="utf-8")
    assert text.startswith("url,paper,site,title")
    assert "Xã Đàm Thủy phát triển du lịch cộng đồng" in text and "Báo Cao Bằng" in text


def test_a_province_page_today_takes_in_the_merged_papers_and_places(
    tmp_path: Path, datasette
) -> None:
    """Tuyên Quang today: Báo Hà Giang's articles and articles naming Hà Giang's places."""
    from archive.sites import SITES
    from archive.store import save_sites

    db = open_db(tmp_path / "archive.db")
    save_sites(db, SITES.values())
    stories = [
        ("baohagiang", "https://baohagiang.vn/a/1/", "Đồng Văn mùa hoa tam giác mạch", "Hà Giang"),
        ("baocaobang", "https://baocaobang.vn/b-2.html", "Du khách từ Mèo Vạc", "Cao Bằng"),
        ("baocaobang", "https://baocaobang.vn/c-3.html", "Hà Quảng vào mùa lúa", "Cao Bằng"),
    ]
    for site, url, title, province in stories:
        article = Article(url=url, site=site, title=title, body="Nội dung bài. " * 10,
                          published_at="2024-09-01T08:00:00+07:00")  # fmt: skip
        article.places = tag_places(title, province)
        save_article(db, article)
    db.close()
    base = datasette(tmp_path / "archive.db")
    rows = httpx.get(base + "/tinh/Tuyên Quang.json", timeout=10).json()["rows"]
    assert {r["url"] for r in rows} == {stories[0][1], stories[1][1]}
    html = httpx.get(base + "/archive/search", params={"q": "Tuyên Quang"}, timeout=10).text
    assert "Hà Giang sáp nhập vào Tuyên Quang" in html and 'href="/tinh/Tuy' in html
