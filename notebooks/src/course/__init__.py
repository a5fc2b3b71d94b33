"""The notebooks as one course: their order and titles ("NN · Question"), the heading and the
"Previous / next" line each notebook gets, and the writer every notebooks/src/NN-name.py ends with.

A slot whose notebook is not written yet has no file name: the line to it says so and links the
next notebook that exists.
"""
import sys

import nbformat
from nbformat.v4 import new_code_cell as code, new_markdown_cell as md, new_notebook

__all__ = ["code", "md", "heading", "write"]

# (number, notebook file name without .ipynb or None while the slot is empty, title as a question)
COURSE = [
    ("01", "01-fabric", "Which device pairs of a real machine can DMA peer to peer, and by which path?"),
    ("02", "02-snapshots", "What does a snapshot see while a buffer moves between RAM and devices?"),
    ("03", "03-peer-mapping", "Can a NIC DMA into a GPU's device-private pages through a peer mapping, and stop before they are freed?"),
    ("04", "04-migration-costs", "What does a migrate_vma migration cost, by size, granularity, faults against prefetch and direction?"),
    ("05", "05-cost-validation", "Does the cost model predict machines it was never tuned on?"),
    ("06", "06-p2p-designs", "Which P2P design wins, by path, BAR window and page size?"),
    ("07", "07-sweeps", "Which transfer design wins, on which machine, at which size?"),
    ("08", "08-your-machine", "What would peer-to-peer DMA do on your own machine?"),
    ("09", "09-your-driver", "Is my P2P driver safe when the owner moves its pages, and what does each design cost?"),
]


def _entry(number):
    for k, entry in enumerate(COURSE):
        if entry[0] == number:
            return k, entry
    raise KeyError(f"notebook {number} is not in the course")


def _link(entry):
    number, name, title = entry
    return f"[{number} · {title}]({name}.ipynb)" if name else f"{number} · {title} (in preparation)"


def _step(k, direction):
    """The neighbouring slot in `direction`, and the nearest written notebook beyond it when it is empty."""
    j = k + direction
    if not 0 <= j < len(COURSE):
        return None
    text = _link(COURSE[j])
    if COURSE[j][1] is None:
        written = [e for e in (COURSE[j + direction:] if direction > 0 else reversed(COURSE[:j])) if e[1]]
        if written:
            text += f"; meanwhile {_link(written[0])}"
    return text


def heading(number):
    """The notebook's title line: "# NN · Question"."""
    return f"# {number} · {_entry(number)[1][2]}"


def navigation(number):
    """The "Previous / next" line of the course."""
    k, _ = _entry(number)
    parts = []
    previous, following = _step(k, -1), _step(k, +1)
    if previous:
        parts.append(f"**Previous:** {previous}")
    if following:
        parts.append(f"**Next:** {following}")
    return " · ".join(parts)


def write(number, cells):
    """Writes notebook `number` with `cells` and the course line at the end, to the path in argv[1]
    (the runner's) or next to notebooks/src."""
    _, (_, name, _) = _entry(number)
    nb = new_notebook(
        cells=[*cells, md(navigation(number))],
        metadata={"kernelspec": {"name": "tslab", "display_name": "TypeScript", "language": "typescript"}, "language_info": {"name": "typescript"}},
    )
    nbformat.write(nb, sys.argv[1] if len(sys.argv) > 1 else f"{__file__.rsplit('/src/', 1)[0]}/{name}.ipynb")
