"""Progress display for qdet's long calls (quantize, evaluate, bench, study).

Every long call takes ``progress``:

* a callable ``progress(stage: str, done: int, total: int)``: called as the work advances
  (``total`` is 0 for a one-line message such as ``"warm-up: 3 runs"``); an exception it
  raises stops the call and reaches the caller;
* ``None`` (the default): a tqdm bar per stage when tqdm is installed, else nothing;
* ``False``: nothing.

Ctrl-C works in every case: the call stops with KeyboardInterrupt at its next step.
"""

from __future__ import annotations

from typing import Any, Callable, Optional


class _Tqdm:
    """One tqdm bar per stage; one-line messages go through tqdm.write."""

    def __init__(self, tqdm: Any) -> None:
        self._tqdm = tqdm
        self._bar: Any = None
        self._stage: Optional[str] = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total == 0:
            self.close()
            self._tqdm.write(stage)
            return
        if self._bar is None or stage != self._stage or total != self._bar.total:
            self.close()
            self._bar = self._tqdm(total=total, desc=stage, leave=False)
            self._stage = stage
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            self._stage = None


def resolve(progress: Any) -> Optional[Callable[[str, int, int], None]]:
    """The callable a long call reports to, or None for quiet (see the module's doc)."""
    if progress is False:
        return None
    if progress is None or progress is True:
        try:
            from tqdm.auto import tqdm  # type: ignore
        except ImportError:
            return None
        return _Tqdm(tqdm)
    if not callable(progress):
        raise TypeError("progress must be a callable (stage, done, total), None or False")
    return progress
