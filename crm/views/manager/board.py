"""The live board: the queue and the team right now, refreshing itself every few seconds."""

from flask import current_app, render_template

from crm.models import utcnow
from crm.services.live_board import BANDS, live_board
from crm.views.manager import bp
from crm.views.staff import REPORT_READERS, role_required


@bp.get("/board")
@role_required(*REPORT_READERS)
def board():
    """The whole page; without JavaScript it reloads itself (a meta refresh)."""
    return render_template(
        "manager/board.html",
        board=live_board(utcnow()),
        bands=BANDS,
        refresh_seconds=current_app.config["BOARD_REFRESH_SECONDS"],
    )


@bp.get("/board/live")
@role_required(*REPORT_READERS)
def board_live():
    """Only the board itself, for the page's script to swap in."""
    return render_template("manager/_board.html", board=live_board(utcnow()), bands=BANDS)
