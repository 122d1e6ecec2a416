"""Token -> step segmentation from char spans, by hand on a real completion layout."""

from __future__ import annotations

from stepcode.rl.segment import segment_completion

TEXT = "ok\n<trace>\nx: 3\ny: 4\n</trace>\n<answer>\nassert f(1) == 4\n</answer>"


def _span(sub: str, text: str = TEXT) -> tuple[int, int]:
    i = text.index(sub)
    return i, i + len(sub)


def _word_tokens(text: str) -> list[tuple[int, int]]:
    """One token per line piece and newline: enough structure to check every boundary."""
    out, i = [], 0
    for piece in text.splitlines(keepends=True):
        body = piece.rstrip("\n")
        if body:
            out.append((i, i + len(body)))
        if piece.endswith("\n"):
            out.append((i + len(body), i + len(piece)))
        i += len(piece)
    return out


def test_lines_free_text_answer_and_trailing_tokens():
    offsets = _word_tokens(TEXT) + [(len(TEXT), len(TEXT))]  # + EOS (empty span)
    steps = [_span("x: 3"), _span("y: 4")]
    answer = _span("assert f(1) == 4")
    got = segment_completion(offsets, steps, answer, n_anchors=2, terminal=3)
    pieces = [TEXT[s:e] for s, e in offsets]
    table = dict(zip(pieces, got, strict=False))
    assert table["ok"] == 0 and table["<trace>"] == 0  # before the first line -> step 0
    assert table["x: 3"] == 0 and table["y: 4"] == 1
    assert got[pieces.index("y: 4") - 1] == 1  # newline between line 0 and line 1 -> step 1
    assert table["</trace>"] == 3 and table["assert f(1) == 4"] == 3 and table["</answer>"] == 3
    assert got[-1] == 3  # EOS -> terminal


def test_answer_first_and_extra_lines_and_parse_failure():
    text = "<input>f(2)</input>\n<trace>\na: 1\nb: 2\nc: 9\n</trace>"
    offsets = _word_tokens(text)
    steps = [_span("a: 1", text), _span("b: 2", text), _span("c: 9", text)]
    got = segment_completion(offsets, steps, _span("f(2)", text), n_anchors=2, terminal=5)
    pieces = [text[s:e] for s, e in offsets]
    table = dict(zip(pieces, got, strict=False))
    assert table["<input>f(2)</input>"] == 5  # overlaps the answer span -> terminal
    assert table["a: 1"] == 0 and table["b: 2"] == 1
    assert table["c: 9"] == 5  # a line beyond the ground-truth anchors -> terminal
    assert set(segment_completion(offsets, (), None, n_anchors=2, terminal=5)) == {5}
