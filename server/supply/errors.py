"""The supply data layers' input error: which field is at fault and why, translatable."""

from __future__ import annotations

from typing import Any


class InputError(ValueError):
    """Bad input; `field` names the input at fault (for a form)."""

    def __init__(self, field: str, message: str, /, **params: Any) -> None:
        # `message` is an English msgid with named placeholders; pages translate it
        # with the same params (supply/views.py), str() stays English for logs and tests.
        self.field, self.template, self.params = field, message, params
        self.message = message % params if params else message
        super().__init__(self.message)
