"""The Generate section from a prompt, in real Blender: pictures first, then the 3D model.

The built extension installed into a ``bpy`` wheel (``idea_session.py``), against the project's
Ark server on loopback (it makes Seedream's pictures and records every body it is sent):
pictures made from a prompt (no watermark, the prompt helper's words sent), a picture as the
reference of a new round, another seed, the 3D task from the chosen picture (imported into the
scene; the library keeps chain.json and the pictures), the chain in the Tasks browser with its
reuse buttons; a Hitem3D multi-view set with one view redone and one dropped, sent with the
view bits of what is left; and disabling the add-on releases the pictures' previews and folder.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ark_server import CONTENT_CHECK_WORD, SEEDREAM_4_0, SEEDREAM_4_5, ArkServer
from harness import BlenderPython, Steps, session

pytestmark = pytest.mark.blender

KEY = "ark-idea-" + secrets.token_hex(16)
SEED3D_1 = "doubao-seed3d-1-0-250928"
SEED3D_2 = "doubao-seed3d-2-0-260328"
HITEM3D = "hitem3d-2-0-251223"
HYPER3D = "hyper3d-gen2-260112"
HELPER_START = "One single whole object, centred"


@dataclass
class Record(Steps):
    ids: dict[str, str]
    root: Path
    server: ArkServer
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    bodies: dict[str, list[Any]] = field(default_factory=dict)


def _keep(rec: Record, name: str) -> None:
    """What the server was sent so far, under the step's name."""
    rec.bodies[name] = [list(rec.server.image_requests), list(rec.server.create_requests)]


@pytest.fixture(scope="module")
def idea(blender_python: BlenderPython, extension_zip: Path, demo_assets: Path,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Record]:
    with ArkServer(api_key=KEY) as server:
        server.create_schedule = (0.0, 0.0)  # done at the first query: the poll interval is not what is tested
        # Ark lists Seedream 4.0 alone here: the section's default, the newest listed, is 4.0.
        server.models = [row for row in server.models if row.get("id") != SEEDREAM_4_5]
        server.set_create_result("glb", demo_assets / "seed3d_glb.zip", model=SEED3D_2)
        rec = Record({}, tmp_path_factory.mktemp(f"idea-{blender_python.id}-"), server)
        run = rec.run
        with session(rec, rec.root, {}, blender_python.python, script="idea_session.py") as blender:
            run(blender, "install", "install", zip_path=str(extension_zip))
            run(blender, "prefs", "prefs", region="CUSTOM", custom_base_url=server.api_base, api_key=KEY,
                poll_interval=0.5)
            run(blender, "fields", "generate_fields", source="PROMPT", model=SEED3D_2, prompt="a red teapot",
                fileformat="glb")
            run(blender, "draw before", "draw_generate")
            run(blender, "chinese prompt", "generate_fields", prompt="红色茶壶")
            run(blender, "draw chinese", "draw_generate")
            run(blender, "english prompt", "generate_fields", prompt="a red teapot")
            run(blender, "make", "picture_op", op="make_pictures")
            _keep(rec, "make")
            run(blender, "draw pictures", "draw_generate")
            run(blender, "reference", "picture_op", op="picture_reference", index=0)
            _keep(rec, "reference")
            run(blender, "again", "picture_op", op="make_pictures", again=True)
            _keep(rec, "again")
            # The 3D model is chosen when the task is created: the menu says Seed3D 1.0 now.
            run(blender, "switch model", "generate_fields", model=SEED3D_1)
            run(blender, "create", "picture_op", op="picture_create", index=0)
            _keep(rec, "create")
            task_id = (rec.steps.get("create") or {}).get("task_id", "")
            if task_id:
                run(blender, "chain", "chain", task_id=task_id)
                run(blender, "details", "draw_details", task_id=task_id)
                run(blender, "asset", "asset", task_id=task_id)
                run(blender, "reuse prompt", "picture_op", op="reuse_prompt", task_id=task_id)
                run(blender, "after reuse prompt", "generate_state")
                run(blender, "reuse picture", "picture_op", op="reuse_picture", task_id=task_id)
                run(blender, "after reuse picture", "generate_state")
            run(blender, "hyper3d fields", "generate_fields", source="PROMPT", model=HYPER3D, prompt="a wooden chair")
            run(blender, "draw text", "draw_generate")
            run(blender, "text", "picture_op", op="create_from_prompt")
            _keep(rec, "text")
            text_id = (rec.steps.get("text") or {}).get("task_id", "")
            if text_id:
                run(blender, "text chain", "chain", task_id=text_id)
            run(blender, "see pictures first", "generate_fields", through_pictures=True)
            run(blender, "hyper3d pictures", "picture_op", op="make_pictures")
            run(blender, "hyper3d create", "picture_op", op="picture_create", index=0)
            _keep(rec, "hyper3d create")
            run(blender, "set fields", "generate_fields", source="PROMPT", model=HITEM3D, prompt="a robot toy",
                views=["FRONT", "BACK", "LEFT"])
            run(blender, "make set", "picture_op", op="make_pictures")
            run(blender, "draw set", "draw_generate")
            run(blender, "redo back", "picture_op", op="picture_redo", index=1)
            _keep(rec, "redo back")
            run(blender, "drop front", "picture_op", op="picture_drop", index=0)
            run(blender, "create set", "picture_op", op="picture_create", index=-1)
            _keep(rec, "create set")
            run(blender, "one-picture model", "generate_fields", model=SEED3D_2)
            run(blender, "draw set for one", "draw_generate")
            run(blender, "create set for one", "picture_op", op="picture_create", index=-1)
            run(blender, "set model back", "generate_fields", model=HITEM3D)
            run(blender, "set from a picture", "picture_op", op="picture_reference", index=0)
            _keep(rec, "set from a picture")
            run(blender, "refused prompt", "generate_fields", prompt=f"a {CONTENT_CHECK_WORD} robot")
            run(blender, "make refused", "picture_op", op="make_pictures")
            run(blender, "disable", "disable_with_pictures")
        yield rec


def test_pictures_are_made_from_the_prompt_with_the_helper_and_no_watermark(idea: Record) -> None:
    made = idea.step("make")
    assert made["error"] is None and made["result"] == ["FINISHED"], made
    assert len(made["pictures"]) == 1 and made["pictures"][0].endswith(".png")
    [body] = idea.bodies["make"][0]
    assert body["watermark"] is False and body["prompt"].startswith("a red teapot " + HELPER_START)
    assert "image" not in body and isinstance(body.get("seed"), int)
    assert body["model"] == SEEDREAM_4_0  # the newest Ark lists (4.5 is not listed here)
    assert not idea.bodies["make"][1], "no 3D task before the user picks a picture"


def test_ark_is_asked_for_its_newest_seedream_once(idea: Record) -> None:
    asked = [r for r in idea.server.requests_log if r.method == "GET" and r.path.endswith("/models")]
    assert len(asked) == 1, "the newest listed Seedream is asked once, then remembered"
    assert {body["model"] for body in idea.bodies["create set"][0]} == {SEEDREAM_4_0}


def test_the_section_shows_the_helper_the_prices_and_large_pictures(idea: Record) -> None:
    before = idea.step("draw before")
    assert before["problems"] == []
    calls = "\n".join(before["calls"])
    assert "Adds: One single" in calls and "Make Pictures" in calls
    assert "Pictures: about 0.25 CNY for 1" in calls and "Then the 3D task: " in calls
    assert "Adds: 单个完整物体" in "\n".join(idea.step("draw chinese")["calls"])  # the helper the prompt gets
    # Once Ark said its newest Seedream is 4.0, the price shown is 4.0's.
    assert "Pictures: about 0.20 CNY for 1" in "\n".join(idea.step("draw pictures")["calls"])
    shown = idea.step("draw pictures")
    assert shown["problems"] == []
    drawn = "\n".join(shown["calls"])
    assert "template_icon(icon_value=" in drawn and "scale=9.0" in drawn
    assert "Create 3D From This" in drawn and "Generate Again" in drawn and "3D task: " in drawn


def test_a_picture_as_reference_and_generate_again_make_new_rounds(idea: Record) -> None:
    reference = idea.step("reference")
    assert reference["result"] == ["FINISHED"], reference
    sent = idea.bodies["reference"][0][-1]
    assert sent["image"].startswith("data:image/png;base64,")
    assert "The same object as in the reference picture, on a plain background." in sent["prompt"]
    again = idea.step("again")
    assert again["result"] == ["FINISHED"] and again["seed"] != reference["seed"]
    assert idea.bodies["again"][0][-1]["seed"] == again["seed"]
    assert again["pictures"] != reference["pictures"]


def test_the_chosen_picture_becomes_the_model_and_the_library_keeps_the_chain(idea: Record) -> None:
    created = idea.step("create")
    assert created["error"] is None and created["task_id"].startswith("cgt-"), created
    assert created["new_objects"], "the model was not imported"
    [body] = idea.bodies["create"][1]
    assert body["model"] == SEED3D_1 and body["content"][0]["image_url"]["url"].startswith("data:image/png")
    chain = idea.step("chain")
    assert chain["chain"]["prompt"].startswith("a red teapot") and chain["chain"]["image_model"]
    assert chain["chain"]["sent"] == ["images/" + Path(idea.step("again")["pictures"][0]).name]
    assert chain["images"] and "chain.json" in chain["files"]
    asset = idea.step("asset")
    assert "a red teapot" in asset["description"] and SEEDREAM_4_0 in asset["tags"]


def test_the_browser_shows_the_chain_and_reuses_it_in_one_click(idea: Record) -> None:
    details = idea.step("details")
    assert details["problems"] == []
    drawn = "\n".join(details["calls"])
    assert "Prompt: a red teapot" in drawn and "Reuse Prompt" in drawn and "Reuse Picture" in drawn
    assert idea.step("reuse prompt")["result"] == ["FINISHED"]
    prompt = idea.step("after reuse prompt")
    assert prompt["source"] == "PROMPT" and prompt["prompt"].startswith("a red teapot")
    assert idea.step("reuse picture")["result"] == ["FINISHED"]
    picture = idea.step("after reuse picture")
    assert picture["source"] == "FILE" and Path(picture["image_path"]).is_file()
    assert "/images/" in picture["image_path"].replace("\\", "/")


def test_hyper3d_is_sent_the_prompt_itself_and_keeps_it(idea: Record) -> None:
    drawn = "\n".join(idea.step("draw text")["calls"])
    assert "ark3d.create_from_prompt" in drawn and "Make Pictures" not in drawn
    text = idea.step("text")
    assert text["result"] == ["FINISHED"] and text["task_id"].startswith("cgt-"), text
    assert len(idea.bodies["text"][0]) == len(idea.bodies["create"][0]), "no picture is made"
    body = idea.bodies["text"][1][-1]
    assert body["model"] == HYPER3D and [item["type"] for item in body["content"]] == ["text"]
    assert body["content"][0]["text"].startswith("a wooden chair")
    chain = idea.step("text chain")["chain"]
    assert chain["prompt"] == "a wooden chair" and chain["image_model"] == "" and chain["sent"] == []


def test_hyper3d_can_be_given_pictures_first(idea: Record) -> None:
    assert idea.step("hyper3d pictures")["result"] == ["FINISHED"]
    assert idea.step("hyper3d create")["result"] == ["FINISHED"]
    body = idea.bodies["hyper3d create"][1][-1]
    assert body["model"] == HYPER3D and body["content"][0]["type"] == "image_url"
    assert not any(item["type"] == "text" and item["text"].startswith("a wooden chair") for item in body["content"])


def test_a_set_is_shown_by_view_redone_dropped_and_sent_with_the_right_bits(idea: Record) -> None:
    made = idea.step("make set")
    assert made["result"] == ["FINISHED"] and made["views"] == ["front", "back", "left"]
    assert len(made["pictures"]) == 3 and made["params"]["--multi_images_bit"] == "1110"
    drawn = "\n".join(idea.step("draw set")["calls"])
    assert all(f"label(text='{name}'" in drawn for name in ("Front", "Back", "Left")) and "Redo" in drawn
    assert "Redo a view: about 0.20 CNY" in drawn
    redo = idea.step("redo back")
    assert redo["result"] == ["FINISHED"] and redo["pictures"][1] != made["pictures"][1]
    assert redo["pictures"][0] == made["pictures"][0] and redo["pictures"][2] == made["pictures"][2]
    redo_body = idea.bodies["redo back"][0][-1]
    assert len(redo_body["image"]) == 2 and "The back view of the very same object" in redo_body["prompt"]
    dropped = idea.step("drop front")
    assert dropped["views"] == ["back", "left"] and dropped["params"]["--multi_images_bit"] == "0110"
    idea.step("create set")
    body = idea.bodies["create set"][1][-1]
    assert body["model"] == HITEM3D and "--multi_images_bit 0110" in body["content"][-1]["text"]
    assert [item["type"] for item in body["content"][:-1]] == ["image_url", "image_url"]


def test_a_set_a_model_cannot_take_is_refused_before_anything_is_sent(idea: Record) -> None:
    drawn = idea.step("draw set for one")
    assert any("takes at most 1" in call for call in drawn["calls"]), drawn["calls"]
    refused = idea.step("create set for one")
    assert refused["result"] == [] and "at most 1" in refused["error"], refused
    assert len(idea.bodies["create set"][1]) == len(idea.bodies["set from a picture"][1]), "nothing was created"


def test_a_set_is_made_from_one_picture(idea: Record) -> None:
    made = idea.step("set from a picture")
    assert made["result"] == ["FINISHED"] and made["views"] == ["front", "back", "left"], made
    body = idea.bodies["set from a picture"][0][-1]
    assert isinstance(body["image"], str) and body["image"].startswith("data:image/png;base64,")
    assert body["sequential_image_generation_options"] == {"max_images": 3}
    assert "front view, back view, left view" in body["prompt"]


def test_a_refused_prompt_says_why_and_keeps_the_pictures_shown(idea: Record) -> None:
    refused = idea.step("make refused")
    assert refused["result"] == [] and "InputTextSensitiveContentDetected" in refused["error"], refused
    assert "prompt" in refused["status"].lower() and refused["busy"] == ""
    assert refused["pictures"] == idea.step("set from a picture")["pictures"]


def test_disabling_releases_the_pictures(idea: Record) -> None:
    off = idea.step("disable")
    assert off["had_previews"] and off["open_after"] < off["open_before"]
    assert off["folder_was"] and not off["folder_left"] and not off["enabled"]
