"""gunicorn's access log as JSON lines (gunicorn.conf.py: logger_class).

gunicorn's own access_log_format is printf-style and escapes nothing, so a
quote in a path would break a JSON template: the line is built with json.dumps.
The query string is left out (it may carry a token); X-Request-ID ties the
line to the app's own request log."""
from __future__ import annotations

import json
import time
import traceback
from typing import Any

from gunicorn.glogging import Logger


class JsonAccessLogger(Logger):
    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        try:
            status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
            headers = dict((k.lower(), v) for k, v in (resp.headers or []))
            line = {
                "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "type": "access",
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO"),
                "status": int(status),
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 2),
                "remote_addr": environ.get("REMOTE_ADDR"),
                "request_id": headers.get("x-request-id"),
                "user_agent": environ.get("HTTP_USER_AGENT"),
            }
            self.access_log.info(json.dumps(line, ensure_ascii=False))
        except Exception:
            self.error(traceback.format_exc())
