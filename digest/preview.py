"""The dev server behind ``serve``: build, serve, watch, rebuild, reload the browser.

In: ``BuildOptions``. Out: HTTP on a local port, under the site's ``base_url``
path, so a sub-path site previews as it is deployed. The site is built into a
private temporary folder with one :class:`~digest.memo.Memo` for the server's
life, so a rebuild after a save renders only the pages whose inputs changed.
Open pages hold a server-sent-events connection and reload when a build
finishes (the script is added to HTML as it is served, never to the built
files). A failed build keeps the server up: HTML requests get a page listing
``path:line: message``.
"""

from __future__ import annotations

import contextlib
import functools
import html
import mimetypes
import shutil
import socket
import sys
import tempfile
import threading
import traceback
from collections.abc import Generator
from dataclasses import dataclass, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import watchfiles

from .config import load_config
from .errors import ContentError, DigestError, Problem, error
from .memo import NO_MEMO, Memo
from .options import BuildOptions
from .search import Cancelled
from .site import build_site
from .terminal import Reporter, count_text, located_problem, some_of, summary

EVENTS_PATH = "/__digest__/events"
SCRIPT_PATH = "/__digest__/reload.js"
KEEPALIVE_SECONDS = 10.0
WATCHED = ("content", "templates", "static", "root", "site.yaml")
WAKE_MS = 300  # the watcher yields at least this often, so its first yield says it is ready
INDEX_AFTER_SECONDS = 1.0  # the index is made once saves pause this long: a browser's reload and the next save come first


@dataclass(frozen=True)
class Snapshot:
    """What the server shows right now; replaced whole after every build."""

    generation: int  # bumped by every build, good or bad
    folder: Path | None  # the last good build, if any
    base_path: str  # "/" or "/digest/"
    problems: tuple[Problem, ...] = ()  # of a failed build (a ContentError has an error): serve the error page


class PreviewState:
    """The current snapshot, shared by the builder and the request threads."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.snapshot = Snapshot(0, None, "/")
        self.stopping = False

    def publish(self, snapshot: Snapshot) -> None:
        with self.changed:
            self.snapshot = snapshot
            self.changed.notify_all()

    def wait_for(self, generation: int, timeout: float) -> Snapshot:
        """The snapshot once its generation differs from *generation* (or on timeout/stop)."""
        with self.changed:
            self.changed.wait_for(lambda: self.stopping or self.snapshot.generation != generation, timeout)
            return self.snapshot

    def stop(self) -> None:
        self.stopping = True
        self.publish(self.snapshot)  # wakes the event streams


RELOAD_JS = (
    "(function(){var me=document.currentScript;var shown=Number(me.dataset.generation);"
    'var events=new EventSource("' + EVENTS_PATH + '");'
    'events.addEventListener("reload",function(e){if(Number(e.data)!==shown){events.close();location.reload();}});'
    "})();\n"
).encode("utf-8")


def inject_reload(page: bytes, generation: int) -> bytes:
    """*page* with the script that reloads it when a build newer than *generation* finishes."""
    # An external script from the server's own origin, so a page whose CSP allows only 'self' scripts still reloads.
    script = f'<script src="{SCRIPT_PATH}" data-generation="{generation}"></script>'.encode()
    at = page.rfind(b"</body>")
    return page + script if at < 0 else page[:at] + script + page[at:]


def error_page(problems: tuple[Problem, ...], generation: int) -> bytes:
    """An HTML page listing every problem as ``path:line: message`` (escaped)."""
    items = [
        f'<li class="{p.severity.value}"><span class="severity">{p.severity.value}</span> '
        f"<code>{html.escape(f'{p.path}:{p.line}' if p.line else p.path)}: {html.escape(p.message)}</code></li>"
        for p in sorted(problems)
    ]
    body = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Build failed</title>\n'
        "<style>body{font:16px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1a1a1a}"
        "h1{color:#a40000}li{margin:.5rem 0}code{white-space:pre-wrap;font-size:.95rem}"
        ".severity{display:inline-block;min-width:5rem;font-weight:bold}.error .severity{color:#a40000}.warning .severity{color:#7a4d00}</style>\n"
        "</head>\n<body>\n<main>\n<h1>The site did not build</h1>\n"
        f"<p>{html.escape(count_text(problems))}. Fix the file and save: this page reloads by itself.</p>\n"
        f'<ul class="problems">\n{chr(10).join(items)}\n</ul>\n</main>\n</body>\n</html>\n'
    )
    return inject_reload(body.encode("utf-8"), generation)


class PreviewHandler(BaseHTTPRequestHandler):
    """Serves the last good build under its base path, the error page, and reload events."""

    state: PreviewState  # set on the subclass made by run_preview
    server_version = "digest-serve"
    timeout = 30  # seconds a connection may sit without sending or taking anything: a half-sent request is dropped

    def allowed_host(self) -> bool:
        """On a loopback address, only requests naming it (or localhost): a page elsewhere that points its own name at 127.0.0.1 (DNS rebinding) gets nothing."""
        address = self.server.server_address
        bound = str(address[0]) if isinstance(address, tuple) else ""
        if bound not in ("127.0.0.1", "::1"):
            return True  # served on purpose to a network: its names are not ours to know
        host = self.headers.get("Host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name in ("127.0.0.1", "localhost", "[::1]")

    def log_message(self, format: str, *args: object) -> None:  # quiet: the terminal is for build output
        pass

    def do_GET(self) -> None:
        if not self.allowed_host():
            self.send_page(HTTPStatus.MISDIRECTED_REQUEST, b"this server answers only to 127.0.0.1 and localhost", "text/plain")
            return
        path = unquote(urlsplit(self.path).path)
        snap = self.state.snapshot
        base, rel = snap.base_path, path[len(snap.base_path) :]
        if any(ord(ch) < 32 or ch == "\x7f" for ch in path):  # "%00" and the like: no file has such a name
            self.send_page(HTTPStatus.BAD_REQUEST, b"bad request: control character in the path", "text/plain")
        elif path == EVENTS_PATH and self.command == "GET":
            self.stream_events()
        elif path == EVENTS_PATH:  # HEAD: the stream's headers, without waiting for its events
            self.send_page(HTTPStatus.OK, b"", "text/event-stream")
        elif path == SCRIPT_PATH:
            self.send_page(HTTPStatus.OK, RELOAD_JS, "text/javascript")
        elif not path.startswith(base) and base.startswith(path):  # "/", or the base path without its last "/": go to the site
            self.redirect(base)
        elif not path.startswith(base):
            self.send_page(HTTPStatus.NOT_FOUND, self.not_found(snap, f"This site is served under {base}"), "text/html")
        elif snap.problems and (rel.endswith(".html") or "." not in rel.rsplit("/", 1)[-1]):  # a page, not a file it uses
            self.send_page(HTTPStatus.INTERNAL_SERVER_ERROR, error_page(snap.problems, snap.generation), "text/html")
        else:
            self.send_file(snap, path, rel)

    do_HEAD = do_GET  # send_page leaves out the body

    def send_file(self, snap: Snapshot, path: str, rel: str) -> None:
        target = self.find_file(snap, rel)
        if target is None:
            self.send_page(HTTPStatus.NOT_FOUND, self.not_found(snap, f"No page at {path}"), "text/html")
            return
        if target.is_dir():
            self.redirect(path + "/")
            return
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        try:
            data = target.read_bytes()
        except OSError:  # swapped away by a rebuild mid-request
            self.send_page(HTTPStatus.SERVICE_UNAVAILABLE, b"rebuilding, try again", "text/plain")
            return
        self.send_page(HTTPStatus.OK, inject_reload(data, snap.generation) if kind == "text/html" else data, kind)

    def find_file(self, snap: Snapshot, rel: str) -> Path | None:
        if snap.folder is None:
            return None
        root = snap.folder.resolve()
        try:
            target = (root / rel).resolve()
            if not target.is_relative_to(root) or (rel.endswith("/") and not target.is_dir()):  # "/feed.xml/": no file, as a static host says
                return None
            if target.is_dir() and (rel == "" or rel.endswith("/")):
                target = target / "index.html"
            return target if target.exists() else None
        except OSError:  # a name too long for the file system, say: no such file either
            return None

    def not_found(self, snap: Snapshot, text: str) -> bytes:
        if snap.folder and (snap.folder / "404.html").is_file():
            return inject_reload((snap.folder / "404.html").read_bytes(), snap.generation)
        body = f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Not found</title></head><body><p>{html.escape(text)}</p></body></html>\n'
        return inject_reload(body.encode("utf-8"), snap.generation)

    def redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.FOUND)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send_page(self, status: HTTPStatus, data: bytes, kind: str) -> None:
        self.send_response(status)
        charset = "; charset=utf-8" if kind.startswith("text/") or kind in ("application/json", "application/xml") else ""
        self.send_header("Content-Type", kind + charset)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def stream_events(self) -> None:
        """Server-sent events: the current build's number now, then each new one."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        shown = -1  # no build yet: the first wait returns at once
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the page went away
            while not self.state.stopping:
                generation = self.state.wait_for(shown, KEEPALIVE_SECONDS).generation
                self.wfile.write(f"event: reload\ndata: {generation}\n\n".encode() if generation != shown else b": keep-alive\n\n")
                self.wfile.flush()
                shown = generation
        self.close_connection = True


class PreviewServer(ThreadingHTTPServer):
    """One thread a request, on IPv4 or IPv6 (``--host ::1``) as the host is written."""

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that stops a download (a reload, a click) is no error to print; anything else is."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def rebuild(options: BuildOptions, memo: Memo, report: Reporter, state: PreviewState) -> bool:
    """Build once and publish the snapshot; on failure keep the last good folder and show the problems.

    True when the pages are published but not yet the search index (:class:`Indexer`).
    """
    previous = state.snapshot
    config, config_problems = load_config(options.source)
    base_path = previous.base_path if previous.generation and any(p.is_error for p in config_problems) else config.base_path
    report.begin()
    problems: list[Problem] = []
    try:
        result = build_site(options, report.progress, memo, check_unchanged=False, search_later=True)  # on a change: no stamps to compare
    except ContentError as exc:
        problems = list(exc.problems)
    except DigestError as exc:  # a template error or an unusable folder
        problems = [located_problem(str(exc))]
    except Exception as exc:  # a bug: keep serving, say so, show where with --debug
        problems = [error("build", 0, f"internal error: {type(exc).__name__}: {exc}")]
        traceback.print_exc(file=report.err)
    report.finish()
    if problems:  # a failed build has at least one error
        report.problems(problems)
        print(f"Build failed: {count_text(problems)}; the browser shows them until they are fixed", file=report.err, flush=True)
    else:
        report.problems(result.warnings)
        report.info(summary(result))
    state.publish(Snapshot(previous.generation + 1, previous.folder if problems else result.output, base_path, tuple(sorted(problems))))
    return not problems and result.search_pending


class Indexer:
    """The search index that :func:`rebuild` left for later, made beside the watch loop once the pages are served.

    At most one at a time (it shares the build's memo); it waits for :data:`INDEX_AFTER_SECONDS` without a save
    first, so the browser's reload is not slowed by it, and a save gives it up, so the save's pages are not kept
    waiting for it, and the next build's is made instead.
    """

    def __init__(self, options: BuildOptions, memo: Memo, report: Reporter) -> None:
        self.options, self.memo, self.report = options, memo, report
        self.cancel = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.stop()
        self.cancel = threading.Event()
        self.thread = threading.Thread(target=self.make, args=(self.cancel,), name="digest-search-index", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Give up the index being made, if any, and wait until it has let go of the memo and the folder."""
        if self.thread is not None:
            self.cancel.set()
            self.thread.join()
            self.thread = None

    def make(self, cancel: threading.Event) -> None:
        """Build again with the search index (it renders nothing else), unless *cancel* is set first."""
        if cancel.wait(INDEX_AFTER_SECONDS):
            return
        try:
            build_site(self.options, memo=self.memo, check_unchanged=False, cancel=cancel)
            self.report.info("Search index updated")
        except Cancelled:
            pass
        except Exception as exc:  # the next save tries again; the pages stay served
            print(f"The search index could not be updated: {exc}", file=self.report.err, flush=True)


def run_preview(options: BuildOptions, host: str, port: int, report: Reporter) -> None:
    """Serve until Ctrl-C (KeyboardInterrupt) ends the watch loop; then clean up."""
    work = Path(tempfile.mkdtemp(prefix="digest-serve-"))
    memo = Memo(options.source) if options.cache else NO_MEMO
    state = PreviewState()
    options = replace(options, output=work / "site")
    build = functools.partial(rebuild, options, memo, report, state)
    indexer = Indexer(options, memo, report)
    stop = threading.Event()
    server: ThreadingHTTPServer | None = None
    try:
        # Watch before the first build, so no save between the build and the
        # first request is missed; the first (usually empty) batch means ready.
        seen = watched_files(options.source)
        batches = watch(options.source, seen, stop)
        pending = next(batches)
        # Bound before the first build, so a port in use is said at once, not after a large site is built; served after it.
        server = PreviewServer((host, port), type("BoundPreviewHandler", (PreviewHandler,), {"state": state}))
        later = build()
        threading.Thread(target=server.serve_forever, name="digest-serve", daemon=True).start()
        bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
        shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        shown_base = state.snapshot.base_path
        print(f"Serving http://{shown_host}:{bound_port}{shown_base} (Ctrl-C to stop)", flush=True)
        if later:
            indexer.start()
        changes = pending
        while True:
            now = watched_files(options.source)
            if now != seen:  # a watched name made, removed or replaced (an editor's atomic save): a watch follows no such change
                batches.close()
                batches = watch(options.source, now, stop)
                next(batches)  # ready: what changes from now on is seen
                changes |= {(watchfiles.Change.modified, str(options.source / name)) for name in WATCHED if now[name] != seen[name]}
                seen = now
            if changes:
                indexer.stop()
                report.info("Changed: " + some_of(changed_names(changes, options.source.resolve())))
                if build():
                    indexer.start()
                if state.snapshot.base_path != shown_base:  # base_url's path changed (or a broken first site.yaml was fixed)
                    shown_base = state.snapshot.base_path
                    print(f"Serving http://{shown_host}:{bound_port}{shown_base} now", flush=True)
            following = next(batches, None)  # Ctrl-C raises KeyboardInterrupt here (raise_interrupt)
            if following is None:
                break
            changes = following
    finally:
        indexer.stop()
        stop.set()
        state.stop()  # ends the event streams
        if server is not None:
            server.shutdown()
            server.server_close()
        memo.close()
        shutil.rmtree(work, ignore_errors=True)


def watched_files(source: Path) -> dict[str, int | None]:
    """The inode of each name of :data:`WATCHED` in the site folder (None when missing)."""
    found: dict[str, int | None] = {}
    for name in WATCHED:
        try:
            found[name] = (source / name).stat().st_ino
        except OSError:
            found[name] = None
    return found


def watch(source: Path, present: dict[str, int | None], stop: threading.Event) -> Generator[set[tuple[watchfiles.Change, str]], None, None]:
    """Batches of changes under the *present* names of :data:`WATCHED`; an empty batch at least every :data:`WAKE_MS`."""
    paths = [source / name for name, inode in present.items() if inode is not None] or [source]  # none yet: wait for one to be made
    return watchfiles.watch(*paths, stop_event=stop, raise_interrupt=True, yield_on_timeout=True, rust_timeout=WAKE_MS, recursive=paths != [source])


def changed_names(changes: set[tuple[watchfiles.Change, str]], root: Path) -> list[str]:
    """The changed files to mention, leaving out an editor's short-lived temporary files."""
    passing = {p for kind, p in changes if kind is watchfiles.Change.added} & {p for kind, p in changes if kind is watchfiles.Change.deleted}
    paths = {Path(p) for _, p in changes if p not in passing}
    return sorted({r.relative_to(root).as_posix() if (r := p.resolve()).is_relative_to(root) else p.as_posix() for p in paths})
