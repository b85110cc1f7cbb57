"""Reading mail from .eml files, directories, Maildir folders and mbox files."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest

from tests.support.data import MAIL, vendored
from worker.mail.files import iter_mail

ONE = b"From: a@b.example\r\nSubject: one\r\n\r\nfirst\r\n"
TWO = b"From: c@d.example\r\nSubject: two\r\n\r\nsecond\r\n"


def test_single_file_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(ONE)
    items = list(iter_mail([tmp_path / "a.eml", tmp_path / "missing.eml"]))
    assert items[0].raw == ONE
    assert items[0].error is None
    assert items[1].raw is None
    assert items[1].error == "no such file or directory"


def test_mbox_yields_each_message(tmp_path: Path) -> None:
    box = mailbox.mbox(tmp_path / "box.mbox")
    box.add(ONE)
    box.add(TWO)
    box.close()
    items = list(iter_mail([tmp_path / "box.mbox"]))
    assert [i.source for i in items] == [f"{tmp_path / 'box.mbox'}#1", f"{tmp_path / 'box.mbox'}#2"]
    assert b"Subject: two" in (items[1].raw or b"")


def test_maildir_reads_new_and_cur(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "md")
    box.add(ONE)
    box.close()
    (tmp_path / "md" / "cur" / "123.x:2,S").write_bytes(TWO)
    items = list(iter_mail([tmp_path / "md"]))
    assert sorted(i.raw for i in items if i.raw) == sorted([ONE, TWO])


def test_directory_walks_nested_files_and_maildirs(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "x.eml").write_bytes(ONE)
    (tmp_path / "d" / "sub" / "y.eml").write_bytes(TWO)
    mailbox.Maildir(tmp_path / "d" / "inbox").add(ONE)
    items = list(iter_mail([tmp_path / "d"]))
    assert len(items) == 3
    assert all(i.error is None for i in items)


def test_unreadable_file_is_an_error_item(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.eml"
    path.write_bytes(ONE)
    real_open = open

    def refusing_open(file: object, *args: object, **kwargs: object) -> object:
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", refusing_open)
    items = list(iter_mail([path]))
    assert items[0].raw is None
    assert items[0].error == "Permission denied"


def test_broken_link_is_an_error_item(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "gone.eml").symlink_to(tmp_path / "nowhere")
    items = list(iter_mail([tmp_path / "dir"]))
    assert items[0].error == "broken link"


def test_mimekit_mbox_files() -> None:
    boxes = vendored(MAIL / "mimekit", "*.mbox.txt", at_least=4)
    items = list(iter_mail(boxes))
    assert len(items) > len(boxes)
    assert all(i.raw for i in items)
