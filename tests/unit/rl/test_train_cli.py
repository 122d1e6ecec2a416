"""``stepcode train --dry-run`` and ``stepcode config show train``: resolved configs, clear errors."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from stepcode.cli import get_app

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "train"
runner = CliRunner()


def test_dry_run_prints_the_resolved_default_with_overrides(tmp_path: Path) -> None:
    result = runner.invoke(
        get_app(), ["train", "--dry-run", "--set", "grpo.mode=terminal", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.output)
    assert shown["grpo"]["mode"] == "terminal"
    assert shown["run"]["out"] == str(tmp_path)
    assert not any(tmp_path.iterdir())  # a dry run writes nothing


def test_config_show_reads_the_shipped_qwen_config() -> None:
    path = CONFIGS / "qwen2.5-coder-7b-instruct.yaml"
    result = runner.invoke(get_app(), ["config", "show", "train", str(path)])
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.output)
    assert shown["model"]["path"] == "Qwen/Qwen2.5-Coder-7B-Instruct"
    assert shown["rollout"]["group_size"] == 5


def test_bad_override_fails_with_the_key_and_no_traceback() -> None:
    result = runner.invoke(get_app(), ["train", "--dry-run", "--set", "rollout.group_size=1"])
    assert result.exit_code != 0
    assert "group_size" in result.output
    assert "Traceback" not in result.output


def test_unknown_config_kind_is_refused() -> None:
    result = runner.invoke(get_app(), ["config", "show", "nope"])
    assert result.exit_code == 2
    assert "train" in result.output


def test_config_show_resolves_every_shipped_kind() -> None:
    root = CONFIGS.parent
    for kind, path in [
        ("eval", root / "eval" / "aligned.yaml"),
        ("data", root / "data" / "default.yaml"),
    ]:
        result = runner.invoke(
            get_app(),
            ["config", "show", kind, str(path), "--set", "seed=3"]
            if kind == "data"
            else ["config", "show", kind, str(path)],
        )
        assert result.exit_code == 0, result.output
        assert yaml.safe_load(result.output)
