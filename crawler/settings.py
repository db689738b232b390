"""Scrapy settings: polite by default, because the archive runs against small provincial
servers every day for years. Every value here can be overridden from the CLI."""

BOT_NAME = "vnnews"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Say who we are and where to complain.
USER_AGENT = "vnnews/0.1 (+https://github.com/vnnews/vnnews; archive of Vietnam's provincial press)"
# robots.txt as RFC 9309 reads it (crawler/middlewares.py): no robots.txt (4xx) allows
# everything; a server error (5xx), a timeout or no answer disallows everything for the
# run, and the run is reported as refused, with the reason.
ROBOTSTXT_OBEY = True

CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Scrapy starts this many tasks for the output of every page; ours yields one item and
# a few requests, and the default 100 cost more reactor time than the write itself.
CONCURRENT_ITEMS = 8
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Limits: a hung server, an enormous page or a redirect loop costs one URL, not the run.
# Each URL that hits one is recorded in the `failures` table with its kind (timeout,
# too_large, too_many_redirects...) and counted in the run's `crawls` row as failed.
# Override per run with `scrapy crawl news -s NAME=VALUE` (or the CLI's options).
#
#   DOWNLOAD_TIMEOUT     seconds to wait for a whole answer (connect + headers + body)
#                        before giving up on the attempt; provincial servers are slow,
#                        but a hung one must not hold the run.
#   DOWNLOAD_MAXSIZE     largest answer accepted, in bytes (after decompression too, so
#                        a gzip bomb is cut off); articles are 50 KB to 2 MB.
#   DOWNLOAD_WARNSIZE    answers above this are logged, not refused.
#   DOWNLOAD_FAIL_ON_DATALOSS  a body cut short of its Content-Length is a failure
#                        ("truncated"), never half an article.
#   REDIRECT_MAX_TIMES   redirects followed per URL; a loop ends there.
#   RETRY_TIMES          extra attempts after a timeout, a dropped connection or one
#                        of RETRY_HTTP_CODES; a URL costs at most RETRY_TIMES + 1 tries.
#   RETRY_AFTER_MAX      longest Retry-After (429/503) waited for before a retry; a
#                        server asking for more is given up on for this run.
#   VNNEWS_MAX_PAGES     requests per site and run (below), so a link trap ends.
# A page that failed is not marked as known: the next run fetches it again.
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
DOWNLOAD_FAIL_ON_DATALOSS = True
REDIRECT_MAX_TIMES = 5
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [408, 429, 500, 502, 503, 504, 522, 524]
RETRY_AFTER_MAX = 120

# Confinement (archive/scope.py) comes first, before robots.txt: a host outside the
# paper is not even asked for its robots.txt. Every redirect hop and meta refresh is
# checked again by the redirect middlewares' subclasses.
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.ScopeMiddleware": 40,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.RedirectMiddleware": 600,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.MetaRefreshMiddleware": 580,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.RetryAfterMiddleware": 550,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.RobotsTxtMiddleware": 100,
    # A shared crawl (--redis): DOWNLOAD_DELAY per domain across all workers.
    "crawler.distributed.SharedPoliteness": 950,
}
ITEM_PIPELINES = {"crawler.pipelines.ArchivePipeline": 300}
EXTENSIONS = {"crawler.progress.Progress": 500}

# What the spider does on top of Scrapy's limits (see crawler/spiders/news.py).
VNNEWS_MAX_DEPTH = 4  # link hops from a start page through non-article pages
VNNEWS_MAX_PAGES = 5000  # requests per site and run
# An endless walk of junk (link after link that looks like an article and is none) is
# cut: after this many candidate articles in a row that were not articles, links found
# on pages are no longer followed this run (feeds, sitemaps and the profile's listings
# go on); the cut is recorded in `failures` as `listing_cut`. Any stored article resets
# the count.
VNNEWS_MAX_JUNK = 50
VNNEWS_PROGRESS_SECONDS = 10

LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
VNNEWS_PAGE_WORKERS = None  # processes reading pages (crawler/pages.py): None = one per core
# Accepted articles are written in batches, one transaction each: this many articles,
# or what came in this many seconds, whichever comes first (crawler/pipelines.py).
VNNEWS_WRITE_BATCH = 50
VNNEWS_WRITE_SECONDS = 1.0
