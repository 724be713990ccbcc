"""Small helpers shared by the plugin's writers of files (dataset converters, text caches and checkpoints,
last-epoch checkpoints), which all write to a temporary file and move it into place."""

import os


def default_file_mode():
    """The permissions a plainly created file gets (``0o666`` less the umask); ``tempfile.mkstemp`` gives
    0600, which would make the results private to their writer."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
