"""The one base class of every error crowd_perception raises on purpose.

An error derived from :class:`CrowdPerceptionError` means "the input (a file, an argument, a
message, a model) cannot be used, and the message says which one and why": the command line
prints it as one line (``error: <message>``) and exits non-zero, without a traceback. Anything
else that escapes is a bug and keeps its traceback.

Each named error also derives from the built-in exception it has always been (``ValueError``,
``RuntimeError``), so existing ``except ValueError`` handlers keep working.
"""

from __future__ import annotations

__all__ = ["CrowdPerceptionError", "InputError", "EvaluationError", "NonFiniteOutputError", "one_line"]


class CrowdPerceptionError(Exception):
    """Base of every named error of the package (bag, parameter, format, model, backend, ...)."""


class InputError(CrowdPerceptionError, ValueError):
    """A user-given input (argument, file content, folder) that cannot be used; says which and why."""


class EvaluationError(CrowdPerceptionError, ValueError):
    """Predictions or ground truth that an evaluation cannot use (the message names the file and line)."""


class NonFiniteOutputError(CrowdPerceptionError, ArithmeticError):
    """A forward pass gave NaN or inf (FP16 overflow, broken weights): its result must not be used.

    Post-processing would turn +inf into whole-image boxes at score 1 and NaN into nothing, both
    unnoticed; the pipeline stages drop the frame's result instead and count it.
    """


def one_line(error: BaseException) -> str:
    """The message of ``error`` on one line (newlines folded), for ``error: <message>``."""
    text = str(error).strip()
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        # "No such file or directory: /path" rather than "[Errno 2] No such file or directory: '/path'"
        text = f"{error.strerror}: {error.filename}"
        if error.filename2 is not None:
            text += f" -> {error.filename2}"
    if not text:
        text = type(error).__name__
    return " ".join(part.strip() for part in text.splitlines() if part.strip())
