"""Helpers for the field agent's tests (imported as tests.field_agent.helpers)."""

from __future__ import annotations

import io
import re
import subprocess
from typing import Any

from PIL import Image

from sync import Replica
from tests.live import LASTMETER
from tests.live import LiveServer as LiveServer  # re-exported for the end-to-end tests

COMPOUND = "c1"


def seed_register(replica: Replica, compound: str = COMPOUND, buildings: int = 2) -> None:
    """A small compound: building 1栋 with 3 households (2 residents each, one with none),
    building 2栋 with 2 households of 1 resident each, and a planned delivery for each household."""
    replica.write("compounds", compound, {"compound_id": compound, "name": "临江雅居"})
    plan = {"1栋": [("101", 2), ("102", 2), ("201", 0)], "2栋": [("101", 1), ("102", 1)]}
    for b, (name, units) in enumerate(plan.items()):
        if b >= buildings:
            break
        replica.write("buildings", f"{compound}-b{b + 1}", {"compound_id": compound, "name": name})
        for unit, people in units:
            hid = f"{compound}-{name}-{unit}"
            replica.write(
                "households",
                hid,
                {
                    "compound_id": compound,
                    "building": name,
                    "unit": unit,
                    "owner_name": f"户{unit}",
                },
            )
            for p in range(people):
                replica.write(
                    "residents",
                    f"{hid}-r{p}",
                    {"compound_id": compound, "household_id": hid, "name": f"居民{unit}-{p}"},
                )
            replica.write(
                "deliveries",
                f"{hid}-d1",
                {
                    "compound_id": compound,
                    "household_id": hid,
                    "kind": "vegetables",
                    "items": "蔬菜包",
                    "status": "planned",
                    "round_id": "R1",
                },
            )


def jpeg_bytes(width: int = 2400, height: int = 1800, color=(200, 30, 30)) -> bytes:
    """A large JPEG with EXIF, as a phone camera makes it."""
    img = Image.new("RGB", (width, height), color)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90, exif=exif.tobytes())
    return buf.getvalue()


class AgentActions:
    """Drive the agent's pages like a volunteer: CSRF token read from the page."""

    def __init__(self, client):
        self.client = client

    def csrf(self, path: str = "/signin") -> str:
        html = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf("/volunteers") if self.signed_in else self.csrf())
        return self.client.post(path, data=data, **kw)

    @property
    def signed_in(self) -> bool:
        with self.client.session_transaction() as sess:
            return "vid" in sess

    def setup(self, name: str = "王芳", pin: str = "1234"):
        token = self.csrf("/setup")
        return self.client.post(
            "/setup", data={"name": name, "pin": pin, "pin2": pin, "csrf_token": token}
        )

    def volunteer_id(self, name: str) -> str:
        html = self.client.get("/signin").get_data(as_text=True)
        match = re.search(r'value="([^"]+)"[^>]*> ' + re.escape(name), html)
        assert match, f"{name} is not on the sign-in page"
        return match.group(1)

    def signin(self, name: str, pin: str):
        vid = self.volunteer_id(name)
        token = self.csrf("/signin")
        return self.client.post("/signin", data={"volunteer": vid, "pin": pin, "csrf_token": token})


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LASTMETER, *args], capture_output=True, text=True, check=check, timeout=120
    )
