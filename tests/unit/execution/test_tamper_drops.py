"""Programs whose runs are flagged never become ground truth: ``tasks`` leaves them out and
``data`` drops them with the reason ``tampered:<integrity>``."""

from __future__ import annotations

import json

from stepcode.data.build import build_dataset
from stepcode.data.config import DataBuildConfig, SourceSpec, SplitSection, SynthSection
from stepcode.io import read_jsonl
from stepcode.tasks import make_tasks_batch
from stepcode.types import Program, TaskKind

HONEST = "def double(n: int) -> int:\n    m = n * 2\n    return m\n"
UNTRACED = (
    "import sys\ndef escape(n: int) -> int:\n    sys.settrace(None)\n    m = n + 1\n    return m\n"
)
HIDDEN = (
    "def hide(n: int) -> int:\n    globals()['__stepcode_anchor__'] = lambda *a: None\n"
    "    m = n * 3\n    return m\n"
)  # fmt: skip


def _program(code: str, entry: str, arg: int, out: int) -> Program:
    return Program(code=code, entry_point=entry, input_args=str(arg), output=str(out))


def test_tasks_leave_out_tampering_programs_and_say_why():
    programs = [_program(HONEST, "double", 2, 4), _program(UNTRACED, "escape", 2, 3),
                _program(HIDDEN, "hide", 2, 6)]  # fmt: skip
    dropped: dict[int, str] = {}
    per = make_tasks_batch(programs, [TaskKind.OUTPUT_ALIGNED, TaskKind.WHITEBOX], dropped=dropped)
    assert dropped == {1: "tampered:hook_removed", 2: "tampered:anchor_rebound"}
    assert [t.kind for t in per[0]] == [TaskKind.OUTPUT_ALIGNED, TaskKind.WHITEBOX]
    assert per[1] == [] and per[2] == []


def test_data_build_drops_them_with_the_reason(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name, code in (("honest", HONEST), ("untraced", UNTRACED), ("hidden", HIDDEN)):
        (src / f"{name}.py").write_text(code)
    cfg = DataBuildConfig(
        seed=1,
        synth=SynthSection(levels=(1,), per_level=4),
        split=SplitSection(eval_per_level=1),
        sources=(SourceSpec(kind="files", path=str(src)),),
        chunk=8,
    )
    manifest = build_dataset(cfg, tmp_path / "out")
    removed = manifest["counts"]["removed"]
    assert removed.get("tampered:hook_removed", 0) >= 1, json.dumps(removed)
    assert removed.get("tampered:anchor_rebound", 0) >= 1, json.dumps(removed)
    kept = {p["entry_point"] for p in read_jsonl(tmp_path / "out" / "programs.jsonl")}
    assert "double" in kept and not {"escape", "hide"} & kept
