#!/usr/bin/env python3
"""Take the README's screenshots of a running Odoo with the demo data, in
headless Chromium at 1440×900, as the demo's admin (French interface).

    scripts/run &                      # serves the demo on 127.0.0.1:8069
    .venv/bin/python scripts/screenshots.py [URL] [DATABASE] [OUT_DIR]

Defaults: http://127.0.0.1:8069, relance, relance_avancee/static/description/. Needs
Debian's chromium and websocket-client (both installed by scripts/test when the
addon has tours). Prints the files written.
"""

import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websocket

ROOT = Path(__file__).resolve().parent.parent
URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8069"
DB = sys.argv[2] if len(sys.argv) > 2 else "relance"
OUT = (
    Path(sys.argv[3])
    if len(sys.argv) > 3
    else ROOT / "relance_avancee/static/description"
)
PORT = 9239
# (file, path relative to URL, button to click there or None): {customer} is
# the demo's key account, {plan} its running payment plan.
SHOTS = [
    (
        "worklist_fr.png",
        "/odoo/action-relance_avancee.relance_customer_balance_action",
        None,
    ),
    ("customer_banner_fr.png", "/odoo/res.partner/{customer}", None),
    (
        "kpi_dashboard_fr.png",
        "/odoo/action-relance_avancee.relance_kpi_dashboard_action",
        None,
    ),
    (
        "call_log_fr.png",
        "/odoo/res.partner/{customer}",
        "button[name='action_relance_log_call']",
    ),
    (
        "payment_plan_fr.png",
        "/odoo/action-relance_avancee.relance_payment_plan_action/{plan}",
        None,
    ),
]


def _search(session, model, domain):
    """The first id of ``model`` matching ``domain``, as the demo's admin."""
    request = urllib.request.Request(
        f"{URL}/web/dataset/call_kw/{model}/search",
        data=json.dumps(
            {
                "params": {
                    "model": model,
                    "method": "search",
                    "args": [domain],
                    "kwargs": {"limit": 1},
                }
            }
        ).encode(),
        headers={"Content-Type": "application/json", "Cookie": f"session_id={session}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)["result"][0]


def _session_id():
    """Log in as the demo's admin and return the session cookie."""
    request = urllib.request.Request(
        f"{URL}/web/session/authenticate",
        data=json.dumps(
            {"params": {"db": DB, "login": "admin", "password": "admin"}}
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        for header in response.headers.get_all("Set-Cookie") or []:
            if header.startswith("session_id="):
                return header.split(";")[0].split("=", 1)[1]
    raise SystemExit("login failed: no session cookie")


class Page:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(
            json.dumps({"id": self.next_id, "method": method, "params": params})
        )
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                return message.get("result", {})

    def evaluate(self, expression):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)

    def shot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        print(path)


def main():
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        raise SystemExit("chromium not found")
    session = _session_id()
    profile = tempfile.mkdtemp(prefix="relance-shots-")
    proc = subprocess.Popen(
        [
            browser,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--window-size=1440,900",
            f"--remote-debugging-port={PORT}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _attempt in range(100):
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{PORT}/json", timeout=2
                ) as r:
                    targets = json.load(r)
                break
            except OSError:
                time.sleep(0.3)
        else:
            raise SystemExit("chromium did not start")
        target = next(t for t in targets if t["type"] == "page")
        page = Page(websocket.create_connection(target["webSocketDebuggerUrl"]))
        page.call(
            "Network.setCookie", name="session_id", value=session, url=URL, path="/"
        )
        page.call(
            "Emulation.setDeviceMetricsOverride",
            width=1440,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        OUT.mkdir(parents=True, exist_ok=True)
        ids = {
            "customer": _search(
                session, "res.partner", [("name", "=", "Groupe Hexagone SA")]
            ),
            "plan": _search(
                session, "relance.payment.plan", [("state", "=", "running")]
            ),
        }
        for name, path, button in SHOTS:
            page.call("Page.navigate", url=URL + path.format(**ids))
            time.sleep(6)
            # The customer's Dunning tab ("Relance" in French).
            page.evaluate(
                "[...document.querySelectorAll('.o_notebook .nav-link')]"
                ".find(a => /^(Relances?|Dunning)$/"
                ".test(a.textContent.trim()))?.click()"
            )
            time.sleep(1)
            if button:
                page.evaluate(f"document.querySelector({json.dumps(button)})?.click()")
                time.sleep(3)
            page.shot(OUT / name)
    finally:
        proc.terminate()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
