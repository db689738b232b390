"""A small archive built with the storage API: the articles the publishing, browser and
chart tests search and display."""

from __future__ import annotations

from pathlib import Path

from archive.models import Article
from archive.places import article_text, tag_places
from archive.store import RawPage, finish_crawl, open_db, save_article, save_site, start_crawl

BODY_DAM_THUY = (
    "Xã Đàm Thủy có thác Bản Giốc nổi tiếng, mỗi năm đón hàng trăm nghìn lượt khách.\n\n"
    "Người dân Đàm Thủy làm homestay, bán đặc sản địa phương.\n\n"
    "Chính quyền xã hỗ trợ vốn và đào tạo kỹ năng phục vụ khách."
)

ARTICLES = [
    Article(
        url="https://baocaobang.vn/xa-dam-thuy-phat-trien-du-lich-12345.html",
        site="baocaobang",
        title="Xã Đàm Thủy phát triển du lịch cộng đồng",
        lead="Đàm Thủy (Trùng Khánh) đẩy mạnh du lịch gắn với thác Bản Giốc.",
        body=BODY_DAM_THUY,
        author="Bảo Bình",
        published_at="2023-05-30T09:42:00+07:00",
        category="Kinh tế",
        tags=["du lịch", "Trùng Khánh"],
        # Port 9 of this machine (discard): the browser tries it and nothing leaves.
        image="http://127.0.0.1:9/thac-ban-gioc.jpg",
        image_caption="Thác Bản Giốc mùa nước đầy",
    ),
    Article(
        url="https://baocaobang.vn/trung-khanh-don-khach-23456.html",
        site="baocaobang",
        title="Trùng Khánh đón khách dịp nghỉ lễ",
        lead="Các điểm du lịch trong huyện đông khách.",
        body="Khu du lịch thác Bản Giốc ở xã Đàm Thủy đón hơn 10.000 lượt khách.",
        published_at="2023-05-02T18:05:00+07:00",
        category="Văn hóa",
    ),
    # Distractors: "Thủy" without Đàm, and "đầm" (which folds to "đam") without Thủy.
    Article(
        url="https://baocaobang.vn/thuy-dien-bao-lac-34567.html",
        site="baocaobang",
        title="Thủy điện Bảo Lạc vận hành an toàn",
        body="Nhà máy thủy điện xả lũ theo quy trình.",
        published_at="2023-06-10T07:00:00+07:00",
        category="Kinh tế",
    ),
    Article(
        url="https://baoquangninh.vn/dam-nuoi-tom-45678.html",
        site="baoquangninh",
        title="Nuôi tôm trên đầm nước lợ",
        body="Người dân ven đầm thu hoạch tôm sú.",
        published_at="2024-01-15T08:30:00+07:00",
        category="Kinh tế",
    ),
    Article(
        url="https://baocaobang.vn/ha-quang-xay-dung-nong-thon-moi-56789.html",
        site="baocaobang",
        title="Hà Quảng xây dựng nông thôn mới",
        body="Huyện Hà Quảng hoàn thành 12 tiêu chí nông thôn mới.",
        published_at="2024-02-01T10:00:00+07:00",
        category="Thời sự",
    ),
    Article(
        url="https://baoquangninh.vn/le-hoi-dinh-lang-67890.html",
        site="baoquangninh",
        title="Lễ hội đình làng Trà Cổ",
        body="Đình Trà Cổ là di tích quốc gia đặc biệt.\n\nLễ hội diễn ra vào tháng Sáu.",
        published_at="2024-06-01T20:15:00+07:00",
        category="Văn hóa",
    ),
    Article(
        url="https://baoquangninh.vn/hoc-tap-bac-ho-78901.html",
        site="baoquangninh",
        title="Học tập và làm theo tư tưởng Hồ Chí Minh",
        body="Cán bộ, đảng viên học tập tấm gương đạo đức Hồ Chí Minh.",
        published_at="2024-05-19T07:30:00+07:00",
        category="Chính trị",
    ),
    Article(
        url="https://baocaobang.vn/script-89012.html",
        site="baocaobang",
        title="<script>alert('xss')</script> Tiêu đề độc hại",
        body="Đoạn có thẻ <b>in đậm</b> và <script>alert('body')</script> cần được escape.",
        published_at=None,
        category="Thử nghiệm",
    ),
]


def build_archive(path: Path) -> Path:
    """A small archive with sites, articles, a crawl and a raw page."""
    db = open_db(path)
    save_site(db, {"name": "baocaobang", "title": "Báo Cao Bằng", "province": "Cao Bằng"})
    save_site(db, {"name": "baoquangninh", "title": "Báo Quảng Ninh", "province": "Quảng Ninh"})
    crawl_id = start_crawl(db, "baoquangninh")
    raw = RawPage(b"<html><body>raw page</body></html>", content_type="text/html")
    provinces = {"baocaobang": "Cao Bằng", "baoquangninh": "Quảng Ninh"}
    for article in ARTICLES:
        text = article_text(article.title, article.lead, article.body)
        article.places = tag_places(text, provinces[article.site])
        save_article(db, article, raw=raw if article is ARTICLES[0] else None)
    finish_crawl(db, crawl_id, "finished", {"new": len(ARTICLES), "requests": 9})
    db.close()
    return path
