"""The free guide as a PDF, generated from its template by reportlab."""

from io import BytesIO

from flask import current_app, render_template

# reportlab is imported where a PDF is built, not here: this module is imported by every
# web and Celery process, and most of them never build a guide (reportlab costs ~6 MB each).

GUIDE_TITLE = "Mesothelioma: a guide for patients and families"


def render_guide_pdf(first_name: str | None) -> bytes:
    """Build the guide; the text lives in templates/guide/guide.txt ("# " headings, "- " items)."""
    from reportlab.lib.pagesizes import LETTER
    from reportlab.lib.units import inch
    from reportlab.platypus import SimpleDocTemplate

    text = render_template(
        "guide/guide.txt",
        first_name=first_name,
        org_name=current_app.config["ORG_NAME"],
        org_phone=current_app.config["ORG_PHONE"],
    )
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        title=GUIDE_TITLE,
        author=current_app.config["ORG_NAME"],
        leftMargin=inch,
        rightMargin=inch,
        topMargin=inch,
        bottomMargin=inch,
    )
    document.build(_flowables(text))
    return buffer.getvalue()


def _flowables(text: str) -> list:
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.platypus import ListFlowable, ListItem, Paragraph, Spacer

    styles = getSampleStyleSheet()
    teal = colors.HexColor("#0b4f5c")
    title = ParagraphStyle("GuideTitle", parent=styles["Title"], textColor=teal)
    heading = ParagraphStyle("GuideHeading", parent=styles["Heading2"], textColor=teal)
    body = ParagraphStyle("GuideBody", parent=styles["BodyText"], fontSize=11, leading=16)
    flowables, items = [], []

    def close_list():
        if items:
            flowables.append(ListFlowable(list(items), bulletType="bullet", leftIndent=14))
            items.clear()

    for line in (raw.strip() for raw in text.splitlines()):
        if line.startswith("- "):
            items.append(ListItem(Paragraph(_escape(line[2:]), body)))
            continue
        close_list()
        if line.startswith("## "):
            flowables.append(Paragraph(_escape(line[3:]), heading))
        elif line.startswith("# "):
            flowables.extend([Paragraph(_escape(line[2:]), title), Spacer(1, 12)])
        elif line:
            flowables.append(Paragraph(_escape(line), body))
            flowables.append(Spacer(1, 6))
    close_list()
    return flowables


def _escape(text: str) -> str:
    # reportlab paragraphs take a small XML markup; a name like "O'Brien & Sons" must stay text.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
