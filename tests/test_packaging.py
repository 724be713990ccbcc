"""The installed package carries its yaml files and runs from any folder."""

import json
import os
import subprocess
import sys

import pytest


def test_installed_package_finds_its_yaml(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probe = (
        "import json, recbole_fame; from recbole_fame.defaults import properties_dir, property_file;"
        "print(json.dumps([recbole_fame.__file__, properties_dir(), property_file('model', 'FAME')]))"
    )
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    if proc.returncode != 0 and "No module named 'recbole_fame'" in proc.stderr:
        pytest.skip("recbole_fame is not installed in this environment (scripts/setup.sh installs it)")
    assert proc.returncode == 0, proc.stderr
    package_file, folder, fame_yaml = json.loads(proc.stdout)
    if "site-packages" not in package_file:
        pytest.skip("editable install: the source tree's properties/ is used")
    assert folder == os.path.join(os.path.dirname(package_file), "properties")
    assert fame_yaml and os.path.isfile(fame_yaml)


def test_setup_cfg_lists_every_subpackage():
    import configparser
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    config = configparser.ConfigParser()
    config.read(root / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    on_disk = {
        ".".join(path.parent.relative_to(root).parts) for path in (root / "recbole_fame").rglob("__init__.py")
    }
    assert on_disk <= listed, f"add to setup.cfg [options] packages: {sorted(on_disk - listed)}"
