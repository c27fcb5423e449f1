"""Sheets of mailing labels for printed guides, as a PDF for Avery 5160-style stock."""

from io import BytesIO

# reportlab is imported where a sheet is built (see crm/services/guide_pdf.py for why).

# Avery 5160 / 8160: US Letter, 3 columns by 10 rows of 2 5/8" x 1" labels.
COLUMNS, ROWS = 3, 10
LABEL_WIDTH_IN, LABEL_HEIGHT_IN = 2.625, 1.0
COLUMN_PITCH_IN = 2.75  # label width plus the 1/8" gutter
LEFT_MARGIN_IN, TOP_MARGIN_IN = 0.1875, 0.5
PADDING_IN = 0.12
FONT, FONT_SIZE, LEADING = "Helvetica", 9, 11


def render_labels_pdf(labels: list[list[str]], title: str = "Mailing labels") -> bytes:
    """One label per item (its lines, name first), left to right, top to bottom, page by page."""
    from reportlab.lib.pagesizes import LETTER
    from reportlab.lib.units import inch
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=LETTER, pageCompression=1)
    canvas.setTitle(title)
    _, page_height = LETTER
    usable = (LABEL_WIDTH_IN - 2 * PADDING_IN) * inch
    per_page = COLUMNS * ROWS
    for index, lines in enumerate(labels):
        if index and index % per_page == 0:
            canvas.showPage()
        row, column = divmod(index % per_page, COLUMNS)
        left = (LEFT_MARGIN_IN + column * COLUMN_PITCH_IN + PADDING_IN) * inch
        top = page_height - (TOP_MARGIN_IN + row * LABEL_HEIGHT_IN + PADDING_IN) * inch
        canvas.setFont(FONT, FONT_SIZE)
        for number, line in enumerate(lines[:5]):
            text = _fit(line, usable, lambda s: stringWidth(s, FONT, FONT_SIZE))
            canvas.drawString(left, top - FONT_SIZE - number * LEADING, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _fit(line: str, width: float, measure) -> str:
    """Cut a line that would run off the label (a long street name), rather than overprint."""
    while line and measure(line) > width:
        line = line[:-1]
    return line
