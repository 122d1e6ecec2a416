"""Typed configs of a training run: ``TrainConfig(model, data, sft, rollout, grpo, optim, reward, run)``.

Defaults are the embedded default (a tiny model trained from scratch on CPU in minutes); the
shipped ``configs/train/*.yaml`` override them (e.g. Qwen2.5-Coder-7B-Instruct with the paper's
settings). Load with ``stepcode.config.load_config(TrainConfig, path, overrides)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from stepcode.errors import ConfigError
from stepcode.rewards import RewardConfig

if TYPE_CHECKING:
    from stepcode.rl.steps import AdvantageSpec
    from stepcode.rollout.params import SamplingParams


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise ConfigError(message)


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    path: str | None = None
    """HF path or hub id of the policy; None = build the embedded tiny model from scratch"""
    size: Literal["tiny", "small"] = "tiny"
    """embedded model size (ignored with ``path``)"""
    arch: Literal["qwen2", "llama"] = "llama"
    """embedded model architecture. llama by default: transformers 5 loads every qwen2 directory
    with Qwen2Tokenizer, which swaps our tokenizer's pre-tokenizer for Qwen's, so a qwen2 run dir
    only tokenizes right through ``models.load_policy``; a llama one also through plain
    ``AutoTokenizer`` (vLLM, TRL, verl)"""
    vocab_size: int = 512
    """embedded tokenizer: byte-level BPE vocabulary (small keeps values near character level)"""
    dtype: str = "auto"
    """auto (bf16 on CUDA, fp32 on CPU) | float32 | bfloat16 | float16"""
    device: str = "auto"
    """auto | cpu | cuda | cuda:N"""
    lora_r: int = 0
    """LoRA rank (0 = full fine-tuning)"""
    chat: bool = False
    """render prompts with the tokenizer's chat template (instruct models)"""

    def __post_init__(self) -> None:
        _check(self.vocab_size >= 260, f"model.vocab_size={self.vocab_size}: must be >= 260")
        _check(self.lora_r >= 0, f"model.lora_r={self.lora_r}: must be >= 0 (0 = off)")


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    levels: tuple[int, ...] = (1,)
    """synthesizer levels to train on"""
    n_train: int = 8000
    """training programs per level"""
    eval_levels: tuple[int, ...] = (1, 2, 3)
    """held-out levels in the before/after table"""
    n_eval: int = 100
    """held-out programs per eval level"""
    eval_seed: int = 7919
    """seed of the held-out programs: one held-out set for every run.seed, so runs compare"""
    size: Literal["small", "paper"] = "small"
    """synthesizer value ranges: small (tiny-model regime) or paper (ExecVerify's)"""
    anchors: str = "first_k:2"
    """anchor policy: none | every | first_k[:N]"""
    max_anchor_lines: int = 10
    """drop programs whose trace has more anchor lines (the paper keeps <= 10)"""
    max_inputs_per_program: int = 3
    """synthesized tasks per distinct program code (different inputs); repeats are dropped"""
    template: Literal["compact", "full"] = "compact"
    """prompt template style"""
    dataset: str | None = None
    """a ``stepcode data build`` output dir to train on instead of synthesizing"""
    grpo_levels: tuple[int, ...] = ()
    """synthesizer levels of the GRPO tasks (fresh programs, their own seed); () = GRPO on the
    SFT tasks"""
    n_grpo: int = 1000
    """GRPO programs per ``grpo_levels`` level"""

    def __post_init__(self) -> None:
        _check(all(1 <= lv <= 6 for lv in self.levels), f"data.levels={self.levels}: use 1..6")
        _check(
            all(1 <= lv <= 6 for lv in self.grpo_levels),
            f"data.grpo_levels={self.grpo_levels}: use 1..6 (or [] for the SFT tasks)",
        )
        _check(self.n_grpo >= 1, f"data.n_grpo={self.n_grpo}: must be >= 1")
        _check(all(1 <= lv <= 6 for lv in self.eval_levels), f"data.eval_levels={self.eval_levels}")
        _check(self.n_train >= 1 and self.n_eval >= 1, "data.n_train and data.n_eval must be >= 1")
        _check(
            self.max_inputs_per_program >= 1,
            f"data.max_inputs_per_program={self.max_inputs_per_program}: must be >= 1",
        )


@dataclass(frozen=True, kw_only=True)
class CodegenConfig:
    """Stage II (ExecVerify): GRPO with unit-test rewards on code generation, after stage I
    (``grpo.steps``) or instead of it (``grpo.steps=0``); the same loop, rollout and GRPO
    settings. Problems are synthesized (``data.codegen``) unless ``dataset`` names a file."""

    steps: int = 0
    """GRPO steps of stage II (0 = no stage II)"""
    lr: float | None = None
    """learning rate of stage II (None = ``grpo.lr``)"""
    format_bonus: float = 0.05
    """added to the fraction of tests passed when the answer block is well formed (ExecVerify)"""
    sft_examples: int = 0
    """code-generation gold solutions mixed into the SFT warm-up (0 = none)"""
    levels: tuple[int, ...] = (1,)
    """synthesizer levels of the problems"""
    n_train: int = 2000
    """training problems per level"""
    n_eval: int = 100
    """held-out problems per level (before/after evaluation; 0 = none)"""
    eval_seed: int = 104_729
    """seed of the held-out problems (the same for every run.seed); their codes never in train"""
    n_tests: int = 5
    """execution-checked input/output tests per synthesized problem"""
    n_shown: int = 2
    """of which shown as examples in the spec"""
    dataset: str | None = None
    """a JSONL file or dataset of problems instead (``schema``); the last ``n_eval`` held out"""
    schema: Literal["humaneval", "mbpp", "evalplus"] = "humaneval"
    """the rows' schema (``data.codegen``)"""
    decontam: tuple[str, ...] = ("humaneval",)
    """benchmarks the synthesized problems are decontaminated against"""

    def __post_init__(self) -> None:
        _check(self.steps >= 0 and self.sft_examples >= 0, "codegen.steps/sft_examples >= 0")
        _check(self.lr is None or self.lr > 0, f"codegen.lr={self.lr}: must be > 0")
        _check(self.format_bonus >= 0, f"codegen.format_bonus={self.format_bonus}: >= 0")
        _check(all(1 <= lv <= 6 for lv in self.levels), f"codegen.levels={self.levels}: use 1..6")
        _check(self.n_train >= 1 and self.n_eval >= 0, "codegen.n_train >= 1, codegen.n_eval >= 0")
        _check(self.n_tests >= 1 and 0 <= self.n_shown <= self.n_tests,
               f"codegen.n_tests={self.n_tests}, n_shown={self.n_shown}: 0 <= n_shown <= n_tests")  # fmt: skip

    @property
    def enabled(self) -> bool:
        """the run builds code-generation tasks (to train on, to warm up on, or both)"""
        return self.steps > 0 or self.sft_examples > 0


@dataclass(frozen=True, kw_only=True)
class SFTConfig:
    steps: int = 1250
    """optimizer steps of the SFT warm-up (0 = skip)"""
    batch_size: int = 32
    """sequences per step"""
    lr: float = 2.5e-3
    """peak learning rate (one-cycle schedule)"""
    max_len: int = 384
    """drop examples longer than this many tokens"""
    teacher_jsonl: str | None = None
    """optional JSONL of {task_id, completion} teacher reasoning, kept only if it verifies"""
    prompt_loss_weight: float | None = None
    """weight of the prompt tokens' next-token loss: 0 = completion tokens only (the paper's SFT);
    None = auto: 0 for a pretrained ``model.path``, 1 for the model built from scratch, which has
    never seen Python (measured, SFT only: held-out loss 0.26 vs 0.29)"""
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    """SFT forward under autocast: auto = bf16 on CUDA, fp32 on CPU (see ``rl.sft.sft_autocast``)"""
    optimizer: Literal["auto", "adamw", "muon"] = "auto"
    """auto = Muon (hidden matrices) + AdamW (the rest) for the model built from scratch, AdamW
    for a pretrained ``model.path`` (see ``rl.optim``)"""
    muon_lr: float = 0.005
    """peak learning rate of the Muon part (``sft.lr`` stays the AdamW part's)"""

    def __post_init__(self) -> None:
        _check(self.steps >= 0, f"sft.steps={self.steps}: must be >= 0")
        _check(self.batch_size >= 1, f"sft.batch_size={self.batch_size}: must be >= 1")
        _check(self.lr > 0, f"sft.lr={self.lr}: must be > 0")
        _check(self.muon_lr > 0, f"sft.muon_lr={self.muon_lr}: must be > 0")
        _check(
            self.prompt_loss_weight is None or 0.0 <= self.prompt_loss_weight <= 1.0,
            f"sft.prompt_loss_weight={self.prompt_loss_weight}: must be in [0, 1]",
        )


@dataclass(frozen=True, kw_only=True)
class RolloutConfig:
    group_size: int = 6
    """G completions per task"""
    tasks_per_step: int = 8
    """B tasks per GRPO step"""
    max_new_tokens: int = 128
    """completion length cap"""
    temperature: float = 1.0
    """sampling temperature (the loss uses the same)"""
    top_p: float = 1.0
    """nucleus sampling mass"""

    def __post_init__(self) -> None:
        _check(
            self.group_size >= 2,
            f"rollout.group_size={self.group_size}: GRPO needs >= 2 samples per task to compare",
        )
        _check(self.tasks_per_step >= 1, f"rollout.tasks_per_step={self.tasks_per_step}: >= 1")
        _check(self.temperature > 0, f"rollout.temperature={self.temperature}: must be > 0 "
               "(the loss divides the logits by it; sampling is never greedy in GRPO)")  # fmt: skip
        try:
            self.sampling  # noqa: B018 - the sampling settings validate themselves
        except ConfigError as e:
            raise ConfigError(f"rollout.{e}".replace("max_tokens", "max_new_tokens")) from None

    @property
    def sampling(self) -> SamplingParams:
        """The sampling settings of a GRPO step (``n`` = ``group_size``)."""
        from stepcode.rollout.params import SamplingParams

        return SamplingParams(
            n=self.group_size,
            temperature=self.temperature,
            top_p=self.top_p,
            max_tokens=self.max_new_tokens,
        )

    @property
    def samples_per_step(self) -> int:
        """N = B * G completions sampled, scored and trained on per GRPO step."""
        return self.tasks_per_step * self.group_size


@dataclass(frozen=True, kw_only=True)
class GRPOConfig:
    steps: int = 20
    """GRPO optimizer steps (0 = SFT only)"""
    mode: Literal["terminal", "step", "bilevel"] = "bilevel"
    """terminal = plain GRPO on the outcome; step = per-anchor (lam 0); bilevel = paper"""
    lam: float = 0.3
    """weight of the intra-trajectory term (bilevel)"""
    trace_lines: Literal["free", "exact"] = "exact"
    """exact: a response whose trace has more or fewer lines than the program prints gets
    terminal reward 0 (``rl.steps.row_steps``); free: only the outcome counts (step-level credit
    then lets the policy pad its trace: docs/results.md)"""
    intra: Literal["paper", "centred"] = "paper"
    """Eq. 11 as the paper writes it (never negative: it raises every group's mean advantage) or
    minus its group mean per step (``rl.advantages.centre_in_group``)"""
    token_rule: Literal["span", "suffix_sum"] = "span"
    """how step advantages reach tokens"""
    clip_eps: float = 0.2
    """PPO clip range"""
    kl_coef: float = 0.0
    """k3 KL to the frozen reference (0 = none, as ExecVerify)"""
    lr: float = 1e-5
    """learning rate of the GRPO phase"""
    micro_batch: int = 0
    """rows per forward/backward (gradient accumulation); 0 = all B*G rows at once"""

    def __post_init__(self) -> None:
        _check(self.steps >= 0, f"grpo.steps={self.steps}: must be >= 0")
        _check(self.lam >= 0, f"grpo.lam={self.lam}: must be >= 0")
        _check(0 < self.clip_eps < 1, f"grpo.clip_eps={self.clip_eps}: must be in (0, 1)")
        _check(self.kl_coef >= 0, f"grpo.kl_coef={self.kl_coef}: must be >= 0")
        _check(self.micro_batch >= 0, f"grpo.micro_batch={self.micro_batch}: >= 0 (0 = all)")

    @property
    def advantage_spec(self) -> AdvantageSpec:
        """The estimator's settings (``rl.steps.batch_token_advantages``)."""
        from stepcode.rl.steps import AdvantageSpec

        return AdvantageSpec(
            mode=self.mode, lam=self.lam, token_rule=self.token_rule, intra=self.intra
        )


@dataclass(frozen=True, kw_only=True)
class OptimConfig:
    weight_decay: float = 0.01
    """AdamW weight decay"""
    grad_clip: float = 1.0
    """max gradient norm"""
    betas: tuple[float, float] = (0.9, 0.95)
    """AdamW betas"""


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    out: str = "runs/default"
    """run directory (config, metrics, checkpoints, samples, report)"""
    seed: int = 0
    """everything random derives from it"""
    threads: int = 0
    """torch CPU threads (0 = all cores)"""
    save_every: int = 50
    """checkpoint every N optimizer steps (and at the end of each phase)"""
    log_every: int = 10
    """metrics every N steps"""
    sample_every: int = 10
    """GRPO: dump a few completions every N steps"""
    eval_max_new_tokens: int = 128
    """greedy decoding cap for the before/after evaluation"""
    eval_every: int = 0
    """GRPO: also evaluate held-out every N steps (``eval/*`` metrics: the curves); 0 = only at
    the end of the warm-up and of the run (those two are in ``summary.json``)"""

    def __post_init__(self) -> None:
        _check(self.save_every >= 1 and self.log_every >= 1, "run.save_every/log_every >= 1")
        _check(self.eval_every >= 0, f"run.eval_every={self.eval_every}: must be >= 0 (0 = off)")


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    sft: SFTConfig = field(default_factory=SFTConfig)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    grpo: GRPOConfig = field(default_factory=GRPOConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    reward: RewardConfig = field(default_factory=RewardConfig)
    """how outcome, steps and format make the logged scalar (the advantages use the steps)"""
    codegen: CodegenConfig = field(default_factory=CodegenConfig)
    """stage II: code generation with unit-test rewards (off by default)"""
    run: RunConfig = field(default_factory=RunConfig)

    def __post_init__(self) -> None:
        n, mb = self.rollout.samples_per_step, self.grpo.micro_batch
        _check(
            mb == 0 or n % mb == 0,
            f"grpo.micro_batch={mb} does not divide rollout.tasks_per_step * group_size = {n}: "
            "use a divisor of it (or 0 for one pass)",
        )

    @property
    def total_steps(self) -> int:
        return self.sft.steps + self.grpo.steps + self.codegen.steps

    @property
    def stage_two(self) -> TrainConfig:
        """The settings stage II runs with: ``codegen.lr`` and ``codegen.format_bonus``."""
        import dataclasses

        grpo = dataclasses.replace(self.grpo, lr=self.codegen.lr or self.grpo.lr)
        reward = dataclasses.replace(self.reward, format_bonus=self.codegen.format_bonus)
        return dataclasses.replace(self, grpo=grpo, reward=reward)

    @property
    def sft_prompt_weight(self) -> float:
        """``sft.prompt_loss_weight`` resolved: auto is 1 for the model built from scratch (it also
        learns Python from the prompts), 0 for a pretrained one (completion tokens only)."""
        if self.sft.prompt_loss_weight is not None:
            return self.sft.prompt_loss_weight
        return 1.0 if self.model.path is None else 0.0

    @property
    def sft_optimizer(self) -> Literal["adamw", "muon"]:
        """``sft.optimizer`` resolved: auto is Muon for the model built from scratch, AdamW for a
        pretrained one."""
        if self.sft.optimizer != "auto":
            return self.sft.optimizer
        return "muon" if self.model.path is None else "adamw"
