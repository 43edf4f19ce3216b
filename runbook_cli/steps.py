"""`runbook steps [TYPE]`: the step types a runbook can use, from the registry itself.

`runbook steps` lists them; `runbook steps reports.build` shows one in full (params with
type, default and whether required; outputs; role; docstring); `runbook steps --markdown`
prints docs/step-types.md and `--write` regenerates it.
"""

from __future__ import annotations

import difflib

import typer

from flows.language.step_reference import DOC_PATH, ROLES, FieldDoc, StepDoc, step_docs

INTRO = """\
# Step types

Generated from the step registry by `runbook steps --markdown --write`; do not edit by hand
(a test fails when this file is stale). `runbook steps TYPE` shows the same in a terminal.

A step's params are what its `with:` takes; its outputs are what later steps read as
`steps.<id>.outputs.<name>` (and its `state` and `message`). Templated values are checked
for their names when the runbook is validated and for their types when they render.
"""


def steps(
    name: str | None = typer.Argument(None, help="A step type, e.g. reports.build"),
    markdown: bool = typer.Option(False, "--markdown", help="Print the reference as Markdown"),
    write: bool = typer.Option(False, "--write", help=f"Write docs/{DOC_PATH.name}"),
) -> None:
    """The step types, their params, outputs and role (one in full when named)."""
    docs = step_docs()
    if markdown or write:
        text = render_markdown(docs)
        if write:
            DOC_PATH.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {DOC_PATH}")
        else:
            typer.echo(text, nl=False)
        return
    if name is None:
        width = max(len(d.name) for d in docs)
        for doc in docs:
            typer.echo(f"{doc.name:<{width}}  {doc.role:<8}  {doc.summary}")
        typer.echo("\n`runbook steps TYPE` shows a type's params and outputs.")
        return
    found = {d.name: d for d in step_docs(builtin_only=False)}
    if name not in found:
        close = difflib.get_close_matches(name, list(found), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        typer.echo(f"error: unknown step type '{name}'; {hint}known: {', '.join(found)}", err=True)
        raise typer.Exit(2)
    typer.echo(render_text(found[name]), nl=False)


def render_text(doc: StepDoc) -> str:
    """One step type for the terminal."""
    lines = [doc.name, f"  role: {ROLES[doc.role]}", "", doc.doc or doc.summary, ""]
    lines.append("params (with:):" if doc.params else "params: none")
    lines += [f"  {_param_line(p)}" for p in doc.params]
    lines.append(
        f"outputs (steps.<id>.outputs.<name>): {doc.outputs_doc}"
        if doc.outputs
        else "outputs: none"
    )
    lines += [
        f"  {o.name}: {o.type}" + (f" - {o.description}" if o.description else "")
        for o in doc.outputs
    ]
    return "\n".join(lines) + "\n"


def _param_line(p: FieldDoc) -> str:
    need = "required" if p.required else f"default {p.default}"
    about = f" - {p.description}" if p.description else ""
    return f"{p.name}: {p.type} ({need}){about}"


def render_markdown(docs: list[StepDoc]) -> str:
    """The whole reference as docs/step-types.md."""
    lines = [INTRO, "| step type | role | what it does |", "|---|---|---|"]
    lines += [f"| [`{d.name}`](#{_anchor(d.name)}) | {d.role} | {_cell(d.summary)} |" for d in docs]
    for doc in docs:
        lines += ["", f"## {doc.name}", "", doc.doc or doc.summary, "", f"Role: {ROLES[doc.role]}."]
        lines += ["", "Params (`with:`)" + (f": {doc.params_doc}" if doc.params_doc else ":"), ""]
        if doc.params:
            lines += ["| name | type | required | default | description |", "|---|---|---|---|---|"]
            lines += [
                f"| `{p.name}` | {_cell(p.type)} | {'yes' if p.required else 'no'} | "
                f"{f'`{p.default}`' if p.default else ''} | {_cell(p.description)} |"
                for p in doc.params
            ]
        else:
            lines.append("none")
        lines += [
            "",
            "Outputs (`steps.<id>.outputs.<name>`)"
            + (f": {doc.outputs_doc}" if doc.outputs_doc else ":"),
            "",
        ]
        if doc.outputs:
            lines += ["| name | type | description |", "|---|---|---|"]
            lines += [
                f"| `{o.name}` | {_cell(o.type)} | {_cell(o.description)} |" for o in doc.outputs
            ]
        else:
            lines.append("none")
    return "\n".join(lines) + "\n"


def _anchor(name: str) -> str:
    """GitHub's heading anchor: lowercase, dots dropped, underscores kept."""
    return name.replace(".", "").lower()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
