"""``recovery-worker config``: print the example settings file or the configuration reference."""

from __future__ import annotations

import argparse

from worker.config_docs import example_toml, reference_markdown


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "config",
        help="print the example settings file or the configuration reference",
        description="Print settings documentation generated from the settings model.",
    )
    parser.add_argument(
        "what",
        choices=["example", "reference"],
        help="'example': a TOML file with every option and its default; "
        "'reference': the Markdown reference",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    print(example_toml() if args.what == "example" else reference_markdown(), end="")
    return 0
