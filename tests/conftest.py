import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a stray download fails fast
# caches written by the code under test stay out of the user's home
os.environ.setdefault("DEDIT_CACHE_DIR", tempfile.mkdtemp(prefix="dedit-test-cache-"))

import pytest  # noqa: E402

import shared_paths  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "shared: reads the shared fixtures (../shared or DEDIT_SHARED); "
                            "fails with one sentence where they are missing")


@pytest.hookimpl(tryfirst=True)  # before the test's fixtures, which may copy the shared files
def pytest_runtest_setup(item):
    if not shared_paths.PRESENT and item.get_closest_marker("shared") is not None:
        pytest.fail(shared_paths.MISSING, pytrace=False)


@pytest.fixture(scope="session")
def tiny32(tmp_path_factory):
    """A tiny random-weight SDXL diffusers folder whose VAE has 6 blocks (factor 32: small renders, few latent
    cells), built once per test session; every test loads its own copy through the user-facing loader."""
    from sdxl_tiny import build_tiny_sdxl

    return build_tiny_sdxl(tmp_path_factory.mktemp("tiny32") / "model", vae_blocks=6)


@pytest.fixture(scope="session")
def ball_scenes(tmp_path_factory):
    """The test poster with move.dedit and remove.dedit (render_fixtures.write_ball_scenes)."""
    from render_fixtures import write_ball_scenes

    return write_ball_scenes(tmp_path_factory.mktemp("ball-scenes"))


@pytest.fixture()
def notes_on_stderr():
    """Renderer notes (logged under "dedit"; the library prints nothing) shown on stderr, as the command
    line shows them."""
    from designedit.cli.notes import notes_on_stderr as shown

    with shown():
        yield
