"""memfile's pure half: where the managed block goes and that every byte outside it stays as it was."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from memory_syncd.write.memfile import BEGIN, END, extract, splice, target_path

B, E = BEGIN.encode(), END.encode()
TITLE = "# 2026-04-13 (Monday)"
DREAMING = (b"## Light Sleep\n<!-- openclaw:dreaming:light:start -->\n- recalled: backups moved to B2\n"
            b"<!-- openclaw:dreaming:light:end -->\n")


def region(body: bytes, eol: bytes = b"\n") -> bytes:
    return (B + b"\n" + body + E).replace(b"\n", eol)


def expected(block: str) -> str:
    return block if block == "" or block.endswith("\n") else block + "\n"


# --- creating and appending ------------------------------------------------------------------------------

def test_a_new_file_is_title_blank_line_block() -> None:
    assert splice(None, "- one\n- two\n", TITLE) == (TITLE.encode() + b"\n\n" + region(b"- one\n- two\n") + b"\n")


def test_an_empty_file_is_treated_as_new() -> None:
    assert splice(b"", "x", TITLE) == splice(None, "x", TITLE)


def test_an_empty_title_gives_just_the_block() -> None:
    assert splice(None, "x\n", "") == region(b"x\n") + b"\n"


@pytest.mark.parametrize(("existing", "joint"), [
    (b"notes", b"notes\n\n"),  # unterminated last line: end it, then one blank line
    (b"notes\n", b"notes\n\n"),  # terminated: one blank line
    (b"notes\n\n", b"notes\n\n"),  # already a blank line: nothing added
    (b"notes\n  \n", b"notes\n  \n\n"),  # a whitespace-only line is not blank
    (b"\n", b"\n"),
    (b"notes\r", b"notes\r\n\n"),  # a lone CR is not a line end
])
def test_appending_to_a_file_without_a_block(existing: bytes, joint: bytes) -> None:
    assert splice(existing, "x\n", TITLE) == joint + region(b"x\n") + b"\n"


def test_appending_to_a_crlf_file_uses_crlf_throughout() -> None:
    existing = b"# 2026-04-13\r\n\r\n## Notes\r\n- a\r\n"
    out = splice(existing, "- one\n- two\n", TITLE)
    assert out == existing + b"\r\n" + region(b"- one\n- two\n", b"\r\n") + b"\r\n"
    assert out.count(b"\n") == out.count(b"\r\n")
    assert extract(out) == "- one\n- two\n"


def test_a_crlf_file_without_a_final_newline() -> None:
    assert splice(b"a\r\nb", "x", TITLE) == b"a\r\nb\r\n\r\n" + region(b"x\n", b"\r\n") + b"\r\n"


# --- replacing ---------------------------------------------------------------------------------------------

def test_replacing_keeps_front_matter_notes_and_dreaming_byte_for_byte() -> None:
    before = b"---\ntags: [daily]\n---\n# 2026-04-13\n\n## Backups\n- 09:01 dry-run OK\n\n" + DREAMING + b"\n"
    after = b"\n## Evening\n- Finance approved Q3 budget.\n\n" + DREAMING.replace(b"light", b"rem") + b"tail"
    existing = before + region(b"old\n") + after
    out = splice(existing, "new\n", TITLE)
    assert out == before + region(b"new\n") + after
    assert splice(out, "new\n", TITLE) == out


def test_replacing_keeps_the_end_line_break_and_a_missing_final_newline() -> None:
    assert splice(b"a\r\n" + region(b"old\n") + b"\r\n", "x", TITLE) == b"a\r\n" + region(b"x\n", b"\r\n") + b"\r\n"
    assert splice(region(b"old\n"), "x", TITLE) == region(b"x\n")


def test_invalid_utf8_outside_the_block_is_kept() -> None:
    before, after = b"\xff\xfe notes \x80\xc3(\n", b"\n\xed\xa0\x80 more \xf0\x28\x8c\x28"
    out = splice(before + region(b"old\n") + after, "neu: \u00e9\u20ac\n", TITLE)
    assert out == before + region("neu: \u00e9\u20ac\n".encode()) + after
    assert splice(before, "x\n", TITLE).startswith(before)


def test_the_old_block_decides_line_ends_when_nothing_outside_has_one() -> None:
    assert splice(region(b"old\n", b"\r\n"), "a\nb\n", TITLE) == region(b"a\nb\n", b"\r\n")


def test_indented_markers_count_up_to_three_spaces_and_trailing_blanks() -> None:
    existing = b"x\n   " + B + b" \t\r\nold\r\n  " + E + b"\t\r\ny\n"
    assert splice(existing, "n", TITLE) == b"x\n" + region(b"n\n") + b"\r\ny\n"
    code = b"x\n    " + B + b"\nold\n    " + E + b"\n"  # four spaces: a code block, not ours
    assert extract(code) is None
    assert splice(code, "n\n", TITLE).startswith(code)


def test_markers_inside_other_text_are_text() -> None:
    existing = b"see `" + B + b"` and `" + E + b"`\n"
    assert extract(existing) is None
    assert splice(existing, "n\n", TITLE).startswith(existing)


# --- broken and duplicated markers: never delete the user's bytes -------------------------------------------

def test_begin_without_end_is_left_and_a_block_is_appended() -> None:
    existing = b"a\n" + B + b"\nold summary\nnotes the agent added later\n"
    out = splice(existing, "new\n", TITLE)
    assert out == existing + b"\n" + region(b"new\n") + b"\n"
    assert extract(out) == "new\n"
    assert splice(out, "newer\n", TITLE) == existing + b"\n" + region(b"newer\n") + b"\n"


def test_end_without_begin_is_left_and_a_block_is_appended() -> None:
    existing = b"a\n" + E + b"\nb\n"
    out = splice(existing, "new\n", TITLE)
    assert out == existing + b"\n" + region(b"new\n") + b"\n"
    assert splice(out, "new\n", TITLE) == out


def test_with_two_blocks_only_the_first_is_ours() -> None:
    second = region(b"copy a human pasted\n")
    existing = b"a\n" + region(b"old\n") + b"\nb\n" + second + b"\n"
    assert splice(existing, "new\n", TITLE) == b"a\n" + region(b"new\n") + b"\nb\n" + second + b"\n"


def test_nested_begin_pairs_the_nearest_one() -> None:
    existing = B + b"\nouter\n" + B + b"\ninner\n" + E + b"\n" + E + b"\n"
    out = splice(existing, "new\n", TITLE)
    assert out == B + b"\nouter\n" + region(b"new\n") + b"\n" + E + b"\n"


def test_markers_and_openclaw_markers_in_the_block_text_are_escaped() -> None:
    text = f"quoted:\n{END}\n  {BEGIN}\n<!-- openclaw:dreaming:light:start -->\n<!-- other comment -->\n"
    out = splice(b"notes\n", text, TITLE)
    assert out.count(E) == 1 and out.count(B) == 1
    assert b"<!-- openclaw" not in out
    assert extract(out) == ("quoted:\n&lt;!-- memory-syncd:end -->\n  &lt;!-- memory-syncd:begin -->\n"
                            "&lt;!-- openclaw:dreaming:light:start -->\n<!-- other comment -->\n")


# --- extract and target_path --------------------------------------------------------------------------------

def test_extract() -> None:
    assert extract(b"no block\n") is None
    assert extract(b"x\r\n" + region(b"a\nb\n", b"\r\n") + b"\r\n") == "a\nb\n"
    assert extract(region(b"")) == ""
    assert extract(region(b"\xff\n")) == "\ufffd\n"


def test_target_path() -> None:
    day = datetime.date(2026, 4, 13)
    assert target_path(Path("/w/memory"), day, "inline") == Path("/w/memory/2026-04-13.md")
    assert target_path(Path("/w/memory"), day, "separate") == Path("/w/memory/2026-04-13-memory-sync.md")
    with pytest.raises(ValueError, match="write_mode"):
        target_path(Path("/w/memory"), day, "both")


# --- properties ---------------------------------------------------------------------------------------------

PIECES = [b"\n", b"\r\n", b"\r", b" ", b"<!-- ", b" -->", b"memory-syncd:", b"\xff", b"---\n", b"# t\n"]
outside = st.lists(st.sampled_from(PIECES) | st.binary(max_size=8), max_size=30).map(b"".join)
texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r<"), max_size=80)


def no_markers(data: bytes) -> bool:
    return extract(data) is None and B not in data and E not in data


@given(outside, texts, texts)
def test_appending_keeps_any_outside_bytes(existing: bytes, block: str, block2: str) -> None:
    assume(existing and no_markers(existing))
    out = splice(existing, block, TITLE)
    assert out.startswith(existing)
    assert extract(out) == expected(block)
    assert splice(out, block, TITLE) == out
    out2 = splice(out, block2, TITLE)
    assert out2.startswith(existing) and extract(out2) == expected(block2)


@given(outside, outside, texts, texts)
def test_replacing_keeps_any_outside_bytes(before: bytes, after: bytes, old: str, block: str) -> None:
    before = before + b"\n" if before else b""  # the begin marker must start a line
    after = b"\n" + after if after else b""  # and the end marker must end one
    assume(no_markers(before) and no_markers(after))
    existing = before + splice(None, old, "").rstrip(b"\n") + after
    out = splice(existing, block, TITLE)
    assert out.startswith(before) and out.endswith(after)
    assert extract(out) == expected(block)
    assert splice(out, block, TITLE) == out
