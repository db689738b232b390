"""The second opinion: a kept paragraph that lost numbers is repaired from the other
reading, and text the other reading has in the middle or at the end of the article is
recorded, never silently dropped."""

from __future__ import annotations

from archive.crosscheck import cross_check
from archive.extract import extract
from archive.sites import SiteProfile

PRICE = (
    "Chốt phiên giao dịch 22/12, giá vàng thế giới giao ngay tăng mạnh 104,8 USD lên "
    "4.442,6 USD/ounce, mức cao nhất mọi thời đại theo dữ liệu của sàn Kitco."
)
DAMAGED = (
    "Chốt phiên giao dịch 22/12, giá vàng thế giới giao ngay tăng mạnh lên /ounce, "
    "mức cao nhất mọi thời đại theo dữ liệu của sàn Kitco."
)
OTHER = [
    "Các nhà phân tích cho rằng dòng tiền trú ẩn an toàn sẽ còn đổ vào kim loại quý "
    "trong những tuần tới khi căng thẳng địa chính trị chưa hạ nhiệt.",
    "Giá bạc cũng tăng mạnh trong phiên, lên mức cao nhất trong hơn một thập kỷ, trong "
    "khi đồng USD suy yếu so với rổ tiền tệ chủ chốt.",
]
MIDDLE = (
    "Ngân hàng trung ương nhiều nước tiếp tục mua ròng vàng để đa dạng hóa dự trữ ngoại "
    "hối, góp phần đẩy giá lên cao trong suốt năm qua, theo báo cáo của Hội đồng Vàng "
    "Thế giới công bố tuần trước tại London."
)


def test_a_paragraph_that_lost_numbers_is_repaired_and_recorded():
    verdict = cross_check([DAMAGED, *OTHER], [PRICE, *OTHER], None)
    assert verdict.paragraphs == [PRICE, *OTHER]
    assert len(verdict.warnings) == 1 and verdict.warnings[0].startswith("digits:")
    assert "104,8" in verdict.warnings[0] and "4.442,6" in verdict.warnings[0]


def test_agreeing_readings_change_nothing():
    verdict = cross_check([PRICE, *OTHER], [PRICE, " ".join(OTHER)], None)
    assert verdict.paragraphs == [PRICE, *OTHER]
    assert verdict.warnings == []


def test_text_missing_from_the_middle_is_recorded():
    verdict = cross_check([PRICE, *OTHER], [PRICE, MIDDLE, MIDDLE, *OTHER], None)
    assert [w.split(":")[0] for w in verdict.warnings] == ["gap"]
    assert verdict.paragraphs == [PRICE, *OTHER]  # ours is kept: one page cannot tell


def test_a_caption_we_set_aside_is_no_loss():
    caption = "Giá vàng thế giới giao ngay chạm mốc kỷ lục 4.489 USD/ounce. Ảnh: Reuters."
    verdict = cross_check([PRICE, *OTHER], [caption, PRICE, *OTHER], None, seen=[caption])
    assert verdict.warnings == [] and verdict.paragraphs == [PRICE, *OTHER]


def test_a_short_text_against_the_pages_own_article_body_is_recorded():
    stated = " ".join([PRICE, *OTHER, MIDDLE] * 3)
    verdict = cross_check([PRICE], [PRICE], stated)
    assert any(w.startswith("shortfall:") for w in verdict.warnings)


def page(body: str) -> str:
    return (
        "<html><head><title>Giá vàng</title><meta property='og:type' content='article'>"
        "</head><body><div class='main'><h1>Giá vàng thế giới cao nhất mọi thời đại</h1>"
        f"<div class='time'>23/12/2025 09:02</div>{body}</div></body></html>"
    )


def test_a_profile_that_cuts_the_article_is_caught_by_the_second_reading():
    """A stale profile selector that now matches only the first half of the text: the
    archive keeps what the profile says, and records that the page has more."""
    more = "".join(f"<p>{MIDDLE} Đoạn {i}.</p>" for i in range(4))
    html = page(f"<div class='part1'><p>{PRICE}</p><p>{OTHER[0]}</p></div>"
                f"<div class='part2'>{more}</div>")  # fmt: skip
    profile = SiteProfile(name="test", title="Báo Thử", homepage="https://example.vn/", domains=("example.vn",),
                          selectors={"body": "div.part1"})  # fmt: skip
    article = extract(html, "https://example.vn/gia-vang-1234.html", profile)
    assert "104,8 USD" in article.body
    assert any(w.startswith(("tail:", "gap:")) for w in article.warnings), article.warnings
