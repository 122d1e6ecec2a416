"""Bi-Level GRPO advantages: hand-computed tensors and hypothesis properties."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from stepcode.rl.advantages import (
    centre_in_group,
    group_advantages,
    informative_groups,
    intra_credit,
    process_advantages,
    step_advantages,
    token_advantages,
)

T, F = True, False


def _t(x, dtype=torch.float32):
    return torch.tensor(x, dtype=dtype)


def test_lam_zero_with_one_terminal_step_is_vanilla_grpo():
    r = _t([[[1.0], [0.0], [0.0], [1.0]]])  # [B=1, G=4, S=1]
    m = torch.ones_like(r, dtype=torch.bool)
    # vanilla GRPO by hand: mean 0.5, unbiased std sqrt(1/3) -> +-0.5 / 0.57735 = +-0.8660
    expected = _t([[[0.8660254], [-0.8660254], [-0.8660254], [0.8660254]]])
    for mode in ("bilevel", "step", "terminal"):
        adv = step_advantages(r, m, lam=0.0, mode=mode)
        assert torch.allclose(adv, expected, atol=1e-5), mode


def test_bilevel_hand_computed_small_group():
    # G=2, one anchor + terminal. Sample 0: anchor right, answer right; sample 1: anchor wrong.
    r = _t([[[1.0, 1.0], [0.0, 1.0]]])
    m = torch.ones_like(r, dtype=torch.bool)
    group = group_advantages(r, m, eps=0.0)
    # anchor column [1, 0]: mean .5, std sqrt(.5) -> +-0.7071; terminal column all 1 -> 0
    assert torch.allclose(group, _t([[[0.70710678, 0.0], [-0.70710678, 0.0]]]), atol=1e-6)
    intra = intra_credit(r, m)
    assert torch.equal(intra, _t([[[2.0, 1.0], [0.0, 1.0]]]))
    adv = step_advantages(r, m, lam=0.3, mode="bilevel", eps=0.0)
    assert torch.allclose(adv, _t([[[0.70710678 + 0.6, 0.3], [-0.70710678, 0.3]]]), atol=1e-6)


def test_intra_credit_means_only_valid_later_steps():
    r = _t([1.0, 0.0, 1.0, 1.0])
    assert torch.allclose(intra_credit(r, torch.ones(4, dtype=torch.bool)), _t([5 / 3, 0, 2, 1]))
    masked = intra_credit(_t([1.0, 7.0, 1.0]), torch.tensor([T, F, T]))
    assert torch.equal(masked, _t([2.0, 0.0, 1.0]))


def _mean_token_adv(adv_bgs, row, token_to_step):
    """Mean token advantage of sample ``row`` of task 0 with a given token->step layout."""
    flat = adv_bgs.reshape(-1, adv_bgs.shape[-1])
    tok = token_advantages(flat[row : row + 1], token_to_step, token_to_step >= 0)
    return tok.sum() / (token_to_step >= 0).sum()


def test_right_answer_via_wrong_steps_scores_below_right_steps():
    # steps [a1, a2, answer]; sample 0 right/right/right, sample 1 wrong/wrong/right
    r = _t([[[1, 1, 1], [0, 0, 1], [0, 1, 0], [1, 0, 0]]])
    m = torch.ones_like(r, dtype=torch.bool)
    layout = torch.tensor([[0, 0, 0, 1, 1, 1, 2, 2, 2, 2]])  # 3 tokens per line, 4 answer tokens
    for mode in ("bilevel", "step"):
        adv = step_advantages(r, m, lam=0.3, mode=mode)
        assert _mean_token_adv(adv, 0, layout) > _mean_token_adv(adv, 1, layout) + 0.5, mode
    terminal = step_advantages(r, m, mode="terminal")  # outcome-only GRPO cannot tell them apart
    assert torch.isclose(_mean_token_adv(terminal, 0, layout), _mean_token_adv(terminal, 1, layout))


def test_all_correct_group_keeps_positive_intra_term():
    r = torch.ones(1, 3, 4)
    adv = step_advantages(r, torch.ones_like(r, dtype=torch.bool), lam=0.3, mode="bilevel")
    assert torch.allclose(adv, torch.full_like(r, 0.3 * 2.0).index_fill(-1, torch.tensor([3]), 0.3))


def test_zero_variance_and_single_sample_groups_give_zero_not_nan():
    r = _t([[[1.0, 0.3], [1.0, 0.3]], [[0.1, 0.1], [0.1, 0.1]]])
    m = torch.ones_like(r, dtype=torch.bool)
    for mode in ("terminal", "step"):
        adv = step_advantages(r, m, mode=mode)
        assert torch.equal(adv, torch.zeros_like(r)), mode
    pooled = step_advantages(r, m, mode="process")  # task 0 pools 1 and .3: spread; task 1 none
    assert torch.equal(pooled[1], torch.zeros(2, 2)) and pooled[0].abs().min() > 0.5
    one = group_advantages(_t([[[1.0], [0.0]]]), torch.tensor([[[T], [F]]]))
    assert torch.equal(one, torch.zeros(1, 2, 1))


def test_process_supervision_suffix_sum_hand_computed():
    r = _t([[[1.0, 1.0], [0.0, 1.0]]])
    m = torch.ones_like(r, dtype=torch.bool)
    # pooled R = [1, 1, 0, 1]: mean .75, unbiased std .5 -> 1 -> .5, 0 -> -1.5
    norm = process_advantages(r, m, eps=0.0)
    assert torch.allclose(norm, _t([[[0.5, 0.5], [-1.5, 0.5]]]))
    tts = torch.tensor([[0, 1, 1], [0, 0, 1]])
    tok = token_advantages(
        norm.reshape(2, 2), tts, torch.ones(2, 3, dtype=torch.bool), "suffix_sum"
    )
    assert torch.allclose(tok, _t([[1.0, 0.5, 0.5], [-1.0, -1.0, 0.5]]))


def test_token_advantages_follow_spans_and_masks():
    step_adv = _t([[0.5, -1.0, 2.0]])
    tts = torch.tensor([[0, 0, 1, 2, 2, -1]])
    mask = torch.tensor([[T, T, T, T, F, F]])
    assert torch.equal(token_advantages(step_adv, tts, mask), _t([[0.5, 0.5, -1.0, 2.0, 0, 0]]))
    with pytest.raises(ValueError, match="token rule"):
        token_advantages(step_adv, tts, mask, rule="nope")
    with pytest.raises(ValueError, match="mode"):
        step_advantages(torch.zeros(1, 2, 1), torch.ones(1, 2, 1, dtype=torch.bool), mode="nope")


def test_paper_intra_raises_the_group_mean_centred_does_not():
    # G=3, one anchor + terminal. Rewards (anchor, answer): (1, 1), (1, 0), (0, 0).
    r = _t([[[1.0, 1.0], [1.0, 0.0], [0.0, 0.0]]])
    m = torch.ones_like(r, dtype=torch.bool)
    # Eq. 11 by hand: sample 0 anchor 1 * (1 + 1) = 2, answer 1; sample 1 anchor 1 * (1 + 0) = 1
    intra = intra_credit(r, m)
    assert torch.equal(intra, _t([[[2.0, 1.0], [1.0, 0.0], [0.0, 0.0]]]))
    # centred: anchor column mean 1 -> (1, 0, -1); answer column mean 1/3 -> (2/3, -1/3, -1/3)
    centred = centre_in_group(intra, m)
    assert torch.allclose(centred, _t([[[1.0, 2 / 3], [0.0, -1 / 3], [-1.0, -1 / 3]]]))
    group = group_advantages(r, m, eps=0.0)
    paper = step_advantages(r, m, lam=0.3, mode="bilevel", eps=0.0)
    cent = step_advantages(r, m, lam=0.3, mode="bilevel", eps=0.0, intra="centred")
    assert torch.allclose(paper, group + 0.3 * intra)
    assert torch.allclose(cent, group + 0.3 * centred)
    # the paper form shifts each column's group mean by lam * mean intra (0.3 * 1 and 0.3 / 3)
    assert torch.allclose(paper.mean(dim=1), _t([[0.3, 0.1]]), atol=1e-6)
    assert torch.allclose(cent.mean(dim=1), torch.zeros(1, 2), atol=1e-6)


def test_all_right_group_gets_no_centred_intra_credit():
    r = torch.ones(1, 4, 3)
    m = torch.ones_like(r, dtype=torch.bool)
    assert torch.equal(step_advantages(r, m, mode="bilevel", intra="centred"), torch.zeros(1, 4, 3))
    assert torch.all(step_advantages(r, m, mode="bilevel") > 0)  # paper form: lam * (1 + 1), ...


def test_informative_groups_by_step():
    # task 0: anchor varies, answer all wrong; task 1: all right; task 2: one valid sample only
    r = _t([[[1.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [0.0, 0.0]]])
    m = torch.ones_like(r, dtype=torch.bool)
    m[2, 1] = False
    inf = informative_groups(r, m)
    assert inf.tolist() == [[True, False], [False, False], [False, False]]
    # exactly the columns where the group term is nonzero
    assert torch.equal(group_advantages(r, m).ne(0).any(dim=1), inf)


def test_centre_in_group_ignores_masked_samples():
    v = _t([[[3.0], [1.0], [100.0]]])
    m = torch.tensor([[[T], [T], [F]]])
    assert torch.equal(centre_in_group(v, m), _t([[[1.0], [-1.0], [0.0]]]))
    with pytest.raises(ValueError, match="intra form"):
        step_advantages(v, m, mode="bilevel", intra="nope")


@st.composite
def _groups(draw):
    B, G, S = draw(st.integers(1, 3)), draw(st.integers(2, 5)), draw(st.integers(1, 4))
    vals = draw(
        st.lists(st.sampled_from([0.0, 1.0, 0.5, -2.0]), min_size=B * G * S, max_size=B * G * S)
    )
    mask = draw(st.lists(st.booleans(), min_size=B * G * S, max_size=B * G * S))
    return _t(vals).view(B, G, S), torch.tensor(mask).view(B, G, S)


@settings(max_examples=60, deadline=None)
@given(_groups(), st.floats(-5, 5, allow_nan=False))
def test_group_term_properties(group, shift):
    r, m = group
    adv = group_advantages(r, m)
    assert torch.isfinite(adv).all()
    assert torch.all(adv[~m] == 0)  # zeros where masked
    col_sum = (adv * m).sum(dim=1)  # zero mean over valid samples of each (task, step)
    assert torch.allclose(col_sum, torch.zeros_like(col_sum), atol=1e-4)
    assert torch.allclose(group_advantages(r + shift, m), adv, atol=1e-4)  # shift invariance
    for mode in ("terminal", "step", "bilevel", "process"):
        full = step_advantages(r, m, mode=mode)
        assert torch.isfinite(full).all() and torch.all(full[~m] == 0), mode
    cent = step_advantages(r, m, mode="bilevel", intra="centred")
    col = (cent * m).sum(dim=1)  # the centred form keeps every column's group mean at 0
    assert torch.allclose(col, torch.zeros_like(col), atol=1e-4) and torch.all(cent[~m] == 0)


@settings(max_examples=40, deadline=None)
@given(_groups(), st.floats(0.1, 10, allow_nan=False))
def test_group_term_is_scale_invariant(group, scale):
    r, m = group
    a, b = group_advantages(r, m, eps=0.0), group_advantages(r * scale, m, eps=0.0)
    assert torch.allclose(a, b, atol=1e-4)
    assert not any(math.isnan(x) for x in b.flatten().tolist())
