"""Background jobs on huey.

JOBS_URL picks the queue: ``sqlite:///<file>`` (default ``<instance>/jobs.sqlite3``, no extra server) or
``redis://host:6379/0`` (production; needs the ``redis`` package). With JOBS_IN_PROCESS_WORKER (default on)
each web process runs queued jobs in a daemon thread, started with the process (and again after a fork) or on the
first enqueue; CLI commands only queue. In production turn it off and run ``flask --app run jobs-worker`` (huey's
consumer) as its own service. Functions registered with ``@periodic`` (the notifications' sweep) run every few
seconds in the same worker thread, or in a thread of ``jobs-worker``.
"""
from __future__ import annotations

import hashlib
import importlib
import logging
import os
import threading
import time
from typing import Any, Callable

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from huey import RedisHuey, SqliteHuey
from huey.api import Huey

log = logging.getLogger(__name__)

TASK_MODULES = ("app.domain.export_jobs", "app.domain.mass_jobs", "app.domain.notifications.delivery")
TASK_NAME = "atende.run"
IDLE_SECONDS = 0.5
_functions: dict[str, Callable[..., None]] = {}
_periodic: dict[str, tuple[str, Callable[[], None]]] = {}


def background(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register a function that enqueue(name, ...) runs later, in its own app context and DB session."""

    def decorator(func: Callable[..., None]) -> Callable[..., None]:
        _functions[name] = func
        return func

    return decorator


def periodic(name: str, seconds_setting: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register a function the worker runs every app.config[seconds_setting] seconds (0 turns it off)."""

    def decorator(func: Callable[[], None]) -> Callable[[], None]:
        _periodic[name] = (seconds_setting, func)
        return func

    return decorator


def in_cli_command() -> bool:
    """Whether this process runs a CLI command (db upgrade, seed-demo…) rather than serving (gunicorn, flask run)."""
    context = click.get_current_context(silent=True)
    return context is not None and context.info_name != "run"


def make_huey(app: Flask) -> Huey:
    """Build the queue from JOBS_URL; its name follows the database, so two databases never share jobs."""
    url = app.config.get("JOBS_URL") or "sqlite:///" + os.path.join(app.instance_path, "jobs.sqlite3")
    name = "atende-" + hashlib.sha1(str(app.config["SQLALCHEMY_DATABASE_URI"]).encode()).hexdigest()[:10]
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url, results=False)
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        return SqliteHuey(name, filename=path, results=False)
    raise RuntimeError(f"JOBS_URL não suportada: {url!r} (use sqlite:///arquivo ou redis://host:porta/banco).")


class Jobs:
    """The application's queue and, when enabled, its in-process worker thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.stopping = threading.Event()
        self._huey: Huey | None = None
        self._task: Any = None
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._lock = threading.RLock()
        self._last_run: dict[str, float] = {}

    @property
    def huey(self) -> Huey:
        return self._queue()[0]

    def _queue(self) -> tuple[Huey, Any]:
        """Create the queue on first use (not at start-up: CLI commands never touch it)."""
        with self._lock:
            if self._huey is None:
                for module in TASK_MODULES:
                    importlib.import_module(module)
                huey = make_huey(self.app)
                self._task = huey.task(name=TASK_NAME)(self._runner())
                self._huey = huey
            return self._huey, self._task

    def _runner(self) -> Callable[[str, list], None]:
        app = self.app

        def run(name: str, args: list) -> None:
            from app.extensions import db

            with app.app_context():
                try:
                    _functions[name](*args)
                finally:
                    db.session.remove()

        return run

    def enqueue(self, name: str, *args: Any) -> None:
        _huey, task = self._queue()
        if name not in _functions:
            raise KeyError(name)
        task(name, list(args))
        if self.app.config.get("JOBS_IN_PROCESS_WORKER", True) and not in_cli_command():
            self.start_worker()

    def start_worker(self) -> None:
        """Run queued jobs in a daemon thread of this process (after a fork the thread is gone: restart)."""
        huey = self.huey
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            self.stopping.clear()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._work, args=(huey,), name="atende-jobs", daemon=True)
            self._thread.start()

    def ensure_worker(self) -> None:
        """Cheap check before each request of a serving process: the worker thread runs in this very process."""
        if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
            self.start_worker()

    def worker_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._pid == os.getpid()

    def _work(self, huey: Huey) -> None:
        # huey's Consumer installs signal handlers, which a gunicorn worker must keep: a plain loop instead.
        while not self.stopping.is_set():
            try:
                self.run_periodic()
                task = huey.dequeue()
                if task is None:
                    self.stopping.wait(IDLE_SECONDS)
                    continue
                huey.execute(task)
            except Exception:
                log.exception("background job loop")
                self.stopping.wait(IDLE_SECONDS)

    def run_periodic(self) -> None:
        """Run each @periodic function whose interval has passed, in its own app context and DB session."""
        from app.extensions import db

        for name, (setting, func) in list(_periodic.items()):
            seconds = float(self.app.config.get(setting) or 0)
            moment = time.monotonic()
            if seconds <= 0 or moment - self._last_run.get(name, -seconds) < seconds:
                continue
            self._last_run[name] = moment
            with self.app.app_context():
                try:
                    func()
                except Exception:
                    log.exception("periodic job %s", name)
                finally:
                    db.session.remove()

    def sweep_forever(self) -> None:
        """The periodic functions alone, for `jobs-worker` (huey's consumer runs the queued jobs)."""
        self._queue()
        while not self.stopping.is_set():
            self.run_periodic()
            self.stopping.wait(IDLE_SECONDS)


def init_jobs(app: Flask) -> None:
    """The queue; a serving process with JOBS_IN_PROCESS_WORKER starts its worker now and keeps it after forks."""
    queue = Jobs(app)
    app.extensions["atende_jobs"] = queue
    app.cli.add_command(jobs_worker_command)
    if app.config.get("JOBS_IN_PROCESS_WORKER", True) and not app.config.get("TESTING") and not in_cli_command():
        queue.start_worker()
        app.before_request(queue.ensure_worker)


def jobs() -> Jobs:
    return current_app.extensions["atende_jobs"]


def enqueue(name: str, *args: Any) -> None:
    """Queue a background function registered with @background(name); args must be JSON-like."""
    jobs().enqueue(name, *args)


@click.command("jobs-worker")
@click.option("--workers", type=int, default=2, show_default=True, help="Threads running jobs.")
@with_appcontext
def jobs_worker_command(workers: int) -> None:
    """Run queued background jobs (exports, mass actions, notifications) and the periodic sweeps; set
    JOBS_IN_PROCESS_WORKER=0 on the web."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    queue = jobs()
    consumer = queue.huey.create_consumer(workers=workers, worker_type="thread", periodic=False)
    threading.Thread(target=queue.sweep_forever, name="atende-periodic", daemon=True).start()
    consumer.run()
