"""The confirmation link: GET shows, POST confirms. Link scanners only ever GET."""

from flask import Blueprint, redirect, render_template, session, url_for

from campaign.db import utcnow
from campaign.extensions import db
from campaign.petitions.services import confirmed_counts
from campaign.signatures.models import SignatureStatus
from campaign.signatures.services import (
    PetitionClosed,
    TokenExpired,
    TokenInvalid,
    confirm_signature,
    discard_pending_signature,
    find_signature_by_token,
    reissue_confirmation,
    token_has_expired,
)

bp = Blueprint("signatures", __name__)


@bp.after_request
def keep_tokens_private(response):
    # The token is in this page's address: never pass it on in a Referer
    # header, and never keep the page in a shared cache.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _problem_page(kind, signature=None, token=None, status=400):
    petition = signature.petition if signature is not None else None
    return render_template("signatures/link_problem.html", kind=kind, petition=petition,
                           token=token), status


@bp.get("/confirm/<token>")
def confirm(token):
    signature = find_signature_by_token(token)
    if signature is None or signature.status == SignatureStatus.INVALIDATED:
        return _problem_page("invalid", status=404)
    petition = signature.petition
    if signature.status == SignatureStatus.CONFIRMED:
        return redirect(url_for("petitions.thanks", slug=petition.slug), 303)
    if token_has_expired(signature, utcnow()):
        return _problem_page("expired", signature, token, status=410)
    if not petition.is_open(utcnow()):
        return _problem_page("closed", signature, status=409)
    return render_template("signatures/confirm.html", signature=signature, petition=petition,
                           campaign=petition.campaign, token=token,
                           count=confirmed_counts([petition.id])[petition.id])


@bp.post("/confirm/<token>")
def confirm_post(token):
    try:
        signature = confirm_signature(token)
    except TokenInvalid:
        db.session.rollback()
        return _problem_page("invalid", status=404)
    except TokenExpired as expired:
        db.session.rollback()
        return _problem_page("expired", expired.signature, token, status=410)
    except PetitionClosed:
        db.session.rollback()
        return _problem_page("closed", find_signature_by_token(token), status=409)
    slug = signature.petition.slug
    first_name = signature.first_name
    db.session.commit()
    session["confirmed_first_name"] = first_name
    return redirect(url_for("petitions.thanks", slug=slug), 303)


@bp.post("/confirm/<token>/renew")
def renew(token):
    try:
        signature = reissue_confirmation(token)
    except TokenInvalid:
        db.session.rollback()
        return _problem_page("invalid", status=404)
    except PetitionClosed:
        db.session.rollback()
        return _problem_page("closed", find_signature_by_token(token), status=409)
    slug = signature.petition.slug
    db.session.commit()
    return redirect(url_for("petitions.check_email", slug=slug), 303)


@bp.get("/confirm/<token>/discard")
def discard(token):
    signature = find_signature_by_token(token)
    if signature is None or signature.status != SignatureStatus.PENDING:
        return render_template("signatures/discarded.html", removed=False)
    return render_template("signatures/discard.html", signature=signature,
                           petition=signature.petition, token=token)


@bp.post("/confirm/<token>/discard")
def discard_post(token):
    removed = discard_pending_signature(token)
    db.session.commit()
    return render_template("signatures/discarded.html", removed=removed)
