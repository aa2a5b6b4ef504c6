"""A lock on the door: the chat on any address but 127.0.0.1 needs a login, or an explicit --no-auth.

The login itself is Gradio's (`launch(auth=...)`), tested here on a real server over the fake
pipeline: without the login neither the page's API nor `/chat` answers; with it, both do."""
from __future__ import annotations

import shutil
import types

import pytest

from rag import cli
from rag.config import Settings
from rag.errors import BadInput
from rag.pipeline import Pipeline
from ui import app as ui_app
from ui.app import logins

from .fakes import ScriptedGenerator, WordOverlapEmbedder
from .test_ui_load import HOST, ROOT, free_port


def test_loopback_needs_nothing():
    assert logins("127.0.0.1", environ={}) is None
    assert logins("localhost", environ={}) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_any_other_address_refuses_without_a_login(host):
    with pytest.raises(BadInput, match=f"refusing to serve the chat on {host} without a login"):
        logins(host, environ={})
    assert logins(host, no_auth=True, environ={}) is None


def test_logins_come_from_the_flag_a_file_or_the_environment(tmp_path):
    users = tmp_path / "users"
    users.write_text("# readers\nanna:tajne:haslo\n\npiotr:x\n", encoding="utf-8")
    assert logins("0.0.0.0", auth="ola:pw", environ={}) == [("ola", "pw")]
    assert logins("0.0.0.0", auth_file=users, environ={}) == [("anna", "tajne:haslo"), ("piotr", "x")]
    assert logins("0.0.0.0", environ={"RAG_AUTH": "a:1, b:2"}) == [("a", "1"), ("b", "2")]
    assert logins("127.0.0.1", environ={"RAG_AUTH": "a:1"}) == [("a", "1")]     # a login is honoured anywhere
    for bad in ("bob", ":pw", "bob:"):
        with pytest.raises(BadInput, match="USER:PASSWORD"):
            logins("0.0.0.0", auth=bad, environ={})
    with pytest.raises(BadInput, match="cannot read the users file"):
        logins("0.0.0.0", auth_file=tmp_path / "missing", environ={})
    with pytest.raises(BadInput, match="contradicts"):
        logins("0.0.0.0", auth="a:b", no_auth=True, environ={})


def test_exposed_chat_without_a_login_refuses_to_start(monkeypatch, capsys):
    monkeypatch.delenv("RAG_AUTH", raising=False)
    started = []
    monkeypatch.setattr(ui_app, "launch", lambda *a, **k: started.append(1))
    assert cli.main(["chat", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: refusing to serve the chat on 0.0.0.0") and "\n" not in err
    assert not started, "nothing may load or listen before the refusal"
    assert cli.main(["chat", "--host", "0.0.0.0", "--auth", "ola:pw"]) == 0
    assert cli.main(["chat", "--host", "0.0.0.0", "--no-auth"]) == 0 and len(started) == 2


def test_launch_hands_the_logins_to_gradio(monkeypatch):
    seen = {}

    class FakeApp:
        def queue(self, *args, **kwargs):
            return self

        def launch(self, **kwargs):
            seen.update(kwargs)

    monkeypatch.setattr("rag.pipeline.Pipeline", lambda settings: types.SimpleNamespace(index=lambda **k: None,
                                                                                      warm=lambda: 0.0))
    monkeypatch.setattr("rag.doctor.require_generation", lambda settings: types.SimpleNamespace(line="ok"))
    monkeypatch.setattr(ui_app, "create_app", lambda settings, pipeline_factory=None, read_only=False: FakeApp())
    ui_app.launch(Settings(), host="0.0.0.0", auth=[("ola", "pw")])
    assert seen["auth"] == [("ola", "pw")] and seen["server_name"] == "0.0.0.0"


def test_a_real_server_with_a_login_answers_only_after_it(tmp_path):
    import httpx
    from gradio_client import Client

    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    settings = Settings(seeds_dir=tmp_path / "seeds", index_dir=tmp_path / "index", translate_query=False)
    reply = "Rosja chce zatrudnić 12 tys. pracowników z Korei Północnej w Tatarstanie [1]."
    pipeline = Pipeline(settings, embedder=WordOverlapEmbedder(), generator=ScriptedGenerator([reply] * 5))
    pipeline.index()
    app = ui_app.create_app(settings, pipeline_factory=lambda s: pipeline)
    port = free_port()
    app.queue().launch(server_name=HOST, server_port=port, prevent_thread_lock=True, quiet=True,
                       auth=[("ola", "tajne")])
    url = f"http://{HOST}:{port}/"
    try:
        assert httpx.get(url + "gradio_api/info").status_code == 401
        with pytest.raises(Exception):
            Client(url, verbose=False)
        with pytest.raises(Exception):
            Client(url, auth=("ola", "zle"), verbose=False)
        out = Client(url, auth=("ola", "tajne"), verbose=False).predict(
            "Ilu pracowników z Korei Północnej Rosja chce zatrudnić w Tatarstanie?", api_name="/chat")
        assert "12" in out["answer"]
    finally:
        app.close()
