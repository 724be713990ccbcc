"""Writing files so that none is ever left half-written: the one atomic writer of the plugin.

Dataset converters (:mod:`recbole_fame.prepare.common`), text caches and checkpoints
(:mod:`recbole_fame.text.cache`) and the trainers' checkpoints (:mod:`recbole_fame.storage.training_state`) all write
through :func:`atomic_write`: each file goes to a temporary file beside it, named
``.<name>.<host>.<pid>.<random>.tmp``, and is moved into place with :func:`os.replace` only when complete.
A writer that is killed leaves only such a temporary file; the next write into the same folder removes it
when its writer is gone (see :func:`remove_stale_temporaries`).

A name can be held before its first write with :func:`claim_name` (the trainers' checkpoint names): a small
file created exclusively that names its writer, ``# name claimed by <host> <pid>``, until the write replaces it.
A writer killed before that leaves the claim; the next write into the folder removes it when its writer is
gone (:func:`remove_stale_claims`).
"""

import contextlib
import glob
import os
import secrets
import socket
import time
from pathlib import Path

#: a temporary file whose writer cannot be told from its name (older versions' names) is stale after this long
STALE_UNNAMED_SECONDS = 3600
#: what a claim holds before its writer's ``<host> <pid>``; "#" is no pickle opcode, so torch.load fails at once
CLAIM_PREFIX = "# name claimed by "
#: a file larger than this is no claim (and is not read to find out)
CLAIM_MAX_BYTES = 1024
#: older versions claimed checkpoints' names with an empty file, which names no writer: one of these kinds older
#: than STALE_UNNAMED_SECONDS is stale
UNNAMED_CLAIM_SUFFIXES = (".pth", ".safetensors")


def default_file_mode():
    """The permissions a plainly created file gets (``0o666`` less the umask); ``tempfile.mkstemp`` gives
    0600, which would make the results private to their writer."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def host_name():
    """This machine's name as the temporary files and lock files name their writer."""
    return socket.gethostname().replace(os.sep, "_") or "host"


def temporary_name(path):
    """A fresh temporary file name beside ``path`` that names its writer (host and process)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{host_name()}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def create_temporary(path):
    """Create (exclusively, private until moved into place) and return a temporary file beside ``path``."""
    tmp = temporary_name(path)
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    return tmp


def process_alive(pid):
    """Whether the process ``pid`` of this machine still runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):  # another user's process (or no such number)
        return pid > 0
    return True


def _is_stale(candidate, prefix, host):
    """Whether the temporary file ``candidate`` (a Path named ``<prefix><writer>.tmp``) belongs to a writer that
    is gone."""
    writer = candidate.name[len(prefix): -len(".tmp")].rsplit(".", 2)  # [host (dots allowed), pid, random]
    if len(writer) == 3 and writer[1].isdigit() and writer[0]:
        if writer[0] != host:
            return False  # written from another machine (a shared folder): its process cannot be checked here
        return not process_alive(int(writer[1]))
    try:  # a name without its writer (mkstemp's, of older versions): stale once old enough
        return time.time() - candidate.stat().st_mtime > STALE_UNNAMED_SECONDS
    except OSError:
        return False


def _is_stale_of_this_host(candidate, host):
    """Whether ``candidate`` is a temporary file of this writer's naming (``.<name>.<host>.<pid>.<random>.tmp``)
    written on this machine by a process that no longer runs, whatever its target."""
    head, pid, random_part = (candidate.name[: -len(".tmp")].rsplit(".", 2) + ["", ""])[:3]
    if not (candidate.name.startswith(".") and head.endswith(f".{host}") and pid.isdigit() and random_part):
        return False
    return not process_alive(int(pid))


def remove_stale_temporaries(path):
    """Remove the temporary files left by writers that were killed: those of ``path`` (of a process of this
    machine that no longer runs, and unnamed ones of older versions older than an hour) and those of any other
    file of ``path``'s folder written by a process of this machine that no longer runs (a run killed while it
    wrote its first checkpoint never writes that file again). Temporary files of running writers and of other
    machines are left alone. Returns the removed paths."""
    path = Path(path)
    host, removed = host_name(), []
    if not path.parent.is_dir():
        return removed
    candidates = []
    for prefix in (f".{path.name}.", f"{path.name}."):  # the second: older versions' last checkpoints
        candidates += [(c, _is_stale(c, prefix, host)) for c in path.parent.glob(glob.escape(prefix) + "*.tmp")]
    seen = {c for c, _ in candidates}
    candidates += [(c, _is_stale_of_this_host(c, host)) for c in path.parent.glob(".*.tmp") if c not in seen]
    for candidate, stale in candidates:
        if stale:
            with contextlib.suppress(OSError):
                candidate.unlink()
                removed.append(candidate)
    return removed


def claim_name(path):
    """Create the file ``path`` exclusively as a claim of the name by this process, until the first
    :func:`atomic_write` of ``path`` replaces it. FileExistsError when the name is taken; any other OSError leaves
    no file."""
    descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, default_file_mode())
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as f:
            f.write(f"{CLAIM_PREFIX}{host_name()} {os.getpid()}\n")
    except OSError:
        with contextlib.suppress(OSError):
            os.remove(path)
        raise


def claim_writer(path):
    """``(host, pid)`` of the process that claimed ``path`` (:func:`claim_name`), or None when it is no claim."""
    try:
        if os.path.getsize(path) > CLAIM_MAX_BYTES:
            return None
        with open(path, "r", encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return None
    host, _, pid = text[len(CLAIM_PREFIX): -1].rpartition(" ")
    if not (text.startswith(CLAIM_PREFIX) and text.endswith("\n") and host and pid.isdigit()):
        return None
    return host, int(pid)


def is_own_claim(path):
    """Whether ``path`` is still this process's claim of the name (not written yet)."""
    return claim_writer(path) == (host_name(), os.getpid())


def _is_stale_claim(entry, host):
    """Whether the folder entry ``entry`` (:func:`os.scandir`) is a claim whose writer is gone: a process of this
    machine that no longer runs, or, for an older version's empty claim, one older than STALE_UNNAMED_SECONDS."""
    stat = entry.stat(follow_symlinks=False)
    if stat.st_size == 0:
        return entry.name.endswith(UNNAMED_CLAIM_SUFFIXES) and time.time() - stat.st_mtime > STALE_UNNAMED_SECONDS
    writer = claim_writer(entry.path) if stat.st_size <= CLAIM_MAX_BYTES else None
    return writer is not None and writer[0] == host and not process_alive(writer[1])


def remove_stale_claims(folder):
    """Remove the claims in ``folder`` whose writers are gone (a run killed before its first write of the name
    it claimed never writes it): those of processes of this machine that no longer run, and older versions'
    empty checkpoint claims older than an hour. Claims of running processes and of other machines are left
    alone. Returns the removed paths."""
    host, removed = host_name(), []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
                    continue  # temporary files: remove_stale_temporaries
                if _is_stale_claim(entry, host):
                    os.remove(entry.path)
                    removed.append(Path(entry.path))
    return removed


def atomic_write(targets):
    """Write several files so that none is left half-written.

    ``targets`` is a list of ``(path, write)``, where ``write(temporary_path)`` writes the whole content of
    the file to the path it is given. Each file goes to a temporary file in its own folder (created if
    missing); only when all are complete are they moved into place with :func:`os.replace`, one after the
    other. Before the first write, stale temporary files of the same targets and stale claims of their folders
    are removed (:func:`remove_stale_temporaries`, :func:`remove_stale_claims`). On any error the temporary
    files are removed and the error is raised unchanged; the files already at the paths are left as they were.
    The files get the usual permissions (0666 less the umask).
    """
    temporary = []
    try:
        for path, write in targets:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_temporaries(path)
            remove_stale_claims(path.parent)
            tmp = create_temporary(path)
            temporary.append((tmp, path))
            write(str(tmp))
        mode = default_file_mode()
        for tmp, path in temporary:
            os.chmod(tmp, mode)
            os.replace(tmp, path)
    finally:
        for tmp, _ in temporary:
            with contextlib.suppress(OSError):  # moved into place, or removed already
                os.remove(tmp)


def check_writable_folder(folder):
    """Create ``folder`` (and the folders above it) if missing, then create and remove a temporary file in it; an
    OSError says why the folder cannot be written (``FileExistsError`` when it is a file, ``NotADirectoryError``
    when a folder above it is)."""
    os.makedirs(folder, exist_ok=True)
    os.remove(create_temporary(Path(folder) / "write-check"))


def take_lock(path):
    """Create the lock file ``path`` naming this process (``<host> <pid>``), exclusively; a lock of a process of this
    machine that no longer runs is taken over. Returns None when taken (or held by this process already), else the
    ``(host, pid)`` of the process that holds it."""
    mine = f"{host_name()} {os.getpid()}"
    for _ in range(3):
        try:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, default_file_mode())
        except FileExistsError:
            try:
                with open(path, "r", encoding="utf-8") as f:
                    host, _, pid = f.read().strip().partition(" ")
            except OSError:
                continue  # released meanwhile
            if f"{host} {pid}" == mine:
                return None
            if host == host_name() and pid.isdigit() and not process_alive(int(pid)):
                with contextlib.suppress(OSError):
                    os.remove(path)  # a stale lock: its process is gone
                continue
            return host, pid
        with os.fdopen(descriptor, "w", encoding="utf-8") as f:
            f.write(mine)
        return None
    return "?", "?"


def release_lock(path):
    """Remove the lock file ``path`` if this process holds it."""
    try:
        with open(path, "r", encoding="utf-8") as f:
            if f.read().strip() == f"{host_name()} {os.getpid()}":
                os.remove(path)
    except OSError:
        pass


def write_bytes(path, data):
    """Write ``data`` to the file ``path`` and flush it to disk."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
