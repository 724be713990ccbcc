"""Bad output locations: a folder that is not writable and a full disk, for the dataset converters
(``python -m recbole_fame.prepare``), the text embedding cache and the text pre-training checkpoint.

Each ends with one clear message naming the file, the folder and the fix, and leaves no partial or temporary
file behind. The converters and the checkpoint raise :class:`~recbole_fame.errors.OutputError`; a cache that
cannot be written is only a warning, the run goes on with the embeddings it has computed.

A full disk is simulated by making the low-level write put part of the data on disk, then raise
``OSError(ENOSPC)``; a folder that is not writable by making the temporary file's creation raise
``PermissionError(EACCES)`` (so the tests run as root too, which ignores permissions), and, when not root,
by a real ``chmod``.
"""

import contextlib
import errno
import logging
import os
import tempfile

import pytest
import torch
from safetensors.torch import load_file

from recbole_fame.storage import files
from recbole_fame.errors import OutputError, RecBoleFameError
from recbole_fame.prepare import output
from recbole_fame.prepare.__main__ import main as prepare_main
from recbole_fame.text import cache as cache_module
from recbole_fame.text.cache import cached_text_embeddings
from recbole_fame.text.checkpoint import load_text_checkpoint, metadata_path, save_text_checkpoint
from tests.test_bad_input import run_main, tiny
from tests.test_text_pretrain import tiny_encoder  # noqa: F401  (a fixture)



def permissions_ignored():
    """True when this process may write into a read-only folder (root, or CAP_DAC_OVERRIDE)."""
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o555)
        try:
            with open(os.path.join(folder, "probe"), "w"):
                return True
        except PermissionError:
            return False
        finally:
            os.chmod(folder, 0o755)


needs_permissions = pytest.mark.skipif(permissions_ignored(), reason="this user ignores file permissions (root); "
                                       "the test simulating a read-only folder runs instead")


# ----------------------------------------------------------------------------- helpers


def disk_full(error_if=lambda path: True):
    """A ``(path, data)`` writer that writes half of ``data``, then fails as a full disk (for the paths where
    ``error_if(path)``; the others are written whole)."""
    def write(path, data):
        with open(path, "wb") as f:
            if not error_if(str(path)):
                f.write(data)
                return
            f.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    return write


def permission_denied(monkeypatch):
    """Make creating a temporary file fail as in a folder that is not writable."""
    def create_temporary(path):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(files.temporary_name(path)))

    monkeypatch.setattr(files, "create_temporary", create_temporary)


@contextlib.contextmanager
def read_only(folder):
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(0o755)


def listing(folder):
    """``{name: bytes}`` of every file in ``folder`` (temporary files included)."""
    return {path.name: path.read_bytes() for path in folder.iterdir()} if folder.exists() else {}


# ----------------------------------------------------------------------------- dataset converters


ITEMS = "iclrec_item_id\tasin\ttitle\tcategories\ts3rec_attributes\n1\tA1\tLipstick\tBeauty\tBrandX\n"


def convert(tmp_path, out, capsys):
    """``python -m recbole_fame.prepare seqfile ...`` into ``out``; returns (exit status, stderr)."""
    sequences = tmp_path / "Beauty.txt"
    sequences.write_text("1 1 2 3\n2 2 3 1 2\n3 3 1 2\n")
    table = tmp_path / "items.tsv"
    table.write_text(ITEMS)
    status = prepare_main(["seqfile", str(sequences), "--items", str(table), "--name", "tiny", "--out", str(out)])
    return status, capsys.readouterr().err


def test_converter_into_a_read_only_folder_is_one_error_naming_it(tmp_path, capsys, monkeypatch):
    permission_denied(monkeypatch)
    status, err = convert(tmp_path, tmp_path / "out", capsys)
    folder = tmp_path / "out" / "tiny"
    assert status == 2 and "Traceback" not in err
    assert err.startswith(f"error: Cannot write the dataset file {folder / 'tiny.inter'}: the folder {folder} is "
                          "not writable (Permission denied)")
    assert f"make {folder} writable or pass --out with another folder" in err
    assert listing(folder) == {}


@needs_permissions
def test_converter_into_a_chmod_read_only_folder(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    with read_only(out):
        status, err = convert(tmp_path, out / "sub", capsys)  # <out>/sub/tiny cannot be created
    assert status == 2 and "Traceback" not in err
    assert f"the folder {out} is not writable" in err and "pass --out with another folder" in err
    assert listing(out) == {}


def test_converter_on_a_full_disk_keeps_the_earlier_files_and_no_temporary_file(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert convert(tmp_path, out, capsys)[0] == 0
    folder = out / "tiny"
    before = listing(folder)
    assert set(before) == {"tiny.inter", "tiny.item"}
    original = output._write_frame  # the atomic-file writer lives in prepare/output.py

    def full_on_the_item_file(handle, frame, types, desc):
        original(handle, frame.iloc[: len(frame) // 2], types, desc)  # part of the rows reach the disk
        if desc.endswith(".item"):
            handle.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(output, "_write_frame", full_on_the_item_file)
    status, err = convert(tmp_path, out, capsys)
    assert status == 2 and "Traceback" not in err
    assert err.startswith(f"error: Cannot write the dataset file {folder / 'tiny.item'}: the disk holding {folder} "
                          "is full (No space left on device)")
    assert "free some disk space or pass --out with another folder" in err
    assert listing(folder) == before  # the .inter written in this run was not moved into place either


def test_converter_output_error_from_python_is_an_oserror_and_a_recbole_fame_error(tmp_path, monkeypatch):
    from recbole_fame.prepare import convert_seqfile

    permission_denied(monkeypatch)
    sequences = tmp_path / "Beauty.txt"
    sequences.write_text("1 1 2 3\n")
    with pytest.raises(OutputError) as caught:
        convert_seqfile(sequences, out=tmp_path / "out")
    assert isinstance(caught.value, OSError) and isinstance(caught.value, RecBoleFameError)
    assert isinstance(caught.value.__cause__, PermissionError)


# ----------------------------------------------------------------------------- text embedding cache


class FakeEncoder:
    """Stands in for :class:`~recbole_fame.text.encoder.TextEncoder`: what the cache needs of it."""

    name, identity = "fake", "fake-identity"

    def __init__(self):
        self.calls = 0

    def encode(self, texts):
        self.calls += 1
        return torch.arange(len(texts) * 3, dtype=torch.float32).view(len(texts), 3)


TEXTS = ["red lipstick", "blue nail polish", "shampoo"]


@pytest.fixture
def warnings_logged(caplog):
    """Capture warnings even after a RecBole run set the root logger to ERROR (its ``state`` setting)."""
    caplog.set_level(logging.WARNING)
    return caplog


def assert_cache_warning(caplog, why):
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    message = record.getMessage()
    assert message.startswith("Cannot write the text embedding cache ") and why in message
    assert "set text_cache_dir to another folder" in message and "The run goes on" in message


def test_cache_on_a_full_disk_warns_and_the_run_goes_on(tmp_path, warnings_logged, monkeypatch):
    cache_dir, encoder = tmp_path / "cache", FakeEncoder()
    monkeypatch.setattr(cache_module, "write_bytes", disk_full())
    embedding, path, from_cache = cached_text_embeddings(TEXTS, encoder, cache_dir)
    assert torch.equal(embedding, FakeEncoder().encode(TEXTS)) and not from_cache
    assert_cache_warning(warnings_logged, f"{path}: the disk holding {cache_dir} is full (No space left on device)")
    assert listing(cache_dir) == {}  # neither the cache nor the half-written temporary file

    monkeypatch.undo()  # space again: the next run encodes once more and writes the cache
    embedding, path, from_cache = cached_text_embeddings(TEXTS, encoder, cache_dir)
    assert encoder.calls == 2 and list(listing(cache_dir)) == [path.name]
    assert torch.equal(load_file(str(path))["embedding"], embedding)


def test_cache_in_a_read_only_folder_warns_and_the_run_goes_on(tmp_path, warnings_logged, monkeypatch):
    cache_dir = tmp_path / "cache"
    permission_denied(monkeypatch)
    embedding, _, from_cache = cached_text_embeddings(TEXTS, FakeEncoder(), cache_dir)
    assert embedding.shape == (3, 3) and not from_cache
    assert_cache_warning(warnings_logged, f"the folder {cache_dir} is not writable (Permission denied)")
    assert listing(cache_dir) == {}


@needs_permissions
def test_cache_in_a_chmod_read_only_folder(tmp_path, warnings_logged):
    parent = tmp_path / "ro"
    parent.mkdir()
    with read_only(parent):
        embedding, _, _ = cached_text_embeddings(TEXTS, FakeEncoder(), parent / "cache")  # cannot be created
    assert embedding.shape == (3, 3)
    assert_cache_warning(warnings_logged, f"the folder {parent} is not writable")
    assert listing(parent) == {}


# ----------------------------------------------------------------------------- text checkpoint


def checkpoint(value):
    tensors = {"item_embedding": torch.full((4, 2), float(value)), "facet_bias": torch.zeros(2, 1)}
    return tensors, {"dataset": "tiny", "epoch": value, "n_items": 4, "hidden_size": 2, "n_heads": 1,
                     "encoder": {"name": "x"}}


@pytest.mark.parametrize("failing", [".safetensors", ".json"])
def test_checkpoint_on_a_full_disk_keeps_the_earlier_checkpoint(tmp_path, monkeypatch, failing):
    path = tmp_path / "saved" / "FAMETextPretrain-1.safetensors"
    save_text_checkpoint(path, *checkpoint(1))
    before = listing(path.parent)
    assert set(before) == {path.name, metadata_path(path).name}
    monkeypatch.setattr(cache_module, "write_bytes", disk_full(lambda name: f"{failing}." in os.path.basename(name)))
    with pytest.raises(OutputError) as caught:
        save_text_checkpoint(path, *checkpoint(2))
    message = str(caught.value)
    assert message.startswith(f"Cannot write the text pre-training checkpoint {path}: the disk holding "
                              f"{path.parent} is full (No space left on device)")
    assert "set checkpoint_dir to another folder (--checkpoint_dir=...)" in message
    assert listing(path.parent) == before  # both files of epoch 1, no temporary file
    assert load_text_checkpoint(path)[1]["epoch"] == 1


def test_checkpoint_in_a_read_only_folder_is_one_error(tmp_path, monkeypatch):
    path = tmp_path / "saved" / "FAMETextPretrain-1.safetensors"
    permission_denied(monkeypatch)
    with pytest.raises(OutputError, match=rf"the folder {path.parent} is not writable \(Permission denied\)\. "
                                          rf"Nothing was left half-written; make {path.parent} writable or set "
                                          r"checkpoint_dir to another folder"):
        save_text_checkpoint(path, *checkpoint(1))
    assert listing(path.parent) == {}


@needs_permissions
def test_checkpoint_in_a_chmod_read_only_folder(tmp_path):
    folder = tmp_path / "saved"
    folder.mkdir()
    with read_only(folder), pytest.raises(OutputError, match=f"the folder {folder} is not writable"):
        save_text_checkpoint(folder / "FAMETextPretrain-1.safetensors", *checkpoint(1))
    assert listing(folder) == {}


def test_written_files_get_the_usual_permissions_not_mkstemps_private_ones(tmp_path):
    from recbole_fame.storage.files import default_file_mode

    previous = os.umask(0o022)
    try:
        path = tmp_path / "ckpt.safetensors"
        save_text_checkpoint(path, {"w": torch.zeros(2)}, {"note": "x"})
        for written in (path, metadata_path(path)):
            assert os.stat(written).st_mode & 0o777 == default_file_mode() == 0o644
    finally:
        os.umask(previous)


# ----------------------------------------------------------------------------- checkpoint_dir, checked before training


def denied_under(monkeypatch, folder):
    """Make creating a file under ``folder`` fail as in a folder that is not writable (``os.open`` with O_CREAT:
    what claiming a checkpoint name and the temporary files use), so that it also fails when root runs the test."""
    real_open = os.open

    def fake_open(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and os.path.abspath(path).startswith(str(folder) + os.sep):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake_open)


@pytest.fixture
def epochs_trained(monkeypatch):
    """The epochs every plugin trainer started (a list that grows)."""
    from recbole_fame.trainer import text_pretrain, trainer

    started = []
    for owner in (trainer.RecBoleFameTrainerMixin, text_pretrain.FAMETextPretrainTrainer):
        original = owner._train_epoch

        def counting(self, train_data, epoch_idx, *args, _original=original, **kwargs):
            started.append(epoch_idx)
            return _original(self, train_data, epoch_idx, *args, **kwargs)

        monkeypatch.setattr(owner, "_train_epoch", counting)
    return started


def text_run_args(tiny_encoder):
    load_col = "{'inter':['user_id','item_id','timestamp'],'item':['item_id','title','genre','brand']}"
    return ["--model=FAMETextPretrain", "--dataset=tiny", *tiny(epochs=2), f"--load_col={load_col}",
            "--text_fields=['title','genre','brand']", "--facet_fields=['genre','brand']",
            f"--text_encoder={tiny_encoder}", "--pretrain_batch_size=16", "--report_k=5"]


@pytest.fixture
def run_args(request):
    if request.param == "FAME":
        return ["--model=FAME", "--dataset=tiny", *tiny(epochs=2)]
    return text_run_args(request.getfixturevalue("tiny_encoder"))


@pytest.mark.parametrize("run_args", ["FAME", "FAMETextPretrain"], indirect=True)
def test_a_checkpoint_dir_that_is_a_file_stops_the_run_before_training(monkeypatch, capsys, tmp_path, run_args,
                                                                      epochs_trained):
    target = tmp_path / "saved"
    target.write_text("not a folder")
    assert run_main(monkeypatch, *run_args, f"--checkpoint_dir={target}") == 2
    err = capsys.readouterr().err
    assert f"checkpoint_dir {target} is a file, not a folder" in err and "--checkpoint_dir=" in err
    assert "Traceback" not in err and epochs_trained == [] and target.read_text() == "not a folder"


@pytest.mark.parametrize("run_args", ["FAME", "FAMETextPretrain"], indirect=True)
def test_a_read_only_checkpoint_dir_stops_the_run_before_training(monkeypatch, capsys, tmp_path, run_args,
                                                                  epochs_trained):
    folder = tmp_path / "saved"
    folder.mkdir()
    denied_under(monkeypatch, folder)
    assert run_main(monkeypatch, *run_args, f"--checkpoint_dir={folder}") == 2
    err = capsys.readouterr().err
    assert f"the folder {folder} is not writable (Permission denied)" in err and "--checkpoint_dir=" in err
    assert "Traceback" not in err and epochs_trained == [] and listing(folder) == {}


@needs_permissions
def test_a_chmod_read_only_checkpoint_dir_stops_the_run_before_training(monkeypatch, capsys, tmp_path, epochs_trained):
    folder = tmp_path / "saved"
    folder.mkdir()
    with read_only(folder):
        assert run_main(monkeypatch, "--model=FAME", "--dataset=tiny", *tiny(), f"--checkpoint_dir={folder}") == 2
    err = capsys.readouterr().err
    assert f"the folder {folder} is not writable" in err and epochs_trained == []


def test_text_pretraining_on_a_full_disk_leaves_no_empty_checkpoint(monkeypatch, capsys, tmp_path, tiny_encoder):
    """The name claimed for the run's .safetensors (the claim file) is removed when its first write fails."""
    folder = tmp_path / "saved"
    monkeypatch.setattr(cache_module, "write_bytes", disk_full(lambda name: ".safetensors." in name))
    assert run_main(monkeypatch, *text_run_args(tiny_encoder), f"--checkpoint_dir={folder}",
                    f"--text_cache_dir={tmp_path / 'cache'}") == 2
    err = capsys.readouterr().err
    assert "is full (No space left on device)" in err and "Traceback" not in err
    assert [name for name in listing(folder) if name.endswith(".safetensors")] == []
