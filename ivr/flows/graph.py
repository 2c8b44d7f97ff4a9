"""Draw a flow with Graphviz: nodes, keys/words on edges, queues and other exits as sinks."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

from ivr.flows.model import Flow

_SHAPES = {
    "menu": "box3d",
    "collect": "parallelogram",
    "confirm": "parallelogram",
    "branch": "diamond",
    "hours": "diamond",
    "lookup": "cylinder",
    "survey": "parallelogram",
    "language": "box3d",
    "callback": "parallelogram",
}
_SINKS = {
    "queue": ("house", "lightblue"),
    "transfer": ("cds", "khaki"),
    "hangup": ("doublecircle", "grey90"),
    "voicemail": ("tab", "pink"),
    "callback": ("note", "palegreen"),
    "subflow": ("component", "white"),
}


NL = "\n"


def _q(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace(NL, "\\n")
    return '"' + escaped + '"'


def to_dot(flow: Flow) -> str:
    lines = [
        f"digraph {_q(flow.name)} {{",
        "  rankdir=LR;",
        '  node [fontname="sans-serif"];',
        '  edge [fontname="sans-serif", fontsize=10];',
        f"  __start [shape=point]; __start -> {_q(flow.entry)};",
    ]
    for node_id, verb in flow.nodes.items():
        shape = _SHAPES.get(verb.type_name, "box")
        label = _q(node_id + NL + f"({verb.type_name})")
        lines.append(f"  {_q(node_id)} [shape={shape}, label={label}];")
        for edge in verb.targets():
            lines.append(f"  {_q(node_id)} -> {_q(edge.target)} [label={_q(edge.label)}];")
        for sink in verb.sinks():
            sink_id = f"{sink.kind}:{sink.name}"
            shape, color = _SINKS.get(sink.kind, ("box", "white"))
            label = _q(sink.kind + NL + sink.name)
            lines.append(f"  {_q(sink_id)} [shape={shape}, style=filled, fillcolor={color}, label={label}];")
            lines.append(f"  {_q(node_id)} -> {_q(sink_id)} [style=dashed];")
    lines.append("}")
    return "\n".join(lines) + "\n"


class GraphError(RuntimeError):
    pass


def render(flow: Flow, output: Path) -> None:
    """Write ``output`` (.svg, .png or .dot) with Graphviz ``dot``."""
    fmt = output.suffix.lstrip(".").lower()
    dot_src = to_dot(flow)
    if fmt == "dot":
        output.write_text(dot_src, encoding="utf-8")
        return
    if fmt not in ("svg", "png", "pdf"):
        raise GraphError(f"cannot draw '{output.name}': use a .svg, .png, .pdf or .dot file name")
    exe = shutil.which("dot")
    if exe is None:
        raise GraphError("Graphviz 'dot' is not installed (apt-get install graphviz)")
    proc = subprocess.run(
        [exe, f"-T{fmt}", "-o", str(output)], input=dot_src.encode(), capture_output=True, check=False
    )
    if proc.returncode != 0:
        raise GraphError(f"dot failed: {proc.stderr.decode(errors='replace').strip()}")


async def svg(flow: Flow, *, timeout_s: float = 10.0) -> bytes:
    """The flow drawn as SVG by Graphviz ``dot`` in a child process (the event loop keeps running);
    a ``dot`` that takes longer than ``timeout_s`` is killed. Labels are quoted by ``to_dot`` and
    ``dot`` writes them as XML text, so a node's name never becomes markup."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphError("Graphviz 'dot' is not installed (apt-get install graphviz)")
    proc = await asyncio.create_subprocess_exec(
        exe,
        "-Tsvg",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(timeout_s):
            out, err = await proc.communicate(to_dot(flow).encode())
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise GraphError(f"dot took longer than {timeout_s:g} s") from None
    finally:
        if proc.returncode is None:  # cancelled: do not leave the child behind
            proc.kill()
            await proc.wait()
    if proc.returncode != 0:
        raise GraphError(f"dot failed: {err.decode(errors='replace').strip()}")
    return out
