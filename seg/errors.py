"""The errors a user can fix: one family, so every entry point prints them without a traceback.

Everything seg raises on purpose for a bad config value, a bad file or a bad argument derives from
:class:`SegError`, and its message names the key, file or value and says what to do. ``train.py``
and every script print such an error as one ``error: ...`` line and exit with status 1; any other
exception is a bug and keeps its traceback. ``HYDRA_FULL_ERROR=1`` (``train.py``) or ``--debug``
(scripts) shows the traceback of a user error too.

The subclasses also derive from the built-in exception they refine (``ValueError``,
``FileNotFoundError``, ``RuntimeError``), so ``except ValueError`` keeps working for callers.
"""

from __future__ import annotations

from collections.abc import Iterator


class SegError(Exception):
    """Base of every error a user can fix by changing a config value, a file or an argument."""


class UserInputError(SegError, ValueError):
    """A value given to seg (argument, array, file content) is not usable; the message says why."""


class ConfigError(UserInputError):
    """A config key has a value seg cannot use (the message names the key)."""


class DataError(UserInputError):
    """A dataset or one of its samples cannot be used (the message names the file)."""


class ModelFileError(UserInputError):
    """A weights file or exported graph is not a seg model, or not the one the config asks for."""


class MissingFileError(SegError, FileNotFoundError):
    """A file or folder the user named does not exist (the message names the key or argument)."""


class OutputExistsError(SegError, FileExistsError):
    """An output folder already holds results of an earlier run (the message says how to reuse
    or replace it)."""


class ExportError(SegError, RuntimeError):
    """An exported graph does not reproduce the PyTorch model, or a converter refused it."""


class PretrainedWeightsError(SegError, RuntimeError):
    """``pretrained: true`` but the weights cannot be fetched or read."""


def causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and the exceptions it was raised from (``__cause__``/``__context__``), in order."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def user_error(error: BaseException) -> SegError | None:
    """The :class:`SegError` behind ``error`` (itself, or one it was raised from), else None.

    Hydra wraps exceptions raised while instantiating a config in its own
    ``InstantiationException``; the user's error is then its cause.
    """
    return next((e for e in causes(error) if isinstance(e, SegError)), None)
