"""The pages around the cases: the "to check" list (open a case from a mail, or dismiss it) and the
blocked senders (see and lift a block).

Opening a case from the list goes through the desk (desk/from_review.py), so the case starts as
every case does; this module only reads the form, says what happened, and redirects.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .. import blocklist, review
from ..desk import from_review
from ..models import RIGHTS
from ..officer_error import OfficerError
from ..runtime import officer_desk
from .auth import officer_name
from .i18n import translator
from .views import flash, language, page, web

T = TypeVar("T")


class Block(BaseModel):
    """One row of the blocked-senders page (a BlockedSender, read inside the transaction)."""

    id: int
    address: str
    reason: str
    case_reference: str | None
    blocked_by: str
    blocked_at: datetime
    lifted_by: str | None
    lifted_at: datetime | None


async def _act(request: Request, work: Callable[[Session, str, datetime], T], back: str,
               done: Callable[[T], str], then: Callable[[T], str] | None = None) -> Response:
    """Run ``work`` as the logged-in officer; flash ``done(result)`` and go to ``then(result)``
    (default ``back``), or go ``back`` with the reason it failed."""
    actor, now = officer_name(request.session) or "", datetime.now(UTC)
    t = translator(language(request))
    try:
        result = await web(request).run(lambda s: work(s, actor, now))
    except OfficerError as exc:
        flash(request, "error", t.error(exc))
        return RedirectResponse(back, status_code=303)
    flash(request, "ok", done(result))
    return RedirectResponse(then(result) if then else back, status_code=303)


async def review_page(request: Request) -> Response:
    now = datetime.now(UTC)
    since = now - timedelta(days=review.DAYS)
    items, handled = await web(request).run(lambda s: (review.to_check(s, since), review.handled(s, since)))
    return page(request, "review.html", items=items, handled=handled, days=review.DAYS)


async def review_item(request: Request) -> Response:
    """One listed mail in full, with the choice of rights and the confirmation to open a case."""
    message_id = request.path_params["message_id"]
    now = datetime.now(UTC)

    def load(session: Session) -> tuple[review.ReviewItem | None, str]:
        items = review.to_check(session, now - timedelta(days=review.DAYS))
        item = next((i for i in items if i.message == message_id), None)
        return item, review.text_of(session, message_id, now) if item else ""

    item, text = await web(request).run(load)
    if item is None:
        t = translator(language(request))
        flash(request, "error", t("officer_error.not_to_check", message=message_id))
        return RedirectResponse("/review", status_code=303)
    return page(request, "review_item.html", item=item, text=text, all_rights=[str(r) for r in RIGHTS])


async def review_open(request: Request) -> Response:
    message_id = request.path_params["message_id"]
    form = await request.form()
    rights = [str(r) for r in form.getlist("rights")]
    settings = web(request).settings
    t = translator(language(request))

    def work(session: Session, actor: str, now: datetime) -> str:
        mailbox = review.mailbox_of(session, message_id, now)
        return from_review.open_case(session, officer_desk(settings, mailbox, actor, now), message_id, rights).reference

    return await _act(request, work, f"/review/{message_id}", lambda ref: t("done.review_opened", case=ref),
                      then=lambda ref: f"/cases/{ref}")


async def review_dismiss(request: Request) -> Response:
    message_id = request.path_params["message_id"]
    reason = str((await request.form()).get("reason", ""))
    t = translator(language(request))
    return await _act(request, lambda s, actor, now: review.dismiss(s, message_id, reason=reason, actor=actor, now=now),
                      "/review", lambda _: t("done.review_dismissed"))


async def blocked_page(request: Request) -> Response:
    rows = await web(request).run(lambda s: [Block.model_validate(r, from_attributes=True)
                                             for r in blocklist.blocks(s)])
    return page(request, "blocked.html", rows=rows)


async def blocked_lift(request: Request) -> Response:
    block_id = request.path_params["block_id"]
    t = translator(language(request))
    return await _act(request, lambda s, actor, now: blocklist.lift(s, block_id, actor=actor, now=now).address,
                      "/blocked", lambda address: t("done.lifted", address=address))


ROUTES = [
    Route("/review", review_page),
    Route("/review/{message_id:int}", review_item),
    Route("/review/{message_id:int}/open", review_open, methods=["POST"]),
    Route("/review/{message_id:int}/dismiss", review_dismiss, methods=["POST"]),
    Route("/blocked", blocked_page),
    Route("/blocked/{block_id:int}/lift", blocked_lift, methods=["POST"]),
]
