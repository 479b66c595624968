"""The Dockerfile linter against a corpus of good and bad files, and the sample (no false positive)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devenv.build.dockerfile import parse
from devenv.build.lint import lint_dockerfile
from devenv.cli import main

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "corpus" / "dockerfiles"
CASES = sorted(p.parent.name for p in CORPUS.glob("*/Dockerfile"))
_EXPECT = re.compile(r"^#\s*expect:\s*([\w-]+)\s*$")


def expected(dockerfile: Path) -> list[tuple[int | None, str]]:
    """``# expect: rule`` applies to the next instruction's line."""
    lines = dockerfile.read_text().splitlines()
    starts = [i.line for i in parse(dockerfile.read_text())]
    out: list[tuple[int | None, str]] = []
    for n, line in enumerate(lines, start=1):
        m = _EXPECT.match(line.strip())
        if m:
            out.append((next(s for s in starts if s > n), m.group(1)))
    return sorted(out, key=lambda x: (x[0] or 0, x[1]))


def test_corpus_is_not_empty() -> None:
    assert any(c.startswith("good") for c in CASES) and sum(c.startswith("bad") for c in CASES) >= 5


@pytest.mark.parametrize("case", CASES)
def test_corpus_case(case: str) -> None:
    d = CORPUS / case
    got = [(f.line, f.rule) for f in lint_dockerfile(d / "Dockerfile", d)]
    assert sorted(got, key=lambda x: (x[0] or 0, x[1])) == expected(d / "Dockerfile")


def test_every_rule_is_covered_by_the_corpus() -> None:
    rules = {r for c in CASES for _, r in expected(CORPUS / c / "Dockerfile")}
    assert rules >= {"copy-before-install", "add-remote-url", "volatile-arg-early", "apt-update-alone",
                     "unpinned-from", "secret-in-build"}


def test_findings_name_file_line_and_fix() -> None:
    f = lint_dockerfile(CORPUS / "bad-apt" / "Dockerfile", root=REPO)[0]
    assert str(f).startswith("tests/corpus/dockerfiles/bad-apt/Dockerfile:2: unpinned-from: ")
    assert "(fix: " in str(f)


@pytest.mark.parametrize("noise", [".git", "node_modules", ".venv", "venv", "__pycache__"])
def test_missing_dockerignore_with_noise(tmp_path: Path, noise: str) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm-slim\nCOPY app /app\n")
    (tmp_path / "app" / noise).mkdir(parents=True)
    got = lint_dockerfile(tmp_path / "Dockerfile", tmp_path)
    assert [(f.rule, f.line) for f in got] == [("no-dockerignore", None)]
    assert noise in got[0].message
    (tmp_path / ".dockerignore").write_text(f"**/{noise}\n")
    assert lint_dockerfile(tmp_path / "Dockerfile", tmp_path) == []


def test_clean_context_without_dockerignore_is_fine(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    assert lint_dockerfile(tmp_path / "Dockerfile", tmp_path) == []


SAMPLE_DOCKERFILES = sorted((REPO / "examples" / "shop").rglob("Dockerfile"))


@pytest.mark.parametrize("dockerfile", SAMPLE_DOCKERFILES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_false_positive_on_the_sample(dockerfile: Path) -> None:
    assert lint_dockerfile(dockerfile, dockerfile.parent) == []


def test_sample_exists() -> None:
    assert len(SAMPLE_DOCKERFILES) >= 5


def test_lint_command_on_the_sample(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint"]) == 0
    assert "no findings" in capsys.readouterr().out


def test_lint_command_on_files_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--json", str(CORPUS / "bad-apt" / "Dockerfile")]) == 1
    out = capsys.readouterr().out
    assert '"rule": "apt-update-alone"' in out


@pytest.mark.parametrize(("copy", "issues"), [
    ("COPY --from=1 x y", [(3, "unknown-stage", "--from=1: no earlier stage has index 1",
                            "use the index (or the AS name) of a stage above this one", "error")]),
    ("COPY --from=0 x y", []),
    ("COPY --from=ONE x y", []),  # stage names are case-insensitive
    ("COPY --from=$SRC x y", []),  # a build argument: known only at build time
    ("COPY --from=alpine:3 x y", []),  # an image, written with its tag
    ("COPY --from=tools x y", [(3, "unknown-stage", "--from=tools: no stage named 'tools' above this line; Docker "
                                "would pull an image called 'tools'", "name an earlier stage (FROM ... AS tools), or "
                                "write the image with its tag", "warning")]),
])
def test_copy_from_names_an_earlier_stage(copy: str, issues: list[tuple]) -> None:
    from devenv.model.dockerfile_syntax import check

    found = check(f"FROM a AS one\nFROM b\n{copy}\n")
    assert [(i.line, i.rule, i.message, i.fix, i.severity) for i in found] == issues


def test_copy_from_the_stage_it_is_in_is_refused() -> None:
    from devenv.model.dockerfile_syntax import check

    assert [(i.line, i.rule, i.message, i.fix) for i in check("FROM a AS one\nCOPY --from=one x y\n")] == [
        (2, "unknown-stage", "--from=one names the stage it is in", "copy from an earlier stage")]


# --- BuildKit's rules, each with its exact finding (direct calls: fast, and they kill mutants early) ---

def _issues(text: str) -> list[tuple[int | None, str, str, str, str]]:
    from devenv.model.dockerfile_syntax import check

    return [(i.line, i.rule, i.message, i.fix, i.severity) for i in check(text)]


ARITY = "complete the `COPY` line"


@pytest.mark.parametrize(("text", "want"), [
    ("FROM a\nONBUILD FROM b\n", [(2, "onbuild", "FROM isn't allowed as an ONBUILD trigger",
                                   "remove the line (ONBUILD takes RUN, COPY, ENV, ...)", "error")]),
    ("FROM a\nONBUILD RUN true\n", []),
    ("FROM a\nCOPY x\n", [(2, "arguments", "COPY requires at least two arguments", ARITY, "error")]),
    ("FROM a\nCOPY x y\n", []),
    ("FROM a\nHEALTHCHECK\n", [(2, "arguments", "HEALTHCHECK requires at least one argument",
                                "complete the `HEALTHCHECK` line", "error")]),
    ("FROM a\nUSER\n", [(2, "arguments", "USER requires exactly one argument",
                         "write `USER <value>` (quote a value with spaces)", "error")]),
    ("FROM a\nWORKDIR /app\n", []),
])
def test_argument_counts_buildkit_refuses(text: str, want: list[tuple]) -> None:
    assert _issues(text) == want


@pytest.mark.parametrize(("flag", "fix"), [
    ("--frm=b", "did you mean --from?"),
    ("--fr=a=b", "did you mean --from?"),  # the name ends at the first '='
    ("--Xlink", "did you mean --link?"),  # only the dashes are stripped
    ("--zzzz=b", "COPY takes --chmod, --chown, --exclude, --from, --link, --parents"),
])
def test_an_unknown_copy_flag_is_a_warning_with_the_closest_flag(flag: str, fix: str) -> None:
    shown = flag.partition("=")[0]
    assert _issues(f"FROM a\nCOPY {flag} x y\n") == [(2, "unknown-flag", f"unknown flag {shown} for COPY", fix, "warning")]


def test_known_flags_with_values_holding_equals_signs_pass() -> None:
    assert _issues("FROM a\nCOPY --chmod=a=b x y\n") == []


DURATION_FIX = "durations like 30s, 1m30s, 500ms; --retries=3"


@pytest.mark.parametrize(("line", "want"), [
    ("HEALTHCHECK x", [(2, "healthcheck", "unknown type 'x' in HEALTHCHECK",
                        "write HEALTHCHECK [OPTIONS] CMD command, or HEALTHCHECK NONE", "error")]),
    ("HEALTHCHECK NONE", []),
    ("HEALTHCHECK --interval=30s --retries=3 CMD x", []),
    ("HEALTHCHECK --interval=5 CMD x", [(2, "healthcheck", "HEALTHCHECK --interval='5' is not a duration", DURATION_FIX, "error")]),
    ("HEALTHCHECK --retries=x CMD x", [(2, "healthcheck", "HEALTHCHECK --retries='x' is not a whole number", DURATION_FIX, "error")]),
    ("HEALTHCHECK --retries=a=1 CMD x", [(2, "healthcheck", "HEALTHCHECK --retries='a=1' is not a whole number",
                                         DURATION_FIX, "error")]),
    ("HEALTHCHECK --interval=$I CMD x", []),  # a build arg: known only at build time
    ("HEALTHCHECK --Xinterval=5 CMD x", [(2, "unknown-flag", "unknown flag --Xinterval for HEALTHCHECK",
                                          "did you mean --interval?", "warning")]),
])
def test_healthcheck_type_and_option_values(line: str, want: list[tuple]) -> None:
    assert _issues(f"FROM a\n{line}\n") == want


def test_expose_names_the_first_value_that_is_not_a_port() -> None:
    assert _issues("FROM a\nEXPOSE 80 http 53/udp\n") == [
        (2, "expose", "EXPOSE 'http' is not a port", "e.g. EXPOSE 8000 or EXPOSE 53/udp", "error")]
    assert _issues("FROM a\nEXPOSE 80 8000-8010/tcp 53/udp $PORT\n") == []


FROM_VAR = "FROM uses ${0}, which no ARG before the first FROM declares: it expands to nothing"


@pytest.mark.parametrize(("text", "want"), [
    ("FROM $IMG\n", [(1, "from-variable", FROM_VAR.format("IMG"), "add `ARG IMG=<image>` at the top of the Dockerfile", "error")]),
    ("FROM ${IMG}\n", [(1, "from-variable", FROM_VAR.format("IMG"), "add `ARG IMG=<image>` at the top of the Dockerfile", "error")]),
    ("ARG A\nARG B=b\nFROM $A\nFROM $B\n", []),  # every ARG above the first FROM counts, not just the last
    ("FROM --platform=$BUILDPLATFORM a\n", []),
    ("FROM\n", [(1, "no-from", "FROM names no image", "write `FROM <image>[:tag] [AS name]`", "error")]),
])
def test_from_variables_need_a_global_arg(text: str, want: list[tuple]) -> None:
    assert _issues(text) == want


@pytest.mark.parametrize(("source", "want"), [
    ("alpine", [(2, "unknown-stage", "--from=alpine: no stage named 'alpine' above this line; Docker would pull an image "
                 "called 'alpine'", "name an earlier stage (FROM ... AS alpine), or write the image with its tag", "warning")]),
    ("XX", [(2, "unknown-stage", "--from=XX: no stage named 'XX' above this line; Docker would pull an image called 'XX'",
             "name an earlier stage (FROM ... AS XX), or write the image with its tag", "warning")]),
    ("alpine:3", []), ("ghcr.io/x/y", []), ("a@sha256:00", []),
])
def test_copy_from_an_unknown_name_warns_unless_it_is_an_image_reference(source: str, want: list[tuple]) -> None:
    assert _issues(f"FROM a\nCOPY --from={source} x y\n") == want


OUTSIDE = ("reaches outside the build context; the engine only has the context's files",
           "move the file into the context, or widen `context:` in devenv.yaml")
STAGE_FIX = "use the index (or the AS name) of a stage above this one"
FROM_FIX = "write `FROM <image>[:tag] [AS name]`"


@pytest.mark.parametrize(("text", "want"), [
    ("", [(None, "no-from", "the Dockerfile has no instructions", "start it with `FROM <image>`", "error")]),
    ("# only a comment\n", [(None, "no-from", "the Dockerfile has no instructions", "start it with `FROM <image>`", "error")]),
    ("FROM a\nRUN <<EOF\n", [(None, "parse", "BuildKit cannot parse the Dockerfile: unterminated heredoc", "fix the syntax",
                              "error")]),
    ("FROM a\x00\n", [(None, "binary", "the Dockerfile holds NUL bytes (a binary file?)", "point at a text Dockerfile", "error")]),
    ("\nRUN x\nFROM a\n", [(2, "no-from", "`RUN` comes before any FROM",
                            "start the Dockerfile with `FROM <image>` (only ARG may come before it)", "error")]),
    ("\nARG A\n", [(2, "no-from", "the Dockerfile has no FROM instruction", "add `FROM <image>` at the top", "error")]),
    ("ARG A\nFROM a\nRUNN x\nFOO y\n", [
        (3, "unknown-instruction", "unknown instruction `RUNN`", "did you mean `RUN`?", "error"),
        (4, "unknown-instruction", "unknown instruction `FOO`", "use one of ADD, ARG, CMD, COPY, ENTRYPOINT, ENV, EXPOSE, "
         "FROM, HEALTHCHECK, LABEL, MAINTAINER, ONBUILD, RUN, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR", "error")]),
    ('FROM a\nCMD ["a", "b"\nENTRYPOINT ["a"]\nRUN [ \'a\' ]\nSHELL /bin/sh -c\nVOLUME ["/v"]\nCMD echo [x\n', [
        (2, "broken-json", "`CMD` looks like the JSON form but is not JSON (Expecting ',' delimiter); Docker would run it as "
         "a shell command", 'use double quotes and commas: ["a", "b"]', "error"),
        (4, "broken-json", "`RUN` looks like the JSON form but is not JSON (Expecting value); Docker would run it as a shell "
         "command", 'use double quotes and commas: ["a", "b"]', "error"),
        (5, "broken-json", "SHELL needs the JSON form", 'write it as SHELL ["/bin/sh", "-c"]', "error")]),
    ("FROM a\nCOPY ../x /a\nADD /../y ./z/../../w /b\nCOPY http://h/x $V ./ok .. /c\nCOPY . /d\nCOPY <<EOF /e\nhi\nEOF\n", [
        (2, "outside-context", f"`COPY ../x` {OUTSIDE[0]}", OUTSIDE[1], "error"),
        (3, "outside-context", f"`ADD /../y` {OUTSIDE[0]}", OUTSIDE[1], "error"),
        (3, "outside-context", f"`ADD ./z/../../w` {OUTSIDE[0]}", OUTSIDE[1], "error"),
        (4, "outside-context", f"`COPY ..` {OUTSIDE[0]}", OUTSIDE[1], "error")]),
    ("FROM a AS Build\nFROM b AS build\nFROM c d\nFROM e AS\nFROM f AS g h\nFROM i as j\nFROM k AS j2\n", [
        (2, "duplicate-stage", "stage name 'build' is already used on line 1", "give each stage its own name", "error"),
        (3, "from-syntax", "FROM takes an image and an optional `AS name`", FROM_FIX, "error"),
        (4, "from-syntax", "FROM takes an image and an optional `AS name`", FROM_FIX, "error"),
        (5, "from-syntax", "FROM takes an image and an optional `AS name`", FROM_FIX, "error")]),
    ("FROM a AS one\nCOPY --from=0 x y\nFROM b AS two\nCOPY --from=0 x y\nCOPY --from=1 x y\nCOPY --from=5 x y\n"
     "COPY --from=ONE x y\nCOPY --from=two x y\nCOPY --from=$S x y\n", [
        (2, "unknown-stage", "--from=0: no earlier stage has index 0", STAGE_FIX, "error"),
        (5, "unknown-stage", "--from=1: no earlier stage has index 1", STAGE_FIX, "error"),
        (6, "unknown-stage", "--from=5: no earlier stage has index 5", STAGE_FIX, "error"),
        (8, "unknown-stage", "--from=two names the stage it is in", "copy from an earlier stage", "error")]),
    ("FROM a\nRUN --mount=type=cache x\nRUN --mnt=x y\nFROM --platform=linux/amd64 b\nFROM --plat=x c\n", [
        (3, "unknown-flag", "unknown flag --mnt for RUN", "did you mean --mount?", "warning"),
        (5, "unknown-flag", "unknown flag --plat for FROM", "did you mean --platform?", "warning")]),
    ("\n\nFROM a\nEXPOSE 80\n", []),
])
def test_dockerfile_syntax_findings_whole(text: str, want: list[tuple]) -> None:
    assert _issues(text) == want


def test_stage_names_keep_their_spelling_and_order() -> None:
    from devenv.model.dockerfile_syntax import stage_names

    assert stage_names("FROM a AS Build\nFROM b as x\nFROM c\nFROM d AS\n") == ["Build", "x"]
    assert stage_names("FROM a\nRUN <<EOF\n") == []


def test_without_buildkits_parser_the_check_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "dockerfile", None)  # an install made before the dependency
    assert _issues("FROM a\n") == [
        (None, "parser-missing", "the `dockerfile` package (BuildKit's parser) is not installed; Dockerfile syntax was not "
         "checked", "pip install -e . (or reinstall devenv)", "warning")]


@pytest.mark.parametrize(("line", "want"), [
    ("COPY --from=a=b x y", [(2, "unknown-stage", "--from=a=b: no stage named 'a=b' above this line; Docker would pull an "
                             "image called 'a=b'", "name an earlier stage (FROM ... AS a=b), or write the image with its tag",
                             "warning")]),
    ("COPY --Xfrom=a x y", [(2, "unknown-flag", "unknown flag --Xfrom for COPY", "did you mean --from?", "warning")]),
    ("COPY ../$X XX/../y /a", []),  # a build arg is known only at build time; XX/../y stays inside
])
def test_copy_sources_and_the_from_flag_read_as_buildkit_does(line: str, want: list[tuple]) -> None:
    assert _issues(f"FROM a\n{line}\n") == want


def test_a_heredoc_beside_a_file_outside_the_context_is_still_flagged() -> None:
    """The heredoc source is written inline; the file beside it still comes from the context."""
    text = "FROM a\nCOPY <<EOF ../x /e\nhi\nEOF\nCOPY <<-EOF ./ok /f\nhi\nEOF\nADD <<EOF /g\nhi\nEOF\n"
    assert _issues(text) == [(2, "outside-context", f"`COPY ../x` {OUTSIDE[0]}", OUTSIDE[1], "error")]
