"""Reprints (issue 12): the same article published by several outlets is linked to its
original; articles that merely share a topic, places or stock phrases are not.

The labelled set: every golden article (tests/fixtures/pages) reprinted the ways
portals and papers do it (a new headline, a trimmed or missing lead, a credit line, a
dropped paragraph, a lead code, a "Theo TTXVN"), against hard negatives: every other
pair of golden articles (many share provinces, districts and officials), reports of the
same events written independently (tests/fixtures/reprints/independent.json), and
unrelated articles carrying the same stock paragraphs. Then the real thing: a portal
crawled into the same archive as the paper it reprints.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from archive import reprints, store
from archive.models import Article
from tests.sitegen import SiteSpec, build_site
from vnnews.localsite import SNAPSHOT_DIR, LocalSite

FIXTURES = Path(__file__).parent / "fixtures"
VNNEWS = str(Path(sys.executable).with_name("vnnews"))
LABELLED = json.loads((FIXTURES / "reprints" / "independent.json").read_text(encoding="utf-8"))


def sources() -> dict[str, dict]:
    found = {}
    for case in sorted((FIXTURES / "pages").glob("*/*.json")):
        record = json.loads(case.read_text(encoding="utf-8"))
        found[f"{case.parent.name}/{case.stem}"] = record
    return found


SOURCES = sources()


def paragraphs(record: dict) -> list[str]:
    return [p for p in (record["body"] or "").split("\n\n") if p.strip()]


def first_sentence(text: str | None) -> str:
    return (text or "").split(". ")[0]


def reprinted(record: dict, way: int) -> tuple[str, str]:
    """(lead, body) of a reprint of `record`, in one of six ways (combined as portals do)."""
    paras = paragraphs(record)
    lead, credit = record["lead"], f"{record.get('author') or 'PV'} (baocaobang.vn)"
    if way == 0:  # trimmed lead, credit line
        return first_sentence(lead), "\n\n".join([*paras, credit])
    if way == 1:  # a middle paragraph dropped, credit
        drop = len(paras) // 2 if len(paras) > 2 else None
        return lead, "\n\n".join([p for i, p in enumerate(paras) if i != drop] + [credit])
    if way == 2:  # no lead at all, last paragraph dropped, a source line first
        return "", "\n\n".join(["Theo TTXVN", *(paras[:-1] if len(paras) > 2 else paras)])
    if way == 3:  # the lead's code prefix and the lead folded into the body
        return "", "\n\n".join([f"CBO - {lead or ''}", *paras])
    if way == 4:  # copy edits: a few words changed here and there
        words = "\n\n".join(paras).split(" ")
        edited = [("các" if w == "những" else w) for w in words]
        return lead, " ".join(edited[:-3])
    # the first half only, as some portals cut with "Xem tiếp…"
    return lead, "\n\n".join(paras[: max(2, (len(paras) + 1) // 2)])


def runs(lead: str | None, body: str | None) -> set[str]:
    return reprints.shingles(reprints.article_text(lead, body))


def labelled_pairs() -> list[tuple[set[str], set[str], bool, str]]:
    """(text a, text b, is a reprint, kind) for the whole labelled set."""
    pairs = []
    texts = {key: runs(r["lead"], r["body"]) for key, r in SOURCES.items()}
    for n, (key, record) in enumerate(SOURCES.items()):
        for way in (n % 6, (n + 3) % 6):
            pairs.append((texts[key], runs(*reprinted(record, way)), True, f"reprint-{way}"))
    for a, b in itertools.combinations(SOURCES, 2):
        pairs.append((texts[a], texts[b], False, "other article"))
    for report in LABELLED["independent"]:
        own = runs(report["lead"], report["body"])
        pairs.append((texts[report["about"]], own, False, "same event, written independently"))
        # ...and against a reprint of the same source: still not a reprint
        source = SOURCES[report["about"]]
        pairs.append((runs(*reprinted(source, 0)), own, False, "same event vs a reprint"))
    stock = "\n\n".join(LABELLED["stock"])
    keys = list(SOURCES)
    for a, b in zip(keys, keys[1:], strict=False):
        ra, rb = SOURCES[a], SOURCES[b]
        pairs.append(
            (
                runs(ra["lead"], f"{ra['body']}\n\n{stock}"),
                runs(rb["lead"], f"{stock}\n\n{rb['body']}"),
                False,
                "shared stock phrases",
            )
        )
    return pairs


def found_by_index(a: set[str], b: set[str]) -> bool:
    """What the archive does: LSH candidates first, then the containment test."""
    return bool(set(reprints.bands(a)) & set(reprints.bands(b))) and reprints.is_reprint(a, b)


def test_precision_and_recall_on_the_labelled_set():
    pairs = labelled_pairs()
    positives = sum(label for *_, label, _ in pairs)
    negatives = len(pairs) - positives
    assert positives >= 60 and negatives >= 500
    assert sum(kind.startswith("same event") for *_, kind in pairs) >= 10  # hard negatives
    tp = fp = fn = 0
    mistakes = []
    for a, b, label, kind in pairs:
        guess = found_by_index(a, b)
        tp += guess and label
        fp += guess and not label
        fn += label and not guess
        if guess != label:
            mistakes.append((kind, round(reprints.similarity(a, b), 2)))
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    print(f"labelled pairs: {positives} reprints, {negatives} not; "
          f"precision {precision:.3f}, recall {recall:.3f}; mistakes {mistakes}")  # fmt: skip
    assert precision >= 0.95, mistakes
    assert recall >= 0.9, mistakes


def test_independent_reports_share_names_not_sentences():
    for report in LABELLED["independent"]:
        source = SOURCES[report["about"]]
        score = reprints.similarity(
            runs(source["lead"], source["body"]), runs(report["lead"], report["body"])
        )
        assert score < 0.15, report["about"]


def article(url: str, site: str, record: dict, **values) -> Article:
    lead, body = values.pop("text", (record["lead"], record["body"]))
    return Article(url=url, site=site, title=values.pop("title", record["title"]), lead=lead,
                   body=body, published_at=values.pop("published_at", record["published_at"]),
                   **values)  # fmt: skip


def test_the_original_is_the_one_the_credit_names_else_the_earliest(tmp_path):
    db = store.open_db(tmp_path / "a.db")
    record = SOURCES["a/trung-khanh-hat-de"]
    # The portal's copy is archived first and even claims an earlier time: the credit wins.
    portal = article("https://trungkhanh.caobang.gov.vn/tin/1.aspx", "trungkhanh.caobang.gov.vn",
                     record, title="Hạt dẻ được mùa", source="baocaobang.vn",
                     published_at="2020-01-01T08:00:00+07:00", text=reprinted(record, 1))  # fmt: skip
    store.save_article(db, portal)
    paper = article("https://baocaobang.vn/hat-de-12345.html", "baocaobang", record)
    store.save_article(db, paper)
    rows = db.execute("select url, original_url, reason from reprints").fetchall()
    assert rows == [(portal.url, paper.url, "credit")]
    # A third outlet without a credit, published later: linked to the same original.
    later = article("https://tintuc.example.vn/hat-de", "tintuc.example.vn", record,
                    published_at="2030-01-01T08:00:00+07:00", text=reprinted(record, 4))  # fmt: skip
    store.save_article(db, later)
    rows = set(db.execute("select url, original_url from reprints").fetchall())
    assert rows == {(portal.url, paper.url), (later.url, paper.url)}
    links = store.article_links(db.conn, paper.url)
    assert {r["url"] for r in links["reprints"]} == {portal.url, later.url}
    assert [r["url"] for r in store.article_links(db.conn, portal.url)["originals"]] == [paper.url]
    # The same paper's own copy is not a reprint; an unrelated article links to nothing.
    store.save_article(db, article("https://baocaobang.vn/hat-de-99999.html", "baocaobang", record))
    other = SOURCES["c/sa-pa-tet-binh-ngo"]
    store.save_article(db, article("https://baolaocai.vn/sa-pa-post1.html", "baolaocai", other))
    assert len(db.execute("select * from reprints").fetchall()) == 2


def test_the_index_is_consulted_not_every_row(tmp_path):
    """A new article is compared only with the articles sharing an LSH band."""
    db = store.open_db(tmp_path / "a.db")
    for n, record in enumerate(SOURCES.values()):
        store.save_article(
            db, article(f"https://baocaobang.vn/a-{n}00000.html", "baocaobang", record)
        )
    bands = db.execute("select count(distinct url) from text_bands").fetchone()[0]
    assert bands >= len(SOURCES) - 3  # all but texts too short to tell
    record = SOURCES["d/seed-ha-quang"]
    runs_ = runs(record["lead"], record["body"])
    keys = reprints.bands(runs_)
    values = ", ".join("(?, ?)" for _ in keys)
    nearby = db.execute(
        f"with q(band, key) as (values {values}) select distinct t.url from q "
        "join text_bands t on t.band = q.band and t.key = q.key",
        [v for pair in keys for v in pair],
    ).fetchall()
    assert len(nearby) == 1  # its own copy, not 34 rows


def test_our_signature_and_bands_are_datasketchs():
    """The bands archives hold were made with datasketch's MinHash; ours must give the
    same values for every text (else a new article would never meet an older reprint),
    and the banding must be the one MinHashLSH picks for our threshold."""
    from datasketch import MinHash, MinHashLSH

    texts = [" ".join((r.get("lead") or "", r.get("body") or "")) for r in SOURCES.values()]
    texts += ["", "một hai ba bốn năm", "Giá vàng tăng 2,5% lên 120.000.000 đồng/lượng " * 20]
    for text in texts:
        runs_ = reprints.shingles(text)
        theirs = MinHash(num_perm=reprints.NUM_PERM, seed=reprints.SEED)
        theirs.update_batch([r.encode() for r in runs_])
        ours = reprints.signature(runs_)
        assert ours.dtype == theirs.hashvalues.dtype
        assert ours.tolist() == theirs.hashvalues.tolist()
    lsh = MinHashLSH(threshold=reprints.THRESHOLD, num_perm=reprints.NUM_PERM)
    assert (lsh.b, lsh.r) == (reprints.BANDS, reprints.ROWS)


def test_saving_articles_loads_neither_scipy_nor_the_address_parser():
    """The crawl process saves every article and the page readers tag places: neither
    may pull in datasketch (scipy, redis: 58 MB) or vietnamadminunits' parser (50 MB)."""
    code = (
        "import sys; from archive import store, places, reprints; "
        "reprints.bands(reprints.shingles('a b c d e f g h')); places.gazetteer(); "
        "print(sorted(m for m in ('scipy', 'datasketch', 'vietnamadminunits', 'shapely') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_wire_story_in_many_papers_reads_a_bounded_number_of_candidates(tmp_path, monkeypatch):
    """A text already carried by more papers than MAX_CANDIDATES: the new copy is still
    linked, and the save reads at most MAX_CANDIDATES others (never the same paper's)."""
    monkeypatch.setattr(reprints, "MAX_CANDIDATES", 3)
    db = store.open_db(tmp_path / "a.db")
    record = SOURCES["d/seed-ha-quang"]
    for n in range(6):
        store.save_article(db, article(f"https://bao{n}.vn/tin-{n}00000.html", f"bao{n}", record))
    store.save_article(db, article("https://baomoi.vn/cu-600000.html", "baomoi", record))
    read: list[str] = []
    original = store._candidate
    monkeypatch.setattr(
        store, "_candidate", lambda conn, url: read.append(url) or original(conn, url)
    )
    store.save_article(db, article("https://baomoi.vn/tin-700000.html", "baomoi", record))
    others = [u for u in read if u != "https://baomoi.vn/tin-700000.html"]
    assert len(others) == 3 and not any(u.startswith("https://baomoi.vn") for u in others)
    linked = db.execute(
        "select original_url from reprints where url = 'https://baomoi.vn/tin-700000.html'"
    ).fetchall()
    assert linked  # still linked to the group's original


def test_a_papers_own_copies_never_crowd_out_another_papers(tmp_path, monkeypatch):
    """One paper holds many copies of a text (daily bulletins); the index is read per
    band only on the other papers' side, so the one copy another paper holds is found
    however many the first paper has, and a save reads none of the first paper's."""
    monkeypatch.setattr(reprints, "PER_BAND", 2)
    db = store.open_db(tmp_path / "a.db")
    record = SOURCES["d/seed-ha-quang"]
    store.save_article(db, article("https://baolaocai.vn/tin-100000.html", "baolaocai", record))
    for n in range(8):  # sort on both sides of the others: "baocaobang" < "baolaocai" < "bao…"
        store.save_article(
            db, article(f"https://baocaobang.vn/tin-{n}00000.html", "baocaobang", record)
        )
        store.save_article(
            db, article(f"https://baoyenbai.vn/tin-{n}00000.html", "baoyenbai", record)
        )
    read: list[str] = []
    original = store._candidate
    monkeypatch.setattr(
        store, "_candidate", lambda conn, url: read.append(url) or original(conn, url)
    )
    store.save_article(db, article("https://baocaobang.vn/moi-900000.html", "baocaobang", record))
    others = set(read) - {"https://baocaobang.vn/moi-900000.html"}
    assert "https://baolaocai.vn/tin-100000.html" in others
    assert not any(u.startswith("https://baocaobang.vn") for u in others)


def test_an_archive_made_before_the_paper_was_in_the_index_gets_it(tmp_path):
    """text_bands without its site column (archives made before it) is rebuilt with the
    paper of each entry, read from articles; nothing else changes."""
    path = tmp_path / "old.db"
    db = store.open_db(path)
    for n, record in enumerate(list(SOURCES.values())[:6]):
        store.save_article(
            db, article(f"https://baocaobang.vn/a-{n}00000.html", "baocaobang", record)
        )
    before = sorted(db.execute("select band, key, url from text_bands").fetchall())
    with db.conn:
        db.execute("create table old_bands as select band, key, url from text_bands")
        db.execute("drop table text_bands")
        db.execute("alter table old_bands rename to text_bands")
    db.conn.close()

    def interrupted(db):  # the run dies half-way through the rebuild
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store, "_create_text_bands", interrupted)
        with pytest.raises(KeyboardInterrupt):
            store.open_db(path)
    db = store.open_db(path)
    rows = db.execute("select band, key, site, url from text_bands").fetchall()
    assert sorted((b, k, u) for b, k, _, u in rows) == before
    assert {site for _, _, site, _ in rows} == {"baocaobang"}


# ---------------------------------------------------------------- end to end

PORTAL_PAGE = """<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
<title>Cổng thông tin điện tử huyện Hà Quảng</title></head><body>
<table><tr><td class="menu"><a href="/">Trang chủ</a> <a href="/tin-tuc-su-kien/">Tin tức - Sự kiện</a></td></tr>
<tr><td><div class="news-detail"><h1>{title}</h1>
<div class="date">Cập nhật: 15/12/2026 | 4:12:07 PM</div>
{paragraphs}
</div></td><td class="side"><div>Thống kê truy cập</div><div>Đăng nhập</div></td></tr></table>
</body></html>"""


def portal_page(title: str, lead: str, body: str) -> str:
    from html import escape

    paras = [f"<p><strong>{escape(lead)}</strong></p>"] if lead else []
    paras += [f"<p>{escape(p)}</p>" for p in body.split("\n\n") if p.strip()]
    return PORTAL_PAGE.format(title=escape(title), paragraphs="\n".join(paras))


def test_a_portal_reprinting_a_paper_is_linked_to_it_in_one_archive(tmp_path):
    """The paper (the bundled baocaobang snapshot, through --base-url) and a district
    portal that reprints four of its articles (new headlines, credits, a dropped
    paragraph) and the seed article's page, and publishes two reports of its own on the
    same events: every reprint links to its original, nothing else is linked."""
    from archive.extract import extract
    from archive.sites import SITES

    db = tmp_path / "archive.db"
    snapshot = SNAPSHOT_DIR / "baocaobang"
    originals = {}
    for entry in json.loads((snapshot / "_expected.json").read_text(encoding="utf-8")):
        page = (snapshot / entry["path"].lstrip("/")).read_bytes()
        url = "https://baocaobang.vn" + entry["path"]
        originals[url] = extract(page, url, SITES["baocaobang"])
    chosen = [u for u, a in originals.items() if len(paragraphs({"body": a.body})) >= 3][:4]
    assert len(chosen) == 4
    pages, expected = [], {}
    for n, url in enumerate(chosen):
        record = {"lead": originals[url].lead, "body": originals[url].body, "author": "PV"}
        lead, body = reprinted(record, (0, 1, 4, 1)[n])
        path = f"/tin-tuc-su-kien/{1100 + n}/Bai-dang-lai-so-{n}.aspx"
        title = f"Tin từ Báo Cao Bằng: bài số {n}"
        pages.append((path, title, portal_page(title, lead, body)))
        expected[path] = url
    seed_path = "/tin-tuc-su-kien/1046/Pho-Bi-thu-lam-viec-tai-huyen-Ha-Quang.aspx"
    seed_html = (FIXTURES / "pages" / "d" / "seed-ha-quang.html").read_text(encoding="utf-8")
    pages.append((seed_path, "Phó Bí thư Thường trực Tỉnh ủy làm việc tại Hà Quảng", seed_html))
    expected[seed_path] = (
        "https://baocaobang.vn/Pho-Bi-thu-Thuong-truc-Tinh-uy-Chu-tich-HDND-tinh-Trieu-Dinh-Le-lam-viec-tai-huyen-Ha-Quang-61873.html"
    )
    for n, report in enumerate(LABELLED["independent"][:2]):
        title = f"Tin địa phương {n}: cùng sự kiện, bài viết riêng"
        pages.append((f"/tin-tuc-su-kien/{1200 + n}/Tin-rieng-so-{n}.aspx", title,
                      portal_page(title, report["lead"], report["body"])))  # fmt: skip
    root = build_site(tmp_path / "portal", pages, SiteSpec(feed=True, sitemap=True, listing=True))
    with LocalSite(snapshot) as paper, LocalSite(root) as portal:
        for args in (["baocaobang", "--base-url", paper.url], [portal.url + "/"]):
            done = subprocess.run([VNNEWS, "crawl", *args, "--db", str(db)],
                                  capture_output=True, text=True, timeout=300)  # fmt: skip
            assert done.returncode == 0, done.stderr
        origin = portal.url
    conn = sqlite3.connect(db)
    stored = {u for (u,) in conn.execute("select url from articles")}
    assert {origin + p for p in expected} <= stored
    links = dict(conn.execute("select url, original_url from reprints").fetchall())
    assert links == {origin + path: original for path, original in expected.items()}
