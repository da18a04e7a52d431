"""A declaration as the API, the CLI and the console's table give it: plain values."""

from __future__ import annotations

from typing import Any

from hotline.forms.declarations import FIGURES, Declaration
from hotline.views.rows import iso

# The columns of `hotline declarations --csv`, in order: the five figures declared, then the
# deployed launchers as New START counted them (ICBMs, SLBMs and heavy bombers together).
COLUMNS = ("party", "as_of", *FIGURES, "deployed_launchers", "serial", "superseded_by", "questioned_by")


def declaration_item(d: Declaration) -> dict[str, Any]:
    return {
        "party": d.party,
        "as_of": d.as_of.isoformat(),
        **{name: d.figures[name] for name in (*FIGURES, "deployed_launchers")},
        "serial": d.serial,
        "envelope_id": d.envelope_id.hex(),
        "signed_at": iso(d.signed_ms),
        "log_index": d.log_index,
        "superseded_by": d.superseded_by,
        "questioned_by": list(d.questioned_by),
    }
