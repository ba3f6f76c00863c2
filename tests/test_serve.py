"""The dev server over real HTTP on 127.0.0.1: pages, live reload, error page, recovery, Ctrl-C."""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup

from digest.memo import BUNDLED

REPO = Path(__file__).resolve().parent.parent

WAIT = 15.0  # upper bound for any one step; steps normally take well under a second


@dataclass
class Server:
    process: subprocess.Popen[str]
    host: str
    port: int
    base: str
    site: Path
    stderr: list[str]
    stderr_reader: threading.Thread
    stdout: queue.Queue[str]  # the lines printed after "Serving ..."

    def terminal(self) -> str:
        """Everything the server printed on stderr, once it has exited."""
        self.stderr_reader.join(timeout=WAIT)
        return "".join(self.stderr)

    def get(self, path: str, method: str = "GET") -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=WAIT)
        try:
            conn.request(method, path)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode("utf-8")
        finally:
            conn.close()

    def events(self) -> Events:
        return Events(self)


class Events:
    """A client of the reload stream, as the page's EventSource would be."""

    def __init__(self, server: Server) -> None:
        self.conn = http.client.HTTPConnection(server.host, server.port, timeout=WAIT)
        self.conn.request("GET", "/__digest__/events")
        self.response = self.conn.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("Content-Type") == "text/event-stream"

    def next(self) -> int:
        """The build number of the next reload event (comments are keep-alives)."""
        kind, data = "", ""
        deadline = time.monotonic() + WAIT  # keep-alives come every 10 s: a reload that never comes fails, not hangs
        while True:
            assert time.monotonic() < deadline, "no reload event came"
            line = self.response.readline().decode("utf-8")
            if not line:
                raise AssertionError("the event stream closed")
            line = line.rstrip("\n")
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                data = line.split(":", 1)[1].strip()
            elif line == "" and data:
                assert kind == "reload"
                return int(data)

    def close(self) -> None:
        self.conn.close()


def save(path: Path, text: str) -> None:
    """Save as editors do: write a temporary file, then rename it over the old one."""
    temp = path.parent.parent.parent / f".{path.name}.saving"
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


@pytest.fixture
def serve(copy_site: Callable[[str], Path]) -> Iterator[Server]:
    site = copy_site("authoring")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "serve", "--port", "0", "--source", str(site)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=site,
    )
    lines: queue.Queue[str] = queue.Queue()
    stderr: list[str] = []
    assert process.stdout is not None and process.stderr is not None
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()  # type: ignore[union-attr]
    reader = threading.Thread(target=lambda: [stderr.append(line) for line in process.stderr], daemon=True)  # type: ignore[union-attr]
    reader.start()
    url = ""
    try:
        while not url:
            line = lines.get(timeout=WAIT)
            if line.startswith("Serving "):
                url = line.split()[1]
        parts = urlsplit(url)
        assert parts.hostname and parts.port
        yield Server(process, parts.hostname, parts.port, parts.path, site, stderr, reader, lines)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for_page(server: Server, events: Events, path: str, check: Callable[[int, str], bool]) -> tuple[int, str]:
    """Follow reload events until the page at *path* passes *check* (bounded)."""
    deadline = time.monotonic() + WAIT
    while True:
        status, _, body = server.get(path)
        if check(status, body):
            return status, body
        assert time.monotonic() < deadline, f"{path} never changed; last status {status}"
        events.next()


def test_serves_the_site_under_its_base_path_with_the_reload_script(serve: Server) -> None:
    assert serve.base == "/digest/"
    status, headers, body = serve.get("/digest/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    page = BeautifulSoup(body, "html.parser")
    assert page.h1 is not None or page.title is not None
    links = [a["href"] for a in page.find_all("a", href=True)]
    assert "/digest/policy/eu-rules/" in links
    [script] = page.select("script[src='/__digest__/reload.js']")
    assert script.parent is not None and script.parent.name == "body"
    status, headers, code = serve.get("/__digest__/reload.js")
    assert status == 200 and "javascript" in headers["content-type"] and "EventSource" in code

    status, headers, _ = serve.get("/")
    assert status == 302 and headers["location"] == "/digest/"
    status, _, css = serve.get("/digest/static/css/site.css")
    assert status == 200 and "EventSource" not in css
    status, _, missing = serve.get("/digest/no-such-page/")
    assert status == 404 and "/__digest__/reload.js" in missing
    for path, kind in (("/digest/", "text/html"), ("/__digest__/reload.js", "text/javascript"), ("/__digest__/events", "text/event-stream")):
        status, headers, nothing = serve.get(path, "HEAD")  # what a link checker asks: the headers a GET would have
        assert (status, headers["content-type"].split(";")[0], nothing) == (200, kind, ""), path
    for odd in ("/digest/%00", "/digest/policy/%00x/", "/digest/a%1bb"):  # a bad request, not a traceback
        status, _, _ = serve.get(odd)
        assert status == 400, odd
    # A page on another site whose name resolves to 127.0.0.1 (DNS rebinding) gets nothing.
    conn = http.client.HTTPConnection(serve.host, serve.port, timeout=WAIT)
    try:
        conn.request("GET", "/digest/", headers={"Host": f"attacker.example:{serve.port}"})
        assert conn.getresponse().status == 421
    finally:
        conn.close()
    for host in (f"localhost:{serve.port}", f"127.0.0.1:{serve.port}"):
        conn = http.client.HTTPConnection(serve.host, serve.port, timeout=WAIT)
        try:
            conn.request("GET", "/digest/", headers={"Host": host})
            assert conn.getresponse().status == 200, host
        finally:
            conn.close()
    # The reload script exists only in served responses; the site folder gets no build output.
    assert not (serve.site / "_site").exists()


def test_an_edit_is_served_and_reaches_a_connected_page(serve: Server) -> None:
    events = serve.events()
    first = events.next()
    article = serve.site / "content/policy/eu-rules.md"
    save(article, article.read_text(encoding="utf-8").replace("The Commission published the rules.", "The Commission rewrote the rules overnight."))
    assert events.next() > first  # a reload event reaches the open page
    _, body = wait_for_page(serve, events, "/digest/policy/eu-rules/", lambda status, body: "rewrote the rules overnight" in body)
    assert BeautifulSoup(body, "html.parser").find(string=lambda s: s is not None and "rewrote the rules overnight" in s)
    events.close()


def test_the_search_index_follows_an_edit_once_saves_pause(serve: Server) -> None:
    def index_hash() -> str:  # Pagefind names the index of each language by a hash of what it holds
        status, _, body = serve.get("/digest/pagefind/pagefind-entry.json")
        return str(json.loads(body)["languages"]["en"]["hash"]) if status == 200 else ""

    deadline = time.monotonic() + WAIT
    while not (before := index_hash()):  # the first build's index is made beside the served pages
        assert time.monotonic() < deadline, "the first search index was never served"
        time.sleep(0.1)
    article = serve.site / "content/policy/eu-rules.md"
    save(article, article.read_text(encoding="utf-8").replace("The Commission published the rules.", "The Commission added quantumfoxtrot."))
    deadline = time.monotonic() + WAIT
    while index_hash() == before:
        assert time.monotonic() < deadline, "the search index never took the edit in"
        time.sleep(0.1)


def test_a_broken_edit_shows_the_error_page_and_a_fix_recovers(serve: Server) -> None:
    events = serve.events()
    events.next()
    article = serve.site / "content/policy/eu-rules.md"
    good = article.read_text(encoding="utf-8")
    save(article, good.replace("confidence: 85", "confidence: 850"))  # line 9 of the file
    _, body = wait_for_page(serve, events, "/digest/policy/eu-rules/", lambda status, body: status == 500)
    page = BeautifulSoup(body, "html.parser")
    listed = [li.get_text(" ", strip=True) for li in page.select("ul.problems li")]
    assert any("content/policy/eu-rules.md:9: confidence: expected a score from 0 to 100, found 850" in item for item in listed), listed
    assert page.select("script[src='/__digest__/reload.js']")  # so the fix reloads it
    assert serve.process.poll() is None  # still serving

    save(article, good)
    _, body = wait_for_page(serve, events, "/digest/policy/eu-rules/", lambda status, body: status == 200)
    assert "EU publishes rules" in BeautifulSoup(body, "html.parser").h1.get_text()  # type: ignore[union-attr]
    events.close()
    serve.process.send_signal(signal.SIGINT)
    assert serve.process.wait(timeout=WAIT) == 0
    terminal = serve.terminal()
    assert "content/policy/eu-rules.md:9: error: confidence: expected a score from 0 to 100, found 850" in terminal


def test_ctrl_c_stops_the_server_cleanly(serve: Server) -> None:
    assert serve.get("/digest/")[0] == 200
    serve.process.send_signal(signal.SIGINT)
    code = serve.process.wait(timeout=WAIT)
    terminal = serve.terminal()
    assert code == 0, (code, terminal)
    assert "Stopped." in terminal and "Traceback" not in terminal


def test_a_broken_site_yaml_shows_its_line_and_keeps_the_base_path(serve: Server) -> None:
    events = serve.events()
    events.next()
    settings = serve.site / "site.yaml"
    good = settings.read_text(encoding="utf-8")
    save_settings = settings.parent / ".site.yaml.saving"
    save_settings.write_text(good.replace("timezone: Europe/Paris", "timezone: Mars/Olympus"), encoding="utf-8")
    os.replace(save_settings, settings)
    _, body = wait_for_page(serve, events, "/digest/", lambda status, body: status == 500)
    listed = [li.get_text(" ", strip=True) for li in BeautifulSoup(body, "html.parser").select("ul.problems li")]
    assert any(item.startswith("error site.yaml:3: timezone: expected an IANA time zone") for item in listed), listed
    events.close()


def test_every_save_of_site_yaml_and_a_templates_folder_made_while_serving_are_seen(serve: Server) -> None:
    """An editor's save replaces site.yaml (a new file renamed over it), which a watch of the old file never sees again."""
    events = serve.events()
    events.next()
    settings = serve.site / "site.yaml"
    for title in ("First Title", "Second Title", "Third Title"):
        temporary = settings.parent / ".site.yaml.saving"
        temporary.write_text(re.sub(r"(?m)^title: .*$", f"title: {title}", settings.read_text(encoding="utf-8")), encoding="utf-8")
        os.replace(temporary, settings)
        wait_for_page(serve, events, "/digest/", lambda status, body, title=title: status == 200 and f"<title>{title}" in body)  # type: ignore[misc]
    # A new base path moves the site: the terminal says where it is served now.
    temporary = settings.parent / ".site.yaml.saving"
    temporary.write_text(re.sub(r"(?m)^base_url: .*$", "base_url: https://example.org/moved/", settings.read_text(encoding="utf-8")), encoding="utf-8")
    os.replace(temporary, settings)
    wait_for_page(serve, events, "/moved/", lambda status, body: status == 200)
    said = [serve.stdout.get(timeout=WAIT)]
    while not said[-1].startswith("Serving "):
        said.append(serve.stdout.get(timeout=WAIT))
    assert said[-1] == f"Serving http://{serve.host}:{serve.port}/moved/ now\n", said
    footer = serve.site / "templates" / "_footer.html"  # the site had no templates/ when the server started
    footer.parent.mkdir()
    footer.write_text(
        (BUNDLED / "templates" / "_footer.html").read_text(encoding="utf-8").replace("</footer>", "<p>Made while serving</p></footer>"), encoding="utf-8"
    )
    wait_for_page(serve, events, "/moved/", lambda status, body: "Made while serving" in body)
    events.close()


def test_odd_paths_get_a_not_found_page_not_a_dropped_connection(serve: Server) -> None:
    for path in ("/digest/" + "a" * 300, "/digest/" + "b/" * 3000, "/digest/feed.xml/", "/digest/index.html/"):
        status, _, body = serve.get(path)
        assert status == 404 and "/__digest__/reload.js" in body, path[:40]
    assert serve.get("/digest/feed.xml")[0] == 200


def test_a_port_in_use_is_said_before_the_site_is_built(copy_site: Callable[[str], Path]) -> None:
    import socket

    site = copy_site("minimal")
    (site / "content/policy/broken.md").write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")  # a build would report it
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = subprocess.run([sys.executable, str(REPO / "build.py"), "serve", "-s", str(site), "--port", port], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and f"cannot serve on 127.0.0.1:{port}" in done.stderr and "broken.md" not in done.stderr, done.stderr
