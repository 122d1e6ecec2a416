"""Program synthesis with ExecVerify's six difficulty levels — no LLM, the interpreter checks.

| level | nested calls | other builtin methods | control-flow depth | helper function |
|-------|--------------|-----------------------|--------------------|-----------------|
| 1     | yes          | no (one test family)  | 0                  | no              |
| 2     | yes          | yes                   | 0                  | no              |
| 3     | yes          | yes                   | 1                  | no              |
| 4     | yes          | yes                   | 2                  | no              |
| 5     | yes          | yes                   | 3                  | no              |
| 6     | yes          | yes                   | 3                  | yes (f calls g) |

Typed random generation: a typed environment of variables, expressions drawn from the
``inventory`` (nesting calls up to depth 2), control flow from random nestings of if / for /
while / if-elif (loops always terminate: bounded iterables, counted whiles). The text goes through
``ast`` (parse + unparse) so every emitted program is valid and normalised. ``synthesize_programs``
then keeps only programs whose run on a random input finishes OK in the sandbox, twice with the
same output, with an output whose repr round-trips (``ast.literal_eval``).

``size="small"`` is the tiny-model regime (3–6 char strings, 2–4 element lists, ints 0–9);
``size="paper"`` uses ExecVerify's ranges (ints 5–20, collections 5–15 long).
"""

from __future__ import annotations

import ast
import functools
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from stepcode.data.inventory import CORE, INVENTORY, MUTATIONS, Op
from stepcode.execution import Job, run_jobs
from stepcode.types import Limits, Program

Size = Literal["small", "paper"]
LEVELS = (1, 2, 3, 4, 5, 6)
PARAM_TYPES = {1: ("str", "lint", "int"), 2: ("str", "lint", "int", "lstr", "dict", "set", "tuple")}
_COND = ("if", "for", "while", "if-elif")


@dataclass(frozen=True, kw_only=True)
class _Var:
    name: str
    type: str


class _Gen:
    def __init__(self, rng: random.Random, level: int, size: Size) -> None:
        self.rng = rng
        self.level = level
        self.size = size
        self.family = rng.choice(("str", "lint", "int")) if level == 1 else None
        self.counter = 0

    # -- constants --------------------------------------------------------------------------
    def const(self, hole: str) -> str:
        r = self.rng
        if hole in ("k", "k2"):
            return str(r.randint(1, 4) if hole == "k" else r.randint(5, 9))
        if hole == "c1":
            return repr(r.choice(string.ascii_lowercase[:6] + " -"))
        letters = string.ascii_lowercase[:6]
        return repr("".join(r.choice(letters) for _ in range(r.randint(1, 2))))

    def fill(self, template: str, operands: Sequence[str]) -> str:
        holes = {
            h: self.const(h) for h in ("k", "k2", "c", "c1", "c2") if "{" + h + "}" in template
        }
        return template.format(*operands, **holes)

    # -- expressions ---------------------------------------------------------------------
    def ops_for(self, result: str | None, env: Sequence[_Var]) -> list[Op]:
        return _ops_for(frozenset(v.type for v in env), result, self.family, self.size)

    def expr(
        self, env: Sequence[_Var], result: str | None = None, depth: int = 0
    ) -> tuple[str, str] | None:
        ops = self.ops_for(result, env)
        if not ops:
            return None
        op = self.rng.choice(ops)
        operands = []
        for i, t in enumerate(op.args):
            inner = None
            if (
                i == 0
                and depth < 1
                and self.rng.random() < (0.35 if self.size == "paper" or self.level > 1 else 0.15)
            ):
                inner = self.expr(env, t, depth + 1)  # nested call: f(g(x))
            if inner is None:
                operands.append(self.rng.choice([v for v in env if v.type == t]).name)
            else:
                operands.append(f"({inner[0]})" if " " in inner[0] else inner[0])
        return self.fill(op.template, operands), op.result

    def new_name(self) -> str:
        names = "abcehjkmpqruvwxyz"  # never a parameter, loop or counter name
        self.counter += 1
        return names[self.counter - 1] if self.counter <= len(names) else f"v{self.counter}"

    # -- statements ------------------------------------------------------------------------
    def assign(self, env: list[_Var], indent: str) -> list[str]:
        made = self.expr(env)
        if made is None:
            return []
        name = self.new_name()
        env.append(_Var(name=name, type=made[1]))
        return [f"{indent}{name} = {made[0]}"]

    def update(self, env: list[_Var], indent: str) -> list[str]:
        """Change an existing variable in place or by re-assignment (same type)."""
        muts = [
            (t, v) for t, ty in MUTATIONS for v in env if v.type == ty and v.name.isidentifier()
        ]
        if self.level >= 2 and muts and self.rng.random() < 0.4:
            template, var = self.rng.choice(muts)
            return [f"{indent}{self.fill(template, [var.name])}"]
        candidates = [v for v in env if v.name.isidentifier() and self.ops_for(v.type, env)]
        if not candidates:
            return self.assign(env, indent)
        var = self.rng.choice(candidates)
        made = self.expr(env, var.type)
        return [f"{indent}{var.name} = {made[0]}"] if made else []

    def block(self, env: list[_Var], indent: str, depth: int) -> list[str]:
        """A statement list at ``indent`` containing control flow nested ``depth`` deep."""
        lines = self.assign(env, indent)
        if depth > 0:
            lines += self.control(env, indent, depth)
        lines += self.update(env, indent)
        return lines

    def control(self, env: list[_Var], indent: str, depth: int) -> list[str]:
        kind = self.rng.choice(_COND)
        inner = indent + "    "
        scope = list(env)  # names made inside a block stay inside it
        if kind == "for":
            iterable = [v for v in env if v.type in ("str", "lint", "lstr", "tuple", "dict")]
            if iterable and self.rng.random() < 0.8:
                src = self.rng.choice(iterable)
                item = "ch" if src.type == "str" else "item"
                item_t = {
                    "str": "str",
                    "lint": "int",
                    "lstr": "str",
                    "tuple": "int",
                    "dict": "str",
                }[src.type]
                style = self.rng.random()
                if style < 0.2:
                    head, extra = (
                        f"for i, {item} in enumerate({src.name}):",
                        [_Var(name="i", type="int")],
                    )
                elif style < 0.3:
                    head, extra = f"for {item} in reversed({src.name}):", []
                else:
                    head, extra = f"for {item} in {src.name}:", []
                scope += [_Var(name=item, type=item_t), *extra]
            else:
                head = f"for i in range({self.const('k')}):"
                scope.append(_Var(name="i", type="int"))
            return [f"{indent}{head}", *self.block(scope, inner, depth - 1)]
        if kind == "while":
            counter = f"n{self.counter}"
            self.counter += 1
            head = [f"{indent}{counter} = 0", f"{indent}while {counter} < {self.const('k')}:"]
            body = self.block(scope, inner, depth - 1) + [f"{inner}{counter} += 1"]
            env.append(_Var(name=counter, type="int"))
            return head + body
        cond = self.expr(env, "bool") or ("len(str(" + env[0].name + ")) > 2", "bool")
        lines = [f"{indent}if {cond[0]}:", *self.block(list(env), inner, depth - 1)]
        if kind == "if-elif":
            cond2 = self.expr(env, "bool") or ("True", "bool")
            lines += [f"{indent}elif {cond2[0]}:", *self.block(list(env), inner, depth - 1)]
        lines += [f"{indent}else:", *self.block(list(env), inner, depth - 1)]
        return lines

    # -- whole programs --------------------------------------------------------------------
    def params(self) -> list[_Var]:
        pool = PARAM_TYPES[1] if self.level == 1 else PARAM_TYPES[2]
        first = self.family or self.rng.choice(pool)
        ps = [_Var(name=_PARAM_NAMES[first], type=first)]
        if self.level >= 2 and self.rng.random() < 0.4:
            t = self.rng.choice([p for p in pool if p != first])
            ps.append(_Var(name=_PARAM_NAMES[t], type=t))
        return ps

    def function(
        self, name: str, params: list[_Var], depth: int, n_assign: int, pre: Sequence[_Var] = ()
    ) -> tuple[list[str], str]:
        """``pre``: calls (as ``_Var(name=expr, type)``) assigned first (level 6: the helper)."""
        env = list(params)
        body: list[str] = []
        for call in pre:
            var = _Var(name=self.new_name(), type=call.type)
            body.append(f"    {var.name} = {call.name}")
            env.append(var)
        for _ in range(n_assign):
            body += self.assign(env, "    ")
        if depth:
            body += self.control(env, "    ", depth)
        ret = env[-1] if len(env) > len(params) else env[0]
        sig = ", ".join(p.name for p in params)
        return [f"def {name}({sig}):", *body, f"    return {ret.name}"], ret.type

    def program(self) -> tuple[str, list[_Var]]:
        depth = {1: 0, 2: 0, 3: 1, 4: 2, 5: 3, 6: self.rng.randint(1, 3)}[self.level]
        params = self.params()
        lines: list[str] = []
        env_extra: list[_Var] = []
        if self.level == 6:
            helper_param = _Var(name="v", type=params[0].type)
            helper, ret_t = self.function("g", [helper_param], 0, self.rng.randint(1, 2))
            lines += helper + [""]
            env_extra.append(_Var(name=f"g({params[0].name})", type=ret_t))
        if self.level == 1 and self.size == "small":  # the tiny-model regime: short chains
            n_assign = self.rng.randint(1, 2)
        else:
            n_assign = self.rng.randint(2, 3) if self.level <= 2 else 1
        body, _ = self.function("f", params, depth, n_assign, pre=env_extra)
        lines += body
        return "\n".join(lines) + "\n", params


@functools.cache
def _ops_for(have: frozenset[str], result: str | None, family: str | None, size: Size) -> list[Op]:
    """Inventory operations applicable to variables of types ``have`` (inventory order kept)."""
    ops = [o for o in INVENTORY if o.args and have.issuperset(o.args)]
    if family is not None:
        ops = [o for o in ops if o.family == family and o.args[0] == family]
        if size == "small":
            ops = [o for o in ops if o.template in CORE]
    if result is not None:
        ops = [o for o in ops if o.result == result]
    return ops


_PARAM_NAMES = {
    "str": "s",
    "lint": "nums",
    "int": "n",
    "lstr": "words",
    "dict": "d",
    "set": "items",
    "tuple": "t",
}


def random_value(kind: str, rng: random.Random, size: Size = "small") -> object:
    """A random input of a generator type (ExecVerify's ranges for ``paper``)."""
    lo, hi = (2, 4) if size == "small" else (5, 15)
    ints = (0, 9) if size == "small" else (5, 20)
    letters = (
        string.ascii_lowercase[:6] if size == "small" else string.ascii_letters + string.digits
    )
    if kind == "int":
        return rng.randint(*ints)
    if kind == "float":
        return round(rng.uniform(*ints), 1)
    if kind == "str":
        n = rng.randint(3, 6) if size == "small" else rng.randint(6, 15)
        return "".join(rng.choice(letters) for _ in range(n))
    if kind == "lint":
        return [rng.randint(*ints) for _ in range(rng.randint(lo, hi))]
    if kind == "lstr":
        return [random_value("str", rng, size)[:3] for _ in range(rng.randint(lo, hi))]
    if kind == "dict":
        return {
            str(random_value("str", rng, size))[:2]: rng.randint(*ints)
            for _ in range(rng.randint(lo, hi))
        }
    if kind == "set":
        return set(random_value("lint", rng, size))
    if kind == "tuple":
        return tuple(random_value("lint", rng, size))
    raise ValueError(kind)


def render_args(values: Sequence[object]) -> str:
    """Arguments as literal text; sets are printed sorted so the text does not depend on hashing."""
    parts = []
    for v in values:
        if isinstance(v, set):
            parts.append("{" + ", ".join(map(repr, sorted(v))) + "}" if v else "set()")
        else:
            parts.append(repr(v))
    return ", ".join(parts)


def synthesize_candidates(level: int, n: int, seed: int, size: Size = "small") -> list[Program]:
    """``n`` unverified candidate programs with one random input each (no execution)."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level}")
    out: list[Program] = []
    for i in range(n):
        rng = random.Random(f"{seed}:{level}:{i}")
        gen = _Gen(rng, level, size)
        text, params = gen.program()
        try:
            code = ast.unparse(ast.parse(text)) + "\n"
        except SyntaxError:
            continue
        args = render_args([random_value(p.type, rng, size) for p in params])
        out.append(
            Program(
                program_id=f"synth-L{level}-s{seed}-{i}",
                code=code,
                input_args=args,
                source="synth",
                level=level,
            )
        )
    return out


def synthesize_programs(
    level: int, n: int, seed: int = 0, size: Size = "small", limits: Limits | None = None
) -> list[Program]:
    """``n`` verified programs of ``level`` (deterministic for a seed): output filled by execution."""
    limits = limits or Limits(timeout_s=1.0, memory_mb=256)
    kept: list[Program] = []
    batch, attempt = max(16, n * 2), 0
    while len(kept) < n and attempt < 20:
        cands = synthesize_candidates(level, batch, seed * 1000 + attempt, size)
        kept += verify_programs(cands, limits, batch=32)
        attempt += 1
    return kept[:n]


def verify_programs(
    programs: Sequence[Program], limits: Limits | None = None, *, batch: int = 0
) -> list[Program]:
    """Keep programs that run OK twice with the same, literal-round-tripping output.

    ``batch > 0`` runs that many programs per sandbox job (``batchrun``: only for synthesized
    code); ``0`` runs each program in its own job (real code).
    """
    import dataclasses

    from stepcode.data.batchrun import run_calls

    limits = limits or Limits(timeout_s=1.0, memory_mb=256)
    items = [(p.code, f"{p.entry_point}({p.input_args})") for p in programs]
    if batch > 0:
        first, second = run_calls(items, limits, batch), run_calls(items, limits, batch)
    else:
        jobs = [Job(code=c, call=call, limits=limits) for c, call in items]
        first = [(r.result.status.value, r.result.return_value) for r in run_jobs(jobs)]
        second = [(r.result.status.value, r.result.return_value) for r in run_jobs(jobs)]
    kept = []
    for p, (sa, va), (sb, vb) in zip(programs, first, second, strict=True):
        if sa != "ok" or sb != "ok" or va != vb or va is None or not _round_trips(va):
            continue
        kept.append(dataclasses.replace(p, output=va))
    return kept


def _round_trips(text: str) -> bool:
    if len(text) > 300:
        return False
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return False
    return repr(value) == text
