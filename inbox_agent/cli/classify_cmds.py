"""``inbox-agent classify`` and ``inbox-agent eval`` (owned by the classifier work)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from ..classify import Classifier, RulesError
from ..evaluate import classify_file, evaluate, format_report
from ..resources import shipped
from ..runtime import load_classifier
from .app import config_option, main, settings_or_exit


def _classifier(config_path: Path | None) -> Classifier:
    try:
        if config_path is None:
            return Classifier.load(shipped("classifiers"))
        return load_classifier(settings_or_exit(config_path))
    except RulesError as exc:
        click.echo(f"rules error: {exc}", err=True)
        sys.exit(2)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@config_option
def classify(files: tuple[Path, ...], as_json: bool, config_path: Path | None) -> None:
    """Classify raw .eml FILES (privacy categories, language, automated)."""
    classifier = _classifier(config_path)
    for path in files:
        outcome = classify_file(classifier, path)
        record = {k: v for k, v in asdict(outcome).items() if k != "error" or v}
        record["file"] = str(path)
        if as_json:
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            auto = " automated" if outcome.automated else ""
            click.echo(f"{path}: {','.join(outcome.categories)} [{outcome.language}]{auto}")
            for ev in outcome.evidence:
                click.echo(f"    {ev['rule']}: {ev['text']}")
            if outcome.error:
                click.echo(f"    unreadable: {outcome.error}")


@main.command(name="eval")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object with all metrics.")
@config_option
def eval_cmd(folder: Path, as_json: bool, config_path: Path | None) -> None:
    """Score the classifier on FOLDER (mail/*.eml + labels.jsonl)."""
    if not (folder / "labels.jsonl").is_file():
        click.echo(f"{folder}: no labels.jsonl", err=True)
        sys.exit(2)
    report = evaluate(_classifier(config_path), folder)
    click.echo(json.dumps(report, ensure_ascii=False) if as_json else format_report(report))
