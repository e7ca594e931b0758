"""The model catalog: each model's documented parameters, checked before anything is sent."""

from __future__ import annotations

import pytest

from ark3d_addon.core.catalog import (
    CATALOG,
    HITEM3D,
    HYPER3D,
    SEED3D_1,
    SEED3D_2,
    available_models,
    check_endpoint_id,
    find_model,
)
from ark3d_addon.core.errors import ConfigError


def test_every_3d_model_on_ark_has_one_definition() -> None:
    assert [spec.id for spec in CATALOG] == [SEED3D_1, SEED3D_2, HYPER3D, HITEM3D]
    assert len({spec.id for spec in CATALOG}) == len(CATALOG)


@pytest.mark.parametrize(("model", "formats", "default"), [
    (SEED3D_1, ("glb", "obj", "usd", "usdz"), "glb"),
    (SEED3D_2, ("glb", "obj", "usd", "usdz"), "glb"),
    (HYPER3D, ("glb", "obj", "usdz", "fbx", "stl"), "glb"),
    (HITEM3D, ("obj", "glb", "stl", "fbx", "usdz"), "obj"),
])
def test_formats_and_the_documented_default_format(model: str, formats: tuple[str, ...], default: str) -> None:
    spec = find_model(model)
    assert spec.formats == formats
    assert spec.defaults()[spec.format_flag] == default


@pytest.mark.parametrize(("model", "params", "faces"), [
    (SEED3D_1, {"--subdivisionlevel": "low"}, "about 30,000 faces"),
    (SEED3D_1, {}, "about 100,000 faces"),
    (SEED3D_1, {"--subdivisionlevel": "high"}, "about 200,000 faces"),
    (SEED3D_2, {"--subdivisionlevel": "low"}, "about 100,000 faces"),
    (SEED3D_2, {}, "about 500,000 faces"),
    (SEED3D_2, {"--subdivisionlevel": "high"}, "about 1,000,000 faces"),
    (HYPER3D, {}, "about 18,000 faces"),  # Quad, medium
    (HYPER3D, {"--mesh_mode": "Raw"}, "about 500,000 faces"),  # Raw, high
    (HYPER3D, {"--mesh_mode": "Raw", "--subdivisionlevel": "low"}, "about 20,000 faces"),
    (HYPER3D, {"--quality_override": "150000"}, "about 150,000 faces"),
    (HITEM3D, {}, "100,000 to 2,000,000 faces"),
    (HITEM3D, {"--face": "2000000"}, "about 2,000,000 faces"),
])
def test_face_count_hints_per_model_and_level(model: str, params: dict[str, str], faces: str) -> None:
    assert str(find_model(model).faces(params)) == faces


@pytest.mark.parametrize(("model", "params", "price"), [
    (SEED3D_1, {}, 2.40),
    (SEED3D_2, {"--subdivisionlevel": "high"}, 2.40),
    (HYPER3D, {"--hd_texture": "true"}, 1.80),
    (HITEM3D, {}, 10.15),
    (HITEM3D, {"--request_type": "1"}, 5.80),
    (HITEM3D, {"--resolution": "1536pro", "--request_type": "1"}, 8.70),
    (HITEM3D, {"--resolution": "1536pro"}, 13.05),
])
def test_price_per_task(model: str, params: dict[str, str], price: float) -> None:
    spec = find_model(model)
    assert spec.price_cny(params) == price
    assert str(spec.cost(params)) == f"about {price:.2f} CNY a task"


def test_checked_parameters_get_the_defaults_that_decide_format_faces_and_price() -> None:
    spec = find_model(SEED3D_2)
    params = spec.check({"--subdivisionlevel": "high"}, images=1)
    assert params == {"--subdivisionlevel": "high", "--fileformat": "glb"}
    assert spec.text(params) == "--subdivisionlevel high --fileformat glb"
    hitem = find_model(HITEM3D)
    params = hitem.check({"--ff": "fbx", "--multi_images_bit": "1100"}, images=2)
    assert hitem.text(params) == "--fileformat 4 --resolution 1536 --request_type 3 --multi_images_bit 1100"
    hyper = find_model(HYPER3D)
    params = hyper.check({"--material": "Shaded", "--bbox_condition": "[100,200,300]"}, images=0, prompt="a red chair")
    assert hyper.text(params, "a red chair") == (
        "a red chair --material Shaded --bbox_condition [100,200,300] --fileformat glb")


@pytest.mark.parametrize(("model", "params", "images", "prompt", "says"), [
    (SEED3D_1, {}, 0, "", "takes exactly one image, not 0"),
    (SEED3D_1, {}, 2, "", "takes exactly one image, not 2"),
    (SEED3D_1, {}, 1, "a chair", "takes no prompt"),
    (SEED3D_1, {"--fileformat": "fbx"}, 1, "", "--fileformat cannot be 'fbx'"),
    (SEED3D_1, {"--mesh_mode": "Raw"}, 1, "", "has no parameter --mesh_mode"),
    (SEED3D_2, {"--subdivisionlevel": "ultra"}, 1, "", "--subdivisionlevel cannot be 'ultra'"),
    (HYPER3D, {}, 6, "", "takes 0 to 5 images, not 6"),
    (HYPER3D, {}, 0, "", "needs a prompt or an image"),
    (HYPER3D, {}, 0, "x" * 401, "has 401 characters"),
    (HYPER3D, {"--mesh_mode": "quad"}, 1, "", "--mesh_mode cannot be 'quad'"),
    (HYPER3D, {"--quality_override": "300000"}, 1, "", "mesh mode Quad, --quality_override must be from 1,000 to"),
    (HYPER3D, {"--quality_override": "12.5"}, 1, "", "must be a whole number"),
    (HYPER3D, {"--bbox_condition": "100,200,300"}, 1, "", "--bbox_condition cannot be"),
    (HYPER3D, {"--use_original_alpha": "true"}, 0, "a chair", "applies to image input only"),
    (HITEM3D, {}, 5, "", "takes 1 to 4 images, not 5"),
    (HITEM3D, {"--face": "50000"}, 1, "", "from 100,000 to 2,000,000"),
    (HITEM3D, {"--ff": "3"}, 1, "", "--fileformat cannot be '3'"),  # the add-on speaks names; codes are the wire's
    (HITEM3D, {"--multi_images_bit": "1010"}, 1, "", "names 2 views but 1 images"),
])
def test_parameters_are_refused_before_anything_is_sent(model: str, params: dict[str, str], images: int,
                                                        prompt: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        find_model(model).check(params, images=images, prompt=prompt)
    assert says in caught.value.message, caught.value.message
    assert caught.value.code == "InvalidParameter"
    assert caught.value.hint is not None


def test_hyper3d_quality_override_range_follows_the_mesh_mode() -> None:
    spec = find_model(HYPER3D)
    raw = spec.check({"--mesh_mode": "Raw", "--quality_override": "900000"}, images=1)
    assert raw["--quality_override"] == "900000"
    with pytest.raises(ConfigError):
        spec.check({"--mesh_mode": "Raw", "--quality_override": "400"}, images=1)


def test_unknown_model_and_endpoint_ids() -> None:
    with pytest.raises(ConfigError, match="not a 3D model this add-on knows"):
        find_model("doubao-seedance-2-0-260128")
    assert check_endpoint_id("  ep-20250101123456-abcde ") == "ep-20250101123456-abcde"
    for bad in ("", "ep-", "cgt-2025", "ep-../x", "ep-a b"):
        with pytest.raises(ConfigError, match="not an Ark endpoint id"):
            check_endpoint_id(bad)


def test_available_models_from_arks_list() -> None:
    rows = [
        {"id": "seed-2-0-lite-260428", "domain": "VLM"},
        {"id": SEED3D_1, "domain": "3DGeneration", "status": "Retiring"},
        {"id": SEED3D_2, "domain": "3DGeneration"},
        {"id": HYPER3D, "domain": "3DGeneration", "status": "Shutdown"},
        {"id": "some-new-3d-model-270101", "domain": "3DGeneration"},
        {"id": HITEM3D, "domain": "3DGeneration", "status": None},
    ]
    found = available_models(rows)
    assert [(m.spec.id, m.retiring, m.listed) for m in found] == [
        (SEED3D_1, True, True), (SEED3D_2, False, True), (HITEM3D, False, True)]
    assert not any(m.unlisted for m in found)
    offline = available_models(None)
    assert [m.spec.id for m in offline] == [s.id for s in CATALOG] and not any(m.listed for m in offline)
    assert not any(m.unlisted for m in offline), "the built-in list is no statement about Ark's"


def test_a_model_arks_list_leaves_out_is_offered_as_unlisted() -> None:
    """A model the add-on knows but ``/models`` does not name is kept in the menu, marked unlisted."""
    rows = [{"id": SEED3D_1, "domain": "3DGeneration"}, {"id": HYPER3D, "domain": "3DGeneration"}]
    found = {m.spec.id: m for m in available_models(rows)}
    assert set(found) == {s.id for s in CATALOG}
    assert [m.spec.id for m in found.values() if m.unlisted] == [SEED3D_2, HITEM3D]
    assert found[SEED3D_1].listed and not found[SEED3D_1].unlisted
    assert not found[HITEM3D].listed


def test_hitem3d_takes_its_format_flag_in_the_long_form_and_the_short() -> None:
    """Hitem3D's documents call ``--ff`` the short form of ``--fileformat``: both are taken, as for Seed3D."""
    hitem = find_model(HITEM3D)
    for typed in ("--fileformat glb", "--ff glb"):
        params = hitem.check(hitem.parse(typed), images=1)
        assert params["--fileformat"] == "glb" and "--ff" not in params
        assert hitem.text(params).startswith("--fileformat 2 ")
    assert hitem.check({"--fileformat": "usdz"}, images=1)["--fileformat"] == "usdz"
