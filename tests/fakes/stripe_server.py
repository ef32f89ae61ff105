"""A local, stateful fake of the Stripe API for tests (no network beyond 127.0.0.1).

Runs `localstripe` (an in-memory Stripe emulator, aiohttp) in a child process bound to
127.0.0.1 on a random free port, so the real `stripe` library exercises real HTTP. The
child patches localstripe to:

* never persist state (localstripe pickles to /tmp/localstripe.pickle on every write);
* honour `Idempotency-Key` like Stripe (same key + same request -> replayed response,
  same key + different request -> 400 `idempotency_error`);
* accept what the shop sends: `description` on PaymentIntents, `payment_method` on
  confirm, `reason` on refunds; report `amount_received`; decline 4000000000000002 at
  charge time with a real `card_error`; refuse to refund more than was charged;
  return `latest_charge` as an id unless expanded;
* inject faults on demand (`FakeStripe.fail_next`) to simulate Stripe down or slow.

Example fixture (tests/conftest.py)::

    @pytest.fixture(scope="session")
    def fake_stripe():
        server = FakeStripe()
        yield server
        server.stop()

    @pytest.fixture
    def stripe_fake(fake_stripe, settings):
        fake_stripe.reset()
        settings.STRIPE_API_BASE = fake_stripe.base_url  # whatever the shop reads
        return fake_stripe
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Any

SECRET_KEY = "sk_test_fake_localstripe_0000"
DECLINED_CARD = "4000000000000002"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class FakeStripe:
    """Handle on a running fake Stripe server. Call `.stop()` (or use `with`) when done."""

    secret_key = SECRET_KEY

    def __init__(self, start_timeout: float = 10.0):
        self._stderr = tempfile.TemporaryFile()  # anonymous: gone when closed
        self._proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__)],
            stdin=subprocess.PIPE,  # the child exits when this pipe closes (parent died)
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        try:
            deadline = time.monotonic() + start_timeout
            ready, _, _ = select.select([self._proc.stdout], [], [], start_timeout)
            line = self._proc.stdout.readline() if ready else b""
            if not line.strip().isdigit():
                raise RuntimeError("fake Stripe did not report its port")
            self.base_url = f"http://127.0.0.1:{int(line)}"
            while True:  # poll until it serves HTTP
                try:
                    self.request_log()
                    break
                except OSError:
                    if time.monotonic() > deadline or self._proc.poll() is not None:
                        raise RuntimeError("fake Stripe did not become ready") from None
                    time.sleep(0.02)
        except BaseException as exc:
            self._stderr.seek(0)
            log = self._stderr.read().decode(errors="replace")
            self.stop()
            raise RuntimeError(f"{exc}\n--- fake Stripe stderr ---\n{log}") from exc

    # -- control channel ---------------------------------------------------------------
    def _control(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        with _NO_PROXY.open(req, timeout=5) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def fail_next(self, n: int = 1, *, status: int | None = 500, delay: float = 0.0) -> None:
        """Make the next `n` /v1/ API requests misbehave.

        status=500 (or 502/503...): reply with that error *without* doing anything, after
        waiting `delay` seconds. status=None: do the work normally (objects get created,
        idempotency result saved) but only answer after `delay` seconds — combine with a
        short client timeout to simulate "Stripe charged but we never heard back".
        """
        self._control("POST", "/_config/fake/fault", {"n": n, "status": status, "delay": delay})

    def request_log(self) -> list[dict]:
        """API requests seen so far: {method, path, idempotency_key, status, replayed, fault}."""
        return self._control("GET", "/_config/fake/log")

    def reset(self) -> None:
        """Forget every Stripe object, idempotency key, pending fault and logged request."""
        self._control("POST", "/_config/fake/reset", {})

    def register_webhook(self, url: str, secret: str, events: list[str] | None = None) -> None:
        """Let localstripe POST signed events (e.g. payment_intent.succeeded) to `url`."""
        body = {"url": url, "secret": secret, **({"events": events} if events else {})}
        self._control("POST", "/_config/webhooks/shop", body)

    def client(self, **kwargs: Any):
        """A `stripe.StripeClient` configured like the shop's, pointed at this fake."""
        import stripe

        kwargs.setdefault("max_network_retries", 0)
        return stripe.StripeClient(self.secret_key, base_addresses={"api": self.base_url}, **kwargs)

    def stop(self) -> None:
        proc = self._proc
        if proc.poll() is None:
            proc.kill()  # state is in memory only: nothing to flush
            proc.wait()
        for stream in (proc.stdin, proc.stdout, self._stderr):
            if stream and not stream.closed:
                stream.close()

    def __enter__(self) -> FakeStripe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def confirm_intent(
    client, intent_id: str, *, card: str = "4242424242424242", decline: bool = False
):
    """Do what Stripe Elements does in the browser: attach a card and confirm the intent.

    Returns the PaymentIntent: "succeeded", or (decline=True / declining card)
    "requires_payment_method" with `last_payment_error` set.
    """
    import stripe

    pm = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": DECLINED_CARD if decline else card,
                     "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    try:
        return client.v1.payment_intents.confirm(intent_id, params={"payment_method": pm.id})
    except stripe.CardError:
        return client.v1.payment_intents.retrieve(intent_id)


def signed_webhook(payload: dict, secret: str) -> tuple[bytes, str]:
    """Body bytes and `Stripe-Signature` header value, as Stripe would send the event."""
    import stripe

    body = json.dumps(payload)
    return body.encode(), stripe.WebhookSignature.generate_signature_header(body, secret)


# ---------------------------------------------------------------------------------------
# Child process: patched localstripe. Only runs as `python stripe_server.py`.
# ---------------------------------------------------------------------------------------
def _serve() -> None:  # pragma: no cover - runs in the subprocess
    import asyncio
    import threading

    from localstripe import resources as r
    from localstripe.errors import UserError

    # State lives in memory only.
    r.Store.dump_to_disk = r.Store.try_load_from_disk = lambda self: None

    def accept(cls, *names):  # let __init__ take extra params and store them verbatim
        init = cls.__init__

        def __init__(self, *args, **kwargs):
            extra = {k: kwargs.pop(k, None) for k in names}
            init(self, *args, **kwargs)
            vars(self).update(extra)

        cls.__init__ = __init__

    PI, PM = r.PaymentIntent, r.PaymentMethod
    accept(PI, "description", "receipt_email")
    accept(r.Refund, "reason")
    PI.amount_received = property(lambda self: self.amount if self.status == "succeeded" else 0)

    charging_declined = PM._charging_is_declined
    PM._charging_is_declined = lambda self: charging_declined(self) or self._attaching_is_declined()

    report_failure = PI._report_failure

    def _report_failure(self):  # Stripe answers a decline with a card_error carrying the PI
        try:
            report_failure(self)
        except UserError as e:
            e.body["error"].update(type="card_error", decline_code="generic_decline",
                                   payment_intent=self._export())
            raise

    PI._report_failure = _report_failure

    export = PI._export

    def _export(self, expand=None):
        out = export(self, expand)
        if not any(p.split(".")[0] == "latest_charge" for p in expand or []):
            if isinstance(out.get("latest_charge"), dict):
                out["latest_charge"] = out["latest_charge"]["id"]
        return out

    PI._export = _export

    confirm = PI._api_confirm

    def _api_confirm(id, payment_method=None, **kwargs):
        if payment_method is not None:
            pi = PI._api_retrieve(id)
            if pi.status not in ("requires_payment_method", "requires_confirmation"):
                raise UserError(400, f"This PaymentIntent's status is {pi.status}.")
            pi.payment_method = PM._api_retrieve(payment_method).id  # resolves pm_card_visa
            pi.latest_charge = None
        return confirm(id, **kwargs)

    r.extra_apis[:] = [(m, u, _api_confirm if f == confirm else f) for m, u, f in r.extra_apis]

    refund_init = r.Refund.__init__

    def refund__init__(self, charge=None, payment_intent=None, amount=None, **kwargs):
        if payment_intent and amount is not None:
            pi = PI._api_retrieve(payment_intent)
            ch = pi.latest_charge
            if ch is not None and int(amount) + ch.amount_refunded > ch.amount:
                raise UserError(400, "Refund amount is greater than unrefunded amount on charge",
                                {"code": "amount_too_large"})
        refund_init(self, charge=charge, payment_intent=payment_intent, amount=amount, **kwargs)

    r.Refund.__init__ = refund__init__

    from aiohttp import web
    from localstripe import server  # registers routes from r.extra_apis on import

    state: dict[str, Any] = {}

    def reset():
        state.update(fault={"n": 0, "status": None, "delay": 0.0}, idem={}, busy=set(), log=[])

    reset()

    def api_error(status, type_, message):
        return web.json_response({"error": {"type": type_, "message": message}}, status=status)

    @web.middleware
    async def fake_middleware(request, handler):
        if not request.path.startswith("/v1/"):
            return await handler(request)
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        entry = {"method": request.method, "path": request.path, "idempotency_key": key,
                 "status": None, "replayed": False, "fault": False}
        state["log"].append(entry)
        fault, delay = state["fault"], 0.0
        if fault["n"] > 0:
            fault["n"] -= 1
            entry["fault"], delay = True, fault["delay"]
            if fault["status"]:
                await asyncio.sleep(delay)
                entry["status"] = fault["status"]
                return api_error(fault["status"], "api_error", "Injected fault (fake Stripe)")
        if key is None:
            resp = await handler(request)
        else:
            fingerprint = (request.method, request.path, await request.read())
            if key in state["busy"]:
                resp = api_error(409, "idempotency_error", "Request with this key in progress.")
            elif key in state["idem"]:
                saved_fp, status, body = state["idem"][key]
                if saved_fp != fingerprint:
                    resp = api_error(400, "idempotency_error",
                                     "Keys for idempotent requests can only be used with the "
                                     "same parameters they were first used with.")
                else:
                    entry["replayed"] = True
                    resp = web.Response(body=body, status=status, content_type="application/json",
                                        headers={"Idempotent-Replayed": "true"})
            else:
                state["busy"].add(key)
                try:
                    resp = await handler(request)
                finally:
                    state["busy"].discard(key)
                if resp.status < 400 or resp.status == 402:  # endpoint ran: save the result
                    state["idem"][key] = (fingerprint, resp.status, resp.body)
        entry["status"] = resp.status
        await asyncio.sleep(delay)
        return resp

    async def set_fault(request):
        state["fault"] = {**state["fault"], **await request.json()}
        return web.json_response({})

    async def get_log(request):
        return web.json_response(state["log"])

    async def do_reset(request):
        r.store.clear()
        reset()
        return web.json_response({})

    app = server.app
    app.middlewares.insert(0, fake_middleware)
    app.router.add_post("/_config/fake/fault", set_fault)
    app.router.add_get("/_config/fake/log", get_log)
    app.router.add_post("/_config/fake/reset", do_reset)

    def exit_when_parent_goes():
        sys.stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=exit_when_parent_goes, daemon=True).start()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # loopback only, kernel-chosen free port
    print(sock.getsockname()[1], flush=True)
    web.run_app(app, sock=sock, print=None, access_log=None)


if __name__ == "__main__":
    _serve()
