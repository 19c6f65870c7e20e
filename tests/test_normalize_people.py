"""archiver.normalize.people: author strings to names; and fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver.normalize.people import parse_authors


@pytest.mark.parametrize(
    ("raws", "names"),
    [
        (["作者：郑丽媛"], ["郑丽媛"]),
        (["作者:郑丽媛"], ["郑丽媛"]),
        (["文 / 李四"], ["李四"]),
        (["文/李四"], ["李四"]),
        (["文|王五"], ["王五"]),
        (["文｜王五"], ["王五"]),
        (["撰文：赵六"], ["赵六"]),
        (["By John Smith"], ["John Smith"]),
        (["by John Smith"], ["John Smith"]),
        (["Author: Jane Doe"], ["Jane Doe"]),
        (["Alice, Bob and Carol"], ["Alice", "Bob", "Carol"]),
        (["Alice, Bob, and Carol"], ["Alice", "Bob", "Carol"]),
        (["By Alice and Bob"], ["Alice", "Bob"]),
        (["张三 和 李四"], ["张三", "李四"]),
        (["张三、李四"], ["张三", "李四"]),
        (["张三，李四"], ["张三", "李四"]),
        (["作者：张三 编辑：李四"], ["张三"]),
        (["joe@example.com (Joe Bloggs)"], ["Joe Bloggs"]),
        (["joe@example.com"], ["joe@example.com"]),
        (["Joe Bloggs <joe@example.com>"], ["Joe Bloggs"]),
        (["mailto:joe@example.com"], ["joe@example.com"]),
        (["joe@example.com (Bloggs, Joe)"], ["Bloggs, Joe"]),
        (["noreply@blogger.com (Unknown)"], []),
        (["Alice", "alice", "ALICE", "Bob"], ["Alice", "Bob"]),
        (["Bob", "Alice, Bob"], ["Bob", "Alice"]),
        (["  Spaced \n  Name  "], ["Spaced Name"]),
        (["<a href='/u/x'>Linked Name</a>"], ["Linked Name"]),
        (["O&#39;Brien"], ["O'Brien"]),
        (["“机器之心”"], ["机器之心"]),
        ([None, "", "   ", "undefined", "null"], []),
        ([], []),
    ],
)
def test_parse_authors(raws: list[str | None], names: list[str]) -> None:
    assert parse_authors(raws) == names


def test_the_source_name_is_never_invented() -> None:
    assert parse_authors([]) == []
    assert parse_authors([None]) == []


ANY_TEXT = st.one_of(
    st.none(),
    st.text(),
    st.text(st.characters(codec=None, exclude_categories=())),
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "作者：",
                    "文/",
                    "By ",
                    " and ",
                    "、",
                    ",",
                    "@",
                    "(",
                    ")",
                    "<",
                    ">",
                    "mailto:",
                    " 和 ",
                    "编辑：",
                    "\ud800",
                ]
            ),
            st.text(max_size=4),
        ),
        max_size=15,
    ).map("".join),
)


@given(st.lists(ANY_TEXT, max_size=6))
def test_parse_authors_never_raises(raws: list[str | None]) -> None:
    names = parse_authors(raws)
    assert all(isinstance(name, str) and name and name == name.strip() for name in names)
