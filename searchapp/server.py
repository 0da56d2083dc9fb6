"""`searchapp serve`: the app under gunicorn, with threads so keep-alive connections work."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):
    def __init__(self, options: dict[str, object]):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return production_app()


def production_app():
    """The app as `searchapp serve` runs it: never in debug mode, whatever FLASK_DEBUG says."""
    from . import create_app

    app = create_app()
    app.debug = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.extensions["searchapp.search"].warm()
    return app


def run_server(host: str, port: int, workers: int, threads: int) -> None:
    """Serve until stopped; each worker opens the index once and shares it between its threads."""
    _Server({
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "keepalive": 5,
        "timeout": 30,
        # gunicorn's maximum (its default is 4094): longer URLs reach the app, which refuses those
        # over `guard.MAX_TARGET_BYTES` with its own 414 (JSON for the API).
        "limit_request_line": 8190,
        "graceful_timeout": 10,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
    }).run()
