"""The labs of the kit, one package each (``labkit/labs/labN/``), found without importing TensorFlow.

A lab's package holds everything that belongs to that lab alone, each part in a module of the same name
in every lab:

``__init__``     its constants (sizes, batch, epochs, targets), ``TITLE`` and ``NOTEBOOK``; NumPy at most
``rules``        one rule per graded exercise, on plain data: what the self-check and the grader both call
``checks``       the self-checks its notebook calls (live objects → plain data → rules)
``grading``      the autograder's side: fresh inputs, the state each answer starts from, the exports
``mistakes``     plausible wrong answers to each exercise, which the rules must refuse
``experiments``  what ``labkit reproduce`` trains for it

A lab's package may also hold code its notebook's text explains and calls by name, such as Lab 2's tuning
study (``labkit/labs/lab2/study.py``); the registry neither needs nor imports it.

The generic machinery (the check framework in :mod:`labkit.checks`, the sandbox and the grading run in
:mod:`labkit.grading`, the runner of :mod:`labkit.reproduce`, the question bank) finds a lab here and
never names one. Adding a lab means adding its package, its solution and student notebooks and its bank
file; ``tests/test_registry.py`` says what a new lab still lacks.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

PARTS = ("rules", "checks", "grading", "mistakes", "experiments")
"""The modules a lab's package may have, besides its ``__init__``."""

BANK_DIR = Path(__file__).resolve().parents[1] / "bank"


class UnknownLab(LookupError):
    """No lab has this number."""


@dataclass(frozen=True)
class Lab:
    """One lab as the kit knows it: its number, title, notebook, and the parts its package has."""

    number: int
    title: str
    notebook: str
    """The file name of its solution (``solutions/``) and its student notebook (``labs/``)."""
    practised: bool
    """Whether its questions are drawn into the practice viva (Lab 5)."""
    package: str

    @property
    def bank(self) -> Path:
        """Its question bank file."""
        return BANK_DIR / f"lab{self.number}.yaml"

    def has(self, part: str) -> bool:
        """Whether its package has the module ``part`` (one of :data:`PARTS`), without importing it."""
        return importlib.util.find_spec(f"{self.package}.{part}") is not None

    def part(self, part: str) -> ModuleType:
        """Its module ``part``, imported (``grading``, ``experiments`` and ``checks`` may import Keras)."""
        if part not in PARTS:
            raise ValueError(f"a lab's parts are {', '.join(PARTS)}; not {part!r}")
        if not self.has(part):
            raise UnknownLab(f"Lab {self.number} has no {part} (labkit/labs/lab{self.number}/{part}.py)")
        return importlib.import_module(f"{self.package}.{part}")

    @property
    def constants(self) -> ModuleType:
        """Its package's ``__init__``: the lab's constants."""
        return importlib.import_module(self.package)


def _discover() -> dict[int, Lab]:
    labs = {}
    for info in pkgutil.iter_modules(__path__):
        if not (info.ispkg and info.name.startswith("lab") and info.name[3:].isdigit()):
            continue
        package = importlib.import_module(f"{__name__}.{info.name}")
        number = int(info.name[3:])
        labs[number] = Lab(number=number, title=package.TITLE, notebook=package.NOTEBOOK,
                           practised=getattr(package, "PRACTISED", True), package=package.__name__)
    return dict(sorted(labs.items()))


_LABS: dict[int, Lab] | None = None


def _labs() -> dict[int, Lab]:
    global _LABS
    if _LABS is None:
        _LABS = _discover()
    return _LABS


def numbers() -> list[int]:
    """The numbers of every lab, in order."""
    return list(_labs())


def all_labs() -> list[Lab]:
    """Every lab, in order."""
    return list(_labs().values())


def get(number: int) -> Lab:
    """Lab ``number``; :class:`UnknownLab` names the labs there are."""
    try:
        return _labs()[int(number)]
    except (KeyError, ValueError, TypeError):
        raise UnknownLab(f"there is no lab {number}; the labs are {', '.join(map(str, numbers()))}") from None


def with_part(part: str) -> list[Lab]:
    """The labs whose package has ``part`` (for instance the labs that can be graded)."""
    return [lab for lab in all_labs() if lab.has(part)]
