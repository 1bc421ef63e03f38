from flask import Blueprint

bp = Blueprint("api_manage", __name__, url_prefix="/organize")
