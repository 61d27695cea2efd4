"""Render settings are checked once, the same way for `dedit render`, `plan`, `watch` and the Python API."""

from __future__ import annotations

import pytest

import designedit
from designedit.checks import arguments
from designedit.errors import ArgumentError
from designedit.cli import main
from designedit.compiler import compile_scene

from cli_fixtures import no_model, scene  # noqa: F401 (fixtures)


@pytest.mark.parametrize("check, good, bad", [
    (arguments.steps, [1, 50, 1000], [0, -3, 1001, 10.7, "10", True, None]),
    (arguments.seed, [0, 7, 2**63 - 1], [-1, 2**63, 2**70, "abc", 1.0, False]),
    (arguments.schedule, ["fast", "reference"], ["slow", "", None, 1]),
])
def test_each_setting_is_checked_in_one_sentence(check, good, bad):
    assert [check(v) for v in good] == good
    for value in bad:
        with pytest.raises(ArgumentError) as caught:
            check(value)
        assert caught.value.exit_status == 2 and str(caught.value).endswith(".") and "\n" not in str(caught.value)


@pytest.mark.parametrize("argv", [
    ["render", "{scene}", "--steps", "5000"],
    ["render", "{scene}", "--steps", "abc"],
    ["render", "{scene}", "--seed", "-1"],
    ["plan", "{scene}", "--steps", "0"],
    ["watch", "{scene}", "--steps", "5000"],
])
def test_the_cli_refuses_bad_settings_before_any_work_with_status_2(scene, argv, capsys):
    with pytest.raises(SystemExit) as stop:
        main([a.format(scene=scene) for a in argv])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "error: argument" in err and "Traceback" not in err
    assert not (scene.parent / "scene.png").exists()


@pytest.mark.parametrize("named", [{"steps": 5000}, {"steps": "10"}, {"steps": 10.7}, {"seed": -1}, {"seed": "abc"},
                                   {"schedule": "slow"}, {"renderer": "nope"}])
def test_the_api_refuses_bad_settings_with_the_same_error(scene, named):
    with pytest.raises(ArgumentError) as caught:
        designedit.render(scene, **{"renderer": "preview", **named})
    assert caught.value.exit_status == 2
    assert not (scene.parent / "scene.png").exists()


@pytest.mark.parametrize("named", [{"steps": 0}, {"seed": 2**63}, {"schedule": "nope"}])
def test_compiling_refuses_bad_settings_with_the_same_error(scene, named):
    with pytest.raises(ArgumentError):
        compile_scene(designedit.load(scene), **named)
