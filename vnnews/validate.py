"""What the operator typed, checked before anything runs: each mistake is one line that
says what to type instead (a click usage error, exit status 2), and nothing is written.

Targets (a registered name or an http(s) URL with a host), `--set NAME=VALUE` (a
setting Scrapy or vnnews knows, with a value of the setting's type) and dates.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

import click

from archive.sites import resolve_target

# Looks like an address typed without its scheme: "127.0.0.1:8000", "baocaobang.vn/".
HOST_LIKE = re.compile(r"^(localhost|[\w-]+(\.[\w-]+)+|\[[0-9a-f:]+\])(:\d+)?(/.*)?$", re.I)


def check_url(url: str, what: str = "URL") -> None:
    """An http(s) URL with a host and a valid port, or a usage error."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise click.UsageError(f"{what} {url!r} is not an http:// or https:// URL")
    try:
        parts.port  # noqa: B018 (raises on a port that is no number or out of range)
    except ValueError:
        raise click.UsageError(f"{what} {url!r} has an invalid port") from None
    if not parts.hostname:
        raise click.UsageError(f"{what} {url!r} has no host (e.g. http://127.0.0.1:8000/)")


def check_target(target: str, base_url: str | None = None) -> None:
    """A crawl target: a registered site name or an http(s) URL with a host."""
    if base_url:
        check_url(base_url, "--base-url")
    if target.startswith(("http://", "https://")):
        check_url(target, "target")
    elif "://" in target:
        raise click.UsageError(f"target {target!r}: only http:// and https:// sites are crawled")
    try:
        resolve_target(target, base_url)
    except KeyError as exc:
        message = str(exc.args[0])
        if HOST_LIKE.match(target):
            message = (
                f"unknown site {target!r}: did you mean http://{target.rstrip('/')}/ ? "
                "(`vnnews sites` lists the registered names)"
            )
        raise click.UsageError(message) from None


def known_settings() -> dict:
    """Every setting Scrapy or crawler/settings.py defines, with its default value."""
    from scrapy.settings import default_settings

    from crawler import settings as ours

    values = {k: getattr(default_settings, k) for k in dir(default_settings) if k.isupper()}
    values.update({k: getattr(ours, k) for k in dir(ours) if k.isupper()})
    return values


def parse_settings(items: tuple[str, ...]) -> dict:
    """`--set NAME=VALUE` items as settings, each value of its setting's type."""
    known = known_settings()
    settings = {}
    for item in items:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            raise click.UsageError(f"--set wants NAME=VALUE, got {item!r}")
        if name not in known:
            raise click.UsageError(f"--set {name}: no such setting (Scrapy's or vnnews's)")
        settings[name] = typed_value(name, value, known[name])
    return settings


def typed_value(name: str, value: str, default):
    """A setting's value as the type of its default; numbers are never negative."""
    if isinstance(default, bool):
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise click.UsageError(f"--set {name} wants true or false, got {value!r}")
    if isinstance(default, int | float):
        try:
            number = float(value)
            if isinstance(default, int) and number.is_integer():
                number = int(number)
        except ValueError:
            raise click.UsageError(f"--set {name} wants a number, got {value!r}") from None
        if number < 0:
            raise click.UsageError(f"--set {name} cannot be negative, got {value!r}")
        return number
    return value


def iso_date(ctx, param, value: str | None) -> str | None:
    """A click callback: a real calendar date written YYYY-MM-DD."""
    if value is None:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2025-07-01")
