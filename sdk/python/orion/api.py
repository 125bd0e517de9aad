"""A minimal client for Orion's HTTP/JSON API (stdlib only).

Only what flow-run tracking needs: create a flow run, propose states, send
logs, and check that a server answers. Requests go to ``<base>/api/v1/...``
where ``<base>`` is the scheme and host of the API URL (any path in the URL
is ignored, as the Go client does). Like the Go client, it sends
``$ORION_API_KEY`` as a bearer token and, for ``https://`` URLs, trusts
``$ORION_TLS_CA`` and presents ``$ORION_TLS_CERT``/``$ORION_TLS_KEY``.
"""

import datetime
import json
import os
import urllib.parse

from orion._util import cap_utf8

# ssl and urllib.request (with http.client and email) are imported when a
# Client is made, uuid when a state is proposed: importing orion (every
# deployment load, every flow run) does not pay for them.

__all__ = ["APIError", "Client", "DEFAULT_API_URL", "api_url_from_env", "timestamp"]

DEFAULT_API_URL = "http://127.0.0.1:4200"

# The server's limit on a state's message, in bytes (validate.MaxStateMessage):
# a longer one (an exception carrying a whole document) is cut, not refused.
MAX_STATE_MESSAGE_BYTES = 64 << 10


class APIError(Exception):
    """A request failed: the server is unreachable or answered with an error.

    ``status`` is the HTTP status (``None`` when no answer came back).
    """

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def api_url_from_env():
    """``$ORION_API_URL`` stripped, or ``None`` when unset or empty."""
    value = os.environ.get("ORION_API_URL", "").strip()
    return value or None


def timestamp(when=None):
    """RFC 3339 UTC timestamp with microseconds, e.g. ``2022-01-02T03:04:05.123456Z``."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _base_url(api_url):
    if "://" not in api_url:
        api_url = "http://" + api_url
    parts = urllib.parse.urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("invalid API URL %r (expected http://HOST:PORT)" % (api_url,))
    return parts.scheme + "://" + parts.netloc


def _ssl_context():
    import ssl

    ctx = ssl.create_default_context()
    ca = os.environ.get("ORION_TLS_CA", "").strip()
    if ca:
        ctx.load_verify_locations(cafile=ca)
    cert = os.environ.get("ORION_TLS_CERT", "").strip()
    key = os.environ.get("ORION_TLS_KEY", "").strip()
    if cert and key:
        ctx.load_cert_chain(cert, key)
    return ctx


class Client:
    """Talks JSON to one Orion server.

    Every method raises :class:`APIError` on failure.
    """

    def __init__(self, api_url, timeout=10.0):
        self.api_url = api_url
        self.base = _base_url(api_url)
        self.timeout = timeout
        import ssl
        import urllib.request

        # Never route loopback or explicit server traffic through a proxy
        # configured for the user's other HTTP traffic.
        handlers = [urllib.request.ProxyHandler({})]
        if self.base.startswith("https://"):
            try:
                handlers.append(urllib.request.HTTPSHandler(context=_ssl_context()))
            except (OSError, ssl.SSLError) as exc:
                raise ValueError("TLS settings for %s: %s" % (api_url, exc)) from None
        self._opener = urllib.request.build_opener(*handlers)
        self._token = os.environ.get("ORION_API_KEY", "").strip()

    def request(self, method, path, body=None, timeout=None):
        """Send one request to ``/api/v1/<path>`` and return the decoded JSON."""
        data = None
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = "Bearer " + self._token
        if body is not None:
            data = json.dumps(body, allow_nan=False, ensure_ascii=True, separators=(",", ":")).encode("ascii")
            headers["Content-Type"] = "application/json"
        import urllib.error
        import urllib.request

        req = urllib.request.Request(self.base + "/api/v1/" + path.lstrip("/"), data=data, headers=headers, method=method)
        try:
            with self._opener.open(req, timeout=self.timeout if timeout is None else timeout) as resp:
                payload = resp.read()
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read().decode("utf-8", "replace")).get("message", "")
            except Exception:
                detail = ""
            raise APIError("%s %s: HTTP %d %s" % (method, path, exc.code, detail or exc.reason), exc.code) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise APIError("cannot reach the Orion API at %s: %s" % (self.api_url, reason)) from None
        if not payload:
            return {}
        try:
            return json.loads(payload.decode("utf-8"))
        except ValueError as exc:
            raise APIError("%s %s: the answer is not JSON: %s" % (method, path, exc)) from None

    def ping(self, timeout=2.0):
        """True if an Orion server answers at this URL (also when it refuses
        our credentials: the server is there, the next request says why)."""
        try:
            answer = self.request("GET", "flow_runs?page_size=1", timeout=timeout)
        except APIError as exc:
            return exc.status in (401, 403)
        return isinstance(answer, dict)

    def create_flow_run(self, flow_name, parameters=None, tags=None, state_type="STATE_TYPE_RUNNING", name=""):
        """Create a run of ``flow_name`` (the flow is created on first use)."""
        body = {
            "flow_name": flow_name,
            "name": name or "",
            "parameters": parameters or {},
            "tags": list(tags or []),
            "state": {"type": state_type},
        }
        return self.request("POST", "flow_runs", body)["flow_run"]

    def set_state(self, flow_run_id, state_type, message="", name="", transition_id=None):
        """Propose a state; returns ``{"result": {...}, "flow_run": {...}}``.

        The transition id makes a repeat of the same proposal harmless, so a
        request that failed on the way back is retried once with it.
        """
        import uuid

        message = cap_utf8(message or "", MAX_STATE_MESSAGE_BYTES, " ... (cut: the message was %d bytes)")
        body = {
            "state": {"type": state_type, "message": message},
            "transition_id": transition_id or str(uuid.uuid4()),
        }
        if name:
            body["state"]["name"] = name
        path = "flow_runs/%s/set_state" % urllib.parse.quote(flow_run_id, safe="")
        try:
            return self.request("POST", path, body)
        except APIError as exc:
            if exc.status is not None:
                raise
            return self.request("POST", path, body)

    def create_logs(self, logs):
        """Append log entries: dicts with flow_run_id, level, name, message, timestamp."""
        if not logs:
            return 0
        return self.request("POST", "logs", {"logs": list(logs)}).get("count", 0)
