"""Students' self-checks: instant, friendly feedback on each graded exercise, judged by the grader's own rules.

Each check prints a line starting with ✅ when the work is right, and otherwise raises
:class:`CheckFailed` whose message says, in plain words, what was expected, what was found and what
to try. These checks help students; they are not the grade (the autograder decides marks outside the
student's kernel). But they cannot disagree with it: every graded exercise is an :class:`Exercise`
whose rule judges plain data (arrays and JSON values) observed from the student's objects, and
:func:`self_check` saves that data and reads it back exactly as the grader does, then applies the
same rule (see :mod:`labkit.labs`).

The lab-specific checks live in each lab's package (``labkit/labs/labN/checks.py``); they stay reachable
here by name, so a notebook calls ``checks.check_preprocess(preprocess)``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import numpy as np



class CheckFailed(AssertionError):
    """A self-check found a problem; the message explains it for a student."""


def problem(what: str, expected: str, found: str, hint: str = "") -> str:
    """One problem, worded for a student: ``what: expected X; found Y. hint``."""
    return f"{what}: expected {expected}; found {found}." + (f" {hint}" if hint else "")


def fail(what: str, expected: str, found: str, hint: str = "") -> NoReturn:
    raise CheckFailed(problem(what, expected, found, hint))


def passed(message: str) -> None:
    print(f"✅ {message}")


def describe(value) -> str:
    """What ``value`` is, in words for a student: ``a list``, ``None``, ``a NumPy array of shape (3,) and dtype
    int64``; an array of a subclass of NumPy's (which may compare equal to anything) says so."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray) and type(value) is not np.ndarray:
        return f"a {type(value).__name__}, a subclass of NumPy's array"
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


def plain(value):
    """A setting as JSON: numbers, text and lists of them as they are, anything else as (the start of) its text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(part) for part in value]
    return str(value)[:80]


def numbers_of(value, *, sequences: bool = True) -> dict:
    """Values an answer returned (a tensor, an array, a number, a pandas Series) as a float64 array
    (``{"array": ...}``), or what they are instead (``{"kind": ...}``). A list or tuple counts as numbers only
    where ``sequences`` is true: where one tensor is due, a tuple of several gives the mistake away."""
    refused = (str, bytes, bool, np.bool_, dict) + (() if sequences else (list, tuple))
    if value is not None and not isinstance(value, refused):
        try:
            return {"array": np.array(value, dtype=np.float64)}
        except (TypeError, ValueError):
            pass
    return {"kind": describe(value)}


def not_a_function(observed, name: str, signature: str) -> list[str]:
    """The problem when the answer ``name`` was observed not to be callable (an observer records ``callable``
    and ``kind``); none when it is."""
    if observed.value("callable", bool):
        return []
    return [problem(name, "a function", str(observed.value("kind", str)), f"Define it with def {signature}: ...")]


def digit_like_images(rng: np.random.Generator, count: int, *, ink: tuple[float, float]) -> np.ndarray:
    """``count`` images shaped like MNIST's, for judging a loss or a score: a black background, a share of
    grey strokes drawn from ``ink`` in each, some pixels exactly 1; float32, shape ``(count, 28, 28, 1)``."""
    images = rng.random((count, 28, 28, 1), dtype=np.float32)
    share = rng.uniform(*ink, (count, 1, 1, 1))
    return np.where(images < 1 - share, 0, np.minimum(1, (images - (1 - share)) / share * 1.3)).astype(np.float32)


def observe_model(name: str, model, probe: np.ndarray, describe_model: Callable) -> dict:
    """A model as plain data under ``name``: ``describe_model(model)``, its parameter count, its weights
    (``name.w0``, ...) and its output on ``probe``; or ``name.kind``, what it is instead of a model."""
    import keras

    if not isinstance(model, keras.Model):
        return {f"{name}.kind": describe(model)}
    try:
        params = int(model.count_params())
    except ValueError:  # a subclassed model that was never called has no weights yet
        params = 0
    weights = model.get_weights()
    observed = {f"{name}.model": describe_model(model), f"{name}.params": params, f"{name}.weights": len(weights)}
    for index, weight in enumerate(weights):
        observed[f"{name}.w{index}"] = np.asarray(weight)
    try:
        observed[f"{name}.prediction"] = np.asarray(model(probe, training=False), dtype=np.float32)
    except Exception as error:  # noqa: BLE001 - a model of the wrong shape cannot take the probe
        observed[f"{name}.prediction_error"] = f"{type(error).__name__}: {str(error)[:200]}"
    return observed


def io_shapes(model, name: str) -> tuple[tuple, tuple]:
    """``(input_shape, output_shape)`` of a Keras model, or a :class:`CheckFailed` saying it is not one."""
    import keras

    if not isinstance(model, keras.Model):
        fail(name, "a keras.Model", describe(model), "Build it with keras.Model(inputs, outputs, name=...).")
    return tuple(model.input_shape), tuple(model.output_shape)


def layers_of(model, kind, *, exclude: tuple = ()) -> list:
    """Every layer of ``model`` (sub-models included) that is a ``kind`` and none of ``exclude``."""
    return [layer for layer in model._flatten_layers(include_self=False)
            if isinstance(layer, kind) and not isinstance(layer, tuple(exclude))]


def activation_name(layer) -> str:
    return getattr(layer.activation, "__name__", str(layer.activation))


# --- the exercise contract -------------------------------------------------------------------------

@dataclass(frozen=True)
class Exercise:
    """One graded exercise: what to observe of the student's objects, and the rule that judges it.

    ``observe(objects, inputs)`` runs in the student's kernel (the notebook, or the grader's sandbox):
    it applies the objects named in ``names`` to ``inputs`` and returns plain data, a dict of NumPy
    arrays and JSON values. ``rule(observed, inputs, expected)`` runs wherever the judgement is made
    and returns the problems found (an empty list: correct); ``observed`` is read back from files
    (:class:`labkit.grading.exchange.Exported`), so it trusts nothing. ``expected`` holds what the
    answer is compared with (the data the student's pipeline should hold, the sizes asked for).
    """

    grade_id: str
    names: tuple[str, ...]
    observe: Callable[[dict, dict], dict]
    rule: Callable[..., list[str]]
    passed: str
    """The self-check's ✅ line."""
    notes: Mapping[str, str] = field(default_factory=dict)


def judge(exercise: Exercise, observed, inputs: dict, expected: dict) -> list[str]:
    """The rule's problems with ``observed``; data shaped to break the rule is a problem, never a crash."""
    from labkit.grading.exchange import Mismatch

    error = observed.error()
    if error is not None:
        return [error]
    try:
        return list(exercise.rule(observed, inputs, expected))
    except Mismatch as mismatch:
        return [str(mismatch)]
    except Exception as error:  # noqa: BLE001 - untrusted data must never crash the grader
        return [f"the results could not be checked ({type(error).__name__}: {str(error)[:200]})"]


def observe_into(folder: Path, exercise: Exercise, objects: dict, inputs: dict) -> None:
    """Observe ``objects`` and save the plain data in ``folder``; a failure to observe is saved as the error."""
    from labkit.grading.exchange import ExportError, save_error, save_observation

    try:
        save_observation(folder, exercise.observe(objects, inputs))
    except ExportError as error:
        save_error(folder, error)


def self_check(exercise: Exercise, objects: dict, *, inputs: dict, expected: dict, passed_line: str | None = None
               ) -> None:
    """Judge the student's live ``objects`` with the exercise's rule, through the grader's own files.

    Prints the ✅ line, or raises :class:`CheckFailed` with the first problem. An exception raised by the
    student's own code while it is observed reaches the student as it is, with its traceback.
    """
    from labkit.grading.exchange import Exported

    with tempfile.TemporaryDirectory(prefix="labkit-check-") as folder:
        observe_into(Path(folder), exercise, objects, inputs)
        problems = judge(exercise, Exported(Path(folder)), inputs, expected)
    if problems:
        raise CheckFailed(problems[0])
    passed(passed_line or exercise.passed)


# --- results the solutions must show ---------------------------------------------------------------

def on_full_data(source) -> bool:
    """Whether results come from the full dataset: ``source`` is the loaded data's
    :class:`labkit.data.Source` (``mnist.source``), or a tuple of them when a result depends on several
    datasets (all must be full). The shipped sample, in quick mode or offline, is not."""
    sources = source if isinstance(source, (tuple, list)) else (source,)
    if not sources or not all(hasattr(found, "full") for found in sources):
        raise TypeError("pass source=, the Source of the data the result was computed on (for example "
                        f"mnist.source, as data.load_mnist() returns it); got {source!r}")
    return all(found.full for found in sources)


def _not_full(source) -> str:
    sources = source if isinstance(source, (tuple, list)) else (source,)
    return ", ".join(dict.fromkeys(str(found) for found in sources if not found.full))


def expect_loss_at_most(loss: float, target: float, *, baseline: float, source, what: str = "test loss",
                        spread: float = 0.0) -> None:
    """Assert a lab's quality target, relaxed by data source: on the full dataset ``loss <= target``; on the
    shipped sample (quick mode, or offline at full epochs) only that the model beats ``baseline``, the loss
    of always drawing the mean image, since a few thousand images cannot reach the full-data target.
    ``source``: where the data came from (see :func:`on_full_data`). ``spread``: how far the same recipe's
    loss moves between CPUs (Lab 3's 2-number code); a loss above the target by no more than that is a near
    miss, said as such, not a failure."""
    if not on_full_data(source):
        if not loss < baseline:
            fail(what, f"below the mean-image baseline {baseline:.4f}", f"{loss:.4f}",
                 "The model has not learned anything; check the pipeline and the loss.")
        passed(f"{what} {loss:.4f} beats the mean-image baseline {baseline:.4f}.\n"
               f"   (target ≤ {target} on the full dataset; here: {_not_full(source)})")
        return
    if loss <= target:
        passed(f"{what} {loss:.4f} ≤ {target} (the lab's target).")
    elif loss <= target + spread:
        passed(f"{what} {loss:.4f}: a near miss of the target {target}, within the {spread}\n"
               "   by which this recipe's loss moves between CPUs; say so in your analysis.")
    else:
        fail(what, f"at most {target} on the full dataset", f"{loss:.4f}")


def expect_accuracy_at_least(accuracy: float, target: float, *, source, what: str = "test accuracy",
                             quick_floor: float = 0.5) -> None:
    """Assert a lab's accuracy target, relaxed by data source: on the full dataset ``accuracy >= target``; on
    the shipped sample (quick mode, or offline at full epochs) only that it reaches ``quick_floor``, far above
    guessing one class in ten. ``source``: where the data came from (see :func:`on_full_data`)."""
    if not on_full_data(source):
        if not accuracy >= quick_floor:
            fail(what, f"at least {quick_floor:.0%} even on the sample", f"{accuracy:.2%}",
                 "The classifier has not learned; check the labels, the loss and what is trainable.")
        passed(f"{what} {accuracy:.2%} ≥ {quick_floor:.0%}.\n"
               f"   (target ≥ {target:.2%} on the full dataset; here: {_not_full(source)})")
        return
    if not accuracy >= target:
        fail(what, f"at least {target:.2%} on the full dataset", f"{accuracy:.2%}")
    passed(f"{what} {accuracy:.2%} ≥ {target:.2%} (the lab's target).")


def expect_frozen(features, snapshot: list) -> None:
    """Assert that a frozen feature extractor has no trainable weights and kept every weight bit for bit."""
    if features.trainable_weights:
        fail("the frozen encoder", "no trainable weights", f"{len(features.trainable_weights)} trainable tensors")
    weights = features.get_weights()
    if len(weights) != len(snapshot) or not all(np.array_equal(w, s) for w, s in zip(weights, snapshot)):
        fail("the frozen encoder's weights", "unchanged by training", "changed weights",
             "Set trainable = False before compiling, and compile again after changing it.")
    passed(f"the encoder stayed frozen: {sum(w.size for w in weights):,} weights unchanged after training.")


# --- each lab's checks, by name ------------------------------------------------------------------

def lab_checks() -> dict[str, Callable]:
    """Every lab's self-checks by name (``check_preprocess`` → Lab 1's), from the registry."""
    from labkit import labs

    found: dict[str, Callable] = {}
    for lab in labs.with_part("checks"):
        module = lab.part("checks")
        for name in getattr(module, "__all__", ()):
            found.setdefault(name, getattr(module, name))
    return found


def __getattr__(name: str):
    if name.startswith(("check_", "count_")):
        checks = lab_checks()
        if name in checks:
            return checks[name]
    raise AttributeError(f"module 'labkit.checks' has no attribute {name!r}")
