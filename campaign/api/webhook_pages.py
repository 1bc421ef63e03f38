from flask import Blueprint

bp = Blueprint("webhooks_manage", __name__, url_prefix="/organize")
