"""Another round of pictures: again, from a reference, one view redone, views dropped (against the local Ark)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ark3d_addon.core.catalog import HITEM3D, HYPER3D, SEED3D_2
from ark3d_addon.core.client import ArkClient
from ark3d_addon.core.errors import ConfigError
from ark3d_addon.core.idea import Idea, create_from_plan, make_pictures, plan_idea
from ark3d_addon.core.library import Library
from ark3d_addon.core.prompting import HELPER_TEXT, prompt_for_3d
from ark3d_addon.core.rounds import again, from_reference, keep_views, redo_view, reference_text
from ark3d_addon.core.settings import Settings


def client_for(server) -> ArkClient:  # type: ignore[no-untyped-def]
    return ArkClient(Settings(api_key="test-key", base_url=server.api_base))


def test_again_keeps_the_idea_with_another_seed() -> None:
    idea = Idea(SEED3D_2, "a red teapot", seed=5)
    seeds = {again(idea).seed for _ in range(5)}
    assert again(idea).prompt == idea.prompt and 5 not in seeds and len(seeds) > 1


def test_the_helpers_words_can_be_edited_and_are_what_is_added() -> None:
    full, added = prompt_for_3d("a chair", text="On black velvet.")
    assert (full, added) == ("a chair On black velvet.", "On black velvet.")
    assert prompt_for_3d("a chair", text="  ")[1] == HELPER_TEXT
    plan = plan_idea(Idea(SEED3D_2, "a chair", helper_text="On black velvet."))
    assert plan.image_request is not None and plan.image_request.prompt.endswith("On black velvet.")


def test_a_reference_round_sends_the_picture_and_asks_for_the_same_object(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client = client_for(ark_server)
    first = make_pictures(client, plan_idea(Idea(SEED3D_2, "a red teapot")), tmp_path / "one").images[0]
    idea = from_reference(Idea(HYPER3D, "a red teapot"), first.path)
    plan = plan_idea(idea)
    assert plan.makes_pictures  # Hyper3D reads text, but a reference round is to be looked at
    make_pictures(client, plan, tmp_path / "two")
    body = ark_server.image_requests[-1]
    assert body["image"].startswith("data:image/png;base64,")
    assert reference_text("a red teapot") in body["prompt"] and body["prompt"].startswith("a red teapot ")
    assert "与参考图中完全相同的物体" in from_reference(Idea(SEED3D_2, "红色茶壶"), first.path).prompt


def test_a_redone_view_takes_the_other_views_as_references(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    idea = Idea(HITEM3D, "a robot toy", views=("front", "back", "left"))
    plan = plan_idea(idea)
    made = make_pictures(client_for(ark_server), plan, tmp_path / "set").images
    redo = plan_idea(redo_view(idea, plan.views, 1, [p.path for p in made]))
    assert redo.image_request is not None and redo.image_request.count == 1 and not redo.views
    assert len(redo.image_request.references) == 2
    assert "The back view of the very same object" in redo.image_request.prompt
    with pytest.raises(ConfigError, match="no view 4"):
        redo_view(idea, plan.views, 3, [p.path for p in made])


def test_dropping_a_view_sends_the_bits_of_the_views_left(ark_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client = client_for(ark_server)
    plan = plan_idea(Idea(HITEM3D, "a robot toy", views=("front", "back", "left", "right")))
    made = make_pictures(client, plan, tmp_path / "set").images
    kept = keep_views(plan, ("front", "left", "right"))
    assert kept.views == ("front", "left", "right") and kept.params["--multi_images_bit"] == "1011"
    created = create_from_plan(client, kept, [made[0], made[2], made[3]], Library(tmp_path / "lib"))
    body = ark_server.create_requests[-1]
    assert "--multi_images_bit 1011" in body["content"][-1]["text"]
    assert [c["type"] for c in body["content"][:-1]] == ["image_url"] * 3
    assert created.chain.views == "1011"
    one = keep_views(plan, ("back",))
    assert one.views == ("back",) and "--multi_images_bit" not in one.params
    with pytest.raises(ConfigError, match="at least one view"):
        keep_views(plan, ())
