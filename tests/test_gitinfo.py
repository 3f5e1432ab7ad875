"""Git facts of a run's folder: git is asked only where a repository can be."""
from __future__ import annotations

import subprocess

from runner.engine import gitinfo
from runner.engine.gitinfo import GitInfo, read_git_info


def test_a_folder_with_no_git_above_it_asks_git_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.delenv("GIT_WORK_TREE", raising=False)
    calls: list[tuple] = []
    monkeypatch.setattr(gitinfo, "_git", lambda *args: calls.append(args))
    assert read_git_info(tmp_path / "project") == GitInfo()
    assert calls == []


def test_a_repository_is_still_read(tmp_path, monkeypatch):
    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.delenv("GIT_WORK_TREE", raising=False)
    subprocess.run(["git", "init", "-q", "-b", "main", str(tmp_path)], check=True)
    (tmp_path / "sub").mkdir()
    info = read_git_info(tmp_path / "sub")
    assert info.repository == str(tmp_path.resolve())
    assert (info.branch, info.commit) == (None, None)  # no commit yet: git names neither
    assert info.dirty is False


def test_git_dir_in_the_environment_always_asks_git(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere.git"))
    calls: list[tuple] = []
    monkeypatch.setattr(gitinfo, "_git", lambda *args: calls.append(args))
    assert read_git_info(tmp_path) == GitInfo()
    assert calls == [(tmp_path, "rev-parse", "--show-toplevel")]
