"""``DataBuildConfig``: what ``stepcode data build`` reads (YAML via ``stepcode.config.load_config``).

Sections: ``synth`` (levels, programs per level, size regime), ``sources`` (real code: a directory
of ``.py`` files, JSONL records, or a Hugging Face dataset with a column mapping), ``inputs``
(how many inputs per real program, mutation), ``filters`` (size/anchor caps, dedup, optional
difficulty by pass count), ``decontam`` (n-gram overlap against benchmark programs), ``split``
(task kinds, eval items per level, RL/SFT split). Validation only; no I/O happens here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from stepcode.errors import ConfigError

_KINDS = ("output", "input", "output_aligned", "input_aligned", "whitebox")


@dataclass(frozen=True, kw_only=True)
class SynthSection:
    levels: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
    """ExecVerify difficulty levels to synthesize (1-6)"""
    per_level: int = 200
    """verified programs to keep per level (before filters)"""
    size: Literal["small", "paper"] = "small"
    """``small``: tiny-model value ranges; ``paper``: ExecVerify's (ints 5-20, collections 5-15)"""
    oversample: float = 1.0
    """synthesize ``per_level * oversample`` verified programs, keep at most ``per_level`` per
    level after all filters (deep levels lose many programs to the anchor and size caps)"""

    def __post_init__(self) -> None:
        bad = [lv for lv in self.levels if lv not in range(1, 7)]
        if bad:
            raise ConfigError(f"synth.levels: {bad} not in 1..6; use e.g. [1, 2, 3]")
        if self.oversample < 1.0:
            raise ConfigError(f"synth.oversample={self.oversample}: must be >= 1.0")
        if self.per_level < 0:
            raise ConfigError(f"synth.per_level={self.per_level}: use 0 (none) or more")


@dataclass(frozen=True, kw_only=True)
class SourceSpec:
    kind: Literal["files", "jsonl", "hf"] = "files"
    """``files``: a directory of .py files; ``jsonl``: records; ``hf``: ``datasets.load_dataset``"""
    path: str = ""
    """directory, .jsonl file, or dataset name / local dataset dir"""
    split: str = "train"
    """hf only: the split to load"""
    data_files: str = ""
    """hf only: optional ``data_files`` glob (e.g. a local parquet/json file)"""
    code_column: str = "code"
    """column / key holding the program text"""
    input_column: str = "input"
    """column / key with an example input (CRUXEval argument text); empty string: none"""
    output_column: str = "output"
    """column / key with the expected output repr; empty string: none"""
    entry_point_column: str = ""
    """column / key naming the function to call; empty: the last top-level function"""
    limit: int = 0
    """read at most this many records (0: all)"""

    def __post_init__(self) -> None:
        if not self.path:
            raise ConfigError(f"sources[].path is empty for kind={self.kind!r}; set the path")
        if not self.code_column:
            raise ConfigError("sources[].code_column is empty; name the column with the code")


@dataclass(frozen=True, kw_only=True)
class InputsSection:
    per_program: int = 2
    """verified inputs kept per real-code program"""
    attempts: int = 8
    """candidate inputs tried per program (random + mutations of the example)"""
    size: Literal["small", "paper"] = "paper"
    """value ranges for generated inputs"""

    def __post_init__(self) -> None:
        if self.per_program < 1 or self.attempts < self.per_program:
            raise ConfigError(
                f"inputs: per_program={self.per_program}, attempts={self.attempts}; "
                "need 1 <= per_program <= attempts"
            )


@dataclass(frozen=True, kw_only=True)
class DifficultySection:
    model: str = ""
    """policy path / id for the pass-count filter; empty disables it"""
    k: int = 4
    """samples per program"""
    min_pass: int = 0
    """keep programs solved at least this many times out of k"""
    max_pass: int = 3
    """keep programs solved at most this many times out of k (drop the trivially easy)"""

    def __post_init__(self) -> None:
        if not 0 <= self.min_pass <= self.max_pass <= self.k:
            raise ConfigError(
                f"filters.difficulty: need 0 <= min_pass ({self.min_pass}) <= max_pass "
                f"({self.max_pass}) <= k ({self.k})"
            )


@dataclass(frozen=True, kw_only=True)
class FilterSection:
    max_code_lines: int = 40
    """drop programs longer than this many lines"""
    max_code_chars: int = 2000
    """drop programs longer than this many characters"""
    max_output_chars: int = 200
    """drop runs whose output repr is longer"""
    max_anchor_lines: int = 10
    """drop programs whose aligned trace has more anchor lines (ExecVerify keeps <= 10)"""
    max_trace_steps: int = 2000
    """drop runs with more traced line events"""
    dedup: bool = True
    """remove exact duplicates (same code and input) and, with ``near_dedup``, near duplicates"""
    near_dedup: bool = True
    """also remove near duplicates (identifier-normalised AST of another base program)"""
    max_inputs_per_program: int = 0
    """synthesized programs: at most this many inputs per distinct code (0 = no cap); the
    synthesizer draws short programs such as ``a = n + n`` hundreds of times per thousand"""
    difficulty: DifficultySection = field(default_factory=DifficultySection)
    """optional pass-count filter through a generation engine"""

    def __post_init__(self) -> None:
        for name in ("max_code_lines", "max_code_chars", "max_output_chars", "max_anchor_lines"):
            if getattr(self, name) < 1:
                raise ConfigError(f"filters.{name}={getattr(self, name)}: must be >= 1")
        if self.max_inputs_per_program < 0:
            raise ConfigError(
                f"filters.max_inputs_per_program={self.max_inputs_per_program}: use 0 (no cap) or more"
            )


@dataclass(frozen=True, kw_only=True)
class DecontamSection:
    ngram: int = 10
    """n-gram length over normalised tokens"""
    min_overlap: float = 0.5
    """share of one benchmark item's n-grams a program must contain to be removed"""
    cruxeval: str = ""
    """CRUXEval jsonl (``code`` field) or HF dataset name; empty: skip"""
    lcb: str = ""
    """LiveCodeBench execution jsonl / HF dataset name (``code`` field); empty: skip"""
    reval: str = ""
    """REval ``DREval_data.jsonl`` (``code`` field); empty: skip"""
    extra: tuple[str, ...] = ()
    """more jsonl files / directories of .py files to decontaminate against"""

    def __post_init__(self) -> None:
        if self.ngram < 3:
            raise ConfigError(f"decontam.ngram={self.ngram}: use >= 3 (default 10)")
        if not 0.0 < self.min_overlap <= 1.0:
            raise ConfigError(
                f"decontam.min_overlap={self.min_overlap}: must be in (0, 1] (default 0.5)"
            )


@dataclass(frozen=True, kw_only=True)
class SplitSection:
    kinds: tuple[str, ...] = ("output", "input", "output_aligned", "input_aligned")
    """task kinds to build per program"""
    eval_per_level: int = 10
    """programs per level held out for eval.jsonl"""
    rl_fraction: float = 0.5
    """fraction of the remaining programs whose tasks go to rl.jsonl (the rest: sft.jsonl)"""
    template: Literal["compact", "full"] = "compact"
    """prompt template of the tasks stage"""
    anchors: str = "first_k:2"
    """anchor policy of aligned tasks: none | every | first_k[:N]"""

    def __post_init__(self) -> None:
        from stepcode.types import AnchorPolicy

        AnchorPolicy.parse(self.anchors)  # a ConfigError names the syntax
        bad = [k for k in self.kinds if k not in _KINDS]
        if bad or not self.kinds:
            raise ConfigError(f"split.kinds: {bad or 'empty'}; choose from {list(_KINDS)}")
        if not 0.0 <= self.rl_fraction <= 1.0:
            raise ConfigError(f"split.rl_fraction={self.rl_fraction}: must be in [0, 1]")


@dataclass(frozen=True, kw_only=True)
class DataBuildConfig:
    seed: int = 0
    """everything random derives from this: same seed + config -> byte-identical output"""
    synth: SynthSection = field(default_factory=SynthSection)
    """synthetic programs"""
    sources: tuple[SourceSpec, ...] = ()
    """real-code sources"""
    inputs: InputsSection = field(default_factory=InputsSection)
    """input generation for real code"""
    filters: FilterSection = field(default_factory=FilterSection)
    """size, anchor, duplicate and difficulty filters"""
    decontam: DecontamSection = field(default_factory=DecontamSection)
    """benchmark decontamination"""
    split: SplitSection = field(default_factory=SplitSection)
    """task kinds and splits"""
    timeout_s: float = 1.0
    """per-run sandbox time limit"""
    chunk: int = 256
    """programs per resumable chunk"""

    def __post_init__(self) -> None:
        if self.timeout_s <= 0:
            raise ConfigError(f"timeout_s={self.timeout_s}: must be > 0 (e.g. 1.0)")
        if self.chunk < 1:
            raise ConfigError(f"chunk={self.chunk}: must be >= 1")
