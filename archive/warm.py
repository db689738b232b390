"""Loaded by the page readers' forkserver before it forks them
(``pagework.reader_pool``, for the crawl and ``vnnews reextract --workers``): reading one small article loads what a reader would load
on its first page (trafilatura, dateparser's Vietnamese data, the place gazetteer),
then the heap is frozen, so the readers share those pages with the forkserver and
PSS counts them once instead of once per reader."""

from __future__ import annotations

import contextlib
import gc

from archive.accept import RawResponse
from archive.pagework import read_page
from archive.scope import Scope

SAMPLE = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>Nông dân xã Đàm Thủy mở rộng vùng chè</title></head><body>
<header><nav><a href="/">Trang chủ</a> <a href="/kinh-te">Kinh tế</a></nav></header>
<article><h1>Nông dân xã Đàm Thủy mở rộng vùng chè</h1>
<div class="date">Thứ Hai, 12/01/2026 08:30</div>
<p><strong>Năm 2025, nông dân xã Đàm Thủy, tỉnh Cao Bằng trồng mới 120 ha chè,
thu nhập bình quân đạt 45 triệu đồng/người.</strong></p>
<p>Theo UBND huyện Trùng Khánh, giá chè búp tươi năm nay tăng 12% so với năm trước,
nhiều hộ đã vay vốn mở rộng diện tích và xây dựng xưởng chế biến nhỏ tại thôn.</p>
<p>Ông Nông Văn Sinh, thôn Bản Giốc, cho biết gia đình ông thu hoạch 3 tấn chè mỗi
vụ, bán cho hợp tác xã với giá ổn định, con cháu không còn phải đi làm ăn xa.</p>
<p class="author">Bảo Bình</p></article>
<footer>Báo Cao Bằng</footer></body></html>"""


def warm_up() -> None:
    """Read one small article, then freeze what reading left in the heap."""
    raw = RawResponse("http://localhost/kinh-te/nong-dan-dam-thuy-1.html", body=SAMPLE.encode())
    # A reader that fails on this page fails on real pages too, where it is reported;
    # here it must not stop the forkserver, and so the crawl.
    with contextlib.suppress(Exception):
        read_page(raw, raw.url, Scope.for_target("http://localhost/"))
    gc.collect()
    gc.freeze()


warm_up()
