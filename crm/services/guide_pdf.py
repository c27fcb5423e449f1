"""The free guide as a PDF: the organisation's uploaded guide behind a personal cover page, or
the one generated from templates/guide/guide.txt by reportlab when none is uploaded.

Whatever names the reader comes from the submission the guide was asked for (DESIGN.md rule 7):
callers pass its first name, never the contact record's.
"""

from io import BytesIO

from flask import current_app, render_template

# reportlab is imported where a PDF is built, not here: this module is imported by every
# web and Celery process, and most of them never build a guide (reportlab costs ~6 MB each).

GUIDE_TITLE = "Mesothelioma: a guide for patients and families"


def build_guide_pdf(first_name: str | None) -> bytes:
    """The guide to send: the current uploaded version with a cover page, else the generated one."""
    from crm.services import guide_documents

    document = guide_documents.current()
    if document is None:
        return render_guide_pdf(first_name)
    return with_cover(guide_documents.content_of(document), first_name)


def with_cover(uploaded: bytes, first_name: str | None) -> bytes:
    """A personal cover page, the size of the upload's first page, then every uploaded page."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(BytesIO(uploaded))
    box = reader.pages[0].mediabox
    cover = PdfReader(BytesIO(render_cover_pdf(first_name, (float(box.width), float(box.height)))))
    writer = PdfWriter()
    writer.append(cover)
    writer.append(reader)
    writer.add_metadata({"/Title": GUIDE_TITLE, "/Author": current_app.config["ORG_NAME"]})
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def render_cover_pdf(first_name: str | None, page_size: tuple[float, float]) -> bytes:
    """One page: the guide's title, who it was prepared for, and how to reach an advocate."""
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    config = current_app.config
    styles = getSampleStyleSheet()
    teal = colors.HexColor("#0b4f5c")
    title = ParagraphStyle(
        "CoverTitle", parent=styles["Title"], textColor=teal, fontSize=26, leading=32
    )
    body = ParagraphStyle(
        "CoverBody", parent=styles["BodyText"], fontSize=14, leading=20, alignment=1
    )
    call = f"Questions? Call a patient advocate at {config['ORG_PHONE']}, at no cost."
    prepared = (
        f"Prepared for {first_name} by the patient advocates at {config['ORG_NAME']}."
        if first_name
        else f"From the patient advocates at {config['ORG_NAME']}."
    )
    width, height = page_size
    margin = min(width, height) / 8
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=page_size,
        title=GUIDE_TITLE,
        author=config["ORG_NAME"],
        leftMargin=margin,
        rightMargin=margin,
        topMargin=height / 4,
        bottomMargin=margin,
    )
    document.build(
        [
            Paragraph(_escape(GUIDE_TITLE), title),
            Spacer(1, 36),
            Paragraph(_escape(prepared), body),
            Spacer(1, 18),
            Paragraph(_escape(call), body),
        ]
    )
    return buffer.getvalue()


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
