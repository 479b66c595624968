"""``.dockerignore`` as Docker documents it (docs.docker.com, "dockerignore"), as a table."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devenv.build.dockerignore import Matcher, clean, context_files, glob_to_regex, parse_ignore


def excluded(text: str, path: str) -> bool:
    return Matcher(parse_ignore(text)).excluded(path)


CASES = [
    # the documented example: */temp*, */*/temp*, temp?
    ("*/temp*", "somedir/temporary.txt", True),
    ("*/temp*", "somedir/temp", True),
    ("*/temp*", "temporary.txt", False),
    ("*/*/temp*", "somedir/subdir/temporary.txt", True),
    ("*/*/temp*", "somedir/temporary.txt", False),
    ("temp?", "tempa", True),
    ("temp?", "tempab", False),
    ("temp?", "dir/tempa", False),
    # leading slash and cleaning: /foo/bar, foo/bar, ./foo//bar/ all mean foo/bar
    ("/foo/bar", "foo/bar", True),
    ("foo/bar", "foo/bar", True),
    ("./foo//bar/", "foo/bar", True),
    ("foo/../bar", "bar", True),
    ("foo/bar", "x/foo/bar", False),
    # a pattern matching a directory excludes its contents
    ("node_modules", "node_modules/a/b.js", True),
    ("node_modules", "src/node_modules/a.js", False),
    ("**/node_modules", "src/node_modules/a.js", True),
    # ** matches any number of directories, including none
    ("**/*.go", "main.go", True),
    ("**/*.go", "a/b/c/main.go", True),
    ("a/**/b", "a/b", True),
    ("a/**/b", "a/x/y/b", True),
    ("a/**", "a/x/y", True),
    # * and ? never cross /
    ("*.md", "docs/a.md", False),
    ("*.md", "a.md", True),
    ("?.txt", "a/b.txt", False),
    # character classes and escapes
    ("file[0-9].txt", "file7.txt", True),
    ("file[0-9].txt", "filex.txt", False),
    ("file[^0-9].txt", "filex.txt", True),
    ("file\\*.txt", "file*.txt", True),
    ("file\\*.txt", "fileA.txt", False),
    # comments and blank lines
    ("# comment\n\n", "# comment", False),
    ("  spaced.txt  ", "spaced.txt", True),
    # exceptions: the last matching line wins
    ("*.md\n!README.md", "README.md", False),
    ("*.md\n!README.md", "CHANGES.md", True),
    ("*.md\n!README*.md\nREADME-secret.md", "README-secret.md", True),
    ("*.md\n!README*.md\nREADME-secret.md", "README-public.md", False),
    ("*.md\nREADME-secret.md\n!README*.md", "README-secret.md", False),
    # an exception re-includes a file inside an excluded directory
    ("docs\n!docs/keep.txt", "docs/keep.txt", False),
    ("docs\n!docs/keep.txt", "docs/other.txt", True),
    # "*" then exceptions: include-list style
    ("*\n!src\n!Dockerfile", "src/a.py", False),
    ("*\n!src\n!Dockerfile", "README.md", True),
]


@pytest.mark.parametrize(("patterns", "path", "want"), CASES)
def test_documented_semantics(patterns: str, path: str, want: bool) -> None:
    assert excluded(patterns, path) is want


@pytest.mark.parametrize(("raw", "want"), [
    ("a//b/./c/", "a/b/c"), ("./a", "a"), ("a/..", "."), ("/a/../../b", "/b"), ("../a", "../a"), ("", "."),
])
def test_clean_is_go_filepath_clean(raw: str, want: str) -> None:
    assert clean(raw) == want


def test_parse_strips_leading_slash_and_keeps_exceptions() -> None:
    pats = parse_ignore("/a/b\n! c \n#x\n")
    assert [(p.text, p.exclusion) for p in pats] == [("a/b", False), ("c", True)]


def test_double_star_at_end_matches_everything_below() -> None:
    assert glob_to_regex("a/**").endswith(".*$")


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)


def test_context_files_applies_ignore_and_always_sends_dockerfile(tmp_path: Path) -> None:
    _tree(tmp_path, {"Dockerfile": "FROM x\n", ".dockerignore": "*\n!app\n", "app/a.py": "", "app/sub/b.py": "",
                     "notes.txt": "", "node_modules/x.js": ""})
    assert context_files(tmp_path, tmp_path / "Dockerfile") == [
        ".dockerignore", "Dockerfile", "app/a.py", "app/sub/b.py"]


def test_context_files_excluded_dir_with_reincluded_file(tmp_path: Path) -> None:
    _tree(tmp_path, {"Dockerfile": "", ".dockerignore": "build\n!build/keep.txt\n", "build/keep.txt": "",
                     "build/drop.txt": "", "src/a.py": ""})
    assert context_files(tmp_path, tmp_path / "Dockerfile") == [
        ".dockerignore", "Dockerfile", "build/keep.txt", "src/a.py"]


def test_dockerfile_in_an_ignored_subdir_is_still_sent(tmp_path: Path) -> None:
    _tree(tmp_path, {"docker/Dockerfile": "", ".dockerignore": "docker\n", "docker/other": "", "a": ""})
    assert context_files(tmp_path, tmp_path / "docker" / "Dockerfile") == [".dockerignore", "a", "docker/Dockerfile"]


def test_symlinks_are_listed_not_followed_and_loops_are_safe(tmp_path: Path) -> None:
    _tree(tmp_path, {"Dockerfile": "", "d/f": ""})
    os.symlink("..", tmp_path / "d" / "loop")
    os.symlink("loop2", tmp_path / "loop1")
    os.symlink("loop1", tmp_path / "loop2")
    assert context_files(tmp_path, tmp_path / "Dockerfile") == ["Dockerfile", "d/f", "d/loop", "loop1", "loop2"]


@pytest.mark.parametrize("pattern", ["[]", "web/[a-\\*]x", "[z-a]", "a[]b"])
def test_a_pattern_docker_refuses_is_an_error_with_its_line(tmp_path: Path, pattern: str) -> None:
    """``[]`` compiled into a broken regular expression: a ``re.error`` traceback out of build and
    watch. Go's ``filepath.Match`` refuses such a pattern and Docker fails the build; so does devenv."""
    from devenv.errors import DevenvError

    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / ".dockerignore").write_text(f"# mine\n*.log\n{pattern}\n")
    with pytest.raises(DevenvError, match=r"\.dockerignore:3: .* is not a valid \.dockerignore pattern"):
        context_files(tmp_path, tmp_path / "Dockerfile")
