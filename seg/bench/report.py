"""Writing a benchmark's results: the markdown report under docs/ and, optionally, raw JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def write_report(
    output: str | Path, lines: Sequence[str], json_path: str | Path | None = None, data: Any = None
) -> Path:
    """Write ``lines`` as the markdown report ``output`` (folders created) and ``data`` as JSON to
    ``json_path`` when given; print where the report went."""
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print(f"wrote {out}")
    if json_path:
        Path(json_path).write_text(json.dumps(data, indent=2))
    return out
