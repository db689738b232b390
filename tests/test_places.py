"""Where the gazetteer's data comes from (archive/places.py)."""

from __future__ import annotations

from pathlib import Path

from archive import places


def test_the_package_api_gives_the_same_data_if_its_files_move(monkeypatch):
    """The gazetteer reads vietnamadminunits' two data files directly (its __init__
    costs 50 MB); a release that moves them is read through its own API instead, and
    the data is the same."""
    converter, query = places._dataset()
    real_is_file = Path.is_file
    monkeypatch.setattr(
        Path, "is_file", lambda self: self.name != "dataset.db" and real_is_file(self)
    )
    their_converter, their_query = places._dataset()
    assert their_query is not query
    assert their_converter["DICT_PROVINCE"] == converter["DICT_PROVINCE"]
    sql = "select provinceKey, wardKey, wardShort from admin_units order by 1, 2"
    assert their_query(sql) == query(sql)
