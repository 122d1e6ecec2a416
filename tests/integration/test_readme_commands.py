"""The README's commands work as written (cheap forms: the main job itself is `stepcode train`,
exercised with --dry-run here and for real by tests/integration/test_train.py)."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from stepcode.cli import get_app

README = Path(__file__).resolve().parents[2] / "README.md"
runner = CliRunner()


def _readme_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    cmds = []
    for block in blocks:
        for line in block.splitlines():
            line = line.split("#")[0].strip()
            if line.startswith("stepcode "):
                cmds.append(line)
    return cmds


def test_readme_states_the_two_fresh_machine_commands():
    text = README.read_text(encoding="utf-8")
    assert "pip install -e . && stepcode train" in text
    assert "python -m pytest -q" in text
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pytest -q" in ci


def test_every_readme_subcommand_exists():
    app = get_app()
    for cmd in _readme_commands():
        words = cmd.split()[1:]
        path = [w for w in words[:2] if not w.startswith("-") and "." not in w and "/" not in w]
        res = runner.invoke(app, [*path[:2], "--help"]) if path else runner.invoke(app, ["--help"])
        if res.exit_code != 0:  # a one-word command followed by an argument
            res = runner.invoke(app, [path[0], "--help"])
        assert res.exit_code == 0, f"`{cmd}`: {res.output}"


def test_main_job_config_resolves(tmp_path):
    res = runner.invoke(get_app(), ["train", "--dry-run", "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    assert "grpo:" in res.stdout and "bilevel" in res.stdout
