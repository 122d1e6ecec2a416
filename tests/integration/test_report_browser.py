"""``report.html`` rendered by a real headless browser (Debian chromium + chromedriver, driven by
selenium): the curves, the heatmap and the sample viewer are there, images decode, steps are
marked right or wrong where the scorer says so, and model text cannot inject markup."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from stepcode.config import load_config
from stepcode.rewards import score_batch
from stepcode.rl.config import TrainConfig
from stepcode.rl.report import write_report
from stepcode.rl.train import train
from stepcode.tasks import sft_target
from stepcode.types import SampleRecord, Task

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="needs Debian chromium + chromium-driver (.ci/run installs them)",
)
TINY = [
    "data.n_train=16", "data.n_eval=3", "data.eval_levels=[1,2]", "sft.steps=2", "sft.batch_size=4",
    "grpo.steps=2", "rollout.group_size=2", "rollout.tasks_per_step=2",
    "rollout.max_new_tokens=16", "run.eval_max_new_tokens=12", "run.log_every=1",
    "run.threads=1", "run.eval_every=1",
]  # fmt: skip
HOSTILE = "<img id='pwned' src=x onerror='document.title=1'>\x1b[2J\u202e"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--no-first-run", f"--user-data-dir={profile}"):  # fmt: skip
        opts.add_argument(flag)
    drv = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "r"
    train(load_config(TrainConfig, None, [*TINY, f"run.out={out}"]))
    return out


def _css(drv, selector: str) -> list:
    from selenium.webdriver.common.by import By

    return drv.find_elements(By.CSS_SELECTOR, selector)


def test_training_report_renders_curves_heatmap_and_samples(browser, run_dir: Path) -> None:
    browser.get((run_dir / "report.html").as_uri())
    images = _css(browser, "figure img")
    captions = [c.text for c in _css(browser, "figcaption")]
    assert any("step accuracy by anchor position" in c for c in captions)
    assert any("SFT loss" in c for c in captions) and any("outcome" in c for c in captions)
    assert any("held-out final accuracy during GRPO" in c for c in captions)
    assert images and all(browser.execute_script("return arguments[0].naturalWidth", i) > 100
                          for i in images)  # fmt: skip
    header = [th.text for th in _css(browser, "table.accuracy th")]
    assert {"final % init", "final % warm-up", "final % final"} <= set(header)
    samples = _css(browser, "#sample-viewer .sample")
    assert samples
    for sample in samples:
        assert sample.find_elements("css selector", "pre.program")
        marks = sample.find_elements("css selector", "tr.step")
        assert marks and all(m.get_attribute("class").split()[-1] in ("right", "wrong")
                             for m in marks)  # fmt: skip
        assert "answer:" in sample.find_element("css selector", "p.answer").text


def test_sample_viewer_marks_scored_steps_and_escapes_model_text(
    browser, run_dir: Path, tmp_path: Path
) -> None:
    tasks = [Task.from_dict(json.loads(line)) for line in
             (run_dir / "data" / "eval.jsonl").read_text().splitlines()][:2]  # fmt: skip
    gold = sft_target(tasks[0])
    first = tasks[1].reference.anchors[0]
    wrong_first = sft_target(tasks[1]).replace(f"{first.name}: {first.value}",
                                               f"{first.name}: {HOSTILE}", 1)  # fmt: skip
    completions = [gold, wrong_first]
    rewards = score_batch(tasks, completions)
    rows = [SampleRecord.from_reward(item_id=t.task_id, generation=c, reward=w,
                                     group={"level": str(t.metadata["level"])}).to_dict()
            for t, c, w in zip(tasks, completions, rewards, strict=True)]  # fmt: skip
    page_dir = tmp_path / "page"
    shutil.copytree(run_dir / "data", page_dir / "data")
    (page_dir / "samples").mkdir()
    (page_dir / "samples" / "eval_after.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows)
    )
    table = {"1": {"n": 2.0, "final_acc": 0.5, "step_acc": 0.5, "right_answer_wrong_steps": 0.0}}
    write_report(page_dir, table, table)
    browser.get((page_dir / "report.html").as_uri())
    samples = {s.find_element("css selector", "h3").text.split()[0]: s
               for s in _css(browser, "#sample-viewer .sample")}  # fmt: skip
    right = samples[tasks[0].task_id].find_elements("css selector", "tr.step")
    assert len(right) == len(tasks[0].reference.anchors)
    assert all(m.get_attribute("class") == "step right" for m in right)
    marks = samples[tasks[1].task_id].find_elements("css selector", "tr.step")
    assert marks[0].get_attribute("class") == "step wrong"
    assert "<img id='pwned'" in marks[0].text and "\\x1b" in marks[0].text
    assert not _css(browser, "#pwned") and browser.title == "stepcode run"
