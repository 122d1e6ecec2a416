"""The wire schema on its own: every malformed frame is a ``WireError``, nothing else."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepcode.execution import _wire
from stepcode.types import Limits

LIMITS = dataclasses.asdict(Limits())


def _run(**over) -> dict:
    run = {"status": "ok", "error": None, "return_value": "1", "anchors": [[0, "x", "1"]],
           "anchors_truncated": False, "integrity": "ok",
           "trace": {"states": [[1, "f", 0, "line", {"x": ["1", "int"]}, None, None]],
                     "truncated": False, "module_end": None}}  # fmt: skip
    run.update(over)
    return run


def test_a_well_formed_run_passes_unchanged():
    assert _wire.check_run(_run(), LIMITS) == _run()


@pytest.mark.parametrize(
    "bad",
    [
        {"status": "great"},
        {"status": 1},
        {"integrity": "fine"},
        {"return_value": 42},
        {"return_value": "x" * 20_000},
        {"error": ["a"]},
        {"anchors": [[0, "x"]]},
        {"anchors": [["0", "x", "1"]]},
        {"anchors": [[-1, "x", "1"]]},
        {"anchors": [[1 << 40, "x", "1"]]},
        {"anchors": [[True, "x", "1"]]},
        {"anchors": [[0, "x", "1"]] * 201},
        {"anchors": {"0": "x"}},
        {"anchors_truncated": "no"},
        {"trace": {"states": [], "truncated": False}},
        {"trace": {"states": [[1, "f", 0, "line", {}, None]], "truncated": False, "module_end": None}},
        {"trace": {"states": [[1, "f", 0, "jump", {}, None, None]], "truncated": False, "module_end": None}},
        {"trace": {"states": [[1, "f", 0, "line", {"x": "1"}, None, None]], "truncated": False, "module_end": None}},
        {"trace": {"states": [[1, "f", 0, "line", {"x": [1, "int"]}, None, None]], "truncated": False, "module_end": None}},
        {"trace": {"states": [[1.5, "f", 0, "line", {}, None, None]], "truncated": False, "module_end": None}},
        {"trace": {"states": [], "truncated": False, "module_end": 3}},
        {"trace": {"states": "[]", "truncated": False, "module_end": None}},
        {"extra": 1},
    ],
)  # fmt: skip
def test_wrong_keys_types_and_bounds_are_refused(bad):
    with pytest.raises(_wire.WireError):
        _wire.check_run(_run(**bad), LIMITS)


def test_missing_keys_are_refused():
    run = _run()
    del run["integrity"]
    with pytest.raises(_wire.WireError, match="missing"):
        _wire.check_run(run, LIMITS)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\xff\xfe{}", "UTF-8"),
        (b"{" * 10, "JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "deep"),
        (b'{"a": ' + b"1" * 5000 + b"}", "JSON"),
        (b"x" * (_wire.RUN_CAP + 1), "cap"),
    ],
)
def test_bytes_that_are_not_a_frame_are_refused(data, why):
    with pytest.raises(_wire.WireError, match=why):
        _wire.decode(data, _wire.RUN_CAP)


def test_lone_surrogates_come_out_re_encodable():
    run = _wire.check_run(_run(error="E: \ud800", anchors=[[0, "\udfff", "'x'"]]), LIMITS)
    json.dumps(run).encode("utf-8")
    (run["error"] + run["anchors"][0][1]).encode("utf-8")
    assert "\\ud800" in run["error"]


def test_a_frame_round_trips_and_its_length_is_capped():
    frame = _wire.encode({"a": "é\ud800"})
    body = frame[_wire.HEADER_BYTES :]
    assert _wire.frame_length(frame[: _wire.HEADER_BYTES]) == len(body)
    # the escaped surrogate decodes back to one; the checks are what make it printable
    assert _wire.decode(body) == {"a": "é\ud800"}
    with pytest.raises(_wire.WireError):
        _wire.frame_length((1 << 31).to_bytes(4, "big"))


def test_jobs_are_checked_too():
    job = {"code": "x", "call": None, "limits": LIMITS, "trace": False, "anchors": False,
           "anchor_lines": None, "filename": "<program>", "watch": []}  # fmt: skip
    assert _wire.check_job(job)["code"] == "x"
    for bad in ({"no_fork": True}, {"limits": {**LIMITS, "_oom_hint": 1}},
                {"limits": {**LIMITS, "timeout_s": float("nan")}}, {"trace": 1}):  # fmt: skip
        with pytest.raises(_wire.WireError):
            _wire.check_job({**job, **bad})


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=8) | st.dictionaries(st.text(max_size=12), inner, max_size=8),
    max_leaves=40,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(value=_json, key=st.sampled_from(sorted(_wire.RUN_KEYS)))
def test_any_json_in_any_field_is_a_run_or_a_wire_error(value, key):
    try:
        out = _wire.check_reply(
            {**_run(**{key: value}), "stdout": "", "stderr": "", "duration_s": 0.1}, LIMITS
        )
    except _wire.WireError:
        return
    json.dumps(out).encode("utf-8")


def test_the_parent_builds_exactly_the_frame_the_worker_checks():
    from stepcode.execution.sandbox import Job, _job_frame

    assert {f.name for f in dataclasses.fields(Limits)} == set(_wire.LIMIT_KEYS)
    job = Job(code="x = 1", call="x", anchors=True, anchor_lines=(3, 5), watch=("x",))
    frame = _job_frame(job)
    assert _wire.check_job(frame) == frame
