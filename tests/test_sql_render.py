"""The per-dialect rendering of the runtime's statements (`dbos._db.sql.render`)."""

from __future__ import annotations

from dbos._db.sql import render


def test_a_postgresql_only_fragment_is_kept_there_and_dropped_on_sqlite() -> None:
    statement = "SELECT 1 FROM {s}t WHERE ({postgresql:a, }b) < ({postgresql::x, }:y)"
    assert render(statement, "postgresql", "dbos") == (
        'SELECT 1 FROM "dbos".t WHERE (a, b) < (%(x)s, %(y)s)'
    )
    assert render(statement, "sqlite", None) == "SELECT 1 FROM t WHERE (b) < (:y)"


def test_each_dialects_fragment_is_kept_on_it_alone_and_may_hold_substitutions() -> None:
    statement = "SELECT {postgresql:count(*) FROM {s}t}{sqlite:max({seq}) FROM {s}t} WHERE a = :a"
    assert render(statement, "postgresql", "dbos") == (
        'SELECT count(*) FROM "dbos".t WHERE a = %(a)s'
    )
    assert render(statement, "sqlite", None) == "SELECT max(rowid) FROM t WHERE a = :a"
