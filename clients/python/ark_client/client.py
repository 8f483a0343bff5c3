"""A client of an Ark's HTTP API /api/v1 (docs/api.md), with Python's standard library only.

    from ark_client import Client
    ark = Client("http://127.0.0.1:8080", user="ana", token=TOKEN)
    ark.sign_in()
    job = ark.submit_run("copd-2026", open("copd.yaml").read(), dummy=True)
    job = ark.wait(job["id"], on_progress=print)
    table = ark.measure(job["id"], job["measures"][0])          # a pandas DataFrame when pandas is there

Sign-in is a cookie session, as the web app's (the CSRF token is sent back on every POST and
DELETE); `bearer=True` sends the token on every request instead, with no session.
"""

import http.cookiejar
import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request

from .proof import verify_proof

FINISHED = ("succeeded", "failed", "cancelled")


class ApiError(Exception):
    """A response other than 2xx: `status` is the HTTP status, `message` the server's error text."""

    def __init__(self, status, message, method="", path=""):
        super().__init__(f"{method} {path}: {status} {message}".strip())
        self.status, self.message = status, message


class Client:
    def __init__(self, url, user=None, token=None, *, bearer=False, cafile=None, timeout=30.0):
        """`url`: the server, e.g. "https://ark.example:8443". `cafile`: the certificate (or CA)
        to trust for https, e.g. a self-signed server's own certificate."""
        self.url = url.rstrip("/")
        self.user, self.token, self.bearer, self.timeout = user, token, bearer, timeout
        self.csrf = None
        self._jar = http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self._jar)]
        if cafile:
            handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=cafile)))
        self._opener = urllib.request.build_opener(*handlers)

    # --- HTTP --------------------------------------------------------------------------------------
    def request(self, method, path, body=None):
        """The decoded JSON of `method /api/v1<path>` (None for 204); raises ApiError otherwise."""
        full = path if path.startswith("/") and path.startswith(("/api/", "/healthz")) else "/api/v1" + path
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.url + full, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.bearer and self.user:
            req.add_header("Authorization", f"Bearer {self.user}:{self.token}")
        if self.csrf and method in ("POST", "DELETE", "PUT", "PATCH"):
            req.add_header("X-CSRF-Token", self.csrf)
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                raw = resp.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                message = json.loads(raw).get("error", "")
            except (ValueError, AttributeError):
                message = raw.decode("utf-8", "replace")
            raise ApiError(e.code, message, method, full) from None

    # --- session -----------------------------------------------------------------------------------
    def sign_in(self):
        """Starts a cookie session (or, with bearer=True, checks the token); returns who you are."""
        if self.bearer:
            return self.me()
        me = self.request("POST", "/session", {"user": self.user, "token": self.token})
        self.csrf = me.get("csrf_token")
        return me

    def sign_out(self):
        if not self.bearer:
            self.request("DELETE", "/session")
        self.csrf = None

    def me(self):
        return self.request("GET", "/me")

    # --- the public register and the ledger ----------------------------------------------------------
    def projects(self):
        return self.request("GET", "/projects")

    def project(self, project_id):
        return self.request("GET", "/projects/" + urllib.parse.quote(project_id, safe=""))

    def releases(self):
        return self.request("GET", "/releases")

    def checkpoint(self):
        return self.request("GET", "/ledger/checkpoint")

    def proof(self, seq):
        return self.request("GET", f"/ledger/proof/{int(seq)}")

    def verify_entry(self, seq, verifier_key, entry=None):
        """Fetches the inclusion proof of ledger entry `seq` and verifies it here against
        `verifier_key` (a key you hold, not one the server sends); raises ProofError if it fails.
        `entry`: the entry text you hold (default: the one the server sends)."""
        return verify_proof(self.proof(seq), verifier_key, entry)

    # --- study definitions and jobs ------------------------------------------------------------------
    def check(self, definition):
        """{"ok": bool, "errors": [{"line", "column", "message"}]} for a definition's text."""
        return self.request("POST", "/definitions/check", {"definition": definition})

    def submit_run(self, project, definition, *, dummy=False, people=None):
        """Starts a run of `definition` (YAML text) in `project`, on dummy data or on the Ark; the job."""
        body = {"definition": definition, "dummy": bool(dummy)}
        if people is not None:
            body["people"] = int(people)
        return self.request("POST", "/projects/" + urllib.parse.quote(project, safe="") + "/jobs", body)

    def jobs(self):
        return self.request("GET", "/jobs")["jobs"]

    def job(self, job_id):
        return self.request("GET", f"/jobs/{int(job_id)}")

    def cancel(self, job_id):
        return self.request("POST", f"/jobs/{int(job_id)}/cancellation")

    def wait(self, job_id, *, on_progress=None, poll=0.25, timeout=None):
        """Polls the job until it has finished (succeeded, failed or cancelled) and returns it.
        `on_progress(job)` is called whenever its stage, progress or log changes. Raises
        TimeoutError after `timeout` seconds (the job goes on; cancel it if you wish)."""
        start, seen = time.monotonic(), None
        while True:
            job = self.job(job_id)
            key = (job.get("state"), job.get("stage"), job.get("progress"), len(job.get("log") or []))
            if on_progress and key != seen:
                on_progress(job)
            seen = key
            if job.get("state") in FINISHED:
                return job
            if timeout is not None and time.monotonic() - start > timeout:
                raise TimeoutError(f"job {job_id} is still {job.get('state')} after {timeout} s")
            time.sleep(poll)

    def measure(self, job_id, name, *, dataframe=None):
        """A measure table of a finished job (disclosure control applied). A pandas DataFrame
        when pandas is installed (or dataframe=True), else a list of dicts, one per row."""
        t = self.request("GET", f"/jobs/{int(job_id)}/measures/" + urllib.parse.quote(name, safe=""))
        if dataframe is None or dataframe:
            try:
                import pandas
                return pandas.DataFrame(t["rows"], columns=t["columns"])
            except ImportError:
                if dataframe:
                    raise
        return [dict(zip(t["columns"], row)) for row in t["rows"]]

    def request_release(self, job_id, measure):
        """Submits a job's measure for output checking; the output record (state "submitted")."""
        return self.request("POST", "/outputs", {"job": int(job_id), "measure": measure})

    def outputs(self):
        return self.request("GET", "/outputs")
