"""The add-on in Chinese, in Debian's Blender 3.4 (``blender -b``, the legacy zip installed,
``zh_check.py``): labels, tooltips, run-time texts, and the ``RuntimeError`` of a failing import,
in Chinese; English again with translation off; the panel's last message and the status lines of
the Tasks browser, the Generate section and Check Connection following a switch of language.

The ``bpy`` wheels carry no translations at all (their only language is "Automatic"), so Chinese
is checked in a real Blender build.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import harness  # noqa: F401 - skips this module without bpy, which extension_zip needs
from ark_server import ArkServer

pytestmark = [pytest.mark.blender, pytest.mark.system_blender]

ZH_SCRIPT = Path(__file__).with_name("zh_check.py")
KEY = "ark-zh-" + secrets.token_hex(16)
WRONG_KEY = "ark-wrong-" + secrets.token_hex(16)
BLENDER_34 = shutil.which("blender")

LABELS = ["Check Connection", "Tasks", "Refresh Tasks", "Target Size", "Group Under an Empty", "Base at Cursor",
          "Import Options", "No API key set", "Re-download", "Delete from Ark", "Press Refresh to list your tasks"]
OPERATOR_NAMES = ["Import Ark Task", "Cancel or Delete Task", "Check Connection", "Refresh Tasks"]
TIPS = ["Scale the import so that its largest dimension is this long (0: keep the size)",
        "Cancel a queued task, or delete the record of a finished one, on Ark (the library copy is kept)"]


def message(msgid: str, **params: Any) -> dict[str, Any]:
    """A core Message in JSON, for zh_check.py to rebuild and translate in Blender."""
    return {"msgid": msgid, "params": params}


#: Texts built at run time: (the English they render to, the message).
RUNTIME_MESSAGES = [
    ("Downloading 12.3 MB / 45.6 MB (27%) · 8.1 MB/s",
     message("Downloading {done} / {total} ({percent}%) · {speed}/s", done="12.3 MB", total="45.6 MB", percent="27",
             speed="8.1 MB")),
    ("Queued · 0:42", message("{state} · {elapsed}", state=message("Queued"), elapsed="0:42")),
    ("Generating · 3:10", message("{state} · {elapsed}", state=message("Generating"), elapsed="3:10")),
    ("Extracting", message("Extracting")),
    ("Ark 3D cgt-20251124123456-abcde: working... (Esc cancels)",
     message("Ark 3D {task_id}: working... (Esc cancels)", task_id="cgt-20251124123456-abcde")),
    ("Imported cgt-20251124123456-abcde (mushroom.glb, pbr, downloaded): 2 objects, 9,788 triangles, "
     "1 material, 1 texture, 2.00 × 2.00 × 1.80 m",
     message("Imported {task_id} ({file}, {variant}, {source}): {summary}", task_id="cgt-20251124123456-abcde",
             file="mushroom.glb", variant="pbr", source=message("downloaded"),
             summary=message("{objects}, {triangles}, {materials}, {textures}, {size}",
                             objects=message("{n} objects", n="2"), triangles=message("{n} triangles", n="9,788"),
                             materials=message("{n} material", n="1"), textures=message("{n} texture", n="1"),
                             size=message("{x} × {y} × {z} m", x="2.00", y="2.00", z="1.80")))),
]
RUNTIME = [english for english, _ in RUNTIME_MESSAGES]


@pytest.fixture(scope="module")
def zh(extension_zip: Path, demo_assets: Path,
       tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if BLENDER_34 is None:
        pytest.skip("needs Debian's 'blender' (the bpy wheels have no translations)")
    legacy = next(extension_zip.parent.glob("ark3d_addon-*-legacy.zip"))
    root = tmp_path_factory.mktemp("zh")
    with ArkServer(api_key=KEY) as server:
        ids = {
            "usdz": server.add_task(file=server.add_file("seed3d_usdz.zip", demo_assets / "seed3d_usdz.zip"),
                                    fileformat="usdz"),
            "failed": server.add_task(fileformat="glb", outcome="failed",
                                      error_code="InputImageSensitiveContentDetected.PrivacyInformation",
                                      error_message="The input image may contain real-person portrait information."),
            "running": server.add_task(running_s=3600),
            "ok": server.add_task(file=server.add_file("m.zip", b"PK\x05\x06" + b"\0" * 18)),
            "obj": server.add_task(file=server.add_file("seed3d_obj.zip", demo_assets / "seed3d_obj.zip"),
                                   fileformat="obj"),
        }
        config = {
            "zip": str(legacy), "api_base": server.api_base, "key": KEY, "wrong_key": WRONG_KEY, "ids": ids,
            "labels": LABELS, "operator_names": OPERATOR_NAMES, "tips": TIPS,
            "runtime": RUNTIME_MESSAGES, "report": str(root / "report.json"), "hidden_modules": ["numpy"],
            "long_message": message("Check the task id, and that the base URL is the region where the task was "
                                    "created. Ark only keeps tasks for 7 days"),
        }
        (root / "config.json").write_text(json.dumps(config), encoding="utf-8")
        (root / "home").mkdir()
        env = {"PATH": "/usr/bin:/bin", "HOME": str(root / "home"), "LANG": "C.UTF-8",
               "ARK3D_LIBRARY": str(root / "library"), "TMPDIR": str(root)}
        proc = subprocess.run([BLENDER_34, "-b", "--factory-startup", "--python", str(ZH_SCRIPT), "--",
                               str(root / "config.json")], env=env, capture_output=True, text=True, timeout=120)
        output = proc.stdout + proc.stderr
        (root / "output.txt").write_text(output, encoding="utf-8")
        assert (root / "report.json").exists(), output[-5000:]
        report = json.loads((root / "report.json").read_text(encoding="utf-8"))
        assert not report["errors"], "".join(report["errors"]) + output[-3000:]
        usdz_downloads = sum(1 for r in server.requests_log if r.server == "file" and "seed3d_usdz" in r.path)
        yield {**report, "output": output, "ids": ids, "usdz_downloads": usdz_downloads}


def test_chinese_labels_tooltips_and_operator_names(zh: dict[str, Any]) -> None:
    assert zh["install"] == {"result": ["FINISHED"], "enabled": True}
    assert zh["locale"] == "zh_CN"
    assert zh["iface"]["Check Connection"] == "检查连接"
    assert zh["iface"]["Target Size"] == "目标尺寸"
    assert zh["iface"]["Press Refresh to list your tasks"] == "点击刷新以列出您的任务"
    for english, chinese in {**zh["iface"], **zh["operator_names"], **zh["tips"]}.items():
        assert re.search(r"[\u4e00-\u9fff]", chinese), (english, chinese)
    assert zh["operator_names"]["Cancel or Delete Task"] == "取消或删除任务"
    assert zh["tips"][TIPS[0]].startswith("缩放导入的模型")


def test_chinese_progress_texts_and_reports_built_at_run_time(zh: dict[str, Any]) -> None:
    runtime = zh["runtime"]
    assert runtime[RUNTIME[0]] == "下载中 12.3 MB / 45.6 MB (27%) · 8.1 MB/s"
    assert runtime[RUNTIME[1]] == "排队中 · 0:42"
    assert runtime[RUNTIME[2]] == "生成中 · 3:10"
    assert runtime[RUNTIME[3]] == "解压中"
    assert runtime[RUNTIME[4]] == "Ark 3D cgt-20251124123456-abcde：处理中……（按 Esc 取消）"
    assert runtime[RUNTIME[5]] == ("已导入 cgt-20251124123456-abcde（mushroom.glb，pbr，已下载）："
                                   "2 个物体，9,788 个三角面，1 个材质，1 张贴图，2.00 × 2.00 × 1.80 米")
    assert zh["ages"] == ["2 分钟", "2 小时", "3 天"]
    wrapped = zh["wrapped"]
    assert wrapped["text"].startswith("请检查任务 ID，以及基础 URL") and len(wrapped["lines"]) > 2
    assert max(wrapped["widths"]) <= 24
    assert "".join(wrapped["lines"]).replace(" ", "") == wrapped["text"].replace(" ", "")


def test_a_failing_import_raises_in_chinese(zh: dict[str, Any]) -> None:
    failed = zh["failed_import"]
    assert failed["result"] == [] and failed["error"], failed
    text = failed["error"]
    assert "方舟无法生成此模型：输入图片可能包含真人肖像信息" in text, text
    assert "错误码 InputImageSensitiveContentDetected.PrivacyInformation" in text, text
    assert "方舟的内容审核拒绝了输入图片：请换一张图片" in text, text
    invalid = zh["invalid_id"]["error"]
    assert "输入的文字不是有效的方舟任务 ID" in invalid and "任务 ID 形如" in invalid, invalid
    bad_key = zh["bad_key_import"]["error"]
    assert "API 密钥缺失或无效" in bad_key and "HTTP 401" in bad_key and "请求 ID" in bad_key, bad_key
    assert WRONG_KEY not in bad_key
    running = zh["cancel_running"]["error"]
    assert f"任务 {zh['ids']['running']} 正在运行，无法取消" in running, running
    check = zh["check_bad_key"]["error"]
    assert "连接检查在“身份验证”一步失败：API 密钥缺失或无效（HTTP 401，错误码 AuthenticationError" in check, check
    assert "请检查 API 密钥。请在 编辑 > 偏好设置" in check, check


def test_chinese_messages_of_an_empty_result_and_a_refresh(zh: dict[str, Any]) -> None:
    assert zh["refresh"]["result"] == ["FINISHED"]
    ids = zh["ids"]
    assert [r[0] for r in zh["browser_rows"]] == [ids["obj"], ids["ok"], ids["running"], ids["failed"], ids["usdz"]]
    empty = zh["empty_result"]  # the served zip is empty on purpose: an error of the core, in Chinese
    assert empty["result"] == [] and "结果压缩包为空" in empty["error"], empty
    assert zh["last_message"] in empty["error"]


def _drawn(labels: list[str]) -> str:
    """The panel's label texts as one string without spaces (a wrapped message's lines joined)."""
    return "".join(labels).replace(" ", "")


def test_the_panel_message_follows_a_switch_of_blenders_language(zh: dict[str, Any]) -> None:
    """The panel keeps its last message as what it says and renders it as it draws: switching
    Blender's language changes the text drawn at once, with no new job.  An error (a failed import,
    in English, then Chinese, then English), and a run's summary, a message of messages."""
    error = zh["language_switch"]["error"]
    assert error["import"]["result"] == [] and "Ark could not generate this model" in error["import"]["error"], error
    english, chinese = _drawn(error["en"]), _drawn(error["zh"])
    assert "Arkcouldnotgeneratethismodel" in english and "方舟无法生成此模型" not in english, error["en"]
    assert "方舟无法生成此模型" in chinese and "错误码InputImageSensitiveContentDetected.PrivacyInformation" in chinese
    assert "Arkcouldnotgeneratethismodel" not in chinese, error["zh"]
    assert error["en_again"] == error["en"], error

    summary = zh["language_switch"]["summary"]
    assert summary["import"]["result"] == ["FINISHED"], summary
    chinese, english = _drawn(summary["zh"]), _drawn(summary["en"])
    assert f"已导入2个任务中的1个：{zh['ids']['obj']}1个失败" in chinese, summary["zh"]
    assert f"Imported1of2tasks:{zh['ids']['obj']}1failed" in english and "已导入" not in english, summary["en"]
    assert summary["zh_again"] == summary["zh"], summary


def test_the_status_lines_follow_a_switch_of_blenders_language(zh: dict[str, Any]) -> None:
    """The Tasks browser's status line, the Generate section's and Check Connection's report are
    kept as what they say and rendered as they draw: after a refresh, a model list refresh and a
    connection check with a wrong key, a check with a base URL that is none, and a model list
    read (a message of messages: the models offered, those retiring), switching Blender's
    language changes what each draws at once, and switching back restores it."""
    shown = zh["language_switch"]["status_lines"]
    assert shown["refresh"]["result"] == ["FINISHED"], shown["refresh"]
    assert shown["models"]["result"] == ["CANCELLED"] and shown["check"]["result"] == [], shown
    assert shown["models_read"]["result"] == ["FINISHED"], shown["models_read"]
    assert shown["bad_url"]["result"] == [] and "not a web address" in shown["bad_url"]["error"], shown["bad_url"]
    refused = "TheAPIkeyorAK/SKintherequestismissingorinvalid(HTTP401,codeAuthenticationError"  # Ark's words
    explained = "API密钥缺失或无效（HTTP401，错误码AuthenticationError"  # its code's explanation
    expected = {  # each line: (English, Chinese) it holds
        "browser": ("Onlythelibraryisshown:" + refused, "仅显示本地库：" + explained),
        "generate": ("Ark'smodellistcouldnotberead,thebuilt-inlistisshown:" + refused,
                     "无法读取方舟的模型列表，显示内置列表：" + explained),
        "checks": ("Authentication" + refused, "Authentication" + explained),  # (Blender translates the name)
        "offered": ("3Dmodels·retiring:", "个3D模型·即将下线："),  # (counts and names: the server's catalog)
        "connection_error": ("TheArkbaseURLisnotawebaddress(itmuststartwithhttps://)",
                             "方舟基础URL不是网址（必须以https://开头）"),
    }
    for line, (english, chinese) in expected.items():
        drawn = shown[line]
        assert english in _drawn(drawn["en"]) and chinese not in _drawn(drawn["en"]), (line, drawn["en"])
        assert chinese in _drawn(drawn["zh"]) and english not in _drawn(drawn["zh"]), (line, drawn["zh"])
        assert drawn["en_again"] == drawn["en"], (line, drawn)
    assert WRONG_KEY not in json.dumps(shown)


def test_english_stays_the_source(zh: dict[str, Any]) -> None:
    english = zh["english"]
    assert english["iface"] == {m: m for m in LABELS[:3]}, "translation switched off"
    assert english["runtime"] == {m: m for m in RUNTIME[:2]}
    assert "Ark could not generate this model" in english["failed_import"]["error"]
    assert "Ark could not generate this model" in zh["en_us_failed_import"]["error"]
    assert zh["after_disable"] == {m: m for m in LABELS[:3]}, "disabling unregisters the translations"
    assert "Traceback" not in zh["output"], zh["output"][-3000:]


def test_formats_this_blender_cannot_import_are_said_before_trying(zh: dict[str, Any]) -> None:
    """Debian's Blender 3.4 is built without USD, and numpy (its glTF importer needs it) is hidden
    from it, whether the host installed python3-numpy or not: the browser refuses a USDZ task before
    downloading anything, and the import says why, in Chinese, with what to do; OBJ stays importable."""
    problems = zh["format_problems"]
    assert problems["obj"] is None, problems
    assert problems["usdz"][0] == "FormatNotSupported" and "未包含 USD 支持" in problems["usdz"][1], problems
    assert "blender.org" in problems["usdz"][1], problems
    assert problems["glb"][0] == "FormatNotSupported" and "numpy" in problems["glb"][1], problems
    refused = zh["usdz_browser_import"]
    assert refused["result"] == [] and "未包含 USD 支持" in refused["error"], refused
    imported = zh["usdz_import"]
    assert imported["result"] == [] and "未包含 USD 支持" in imported["error"], imported
    assert "Traceback" not in imported["error"] and "wm.usd_import" not in imported["error"], imported
    assert zh["usdz_downloads"] == 1, "only the import downloads the result (kept in the library), not the browser"


def test_import_options_without_numpy(zh: dict[str, Any]) -> None:
    """numpy hidden from Debian's Blender 3.4: the bounds and the triangle count take their pure-Python paths."""
    assert zh["numpy"] is False, "numpy was to be hidden from this Blender (zh_check.py, hidden_modules)"
    assert zh["options_import"]["result"] == ["FINISHED"], zh["options_import"]
    measured = zh["options_measured"]
    lo, hi = measured["lo"], measured["hi"]
    assert max(h - low for low, h in zip(lo, hi, strict=True)) == pytest.approx(0.5, abs=1e-4)
    assert [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]] == pytest.approx([1.0, 2.0, 3.0], abs=1e-4)
    assert measured["empty"] == [zh["ids"]["obj"]]
    assert f"{measured['triangles']:,} 个三角面" in measured["message"], measured
    assert re.search(r"：\d+ 个物体，[\d,]+ 个三角面，\d+ 个材质，\d+ 张贴图，[\d.]+ × [\d.]+ × [\d.]+ 米",
                     measured["message"]), measured["message"]
