#!/usr/bin/env bash
# Render one worksheet of an .xlsx workbook to a PNG, as LibreOffice Calc prints it.
#
#   scripts/screenshot_workbook.sh IN.xlsx OUT.png [WORKSHEET] [RANGE] [HIDE]
#
# WORKSHEET defaults to "Check-ins"; RANGE (e.g. "A1:Z12") limits what is shown (default:
# the sheet's used range); HIDE lists columns to leave out (e.g. "E,N,O"). The
# page is landscape and scaled so that every column fits its width, with gridlines and
# row and column headings, so the image reads like the spreadsheet on a wide screen.
# IN.xlsx is never changed: a copy gets the print settings (in its XML, so that what is
# rendered is the workbook as written, not as another library would re-save it), then
# LibreOffice converts it to PDF (headless) and pdftoppm (poppler-utils) makes the PNG,
# trimmed to the printed cells.
#
# Installs Debian's libreoffice-calc-nogui, poppler-utils, fonts, python3-lxml,
# python3-pil and pngquant (to keep the PNG small) with apt-get when missing (needs
# root). Works offline.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 IN.xlsx OUT.png [WORKSHEET] [RANGE] [HIDE]" >&2
  exit 2
fi
in=$1 out=$2 sheet=${3:-Check-ins} range=${4:-} hide=${5:-}
python=/usr/bin/python3  # Debian's, with Debian's lxml and PIL: no virtualenv needed

if ! command -v soffice >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 \
  || ! command -v pngquant >/dev/null 2>&1 || ! "$python" -c 'import lxml, PIL' 2>/dev/null; then
  echo "LibreOffice, poppler-utils or Python's lxml/PIL is missing; installing Debian's packages" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    libreoffice-calc-nogui poppler-utils fonts-dejavu-core fonts-crosextra-carlito \
    python3-lxml python3-pil pngquant >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$python" - "$in" "$work/page.xlsx" "$sheet" "$range" "$hide" <<'PY'
"""Copy the workbook with print settings: only WORKSHEET visible, landscape A3, one page
wide, gridlines and headings, no header or footer, RANGE as the print area, the HIDE
columns hidden."""
import sys
import zipfile

from lxml import etree

src, dst, title, area, hide = sys.argv[1:6]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
ORDER = (
    "sheetPr dimension sheetViews sheetFormatPr cols sheetData sheetCalcPr sheetProtection "
    "protectedRanges scenarios autoFilter sortState dataConsolidate customSheetViews "
    "mergeCells phoneticPr conditionalFormatting dataValidations hyperlinks printOptions "
    "pageMargins pageSetup headerFooter rowBreaks colBreaks customProperties cellWatches "
    "ignoredErrors smartTags drawing legacyDrawing legacyDrawingHF drawingHF picture "
    "oleObjects controls webPublishItems tableParts extLst"
).split()


def q(tag):
    return f"{{{MAIN}}}{tag}"


def put(root, tag, **attrs):
    """Replace root's child ``tag`` with one having ``attrs``, where the schema wants it."""
    for old in root.findall(q(tag)):
        root.remove(old)
    el = etree.Element(q(tag), {k: str(v) for k, v in attrs.items()})
    rank = ORDER.index(tag)
    for child in root:
        name = etree.QName(child).localname if isinstance(child.tag, str) else ""
        if name in ORDER and ORDER.index(name) > rank:
            child.addprevious(el)
            return el
    root.append(el)
    return el


with zipfile.ZipFile(src) as zf:
    parts = {i.filename: zf.read(i) for i in zf.infolist()}
book = etree.fromstring(parts["xl/workbook.xml"])
rels = etree.fromstring(parts["xl/_rels/workbook.xml.rels"])
targets = {r.get("Id"): r.get("Target") for r in rels}
sheets = book.findall(f"{q('sheets')}/{q('sheet')}")
names = [s.get("name") for s in sheets]
if title not in names:
    sys.exit(f"{src} has no worksheet {title!r} (it has {', '.join(names)})")
index = names.index(title)
for i, s in enumerate(sheets):
    if i != index:
        s.set("state", "hidden")  # hidden sheets are not printed
for view in book.iter(q("workbookView")):
    view.set("activeTab", str(index))
    view.set("firstSheet", str(index))
target = targets[sheets[index].get(f"{{{REL}}}id")].lstrip("/")
part = target if target.startswith("xl/") else "xl/" + target
ws = etree.fromstring(parts[part])
dimension = ws.find(q("dimension"))
area = area or (dimension.get("ref") if dimension is not None else "")
if ":" in area:
    names_el = book.find(q("definedNames"))
    if names_el is None:
        names_el = etree.Element(q("definedNames"))
        book.find(q("sheets")).addnext(names_el)
    first, last = area.split(":")
    cell = lambda ref: "$" + "".join(c for c in ref if c.isalpha()) + "$" + "".join(c for c in ref if c.isdigit())
    quoted = "'" + title.replace("'", "''") + "'"
    el = etree.SubElement(names_el, q("definedName"), name="_xlnm.Print_Area", localSheetId=str(index))
    el.text = f"{quoted}!{cell(first)}:{cell(last)}"
def number(letters):
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


hidden = {number(c.strip().upper()) for c in hide.split(",") if c.strip()}
cols = ws.find(q("cols"))
for col in list(cols) if cols is not None else []:
    lo, hi = int(col.get("min")), int(col.get("max"))
    inside = sorted(h for h in hidden if lo <= h <= hi)
    if not inside:
        continue
    edges = sorted({lo, hi + 1, *inside, *(h + 1 for h in inside)})
    for a, b in zip(edges, edges[1:]):  # split the span so that only HIDE columns hide
        piece = etree.Element(q("col"), dict(col.attrib), min=str(a), max=str(b - 1))
        if a in hidden:
            piece.set("hidden", "1")
        col.addprevious(piece)
    cols.remove(col)
pr = ws.find(q("sheetPr"))
if pr is None:
    pr = etree.Element(q("sheetPr"))
    ws.insert(0, pr)
setup_pr = pr.find(q("pageSetUpPr"))
if setup_pr is None:
    setup_pr = etree.SubElement(pr, q("pageSetUpPr"))
setup_pr.set("fitToPage", "1")
put(ws, "printOptions", gridLines=1, headings=1)
put(ws, "pageMargins", left=0.2, right=0.2, top=0.2, bottom=0.2, header=0, footer=0)
put(ws, "pageSetup", paperSize=8, orientation="landscape", fitToWidth=1, fitToHeight=0)
put(ws, "headerFooter")
parts[part] = etree.tostring(ws, xml_declaration=True, encoding="UTF-8", standalone=True)
parts["xl/workbook.xml"] = etree.tostring(book, xml_declaration=True, encoding="UTF-8", standalone=True)
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
    for name, data in parts.items():
        zf.writestr(name, data)
PY

# LibreOffice wants a writable profile; a fresh one keeps anyone's settings out of it.
soffice --headless --norestore -env:UserInstallation="file://$work/profile" \
  --convert-to pdf --outdir "$work" "$work/page.xlsx" >/dev/null 2>&1
pdftoppm -png -r 150 -f 1 -l 1 -singlefile "$work/page.pdf" "$work/page"

# Trim the white page around the printed cells, leaving a small margin.
"$python" - "$work/page.png" "$out" <<'PY'
import sys

from PIL import Image, ImageChops

page = Image.open(sys.argv[1]).convert("RGB")
box = ImageChops.difference(page, Image.new("RGB", page.size, "white")).getbbox()
if box:
    pad = 10
    page = page.crop(
        (max(0, box[0] - pad), max(0, box[1] - pad),
         min(page.width, box[2] + pad), min(page.height, box[3] + pad))
    )
page.save(sys.argv[2], optimize=True)
PY

pngquant --force --skip-if-larger --quality 65-90 --output "$out" "$out" || true
echo "$out ($(( $(stat -c %s "$out") / 1024 )) KiB)"
