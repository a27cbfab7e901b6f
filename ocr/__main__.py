"""`python -m ocr FILE [--json] [--draw OUT.png]`: the OCR stage alone, as `claims ocr` runs it.

Kept import-lean on purpose: the release check starts one process per image, so start-up time
counts. Nothing here imports pipeline, Prefect or pandas.
"""

from __future__ import annotations

import argparse
import json
import sys

from ocr.reader import pages_to_json, read_document


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ocr", description="Read a document's text lines.")
    ap.add_argument("file")
    ap.add_argument("--json", action="store_true", help="every line's text, box and score as JSON")
    ap.add_argument("--draw", metavar="OUT.png", help="save the first page with its boxes")
    ap.add_argument("--cache-dir", help="reuse results cached in this directory")
    args = ap.parse_args(argv)
    pages = read_document(args.file, cache_dir=args.cache_dir, draw=args.draw)
    if args.json:
        print(json.dumps(pages_to_json(pages), ensure_ascii=False))
    else:
        for page in pages:
            print(f"--- page {page.number} ({page.width}x{page.height}, turned {page.rotation})")
            print(page.text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
