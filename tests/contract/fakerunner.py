"""A fake ``Runner`` for contract tests: it records every argv and stdin and answers from a script.

The kind backend shells out only through ``Runner``, so standing this fake at that boundary lets the
tests assert the exact ``kind``/``kubectl``/``docker`` calls without a cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from devenv.errors import DevenvError
from devenv.proc import Result, Runner


@dataclass(frozen=True)
class Call:
    argv: tuple[str, ...]
    input: str | None
    stdin: bytes | None = None  # what ``run_binary`` streamed in from its file


@dataclass(frozen=True)
class Rule:
    tokens: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    data: bytes = b""  # what ``run_binary`` writes into its stdout file (also on failure: half a stream)


def _subsequence(tokens: tuple[str, ...], argv: tuple[str, ...]) -> bool:
    it = iter(argv)
    return all(any(t == a for a in it) for t in tokens)


class FakeRunner(Runner):
    """Answers a call with the last rule whose tokens appear in its argv, in order (``argv[0]``
    must match the first token); unmatched calls succeed with empty output."""

    def __init__(self, tools: Sequence[str] = ("kind", "kubectl", "docker")) -> None:
        self.tools = set(tools)
        self.calls: list[Call] = []
        self.rules: list[Rule] = []

    def on(self, *tokens: str, stdout: str = "", code: int = 0, stderr: str = "", data: bytes = b"") -> FakeRunner:
        self.rules.append(Rule(tuple(tokens), code, stdout, stderr, data))
        return self

    def which(self, tool: str) -> str | None:
        return f"/usr/local/bin/{tool}" if tool in self.tools else None

    def run(self, argv: Sequence[str], *, input: str | None = None, check: bool = True, cwd: str | None = None,
            env: dict[str, str] | None = None, timeout: float | None = None, sink=None) -> Result:  # type: ignore[no-untyped-def]
        args = tuple(str(a) for a in argv)
        self.calls.append(Call(args, input))
        rule = self._rule(args)
        res = Result(args, rule.code, rule.stdout, rule.stderr) if rule else Result(args, 0, "", "")
        if sink is not None:
            for line in res.stdout.splitlines():
                sink(line)
        if check and res.code != 0:
            raise DevenvError(f"`{' '.join(args[:4])}` failed (exit {res.code})")
        return res

    def run_binary(self, argv: Sequence[str], *, stdin: Path | None = None, stdout: Path | None = None,
                   check: bool = True, timeout: float | None = None) -> Result:
        args = tuple(str(a) for a in argv)
        self.calls.append(Call(args, None, stdin.read_bytes() if stdin is not None else None))
        rule = self._rule(args)
        res = Result(args, rule.code, "" if stdout else rule.stdout, rule.stderr) if rule else Result(args, 0, "", "")
        if stdout is not None:
            stdout.write_bytes(rule.data if rule else b"")
        if check and res.code != 0:
            raise DevenvError(f"`{' '.join(args[:4])}` failed (exit {res.code})")
        return res

    def _rule(self, args: tuple[str, ...]) -> Rule | None:
        return next((r for r in reversed(self.rules) if r.tokens[0] == args[0] and _subsequence(r.tokens, args)), None)

    # -- queries for assertions ---------------------------------------------------------------

    def argvs(self, *tokens: str) -> list[tuple[str, ...]]:
        return [c.argv for c in self.calls if c.argv[0] == tokens[0] and _subsequence(tokens, c.argv)]

    def find(self, *tokens: str) -> list[Call]:
        return [c for c in self.calls if c.argv[0] == tokens[0] and _subsequence(tokens, c.argv)]
